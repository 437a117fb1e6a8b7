/**
 * `sgdlab reparam RUN --alpha A`: Dinh et al.'s α-scale transformation (models/reparametrize.ts) of a
 * trained run; the output change and the curvature and sharpness before and after it.
 */
import {
  Key,
  keep,
  leafNames,
  release,
  toHost,
  treeFromHost,
  treeSpec,
  UserError,
  type Params,
} from "../core/index.js";
import { analyzeHessian } from "../curvature/analyze.js";
import { loadRunModel } from "../experiments/external.js";
import { createLoss, createObjective, type Objective } from "../losses/index.js";
import { alphaScale, type AlphaScaleVariant } from "../models/reparametrize.js";
import { averageSharpness } from "../probes/sharpness.js";
import { RunStore } from "../store/index.js";
import { common, parse } from "./args.js";
import { fmt, table } from "./format.js";

export const REPARAM_USAGE = `usage: sgdlab reparam RUN --alpha A [--layer K] [--variant relu|preNorm] [--step N] [--sigma S]
                      [--samples M] [--probes P] [--store DIR] [--json]

Applies T_α (Dinh et al. 2017): hidden layer K's W, b × α and the next W × 1/α (ReLU/identity MLPs;
with batch/layer norm the default "preNorm" variant scales layer K alone, "relu" scales γ, β instead).
In float64 on the training objective (BN in train mode): the max relative output change on the training
inputs, λmax (Lanczos), the Hutchinson trace (P probes, default 64, ± se) and the average sharpness
E[L(θ+σε)] − L(θ) (σ default 0.01, M draws default 16, ± se) before and after.
  --json  {"runId","alpha","variant","factors","outputChange","before":{loss,lambdaMax,trace,traceStderr,
          averageSharpness,averageSharpnessStderr},"after":{…},"sigma","seconds"}`;

interface Side {
  loss: number;
  lambdaMax: number;
  trace: number;
  traceStderr: number;
  averageSharpness: number;
  averageSharpnessStderr: number;
}

async function measure(obj: Objective, p: Params, sigma: number, samples: number, probes: number): Promise<Side> {
  const h = await analyzeHessian(obj, keep(p), {
    top: 1,
    bottom: 0,
    tol: 1e-6,
    trace: "hutchinson",
    traceProbes: probes,
    key: Key.fromSeed(0).fold("reparam/hessian"),
  });
  const s = (
    await averageSharpness(obj, p, { sigmas: [sigma], samples, key: Key.fromSeed(0).fold("reparam/sharpness") })
  ).get(sigma)!;
  return {
    loss: h.loss,
    lambdaMax: h.topEigenvalues[0],
    trace: h.trace!,
    traceStderr: h.traceStderr!,
    averageSharpness: s.mean,
    averageSharpnessStderr: s.stderr,
  };
}

/** Runs `sgdlab reparam`; returns the exit code. */
export async function reparamCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      alpha: { type: "string" },
      layer: { type: "string" },
      variant: { type: "string" },
      step: { type: "string" },
      sigma: { type: "string" },
      samples: { type: "string" },
      probes: { type: "string" },
    },
    "reparam",
  );
  if (values.help) {
    out(REPARAM_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`reparam: expected one run id\n${REPARAM_USAGE}`);
  /** A flag's number: > 0 ("positive") or an integer ≥ min; the default when absent. */
  const num = (v: string | undefined, flag: string, d: number, min: number | "positive") => {
    if (v === undefined) return d;
    const x = Number(v);
    const ok = v.trim() !== "" && Number.isFinite(x) && (min === "positive" ? x > 0 : Number.isInteger(x) && x >= min);
    if (!ok)
      throw new UserError(
        `reparam: ${flag} must be ${min === "positive" ? "a positive number" : `an integer ≥ ${min}`}, got "${v}"`,
      );
    return x;
  };
  if (values.alpha === undefined) throw new UserError(`reparam: --alpha A is required`);
  const alpha = num(values.alpha, "--alpha", 1, "positive");
  const variant = values.variant as AlphaScaleVariant | undefined;
  if (variant !== undefined && variant !== "relu" && variant !== "preNorm") {
    throw new UserError(`reparam: --variant must be relu or preNorm, got "${variant}"`);
  }
  const sigma = num(values.sigma, "--sigma", 0.01, "positive");
  const samples = num(values.samples, "--samples", 16, 2); // a standard error needs 2 draws
  const probes = num(values.probes, "--probes", 64, 1);
  const t0 = performance.now();
  const store = RunStore.open(values.store ?? ".sgdlab", { readonly: true });
  let t;
  try {
    const step = values.step === undefined ? undefined : num(values.step, "--step", 0, 0);
    t = await loadRunModel(store, positionals[0], step);
  } finally {
    store.close();
  }
  const template = t.params("float64");
  const spec = treeSpec(template);
  const names = leafNames(template);
  release(template);
  const sizes = spec.shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const scaled = alphaScale(t.spec.model, names, sizes, t.flat, {
    alpha,
    layer: num(values.layer, "--layer", 0, 0),
    variant,
  });
  const obj = createObjective({ model: t.model, loss: createLoss(t.loss) }, t.data, "full", {
    dtype: "float64",
    chunkSize: t.spec.chunkSize,
  });
  let result;
  try {
    const before = treeFromHost(spec, t.flat) as Params;
    const after = treeFromHost(spec, scaled.flat) as Params;
    let diff = 0;
    let scale = 0;
    for (const c of obj.chunks) {
      const f0 = await toHost(obj.forward(keep(before), c.x.ref));
      const f1 = await toHost(obj.forward(keep(after), c.x.ref));
      for (let i = 0; i < f0.length; i++) {
        diff = Math.max(diff, Math.abs(f1[i] - f0[i]));
        scale = Math.max(scale, Math.abs(f0[i]));
      }
    }
    const b = await measure(obj, before, sigma, samples, probes);
    const a = await measure(obj, after, sigma, samples, probes);
    result = {
      runId: t.source,
      alpha,
      variant: scaled.variant,
      factors: scaled.factors,
      outputChange: diff / scale,
      before: b,
      after: a,
      sigma,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    obj.dispose();
  }
  if (values.json) {
    out(JSON.stringify(result));
    return 0;
  }
  const row = (name: string, f: (s: Side) => string) => [name, f(result.before), f(result.after)];
  out(
    `${t.source}: T_α with α = ${alpha} (${result.variant}: ${Object.entries(result.factors)
      .map(([k, v]) => `${k} × ${fmt(v)}`)
      .join(", ")})\n` +
      `max relative output change (float64, training inputs): ${result.outputChange.toExponential(2)}\n\n` +
      table(
        ["", "before", "after"],
        [
          row("loss", (s) => fmt(s.loss)),
          row("λmax", (s) => fmt(s.lambdaMax)),
          row("trace ± se", (s) => `${fmt(s.trace)} ± ${fmt(s.traceStderr)}`),
          row(`avg sharpness σ=${sigma} ± se`, (s) => `${fmt(s.averageSharpness)} ± ${fmt(s.averageSharpnessStderr)}`),
        ],
      ) +
      `\nλmax ratio after/before: ${fmt(result.after.lambdaMax / result.before.lambdaMax)} (${fmt(result.seconds)} s)`,
  );
  return 0;
}
