/**
 * A reproduction is a declared experiment of the literature: the runs it needs at each size, the
 * criteria it states before running (each a measured value against a fixed threshold), and the
 * figures of its report. The runner (`runner.ts`) executes it and never adjusts a threshold.
 */
import type { TrainedModel } from "../experiments/external.js";
import type { Figure } from "../report/index.js";
import type { RunStatus } from "../train/trainer.js";

/**
 * `smoke`: seconds, checks the pipeline (runs finish, criteria are computed), not the claim;
 * `small`: minutes on one core, must pass its criteria; `paper`: the size of the original experiment.
 */
export type Size = "smoke" | "small" | "paper";
export const SIZES: readonly Size[] = ["smoke", "small", "paper"];

/** A criterion as declared before running: how its value is measured and what passes. */
export interface CriterionSpec {
  readonly name: string;
  /** What is measured, in words. */
  readonly statement: string;
  /** Passes when the value is ≥ min, ≤ max, or within [min, max]. */
  readonly min?: number;
  readonly max?: number;
}

/** A criterion after running. */
export interface CriterionResult {
  name: string;
  statement: string;
  value: number;
  /** "≥ 1.5", "≤ 0.2", "in [0.85, 1.35]". */
  threshold: string;
  pass: boolean;
}

/** One finished member run, with its metrics as series. */
export interface MemberRun {
  /** The member's name within the reproduction (e.g. "lr=0.1"). */
  readonly member: string;
  readonly runId: string;
  readonly status: RunStatus;
  /** The metric `key` as (step, value) points in step order (finite values only). */
  series(key: string): { step: number; value: number }[];
  /** The last value of `key` (NaN if none). */
  last(key: string): number;
}

/** What a reproduction may do while it executes. */
export interface ReproductionContext {
  readonly size: Size;
  /** Trains one member (a spec document, validated like `sgdlab run`'s) to its end. */
  run(member: string, spec: Record<string, unknown>): Promise<MemberRun>;
  /** The trained model of a member at its checkpoint of `step` (default: the latest), for measurements after training. */
  trained(run: MemberRun, step?: number): Promise<TrainedModel>;
  /** A progress line. */
  log(message: string): void;
}

/** What `execute` returns: a value for every declared criterion, figures and notes. */
export interface Outcome {
  values: Record<string, number>;
  figures: Figure[];
  notes?: string[];
}

/** A phenomenon of the catalog. */
export interface Reproduction {
  readonly name: string;
  readonly title: string;
  /** The paper (authors, year, where the claim is). */
  readonly source: string;
  /** The claim, in one or two sentences. */
  readonly claim: string;
  /** The criteria, stated before anything runs (what `small` and `paper` must pass). */
  readonly criteria: readonly CriterionSpec[];
  /** Measured wall time per size on one core (documentation; e.g. "40 s (2026-12-01)"). */
  readonly time?: Partial<Record<Size, string>>;
  execute(ctx: ReproductionContext): Promise<Outcome>;
}
