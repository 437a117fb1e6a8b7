/**
 * `sgdlab hessian`: curvature of a stored run's checkpoint, a checkpoint file, or an external model
 * (`--from-json` reference MLP case, `--model` spec + safetensors weights).
 */
import { existsSync } from "node:fs";
import { UserError } from "../core/errors.js";
import { deriveKey, Key, keep, release, treeFromHost, treeSpec, type FloatDtype, type Params } from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { analyzeHessian, type HessianReport } from "../curvature/analyze.js";
import { minibatchSharpness, type MinibatchSharpness } from "../curvature/minibatch.js";
import type { Dataset } from "../data/index.js";
import { loadMlpCase, loadRunModel, loadSafetensorsModel, loadTrainedModel } from "../experiments/external.js";
import { createLoss, createObjective, type LossConfig } from "../losses/index.js";
import type { Model } from "../models/index.js";
import { readCheckpointFile, RunStore } from "../store/index.js";
import { fmt } from "./format.js";

export interface HessianArgs {
  target?: string;
  fromJson?: string;
  model?: string;
  store?: string;
  step?: string;
  top: string;
  bottom: string;
  trace: string;
  density: boolean;
  objective: string;
  tol: string;
  dtype?: string;
  maxIter?: string;
  chunkSize: string;
  json: boolean;
  /** Comma-separated batch sizes for mini-batch sharpness (Granziol et al. 2022). */
  batchSizes?: string;
  draws?: string;
}

interface Subject {
  model: Model;
  loss: LossConfig;
  data: Dataset;
  flat: Float64Array;
  seed: number;
  defaultDtype: FloatDtype;
  source: string;
}

function positiveInt(v: string, flag: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UserError(`hessian: ${flag} must be an integer ≥ ${min}, got "${v}"`);
  return n;
}

async function subject(a: HessianArgs): Promise<Subject> {
  const given = [a.target, a.fromJson, a.model].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw new UserError("hessian: give exactly one of <run-id|checkpoint.ckpt>, --from-json FILE, --model FILE");
  }
  if (a.fromJson) {
    const e = loadMlpCase(a.fromJson);
    return { ...e, seed: 0, defaultDtype: "float64" };
  }
  if (a.model) {
    const e = await loadSafetensorsModel(a.model);
    return { ...e, seed: 0, defaultDtype: "float64" };
  }
  const target = a.target!;
  if (target.endsWith(".ckpt") || existsSync(target)) {
    let c: ReturnType<typeof readCheckpointFile>;
    try {
      c = readCheckpointFile(target);
    } catch (e) {
      // a file named on the command line is input: missing or not a checkpoint is exit 2
      throw e instanceof UserError ? new UserError(e.message, 2) : e;
    }
    const t = await loadTrainedModel(c.meta, c.arrays.params?.data as Float64Array | undefined, `checkpoint ${target}`);
    return { ...t, defaultDtype: t.dtype };
  }
  const store = RunStore.open(a.store ?? ".sgdlab", { readonly: true });
  try {
    const step = a.step === undefined ? undefined : positiveInt(a.step, "--step", 0);
    const t = await loadRunModel(store, target, step);
    return { ...t, defaultDtype: t.dtype };
  } finally {
    store.close();
  }
}

/** Runs the analysis; returns the report (printing is the caller's). */
export async function hessianCommand(
  a: HessianArgs,
): Promise<{ report: HessianReport; source: string; dtype: FloatDtype; minibatch: MinibatchSharpness | null }> {
  const top = positiveInt(a.top, "--top", 0);
  const bottom = positiveInt(a.bottom, "--bottom", 0);
  const tol = Number(a.tol);
  if (!(tol > 0 && tol < 1)) throw new UserError(`hessian: --tol must be in (0, 1), got "${a.tol}"`);
  const chunkSize = positiveInt(a.chunkSize, "--chunk-size");
  if (!["auto", "exact", "hutchinson", "none"].includes(a.trace)) {
    throw new UserError(`hessian: --trace must be auto, exact, hutchinson or none, got "${a.trace}"`);
  }
  const maxIter = a.maxIter === undefined ? undefined : positiveInt(a.maxIter, "--max-iter");
  if (a.dtype !== undefined && a.dtype !== "float32" && a.dtype !== "float64") {
    throw new UserError(`hessian: --dtype must be float32 or float64, got "${a.dtype}"`);
  }
  const batchSizes = a.batchSizes?.split(",").map((b) => positiveInt(b.trim(), "--batch-sizes"));
  const draws = a.draws === undefined ? 5 : positiveInt(a.draws, "--draws");
  const m = /^(full|subset:([1-9][0-9]*)|batch:([1-9][0-9]*))$/.exec(a.objective);
  if (!m) throw new UserError(`hessian: --objective must be full, subset:N or batch:B, got "${a.objective}"`);
  await initRuntime("wasm");
  const s = await subject(a);
  const dtype = (a.dtype as FloatDtype | undefined) ?? s.defaultDtype;
  const template = s.model.init(deriveKey(0, "template"), dtype);
  const spec = treeSpec(template);
  release(template);
  if (spec.size !== s.flat.length) {
    throw new UserError(`${s.source}: ${s.flat.length} parameters stored, the model has ${spec.size}`);
  }
  const params = treeFromHost(spec, s.flat) as Params;
  const key = deriveKey(s.seed, "hessian");
  let indices: Int32Array | undefined;
  if (m[3]) {
    const b = Math.min(Number(m[3]), s.data.n);
    indices = key.fold("batch").rng().permutation(s.data.n).slice(0, b);
  }
  // the run's root key: `--objective subset:N` on a run selects the subset its probes used
  const objective = createObjective(
    { model: s.model, loss: createLoss(s.loss) },
    s.data,
    m[3] ? "batch" : a.objective,
    { chunkSize, dtype, rootKey: Key.fromSeed(s.seed), indices },
  );
  try {
    const report = await analyzeHessian(objective, keep(params), {
      top,
      bottom,
      tol,
      maxIter,
      trace: a.trace as "auto",
      exactTraceMax: 5000,
      density: a.density ? { probes: 4, steps: Math.min(80, s.flat.length) } : undefined,
      key,
    });
    const minibatch = batchSizes
      ? await minibatchSharpness(objective, keep(params), {
          batchSizes,
          draws,
          key: key.fold("minibatch"),
          tol,
          maxIter,
        })
      : null;
    return { report, source: s.source, dtype, minibatch };
  } finally {
    objective.dispose();
    release(params);
  }
}

/** The human-readable table of a report (and of mini-batch sharpness, if measured). */
export function formatReport(
  r: HessianReport,
  source: string,
  dtype: string,
  mb: MinibatchSharpness | null = null,
): string {
  const o = r.objective;
  const lines = [
    ["source", source],
    ["objective", `${o.kind} (n=${o.n}, chunks of ${o.chunkSize}), ${dtype}`],
    ["parameters", String(r.parameterCount)],
    ["loss", fmt(r.loss)],
    ["‖∇L‖", fmt(r.gradNorm)],
  ];
  if (r.topEigenvalues.length) {
    lines.push(["top eigenvalues", r.topEigenvalues.map(fmt).join("  ")]);
    lines.push(["  residuals", r.topResiduals.map(fmt).join("  ")]);
  }
  if (r.bottomEigenvalues.length) {
    lines.push(["bottom eigenvalues", r.bottomEigenvalues.map(fmt).join("  ")]);
    lines.push(["  residuals", r.bottomResiduals.map(fmt).join("  ")]);
  }
  if (!r.converged) lines.push(["warning", "Lanczos did not reach --tol within --max-iter"]);
  if (r.trace !== null) {
    lines.push([
      "trace",
      `${fmt(r.trace)} (${r.traceMethod}${r.traceStderr !== null ? ` ± ${fmt(r.traceStderr)}` : ""})`,
    ]);
  }
  if (r.density) {
    const peak = r.density.grid[r.density.density.indexOf(Math.max(...r.density.density))];
    lines.push(["density", `SLQ, ${r.density.nodes.length} probes, σ=${fmt(r.density.sigma)}, mode at ${fmt(peak)}`]);
  }
  lines.push(["HVPs", `${r.hvps} (${fmt(r.seconds)} s)`]);
  if (mb) {
    lines.push(["full-batch λmax", `${fmt(mb.full.lambdaMax)}  (2/λ = ${fmt(mb.full.maxStableLr)})`]);
    for (const row of mb.rows) {
      lines.push([
        `  B = ${row.batchSize}`,
        `λmax ${fmt(row.mean)} ± ${fmt(row.std)}  (2/λ = ${fmt(row.maxStableLr)}, ${row.lambdaMax.length} batches)`,
      ]);
    }
  }
  const w = Math.max(...lines.map((l) => l[0].length));
  return lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n");
}
