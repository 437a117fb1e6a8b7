/**
 * `sgdlab landscape <run> | --model MODEL.json`: a 1-D or 2-D loss-landscape slice around a run's
 * checkpoint (or an external model), stored as the run artifact `landscape/<name>` with its axes and
 * directions, summarized (or `--json`) and drawn into DIR (default reports/landscape/<run>/<name>/).
 */
import { readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { UserError } from "../core/errors.js";
import { common, parse } from "./args.js";
import { Key, leafNames, release, treeSpec, type FloatDtype } from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { loadData, type Dataset } from "../data/index.js";
import { loadRunModel, loadSafetensorsModel, type ExternalModel } from "../experiments/external.js";
import { computeLandscape, type LandscapeMode, type LandscapeResult } from "../landscape/landscape.js";
import { createLoss, createObjective, type ObjectiveDescription } from "../losses/index.js";
import { loadCheckpoint, RunStore } from "../store/index.js";
import { fmt } from "./format.js";

export const LANDSCAPE_USAGE = `usage: sgdlab landscape <run> | --model MODEL.json
         (--interpolate A B [--to RUN2] | --directions random1d|random2d|hessian|pca)
         [--range LO:HI] [--points N] [--refine] [--bias-bn ignore|include] [--seed S]
         [--split train|test] [--objective full|subset:N] [--chunk-size C] [--dtype float32|float64]
         [--step N] [--name NAME] [--out DIR] [--store DIR] [--json]
  --interpolate A B   θ(t) = (1−t)θ_A + tθ_B between the checkpoints at steps A and B (B of RUN2 with --to;
                      "latest" for the newest); default range -0.5:1.5
  --directions        random1d/random2d: filter-normalized Gaussian directions (Li et al. 2018), 1-D leaves
                      (biases, BN) zero (--bias-bn ignore, default) or equal to θ (include); hessian: the top-2
                      Hessian eigenvectors; pca: the PCA plane of the run's checkpoints (origin: the last one)
  --range -1:1 --points 21 per axis; --refine adds a grid of the same size over ±1 cell around the minimum
  writes the artifact landscape/<name> (default name: the mode, or interpolate-A-B) and DIR/index.html
  + SVGs (DIR default reports/landscape/<run>/<name>/)`;

/** Parsed options of `sgdlab landscape` (strings as given on the command line). */
export interface LandscapeArgs {
  run?: string;
  model?: string;
  interpolate?: [string, string];
  to?: string;
  directions?: string;
  range?: string;
  points?: string;
  refine?: boolean;
  biasBn?: string;
  seed?: string;
  split?: string;
  objective?: string;
  chunkSize?: string;
  dtype?: string;
  step?: string;
  name?: string;
  out?: string;
  store?: string;
}

/** What `landscapeRun` computed and where it put it. */
export interface LandscapeOutput extends LandscapeResult {
  name: string;
  source: string;
  runId: string | null;
  /** The origin checkpoint's step (null for --model). */
  step: number | null;
  split: "train" | "test";
  objective: ObjectiveDescription;
  dtype: FloatDtype;
  seed: number;
  /** The artifact written (`landscape/<name>`), or null without a run. */
  artifact: string | null;
  reportDir: string;
  /** Caveats (e.g. interpolation endpoints trained on different data). */
  notes: string[];
}

function int(v: string, flag: string, min: number): number {
  const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw new UserError(`landscape: ${flag} must be an integer ≥ ${min}, got "${v}"`);
  return n;
}

function parseRange(text: string): [number, number] {
  const m = /^(.+):(.+)$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
    throw new UserError(`landscape: --range must be LO:HI with LO < HI, got "${text}"`);
  }
  return [lo, hi];
}

/** A checkpoint step argument: an integer or "latest" (undefined). */
function stepArg(v: string, flag: string): number | undefined {
  return v === "latest" ? undefined : int(v, flag, 0);
}

/** The test split of the data a model was trained on. */
async function testSplit(data: unknown, seed: number, source: string): Promise<Dataset> {
  const { test } = await loadData(data as never, seed);
  if (test.n === 0) throw new UserError(`landscape: ${source} has no test examples (--split test)`);
  return test;
}

/** Computes, stores and draws the landscape; returns it (printing is the caller's). */
export async function landscapeRun(a: LandscapeArgs): Promise<LandscapeOutput> {
  if ((a.run === undefined) === (a.model === undefined)) {
    throw new UserError("landscape: give exactly one of <run> or --model MODEL.json");
  }
  if ((a.interpolate === undefined) === (a.directions === undefined)) {
    throw new UserError("landscape: give exactly one of --interpolate A B or --directions KIND");
  }
  const kinds = ["random1d", "random2d", "hessian", "pca"];
  if (a.directions !== undefined && !kinds.includes(a.directions)) {
    throw new UserError(`landscape: --directions must be one of ${kinds.join(", ")}, got "${a.directions}"`);
  }
  if (a.to !== undefined && a.interpolate === undefined) throw new UserError("landscape: --to needs --interpolate A B");
  if (a.model !== undefined && (a.interpolate !== undefined || a.directions === "pca")) {
    throw new UserError("landscape: --interpolate and --directions pca need a run's checkpoints, not --model");
  }
  const range = parseRange(a.range ?? (a.interpolate ? "-0.5:1.5" : "-1:1"));
  const points = int(a.points ?? "21", "--points", 2);
  const biasBn = a.biasBn ?? "ignore";
  if (biasBn !== "ignore" && biasBn !== "include") {
    throw new UserError(`landscape: --bias-bn must be ignore or include, got "${biasBn}"`);
  }
  const split = a.split ?? "train";
  if (split !== "train" && split !== "test")
    throw new UserError(`landscape: --split must be train or test, got "${split}"`);
  const objectiveSpec = a.objective ?? "full";
  if (!/^(full|subset:[1-9][0-9]*)$/.test(objectiveSpec)) {
    throw new UserError(`landscape: --objective must be full or subset:N, got "${objectiveSpec}"`);
  }
  const chunkSize = int(a.chunkSize ?? "1000", "--chunk-size", 1);
  if (a.dtype !== undefined && a.dtype !== "float32" && a.dtype !== "float64") {
    throw new UserError(`landscape: --dtype must be float32 or float64, got "${a.dtype}"`);
  }
  const name = a.name ?? (a.interpolate ? `interpolate-${a.interpolate.join("-")}` : a.directions!);
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw new UserError(`landscape: --name must be letters, digits, . _ -, got "${name}"`);

  await initRuntime("wasm");
  let subject: ExternalModel & { seed: number; dtype: FloatDtype };
  let runId: string | null = null;
  let step: number | null = null;
  let dataConfig: unknown;
  let mode: LandscapeMode | null = null;
  const notes: string[] = [];
  const originStep = a.interpolate
    ? stepArg(a.interpolate[0], "--interpolate A")
    : a.step === undefined
      ? undefined
      : int(a.step, "--step", 0);
  if (a.run !== undefined) {
    const store = RunStore.open(a.store ?? ".sgdlab", { readonly: true });
    try {
      const run = store.getRun(a.run);
      runId = run.id;
      const t = await loadRunModel(store, run.id, originStep);
      subject = t;
      dataConfig = t.spec.data;
      step = loadCheckpoint(store, run.id, originStep).record.step;
      if (a.interpolate) {
        const other = a.to === undefined ? run.id : store.getRun(a.to).id;
        const b = await loadRunModel(store, other, stepArg(a.interpolate[1], "--interpolate B"));
        if (b.flat.length !== t.flat.length) {
          throw new UserError(`landscape: ${b.source} has ${b.flat.length} parameters, ${t.source} ${t.flat.length}`);
        }
        mode = { kind: "interpolate", to: b.flat };
        if (JSON.stringify([b.spec.data, b.seed]) !== JSON.stringify([t.spec.data, t.seed])) {
          notes.push(`${b.source} was trained on other data; every point is evaluated on the data of ${t.source}`);
        }
      } else if (a.directions === "pca") {
        const steps = store
          .listCheckpoints(run.id)
          .map((c) => c.step)
          .filter((s) => s <= step!);
        const trajectory = steps.map((s) => loadCheckpoint(store, run.id, s).arrays.params!.data as Float64Array);
        mode = { kind: "pca", trajectory };
      }
    } finally {
      store.close();
    }
  } else {
    const e = await loadSafetensorsModel(a.model!);
    const doc = JSON.parse(readFileSync(a.model!, "utf8")) as { data: unknown; seed?: number };
    subject = { ...e, seed: doc.seed ?? 0, dtype: "float64" };
    dataConfig = doc.data;
  }
  const seed = a.seed === undefined ? subject.seed : int(a.seed, "--seed", 0);
  const key = Key.fromSeed(seed).fold("landscape");
  if (mode === null) {
    mode =
      a.directions === "hessian"
        ? { kind: "hessian", key: key.fold("lanczos") }
        : { kind: a.directions as "random1d" | "random2d", key, biasBn };
  }
  const dtype = (a.dtype as FloatDtype | undefined) ?? subject.dtype;
  const data = split === "test" ? await testSplit(dataConfig, subject.seed, subject.source) : subject.data;
  const template = subject.model.init(Key.fromSeed(0), dtype);
  const spec = treeSpec(template);
  const names = leafNames(template);
  release(template);
  const obj = createObjective({ model: subject.model, loss: createLoss(subject.loss) }, data, objectiveSpec, {
    dtype,
    chunkSize,
    rootKey: Key.fromSeed(subject.seed),
    compile: true,
  });
  let result: LandscapeResult;
  try {
    result = await computeLandscape(obj, spec, names, subject.flat, { mode, range, points, refine: a.refine });
  } finally {
    obj.dispose();
  }
  const artifact = runId === null ? null : `landscape/${name}`;
  const reportDir = a.out ?? join("reports", "landscape", runId ?? basename(a.model!).replace(/\.json$/, ""), name);
  const output: LandscapeOutput = {
    ...result,
    name,
    source: subject.source,
    runId,
    step,
    split,
    objective: obj.description,
    dtype,
    seed,
    artifact,
    reportDir,
    notes,
  };
  await drawLandscape(output);
  if (runId !== null) {
    const store = RunStore.open(a.store ?? ".sgdlab");
    try {
      store.putArtifact(runId, artifact!, step ?? 0, JSON.parse(JSON.stringify(output)));
    } finally {
      store.close();
    }
  }
  return output;
}

/** Writes the figures (1-D curves or 2-D contours, loss and accuracy) into `o.reportDir`. */
async function drawLandscape(o: LandscapeOutput): Promise<void> {
  const { landscapeFigures, writeReport } = await import("../report/index.js");
  const subtitle = `${o.split} ${o.objective.kind} (n=${o.objective.n}), ${o.dtype}; ${o.directions.map((d) => d.kind).join(", ")}`;
  const figures = landscapeFigures(o, { subtitle });
  await writeReport(
    {
      title: `Loss landscape ${o.name}`,
      subtitle: o.source,
      meta: [
        ["source", o.source],
        ["mode", o.mode],
        [
          "grid",
          `${o.grid.axes.map((x) => x.length).join("×")} over [${fmt(o.grid.axes[0][0])}, ${fmt(o.grid.axes[0].at(-1)!)}]`,
        ],
        ["origin loss", fmt(o.origin.loss)],
        ["min loss", `${fmt(o.grid.min.loss)} at (${o.grid.min.at.map(fmt).join(", ")})`],
      ],
      figures,
    },
    o.reportDir,
  );
}

/** The human-readable summary. */
export function formatLandscape(o: LandscapeOutput): string {
  const where = o.runId === null ? o.source : `run ${o.runId} at step ${o.step}`;
  const at = (v: number[]) => `(${v.map(fmt).join(", ")})`;
  const lines: [string, string][] = [
    ["landscape", `${o.name === o.mode ? o.mode : `${o.name} (${o.mode})`} of ${where}`],
    ["objective", `${o.split} ${o.objective.kind} (n=${o.objective.n}), ${o.dtype}`],
  ];
  o.directions.forEach((d, k) => {
    const extra =
      d.eigenvalue !== undefined
        ? `, λ = ${fmt(d.eigenvalue)}`
        : d.explainedVariance !== undefined
          ? `, ${fmt(100 * d.explainedVariance)}% of the variance`
          : d.biasBn !== undefined
            ? `, bias/BN ${d.biasBn}`
            : "";
    lines.push([`direction ${k + 1}`, `${d.kind}, ‖d‖ = ${fmt(d.norm)}${extra}`]);
  });
  const g = o.grid;
  lines.push([
    "grid",
    `${g.axes.map((x) => x.length).join("×")} over [${fmt(g.axes[0][0])}, ${fmt(g.axes[0].at(-1)!)}]${o.dims === 2 ? "²" : ""}, ${o.evaluations} evaluations in ${fmt(o.seconds)} s`,
  ]);
  const acc = (v: number) => (Number.isFinite(v) ? `  accuracy ${fmt(v)}` : "");
  lines.push(["origin", `loss ${fmt(o.origin.loss)}${acc(o.origin.accuracy)}`]);
  lines.push(["min", `loss ${fmt(g.min.loss)} at ${at(g.min.at)}`]);
  lines.push(["max", `loss ${fmt(g.max.loss)} at ${at(g.max.at)}`]);
  if (o.mode === "interpolate") {
    const ends = [0, 1].map((t) => g.axes[0].findIndex((x) => Math.abs(x - t) < 1e-12));
    if (ends.every((i) => i >= 0))
      lines.push(["endpoints", `L(t=0) ${fmt(g.loss[ends[0]])}  L(t=1) ${fmt(g.loss[ends[1]])}`]);
  }
  if (o.refined) lines.push(["refined min", `loss ${fmt(o.refined.min.loss)} at ${at(o.refined.min.at)}`]);
  for (const n of o.notes) lines.push(["note", n]);
  lines.push(["artifact", o.artifact === null ? "not stored (no run)" : `${o.artifact} (step ${o.step})`]);
  const rel = relative(process.cwd(), o.reportDir);
  lines.push(["figures", join(rel.startsWith("..") ? o.reportDir : rel, "index.html")]);
  const w = Math.max(...lines.map((l) => l[0].length));
  return lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n");
}

/** Runs `sgdlab landscape`; returns the exit code. */
export async function landscapeCommand(argv: string[], out: (s: string) => void): Promise<number> {
  // --interpolate takes two values (joined so that parseArgs sees one); --range may start with "-"
  const args = [...argv];
  const i = args.indexOf("--interpolate");
  if (i >= 0) {
    if (
      args[i + 1] === undefined ||
      args[i + 2] === undefined ||
      [args[i + 1], args[i + 2]].some((x) => x.startsWith("--"))
    ) {
      throw new UserError(`landscape: --interpolate needs two checkpoint steps A B\n${LANDSCAPE_USAGE}`);
    }
    args.splice(i + 1, 2, `${args[i + 1]} ${args[i + 2]}`);
  }
  const r = args.indexOf("--range");
  if (r >= 0 && args[r + 1] !== undefined) args.splice(r, 2, `--range=${args[r + 1]}`);
  const { values: v, positionals } = parse(
    args,
    {
      ...common,
      model: { type: "string" },
      interpolate: { type: "string" },
      to: { type: "string" },
      directions: { type: "string" },
      range: { type: "string" },
      points: { type: "string" },
      refine: { type: "boolean", default: false },
      "bias-bn": { type: "string" },
      seed: { type: "string" },
      split: { type: "string" },
      objective: { type: "string" },
      "chunk-size": { type: "string" },
      dtype: { type: "string" },
      step: { type: "string" },
      name: { type: "string" },
      out: { type: "string", short: "o" },
    },
    "landscape",
  );
  if (v.help) {
    out(LANDSCAPE_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UserError(`landscape: expected at most one run id\n${LANDSCAPE_USAGE}`);
  const o = await landscapeRun({
    run: positionals[0],
    model: v.model,
    interpolate: v.interpolate === undefined ? undefined : (v.interpolate.split(" ") as [string, string]),
    to: v.to,
    directions: v.directions,
    range: v.range,
    points: v.points,
    refine: v.refine,
    biasBn: v["bias-bn"],
    seed: v.seed,
    split: v.split,
    objective: v.objective,
    chunkSize: v["chunk-size"],
    dtype: v.dtype,
    step: v.step,
    name: v.name,
    out: v.out,
    store: v.store,
  });
  out(v.json ? JSON.stringify(o) : formatLandscape(o));
  return 0;
}
