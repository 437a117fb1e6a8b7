/**
 * Probes: measurements taken during training that never change the trajectory. A probe gets a
 * read-only view of the current state (`ProbeContext`; arrays are borrowed: `keep()` what you use)
 * and returns metric values keyed `probe/quantity`.
 */
import type { FloatDtype, Key, Params } from "../core/index.js";
import type { DataSplit } from "../data/types.js";
import type { Objective, ObjectiveSpecInput } from "../losses/objective.js";
import type { Loss } from "../losses/types.js";
import type { Model } from "../models/types.js";
import type { GradientTransformation, OptState } from "../optim/types.js";

/** What a probe may look at. `params` and `init` are borrowed: never consume them, `keep()` them. */
export interface ProbeContext {
  readonly step: number;
  readonly params: Params;
  /** Parameters at initialisation (borrowed). */
  readonly initParams: Params;
  readonly model: Model;
  readonly loss: Loss;
  readonly data: DataSplit;
  /** Indices of the mini-batch used at this step (null for full batch). */
  readonly batchIndices: Int32Array | null;
  /** Learning rate at this step. */
  readonly lr: number;
  readonly dtype: FloatDtype;
  readonly chunkSize: number;
  /** This probe's key at this step, derived from (seed, "probe/<name>", step). */
  readonly key: Key;
  /** The run's root key (`Key.fromSeed(seed)`), for step-independent choices like a fixed subset. */
  readonly rootKey: Key;
  /** Optimizer state (borrowed) and the optimizer's config, e.g. for preconditioned sharpness. */
  readonly optState: OptState;
  readonly optimizer: { readonly kind: string; readonly [option: string]: unknown };
  /** The optimizer itself (its own stability threshold and preconditioner, where it has them). */
  readonly transform: GradientTransformation;
  /**
   * The objective a measurement differentiates (DESIGN.md, "objective contract"): the run's loss on
   * the training examples selected by `spec` ("full", "subset:N" — the same fixed subset for every
   * probe — or "batch", the step's mini-batch, which is the full set under full-batch training), BN in
   * train mode, no regularizer. The caller owns it: `dispose()` it.
   */
  objective(spec: ObjectiveSpecInput, opts?: { chunkSize?: number }): Objective;
  /** Stores a JSON artifact (e.g. a spectral density) for this step. */
  artifact(name: string, value: unknown): void;
}

/** A measurement during training (DESIGN.md, `Probe`). */
export interface Probe {
  readonly name: string;
  readonly every: number | ((step: number) => boolean);
  measure(ctx: ProbeContext): Promise<Record<string, number>>;
  /** Releases compiled state, if any. */
  dispose?(): void;
  /** Host state to checkpoint (keys are local to the probe), e.g. warm-start vectors. */
  saveState?(): Record<string, Float64Array>;
  /** Restores what `saveState` returned (on resume). */
  loadState?(state: Record<string, Float64Array>): void;
}

/** Whether `probe` runs at `step`. */
export function probeDue(probe: Probe, step: number): boolean {
  return typeof probe.every === "number" ? step % probe.every === 0 : probe.every(step);
}
