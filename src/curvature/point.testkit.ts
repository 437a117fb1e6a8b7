/**
 * Test helper: an objective together with an owned point θ, so curvature tests read as "the Hessian
 * of this objective at these parameters". Only tests and benchmarks import this module.
 */
import { check, keep, release, treeSpec, type Params, type TreeSpec } from "../core/index.js";
import type { Dataset } from "../data/types.js";
import {
  createObjective,
  paramsDtype,
  type Objective,
  type ObjectiveOptions,
  type ObjectiveSpecInput,
} from "../losses/index.js";
import type { Loss } from "../losses/types.js";
import type { Model } from "../models/types.js";
import { ggnOperator, type GgnOperatorOptions } from "./ggn.js";
import { hessianOperator, type DisposableOperator, type HessianOperatorOptions } from "./hvp.js";

/** Options of `point`: the objective's, with `key` as the subset's root key. */
export type PointOptions = Omit<ObjectiveOptions, "rootKey"> & { key?: ObjectiveOptions["rootKey"] };

/** An objective and a point θ it owns. */
export class Point {
  readonly spec: TreeSpec;
  readonly dim: number;
  #params: Params | null;

  constructor(
    readonly objective: Objective,
    params: Params,
  ) {
    this.spec = treeSpec(params);
    this.dim = this.spec.size;
    this.#params = params;
  }

  get params(): Params {
    check(this.#params !== null, "point used after dispose()", 1);
    return this.#params;
  }

  get description() {
    return this.objective.description;
  }

  get chunks() {
    return this.objective.chunks;
  }

  hessian(opts?: HessianOperatorOptions): DisposableOperator {
    return hessianOperator(this.objective, keep(this.params), opts);
  }

  ggn(opts?: GgnOperatorOptions): DisposableOperator {
    return ggnOperator(this.objective, keep(this.params), opts);
  }

  valueAndGradient(): Promise<{ value: number; gradient: Float64Array }> {
    return this.objective.hostValueAndGradient(keep(this.params));
  }

  dispose(): void {
    release(this.#params);
    this.#params = null;
    this.objective.dispose();
  }
}

/** The objective of (model, loss) over `ds` selected by `spec`, at `params` (consumed). */
export function point(
  model: Model,
  params: Params,
  ds: Dataset,
  loss: Loss,
  spec: ObjectiveSpecInput = "full",
  opts: PointOptions = {},
): Point {
  const dtype = paramsDtype(treeSpec(params));
  try {
    const obj = createObjective({ model, loss }, ds, spec, { dtype, ...opts, rootKey: opts.key });
    return new Point(obj, params);
  } catch (e) {
    release(params);
    throw e;
  }
}
