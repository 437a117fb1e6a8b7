/**
 * Figures of a stored loss-landscape slice (`sgdlab landscape`, artifact `landscape/<name>`): 1-D
 * curves (interpolation, one random or Hessian direction) or 2-D contour maps, for the loss and (on
 * classification data) the accuracy, of the grid and of its refinement. Plain data in, figures out.
 */
import { landscape1dFigure, landscape2dFigure } from "./grids.js";
import type { Figure } from "./spec.js";

/** A grid as stored: axes and row-major values (x fastest). */
export interface StoredLandscapeGrid {
  axes: number[][];
  loss: number[];
  accuracy: number[];
}

/** The parts of a stored landscape the figures read. */
export interface StoredLandscape {
  mode: string;
  dims: 1 | 2;
  directions: { kind: string }[];
  grid: StoredLandscapeGrid;
  refined: StoredLandscapeGrid | null;
}

/** Rows z[j][i] = values[j·|x| + i] of a 2-D grid. */
function rows(g: StoredLandscapeGrid, values: readonly number[]): number[][] {
  const nx = g.axes[0].length;
  const ny = g.axes[1]?.length ?? 1;
  return Array.from({ length: ny }, (_, j) => values.slice(j * nx, (j + 1) * nx));
}

/** The landscape's figures; `label` prefixes the ids (several landscapes in one report). */
export function landscapeFigures(o: StoredLandscape, opts: { label?: string; subtitle?: string } = {}): Figure[] {
  const figures: Figure[] = [];
  const pre = opts.label ? `${opts.label}-` : "";
  const grids = [{ g: o.grid, id: "" }, ...(o.refined ? [{ g: o.refined, id: "-refined" }] : [])];
  const classification = o.grid.accuracy.some((v) => Number.isFinite(v));
  for (const { g, id } of grids) {
    const metrics: ["loss" | "accuracy", number[]][] = [["loss", g.loss]];
    if (classification) metrics.push(["accuracy", g.accuracy]);
    for (const [what, values] of metrics) {
      const figId = `landscape-${pre}${what}${id}`;
      const refined = id ? " (refined)" : "";
      if (o.dims === 1) {
        figures.push(
          landscape1dFigure(
            { alpha: g.axes[0], curves: [{ name: what, values }] },
            {
              id: figId,
              title: `${o.mode === "interpolate" ? "Linear interpolation" : "Loss landscape"}: ${what}${refined}`,
              subtitle: opts.subtitle,
              xLabel: o.mode === "interpolate" ? "t (θ = (1−t)θ_A + tθ_B)" : "α (step along the direction)",
              yLabel: what,
            },
          ),
        );
      } else {
        figures.push(
          landscape2dFigure(
            { x: g.axes[0], y: g.axes[1], z: rows(g, values) },
            {
              id: figId,
              title: `Loss landscape (${o.mode}): ${what}${refined}`,
              subtitle: opts.subtitle,
              xLabel: `α₁ (${o.directions[0].kind})`,
              yLabel: `α₂ (${o.directions[1].kind})`,
              zLabel: what,
            },
          ),
        );
      }
    }
  }
  return figures;
}
