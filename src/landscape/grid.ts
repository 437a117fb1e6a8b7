/**
 * Evaluation of an objective on a grid of points θ + α·d₁ (+ β·d₂) of a loss-landscape slice: the
 * points are built on the host in float64 and evaluated one after another by the objective's compiled
 * (jitted once, reused for every point) chunk evaluation, one device round trip per chunk.
 */
import { release, treeFromHost, type Params, type TreeSpec } from "../core/index.js";
import type { Objective } from "../losses/objective.js";
import type { ModelState } from "../models/types.js";

/** `points` evenly spaced values from `lo` to `hi` (both included; one point is `lo`). */
export function gridAxis(lo: number, hi: number, points: number): number[] {
  if (points === 1) return [lo];
  return Array.from({ length: points }, (_, i) => (i === points - 1 ? hi : lo + ((hi - lo) * i) / (points - 1)));
}

/** Loss and accuracy at every grid point, row-major: index j·|x| + i is (x[i], y[j]). */
export interface GridValues {
  loss: number[];
  accuracy: number[];
}

/**
 * L and accuracy of `obj` at θ(α, β) = origin + α·d₁ + β·d₂ for α in `axes[0]` and β in `axes[1]`
 * (1-D when one direction and one axis are given), in row-major order (β outer, α inner). Each point's
 * parameter tree is built from the float64 host vector in the dtype of `spec` and released after its
 * evaluation; `obj.evaluate` borrows it (create `obj` with `compile: true` so its evaluation is jitted
 * once for all points). `onPoint(done, total)` reports progress.
 */
export async function evaluateGrid(
  obj: Objective,
  spec: TreeSpec,
  origin: Float64Array,
  directions: readonly Float64Array[],
  axes: readonly (readonly number[])[],
  opts: { state?: ModelState; onPoint?: (done: number, total: number) => void } = {},
): Promise<GridValues> {
  if (directions.length !== axes.length || directions.length < 1 || directions.length > 2) {
    throw new Error(`evaluateGrid: ${directions.length} directions for ${axes.length} axes (1 or 2 of each)`);
  }
  for (const d of directions) {
    if (d.length !== origin.length)
      throw new Error(`evaluateGrid: a direction has ${d.length} entries, θ ${origin.length}`);
  }
  const [xs, ys] = [axes[0], axes[1] ?? [0]];
  const [d1, d2] = [directions[0], directions[1]];
  const total = xs.length * ys.length;
  const theta = new Float64Array(origin.length);
  const out: GridValues = { loss: [], accuracy: [] };
  for (const b of ys) {
    for (const a of xs) {
      for (let i = 0; i < theta.length; i++) theta[i] = origin[i] + a * d1[i];
      if (d2 !== undefined && b !== 0) for (let i = 0; i < theta.length; i++) theta[i] += b * d2[i];
      const p = treeFromHost(spec, theta) as Params;
      try {
        const r = await obj.evaluate(p, opts.state);
        out.loss.push(r.loss);
        out.accuracy.push(r.accuracy);
      } finally {
        release(p);
      }
      opts.onPoint?.(out.loss.length, total);
    }
  }
  return out;
}
