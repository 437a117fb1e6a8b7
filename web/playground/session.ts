/**
 * One training session in the page: a validated experiment spec turned into a `Lab` by the trainer's
 * own `buildLab` (src/train/lab.ts: data, model, loss, optimizer, objectives, step engine, probes),
 * then stepped the trainer's way with the same shared functions — the hessian probe due at step t
 * measures before update t on `probeContext`, and update t is `updateStep` (key (seed, "optimizer",
 * t), label noise from (seed, "labelNoise", t)). So the page follows the same trajectory as `sgdlab
 * run` on `toSpec(state)` and measures the same λmax.
 *
 * Ownership (jax-js): the session owns params, optimizer state, model state, the initial params, the
 * objectives and the compiled step; `dispose()` releases them all. Every call that reads the state
 * borrows it through `keep`.
 */
import { keep, nn, np, release, settle, toHost, toScalar, type Params } from "../../src/core/index.js";
import { syntheticData } from "../../src/data/build.js";
import type { DataSplit } from "../../src/data/types.js";
import { ExperimentSpecSchema, type ExperimentSpec, type ExperimentSpecInput } from "../../src/experiments/schema.js";
import type { Model } from "../../src/models/types.js";
import type { Probe } from "../../src/probes/probe.js";
import type { TrainState } from "../../src/train/engine.js";
import { batchIndices, buildLab, probeContext, updateStep, type Lab } from "../../src/train/lab.js";

/** A λmax measurement (the hessian probe's metrics at one step). */
export interface Sharpness {
  step: number;
  lambdaMax: number;
  /** The optimizer's own stability threshold at η (2/η for GD), when it has one. */
  threshold: number | null;
  residual: number;
  hvps: number;
  ms: number;
}

/** Loss and accuracy on the full train and test sets (no regularizer). */
export interface Evaluation {
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
}

/**
 * Parses a spec document with the run's schema (defaults filled in). Throws an Error whose message
 * lists each offending field as `path: message`.
 */
export function parseSpec(doc: ExperimentSpecInput): ExperimentSpec {
  const r = ExperimentSpecSchema.safeParse(doc);
  if (r.success) return r.data;
  throw new Error(r.error.issues.map((i) => `${i.path.map(String).join(".") || "spec"}: ${i.message}`).join("; "));
}

export class Session {
  readonly spec: ExperimentSpec;
  readonly data: DataSplit;
  readonly model: Model;
  readonly #lab: Lab;
  readonly #probe: Probe;
  #state: TrainState;
  readonly #initParams: Params;
  #step = 0;
  #disposed = false;

  /** Builds everything a run of `spec` needs (synthetic data only) with the trainer's `buildLab`. */
  constructor(spec: ExperimentSpec) {
    const lab = buildLab(spec, syntheticData(spec.data, spec.seed));
    const probe = lab.probes.find((p) => p.name === "hessian");
    if (probe === undefined) {
      lab.dispose();
      throw new Error("the playground's spec needs a hessian probe");
    }
    this.spec = spec;
    this.data = lab.data;
    this.model = lab.model;
    this.#lab = lab;
    this.#probe = probe;
    this.#initParams = lab.model.init(lab.root.fold("init"), spec.dtype);
    const params = keep(this.#initParams);
    this.#state = { params, opt: lab.opt.init(keep(params)), model: lab.engine.initModelState() };
  }

  /** Steps taken so far (the index of the next update). */
  get step(): number {
    return this.#step;
  }

  /** The step size η at the next step. */
  get lr(): number {
    return this.#lab.schedule(this.#step);
  }

  /** Whether the hessian probe is due before the next update. */
  get sharpnessDue(): boolean {
    const every = this.#probe.every;
    return typeof every === "number" ? this.#step % every === 0 : every(this.#step);
  }

  /**
   * The hessian probe at the current parameters (before the next update), as the trainer calls it:
   * warm-started Lanczos on the full training objective (no regularizer), key (seed, "probe/hessian", t).
   */
  async measureSharpness(): Promise<Sharpness> {
    const at = this.#step;
    const indices = batchIndices(this.#lab, at);
    const t0 = performance.now();
    const site = { step: at, params: this.#state.params, initParams: this.#initParams, optState: this.#state.opt };
    const values = await this.#probe.measure(probeContext(this.#lab, this.#probe, site, indices, this.lr, () => {}));
    return {
      step: at,
      lambdaMax: values["hessian/lambdaMax"],
      threshold: values["hessian/threshold"] ?? null,
      residual: values["hessian/residual"],
      hvps: values["hessian/hvps"],
      ms: performance.now() - t0,
    };
  }

  /** One optimizer update (the trainer's phase 5). Returns the batch loss at the old parameters. */
  async trainStep(): Promise<number> {
    const t = this.#step;
    const [value, state] = updateStep(this.#lab, this.#state, t, batchIndices(this.#lab, t), this.lr);
    this.#state = state;
    const batchLoss = await toScalar(value);
    await settle([state.params, state.opt]);
    this.#step = t + 1;
    return batchLoss;
  }

  /** Loss and accuracy on the full train and test sets at the current parameters. */
  async evaluate(): Promise<Evaluation> {
    const s = this.#state;
    const tr = await this.#lab.evalTrain.evaluate(s.params, s.model);
    const te = await this.#lab.evalTest.evaluate(s.params, s.model);
    return {
      step: this.#step,
      trainLoss: tr.loss,
      trainAccuracy: tr.accuracy,
      testLoss: te.loss,
      testAccuracy: te.accuracy,
    };
  }

  /**
   * The model's class probabilities at the points `xy` (m × 2, row-major; float64 host values):
   * softmax of the outputs (m × C). MSE-trained outputs are read the same way (a monotone map of the
   * regression onto the one-hot targets).
   */
  async predict(xy: Float64Array): Promise<Float64Array> {
    const m = xy.length / 2;
    const x = np.array(Float32Array.from(xy), { dtype: np.float32 }).reshape([m, 2]);
    return toHost(nn.softmax(this.model.apply(keep(this.#state.params), x), -1));
  }

  /** Releases every array and compiled function the session owns (idempotent). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    release([this.#state.params, this.#state.opt, this.#state.model, this.#initParams]);
    this.#lab.dispose();
  }
}
