/**
 * Curvature at initialization over several init draws, and pre-screening that keeps the flattest
 * (the seed text's "start in flat regions"; the curvature at the initialization point is what the
 * data-dependent stability bound of Kuzborskij & Lampert, ICML 2018, depends on). Draw d is exactly
 * the starting point of `sgdlab run SPEC --set seed=<seed + d>`: its data (loadData at that seed)
 * and its initialization (Key.fromSeed(seed).fold("init")).
 */
import { Key, UserError } from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { analyzeHessian } from "../curvature/analyze.js";
import { loadData } from "../data/index.js";
import { createLoss, createObjective } from "../losses/index.js";
import { createModel } from "../models/index.js";
import type { ExperimentSpec } from "./schema.js";

/** One init draw's curvature (training objective: full training set, BN in train mode, no regularizer). */
export interface InitDraw {
  readonly seed: number;
  readonly loss: number;
  readonly lambdaMax: number;
  /** Hutchinson estimate of tr H with its standard error. */
  readonly trace: number;
  readonly traceStderr: number;
  readonly gradNorm: number;
}

/** Options of `initCurvature`. */
export interface InitCurvatureOptions {
  /** N ≥ 1 draws: seeds spec.seed, spec.seed + 1, …. */
  readonly draws: number;
  /** Rademacher probes of the trace (default 64). */
  readonly traceProbes?: number;
  /** Lanczos relative residual tolerance (default 1e-4). */
  readonly tol?: number;
}

/** Result of `initCurvature`: the draws and the index of the one with the lowest λmax. */
export interface InitCurvatureReport {
  readonly draws: InitDraw[];
  readonly flattest: number;
  readonly seconds: number;
}

/**
 * λmax (Lanczos), tr H (Hutchinson, `traceProbes` Rademacher vectors, with its standard error) and
 * ‖∇L‖ of the training loss at initialization for `draws` seeds.
 */
export async function initCurvature(spec: ExperimentSpec, opts: InitCurvatureOptions): Promise<InitCurvatureReport> {
  const t0 = performance.now();
  if (!(Number.isInteger(opts.draws) && opts.draws >= 1)) {
    throw new UserError(`init-curvature: --draws must be an integer ≥ 1, got ${opts.draws}`);
  }
  await initRuntime(spec.backend);
  const draws: InitDraw[] = [];
  for (let d = 0; d < opts.draws; d++) {
    const seed = spec.seed + d;
    const { train } = await loadData(spec.data, seed);
    const outputDim = train.task === "classification" ? train.numClasses : train.targetDim;
    const model = createModel(spec.model, train.xShape, outputDim);
    const obj = createObjective({ model, loss: createLoss(spec.loss) }, train, "full", {
      dtype: spec.dtype,
      chunkSize: spec.chunkSize,
    });
    try {
      const r = await analyzeHessian(obj, model.init(Key.fromSeed(seed).fold("init"), spec.dtype), {
        top: 1,
        bottom: 0,
        tol: opts.tol ?? 1e-4,
        trace: "hutchinson",
        traceProbes: opts.traceProbes ?? 64,
        key: Key.fromSeed(seed).fold("init-curvature"),
      });
      draws.push({
        seed,
        loss: r.loss,
        lambdaMax: r.topEigenvalues[0],
        trace: r.trace!,
        traceStderr: r.traceStderr!,
        gradNorm: r.gradNorm,
      });
    } finally {
      obj.dispose();
    }
  }
  let flattest = 0;
  draws.forEach((d, i) => {
    if (d.lambdaMax < draws[flattest].lambdaMax) flattest = i;
  });
  return { draws, flattest, seconds: (performance.now() - t0) / 1000 };
}
