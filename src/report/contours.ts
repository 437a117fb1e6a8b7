/**
 * Contour lines of a function sampled on a rectangular grid, by marching squares (Lorensen & Cline
 * 1987 in 2-D): each grid cell whose corners straddle a level contributes one or two line segments,
 * with end points found by linear interpolation along the cell's edges.
 */

/** One contour segment from (x0, y0) to (x1, y1) at `level`. */
export interface ContourSegment {
  level: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * The segments of every level's contour of z (z[j][i] at (x[i], y[j])). Cells with a non-finite
 * corner are skipped; saddle cells are split by the mean of their corners.
 */
export function contourSegments(
  x: readonly number[],
  y: readonly number[],
  z: readonly (readonly number[])[],
  levels: readonly number[],
): ContourSegment[] {
  const out: ContourSegment[] = [];
  for (const level of levels) {
    for (let j = 0; j + 1 < y.length; j++) {
      for (let i = 0; i + 1 < x.length; i++) {
        // corners counter-clockwise from bottom-left
        const c = [
          { x: x[i], y: y[j], v: z[j][i] },
          { x: x[i + 1], y: y[j], v: z[j][i + 1] },
          { x: x[i + 1], y: y[j + 1], v: z[j + 1][i + 1] },
          { x: x[i], y: y[j + 1], v: z[j + 1][i] },
        ];
        if (!c.every((p) => Number.isFinite(p.v))) continue;
        // crossing points on the 4 edges (edge e joins corner e and e+1)
        const cross: ({ x: number; y: number } | null)[] = [0, 1, 2, 3].map((e) => {
          const a = c[e];
          const b = c[(e + 1) % 4];
          if (a.v >= level === b.v >= level) return null;
          const t = (level - a.v) / (b.v - a.v);
          return { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) };
        });
        const hits = [0, 1, 2, 3].filter((e) => cross[e] !== null);
        const seg = (e: number, f: number) =>
          out.push({ level, x0: cross[e]!.x, y0: cross[e]!.y, x1: cross[f]!.x, y1: cross[f]!.y });
        if (hits.length === 2) seg(hits[0], hits[1]);
        else if (hits.length === 4) {
          const centreAbove = c.reduce((s, p) => s + p.v, 0) / 4 >= level;
          // corner 0 above and centre above: corners 0 and 2 connect through the centre
          if (c[0].v >= level === centreAbove) {
            seg(0, 1);
            seg(2, 3);
          } else {
            seg(3, 0);
            seg(1, 2);
          }
        }
      }
    }
  }
  return out;
}
