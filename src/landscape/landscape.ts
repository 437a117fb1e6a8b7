/**
 * A loss-landscape slice of one model: the directions (interpolation, filter-normalized random,
 * Hessian top eigenvectors, trajectory PCA), the grid evaluated in batches (`evaluateGrid`) and an
 * optional coarse-to-fine refinement around the grid's minimum. The result is plain JSON (the run
 * artifact `landscape/<name>`).
 */
import { UserError } from "../core/errors.js";
import { release, treeFromHost, type Key, type Params, type TreeSpec } from "../core/index.js";
import { hessianOperator } from "../curvature/hvp.js";
import { lanczos } from "../curvature/lanczos.js";
import type { Objective } from "../losses/objective.js";
import { pcaDirections, randomDirection, type BiasBnMode } from "./directions.js";
import { evaluateGrid, gridAxis, type GridValues } from "./grid.js";

/** How the slice's axes are chosen. */
export type LandscapeMode =
  /** θ(t) = (1 − t)θ_A + tθ_B: origin θ_A, direction θ_B − θ_A (Goodfellow, Vinyals & Saxe 2015). */
  | { kind: "interpolate"; to: Float64Array }
  /** One or two filter-normalized Gaussian directions (Li et al. 2018, §4). */
  | { kind: "random1d" | "random2d"; key: Key; biasBn: BiasBnMode }
  /** The top-2 unit eigenvectors of the Hessian at θ (Lanczos). */
  | { kind: "hessian"; key: Key; tol?: number }
  /** The PCA plane of the trajectory (checkpoints in step order, the last = θ; Li et al. 2018, §6). */
  | { kind: "pca"; trajectory: readonly Float64Array[] };

/** Options of `computeLandscape`. */
export interface LandscapeOptions {
  mode: LandscapeMode;
  /** Offsets along each axis, from `range[0]` to `range[1]`. */
  range: [number, number];
  /** Grid points per axis. */
  points: number;
  /** Evaluate a second grid of `points` per axis spanning ±1 coarse cell around the coarse minimum. */
  refine?: boolean;
  onPoint?: (done: number, total: number) => void;
}

/** One axis direction's description. */
export interface DirectionInfo {
  kind: string;
  /** ‖d‖₂. */
  norm: number;
  /** Hessian eigenvalue (hessian axes). */
  eigenvalue?: number;
  /** Fraction of the trajectory's variance (pca axes). */
  explainedVariance?: number;
  /** Filter-normalization treatment of 1-D leaves (random axes). */
  biasBn?: BiasBnMode;
}

/** One evaluated grid: its axes and row-major values (index j·|x| + i is (x[i], y[j])). */
export interface LandscapeGrid extends GridValues {
  axes: number[][];
  min: { loss: number; at: number[] };
  max: { loss: number; at: number[] };
}

/** The stored result (artifact `landscape/<name>`). */
export interface LandscapeResult {
  format: "sgdlab-landscape/1";
  mode: LandscapeMode["kind"];
  dims: 1 | 2;
  directions: DirectionInfo[];
  grid: LandscapeGrid;
  refined: LandscapeGrid | null;
  /** L and accuracy at θ itself (α = β = 0). */
  origin: { loss: number; accuracy: number };
  /** pca mode: the trajectory's coordinates on the plane (last point = origin). */
  path: number[][] | null;
  /** Points evaluated, and the wall time of directions plus grids. */
  evaluations: number;
  seconds: number;
}

function summarize(axes: number[][], v: GridValues): LandscapeGrid {
  // extremes over the finite values (NaN/Inf points, e.g. overflow far from θ, stay in the grid)
  let lo = -1;
  let hi = -1;
  v.loss.forEach((l, k) => {
    if (!Number.isFinite(l)) return;
    if (lo < 0 || l < v.loss[lo]) lo = k;
    if (hi < 0 || l > v.loss[hi]) hi = k;
  });
  lo = Math.max(lo, 0);
  hi = Math.max(hi, 0);
  const nx = axes[0].length;
  const at = (k: number) => (axes.length === 1 ? [axes[0][k]] : [axes[0][k % nx], axes[1][Math.floor(k / nx)]]);
  return { axes, ...v, min: { loss: v.loss[lo], at: at(lo) }, max: { loss: v.loss[hi], at: at(hi) } };
}

/** ‖v‖₂. */
function norm2(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/** The directions of `mode` at θ (host float64) and their descriptions. */
export async function landscapeDirections(
  obj: Objective,
  spec: TreeSpec,
  names: readonly string[],
  theta: Float64Array,
  mode: LandscapeMode,
): Promise<{ directions: Float64Array[]; info: DirectionInfo[]; path: number[][] | null }> {
  switch (mode.kind) {
    case "interpolate": {
      if (mode.to.length !== theta.length) {
        throw new UserError(`interpolation endpoints have ${theta.length} and ${mode.to.length} parameters`);
      }
      const d = theta.map((t, i) => mode.to[i] - t);
      return { directions: [d], info: [{ kind: "interpolation", norm: norm2(d) }], path: null };
    }
    case "random1d":
    case "random2d": {
      const layout = { shapes: spec.shapes, names };
      const count = mode.kind === "random1d" ? 1 : 2;
      const directions = Array.from({ length: count }, (_, k) =>
        randomDirection(theta, layout, mode.key.fold(`direction/${k + 1}`), mode.biasBn),
      );
      const info = directions.map((d) => ({ kind: "random (filter-normalized)", norm: norm2(d), biasBn: mode.biasBn }));
      return { directions, info, path: null };
    }
    case "hessian": {
      const op = hessianOperator(obj, treeFromHost(spec, theta) as Params);
      try {
        const r = await lanczos(op, { k: 2, which: "largest", tol: mode.tol ?? 1e-4, key: mode.key });
        return {
          directions: r.vectors,
          info: r.vectors.map((v, k) => ({
            kind: `hessian eigenvector ${k + 1}`,
            norm: norm2(v),
            eigenvalue: r.values[k],
          })),
          path: null,
        };
      } finally {
        op.dispose();
      }
    }
    case "pca": {
      const plane = pcaDirections(mode.trajectory, 2);
      return {
        directions: plane.directions,
        info: plane.directions.map((v, k) => ({
          kind: `pca component ${k + 1}`,
          norm: norm2(v),
          explainedVariance: plane.explainedVariance[k],
        })),
        path: plane.path,
      };
    }
  }
}

/**
 * Evaluates the landscape of `obj` around θ (`theta`, host float64 in `spec`'s leaf order, `names` its
 * dotted leaf names) along the axes of `opts.mode`: L and accuracy at every point of a `points`-per-
 * axis grid over `range`, plus θ itself; with `refine`, a second grid of the same size spanning one
 * coarse cell either side of the coarse minimum. `obj` should be created with `compile: true`.
 */
export async function computeLandscape(
  obj: Objective,
  spec: TreeSpec,
  names: readonly string[],
  theta: Float64Array,
  opts: LandscapeOptions,
): Promise<LandscapeResult> {
  const [lo, hi] = opts.range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
    throw new UserError(`landscape: the range must be lo < hi, got ${lo}:${hi}`);
  }
  if (!Number.isInteger(opts.points) || opts.points < 2) {
    throw new UserError(`landscape: points per axis must be an integer ≥ 2, got ${opts.points}`);
  }
  const t0 = performance.now();
  const { directions, info, path } = await landscapeDirections(obj, spec, names, theta, opts.mode);
  const dims = directions.length as 1 | 2;
  const evaluate = (axes: number[][]) => evaluateGrid(obj, spec, theta, directions, axes, { onPoint: opts.onPoint });
  const axes = Array.from({ length: dims }, () => gridAxis(lo, hi, opts.points));
  const grid = summarize(axes, await evaluate(axes));
  let refined: LandscapeGrid | null = null;
  if (opts.refine) {
    const h = (hi - lo) / (opts.points - 1);
    const fine = grid.min.at.map((c) => gridAxis(c - h, c + h, opts.points));
    refined = summarize(fine, await evaluate(fine));
  }
  const p = treeFromHost(spec, theta) as Params;
  let origin: { loss: number; accuracy: number };
  try {
    origin = await obj.evaluate(p);
  } finally {
    release(p);
  }
  const evaluations = grid.loss.length + (refined?.loss.length ?? 0) + 1;
  return {
    format: "sgdlab-landscape/1",
    mode: opts.mode.kind,
    dims,
    directions: info,
    grid,
    refined,
    origin,
    path,
    evaluations,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The rows z[j][i] = values[j·|x| + i] of a 2-D grid (for `landscape2dFigure`). */
export function gridRows(g: LandscapeGrid, values: readonly number[] = g.loss): number[][] {
  const nx = g.axes[0].length;
  const ny = g.axes[1]?.length ?? 1;
  return Array.from({ length: ny }, (_, j) => values.slice(j * nx, (j + 1) * nx));
}
