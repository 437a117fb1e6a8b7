/**
 * `sgdlab fit power-law FILE.csv`: the learning curve ε(m) = α·m^β + γ (Hestness et al. 2017) fitted
 * by least squares to two columns of a CSV file, with pairs-bootstrap percentile intervals, and the
 * pure power law (γ = 0) by log–log regression beside it. Pure host computation (theory/powerLaw.ts).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { UserError } from "../core/errors.js";
import { RunStore } from "../store/index.js";
import { common, parse } from "./args.js";
import { bootstrapPowerLaw, bootstrapPurePowerLaw, type Interval } from "../theory/index.js";
import { escapeControl, fmt } from "./format.js";

const USAGE = `usage: sgdlab fit power-law FILE.csv [--x COL] [--y COL] [--bootstrap N] [--seed S] [--level L] [--json]
       sgdlab fit power-law RUN RUN ... [--x n|SPEC.PATH] [--y METRIC] [--store DIR] [...]

Fits ε(m) = α·m^β + γ (least squares, variable projection over β ∈ [−3, 3]) to the columns x = m and
y = ε of a CSV file, with percentile intervals from N bootstrap resamples of the rows (default 1000,
seed 0, level 0.95), and the pure power law ε = α·m^β by log–log regression.
  --x COL, --y COL  a header name or a 0-based column index (default: columns 0 and 1)
  with runs         m is the training-set size n of each run (--x n, default) or a spec field (--x
                    data.nTrain), ε the last value of a metric (--y, default test/loss)
  --json            {"alpha":{"value","ci":[lo,hi]},"beta":…,"gamma":…,"n","bootstrap","seed","level",
                    "failed","rss","betaAtBound","pure":{"alpha","beta"} or null}`;

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The two numeric columns `xCol`, `yCol` of a CSV file (header optional, `#` comment lines skipped). */
export function readColumns(
  path: string,
  xCol: string,
  yCol: string,
): { x: Float64Array; y: Float64Array; names: [string, string] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  } catch (e) {
    throw new UserError(`fit: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const lines: { no: number; cells: string[] }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const delimiter = t.includes(",") ? "," : t.includes("\t") ? "\t" : ",";
    lines.push({
      no: i + 1,
      cells: t.split(delimiter).map((c) =>
        c
          .trim()
          .replace(/^"(.*)"$/, "$1")
          .trim(),
      ),
    });
  });
  if (lines.length === 0) throw new UserError(`fit: "${path}" has no data rows`);
  const header = lines[0].cells.some((c) => !NUMBER.test(c)) ? lines[0].cells : null;
  const rows = header ? lines.slice(1) : lines;
  const width = lines[0].cells.length;
  const column = (spec: string, flag: string): number => {
    if (/^\d+$/.test(spec)) {
      const j = Number(spec);
      if (j >= width) throw new UserError(`fit: ${flag} ${spec} is out of range: "${path}" has ${width} columns`);
      return j;
    }
    const j = header?.indexOf(spec) ?? -1;
    if (j < 0) {
      const known = header ? `columns: ${header.map(escapeControl).join(", ")}` : "the file has no header";
      throw new UserError(`fit: ${flag} "${escapeControl(spec)}" is not a column of "${path}" (${known})`);
    }
    return j;
  };
  const [jx, jy] = [column(xCol, "--x"), column(yCol, "--y")];
  if (jx === jy) throw new UserError("fit: --x and --y name the same column");
  const x = new Float64Array(rows.length);
  const y = new Float64Array(rows.length);
  rows.forEach(({ no, cells }, i) => {
    if (cells.length !== width)
      throw new UserError(`fit: "${path}", line ${no}: expected ${width} cells, found ${cells.length}`);
    for (const [j, into] of [
      [jx, x],
      [jy, y],
    ] as const) {
      if (!NUMBER.test(cells[j])) {
        throw new UserError(
          `fit: "${path}", line ${no}, column ${j}: ${JSON.stringify(escapeControl(cells[j]))} is not a number`,
        );
      }
      into[i] = Number(cells[j]);
    }
  });
  const name = (j: number) => (header ? escapeControl(header[j]) : `column ${j}`);
  return { x, y, names: [name(jx), name(jy)] };
}

function count(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UserError(`fit: ${flag} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

const json = (i: Interval) => ({ value: i.value, ci: [i.ci[0], i.ci[1]] });
const line = (name: string, i: Interval) =>
  `  ${name.padEnd(6)} ${fmt(i.value).padStart(11)}   [${fmt(i.ci[0])}, ${fmt(i.ci[1])}]`;

/**
 * (m, ε) of stored runs: m the training-set size n (from the run's `data` artifact) or a spec field
 * (dotted path), ε the last finite value of metric `yKey`.
 */
export function runColumns(
  storeDir: string,
  refs: string[],
  xSpec: string,
  yKey: string,
): { x: Float64Array; y: Float64Array; names: [string, string] } {
  const store = RunStore.open(storeDir, { readonly: true });
  try {
    const x = new Float64Array(refs.length);
    const y = new Float64Array(refs.length);
    refs.forEach((ref, i) => {
      const run = store.getRun(ref);
      let m: unknown;
      if (xSpec === "n") {
        m = (store.getArtifact(run.id, "data", 0)?.value as { train?: { n?: unknown } } | undefined)?.train?.n;
      } else {
        m = xSpec
          .split(".")
          .reduce<unknown>(
            (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
            run.spec,
          );
      }
      if (typeof m !== "number" || !Number.isFinite(m))
        throw new UserError(
          `fit: run ${run.id} has no numeric ${xSpec === "n" ? "training-set size" : `spec field ${xSpec}`}`,
        );
      const pts = store.getMetrics(run.id, { keys: [yKey] }).filter((p) => Number.isFinite(p.value));
      if (pts.length === 0) throw new UserError(`fit: run ${run.id} has no finite value of metric ${yKey}`);
      x[i] = m;
      y[i] = pts[pts.length - 1].value;
    });
    return { x, y, names: [xSpec, yKey] };
  } finally {
    store.close();
  }
}

/** Runs `sgdlab fit …`; returns the exit code (bad input throws `UserError`, exit 2). */
export function fitCommand(argv: string[], out: (s: string) => void): number {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      x: { type: "string" },
      y: { type: "string" },
      bootstrap: { type: "string", default: "1000" },
      seed: { type: "string", default: "0" },
      level: { type: "string", default: "0.95" },
    },
    "fit",
  );
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (positionals[0] !== "power-law" || positionals.length < 2) {
    throw new UserError(
      `fit: expected "sgdlab fit power-law FILE.csv" or "sgdlab fit power-law RUN RUN ..."\n${USAGE}`,
    );
  }
  // one argument that is a file, or names one (a path, a .csv): the CSV form; otherwise run ids
  const target = positionals[1];
  const fromFile =
    positionals.length === 2 &&
    ((existsSync(target) && statSync(target).isFile()) || /[/\\]|\.(csv|tsv|txt)$/i.test(target));
  const file = fromFile ? positionals[1] : `${positionals.length - 1} runs`;
  const resamples = count(values.bootstrap, "--bootstrap", 2);
  const seed = count(values.seed, "--seed", 0);
  const level = Number(values.level);
  if (!(level > 0 && level < 1)) throw new UserError(`fit: --level must lie in (0, 1), got "${values.level}"`);
  const { x, y, names } = fromFile
    ? readColumns(file, values.x ?? "0", values.y ?? "1")
    : runColumns(values.store ?? ".sgdlab", positionals.slice(1), values.x ?? "n", values.y ?? "test/loss");
  let fit;
  try {
    fit = bootstrapPowerLaw(x, y, { resamples, seed, level });
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`fit: "${file}": ${e.message}`);
    throw e;
  }
  // The log–log fit needs every ε > 0; without it the pure law is reported as absent.
  const pure = y.every((v) => v > 0) ? bootstrapPurePowerLaw(x, y, { resamples, seed, level }) : null;
  if (values.json) {
    out(
      JSON.stringify({
        alpha: json(fit.alpha),
        beta: json(fit.beta),
        gamma: json(fit.gamma),
        n: fit.fit.n,
        bootstrap: fit.resamples,
        seed,
        level,
        failed: fit.failed,
        rss: fit.fit.rss,
        betaAtBound: fit.fit.betaAtBound,
        pure: pure && { alpha: json(pure.alpha), beta: json(pure.beta) },
      }),
    );
    return 0;
  }
  const pct = `${Math.round(level * 1000) / 10}%`;
  const lines = [
    `ε(m) = α·m^β + γ fitted to ${fit.fit.n} points of ${escapeControl(file)} (m = ${names[0]}, ε = ${names[1]})`,
    `${pct} percentile intervals from ${resamples} bootstrap resamples (seed ${seed})`,
    line("alpha", fit.alpha),
    line("beta", fit.beta),
    line("gamma", fit.gamma),
    `  rss    ${fmt(fit.fit.rss).padStart(11)}`,
  ];
  if (fit.failed > 0) lines.push(`note: ${fit.failed} resamples had fewer than 3 distinct m and were skipped`);
  if (fit.fit.betaAtBound)
    lines.push("warning: β is at the edge of the searched range [−3, 3]; the fit is not reliable");
  if (pure) {
    lines.push(
      "pure power law ε = α·m^β (γ = 0, log–log least squares):",
      line("alpha", pure.alpha),
      line("beta", pure.beta),
    );
  } else {
    lines.push("pure power law: not fitted (needs every ε > 0)");
  }
  out(lines.join("\n"));
  return 0;
}
