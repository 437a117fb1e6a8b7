/**
 * `sgdlab flow SPEC`: gradient descent with step h beside the gradient flow θ' = −∇L and the
 * IGR-modified flow θ' = −∇(L + (h/4)‖∇L‖²) (Barrett & Dherin, ICLR 2021, Thm 3.1), from the spec's
 * data, model, loss and initialization; distances at equal times, their log–log slopes against h and
 * a report. `--unstable`: step sizes around 2/λmax(θ₀), where GD leaves the flow (Ahn et al. 2022).
 */
import { basename, join, relative } from "node:path";
import { UserError } from "../core/errors.js";
import { common, parse } from "./args.js";
import { loadSpec } from "../experiments/resolve.js";
import { lineFigure, logLogFigure, writeReport, type Figure } from "../report/index.js";
import { compareGdWithFlows, dormandPrince, flowProblem, rk4, type FlowComparison } from "../train/flow.js";
import { fmt, table } from "./format.js";

export const FLOW_USAGE = `usage: sgdlab flow SPEC [--h 0.1,0.05,0.025,0.0125] [--time T] [--method dopri|rk4] [--rtol R] [--dt DT]
                  [--unstable [--factors 0.5,0.9,1.1,1.5]] [--set path=value ...] [--out DIR] [--json]

GD with each step h for round(T/h) steps (on the host, float64) against the gradient flow θ' = −∇L and
the modified flow θ' = −∇(L + (h/4)‖∇L‖²) (the EGR objective with μ = h), integrated from the spec's
initialization to the same times; the spec's data, model and loss (its regularizer and optimizer are
ignored), the full training set, float64. Prints ‖θ_GD − θ_flow‖ and ‖θ_GD − θ_mod‖ at T and the log–log
slopes against h (≈ 1 and ≈ 2 on a smooth loss); writes a report to DIR (default reports/flow/<spec>).
  --time T          the time horizon (default 1)
  --method          dopri: Dormand–Prince 5(4), --rtol (default 1e-8; atol = rtol/100);
                    rk4: classical Runge–Kutta, fixed step --dt (default 0.01)
  --unstable        step sizes h = factor·2/λmax(θ₀) (--factors, default 0.5,0.9,1.1,1.5) against the plain
                    flow only; T defaults to 20/λmax. Reports ‖θ_GD − θ_flow‖/h: about constant while
                    h < 2/λmax, growing once GD leaves the flow.
  --json            {"spec","method","integrator","time","slopeFlow","slopeModified","flowStats",
                    "rows":[{"h","steps","time","distFlow","distModified","along":[{"step","t","distFlow",
                    "distModified"}],"modifiedStats"}], "unstable": null | {"lambdaMax","threshold",
                    "rows":[{"h","factor","distFlow","distFlowOverH"}]}, "report"}`;

function numberList(v: string, flag: string): number[] {
  const xs = v.split(",").map((s) => Number(s.trim()));
  if (xs.length === 0 || !xs.every((x) => Number.isFinite(x) && x > 0))
    throw new UserError(`flow: ${flag} must be a comma-separated list of positive numbers, got "${v}"`);
  return xs;
}

function positive(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!(Number.isFinite(x) && x > 0)) throw new UserError(`flow: ${flag} must be a positive number, got "${v}"`);
  return x;
}

/** Runs `sgdlab flow`; returns the exit code. */
export async function flowCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const { values: v, positionals } = parse(
    argv,
    {
      ...common,
      h: { type: "string", default: "0.1,0.05,0.025,0.0125" },
      time: { type: "string" },
      method: { type: "string", default: "dopri" },
      rtol: { type: "string" },
      dt: { type: "string" },
      unstable: { type: "boolean", default: false },
      factors: { type: "string", default: "0.5,0.9,1.1,1.5" },
      set: { type: "string", multiple: true, default: [] },
      out: { type: "string", short: "o" },
    },
    "flow",
  );
  if (v.help) {
    out(FLOW_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`flow: expected one spec file\n${FLOW_USAGE}`);
  if (v.method !== "dopri" && v.method !== "rk4")
    throw new UserError(`flow: --method must be dopri or rk4, got "${v.method}"`);
  const rtol = positive(v.rtol, "--rtol", 1e-8);
  const integrator =
    v.method === "rk4" ? rk4({ dt: positive(v.dt, "--dt", 0.01) }) : dormandPrince({ rtol, atol: rtol / 100 });
  const exp = loadSpec(positionals[0], v.set);
  const problem = await flowProblem(exp.spec);
  const log = (m: string) => err(m);
  try {
    let hs = numberList(v.h, "--h");
    let time = positive(v.time, "--time", 1);
    let unstable: { lambdaMax: number; threshold: number; factors: number[] } | null = null;
    if (v.unstable) {
      const lambdaMax = await problem.lambdaMax();
      if (!(lambdaMax > 0))
        throw new UserError(`flow: λmax(θ₀) = ${lambdaMax} is not positive; --unstable needs 2/λmax`);
      const factors = numberList(v.factors, "--factors");
      hs = factors.map((f) => (2 * f) / lambdaMax);
      time = positive(v.time, "--time", 20 / lambdaMax);
      unstable = { lambdaMax, threshold: 2 / lambdaMax, factors };
      log(`λmax(θ₀) = ${fmt(lambdaMax)}, 2/λmax = ${fmt(2 / lambdaMax)}`);
    }
    const t0 = performance.now();
    const r = await compareGdWithFlows(problem.plain, unstable ? null : (h) => problem.modified(h), problem.theta0, {
      hs,
      time,
      integrator,
      log,
    });
    const seconds = (performance.now() - t0) / 1000;
    const outDir = v.out ?? join("reports", "flow", basename(positionals[0]).replace(/\.(ya?ml|json)$/, ""));
    const written = await writeReport(
      {
        title: unstable ? "GD against the gradient flow around 2/λmax" : "GD against the plain and the modified flow",
        subtitle: positionals[0],
        meta: [
          ["spec", positionals[0]],
          ["integrator", r.integrator],
          ["time T", fmt(time)],
          ["parameters", String(problem.theta0.length)],
          ["slope (plain flow)", fmt(r.slopeFlow)],
          ["slope (modified flow)", fmt(r.slopeModified)],
          ["wall time", `${seconds.toFixed(1)} s`],
        ],
        figures: figures(r, unstable !== null),
      },
      outDir,
    );
    const unstableJson = unstable && {
      lambdaMax: unstable.lambdaMax,
      threshold: unstable.threshold,
      rows: r.rows.map((row, i) => ({
        h: row.h,
        factor: unstable.factors[i],
        distFlow: row.distFlow,
        distFlowOverH: row.distFlow / row.h,
      })),
    };
    if (v.json) {
      out(
        JSON.stringify({
          spec: positionals[0],
          method: v.method,
          integrator: r.integrator,
          time,
          slopeFlow: r.slopeFlow,
          slopeModified: r.slopeModified,
          flowStats: r.flowStats,
          rows: r.rows,
          unstable: unstableJson,
          report: written.html,
        }),
      );
      return 0;
    }
    const lines = [`${r.integrator}; T = ${fmt(time)}; ${problem.theta0.length} parameters; ${seconds.toFixed(1)} s`];
    if (unstableJson) {
      lines.push(`λmax(θ₀) = ${fmt(unstableJson.lambdaMax)}, 2/λmax = ${fmt(unstableJson.threshold)}`);
      lines.push(
        table(
          ["h", "h·λmax/2", "steps", "‖GD − flow‖", "‖GD − flow‖/h"],
          unstableJson.rows.map((row, i) => [
            fmt(row.h),
            fmt(row.factor),
            String(r.rows[i].steps),
            fmt(row.distFlow),
            fmt(row.distFlowOverH),
          ]),
        ),
      );
    } else {
      lines.push(
        table(
          ["h", "steps", "t", "‖GD − flow‖", "‖GD − modified‖", "gradients (modified)"],
          r.rows.map((row) => [
            fmt(row.h),
            String(row.steps),
            fmt(row.time),
            fmt(row.distFlow),
            fmt(row.distModified),
            String(row.modifiedStats.evaluations),
          ]),
        ),
      );
      lines.push(
        `log–log slope vs h: plain flow ${fmt(r.slopeFlow)} (≈ 1), modified flow ${fmt(r.slopeModified)} (≈ 2)`,
      );
    }
    lines.push(`report: ${relative(process.cwd(), written.html)}`);
    out(lines.join("\n"));
    return 0;
  } finally {
    problem.dispose();
  }
}

function figures(r: FlowComparison, unstable: boolean): Figure[] {
  const series = [{ name: "‖θ_GD − θ_flow‖", points: r.rows.map((row) => ({ x: row.h, y: row.distFlow })) }];
  if (!unstable)
    series.push({ name: "‖θ_GD − θ_mod‖", points: r.rows.map((row) => ({ x: row.h, y: row.distModified })) });
  const figs: Figure[] = [
    logLogFigure({
      id: "distance-vs-h",
      title: "Distance between GD and the flows at T against the step h",
      subtitle: `slopes: plain ${fmt(r.slopeFlow)}, modified ${fmt(r.slopeModified)}`,
      xLabel: "step size h",
      yLabel: "distance at T",
      series,
      referenceSlopes: unstable ? [1] : [1, 2],
    }),
  ];
  for (const [key, name, id] of [
    ["distFlow", "plain flow", "along-t-flow"],
    ["distModified", "modified flow", "along-t-modified"],
  ] as const) {
    if (unstable && key === "distModified") continue;
    figs.push(
      lineFigure({
        id,
        title: `‖θ_GD(t) − θ(t)‖ along t (${name})`,
        xLabel: "t",
        yLabel: "distance",
        series: r.rows.map((row) => ({
          name: `h=${fmt(row.h)}`,
          points: row.along.map((a) => ({ x: a.t, y: a[key] })),
        })),
        logY: true,
      }),
    );
  }
  return figs;
}
