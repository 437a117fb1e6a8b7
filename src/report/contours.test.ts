import assert from "node:assert/strict";
import { test } from "node:test";
import { contourSegments } from "./contours.js";

test("marching squares: segments of a plane lie on the level line, a cone's close around its apex", () => {
  const g = Array.from({ length: 11 }, (_, i) => -1 + i * 0.2);
  // z = x + y: linear interpolation is exact, so every end point satisfies x + y = level
  const plane = contourSegments(
    g,
    g,
    g.map((y) => g.map((x) => x + y)),
    [0.3, -0.5],
  );
  assert.ok(plane.length > 0);
  for (const s of plane) {
    assert.ok(Math.abs(s.x0 + s.y0 - s.level) < 1e-12 && Math.abs(s.x1 + s.y1 - s.level) < 1e-12);
  }
  // z = |x| + |y| at level 0.5: a closed diamond, every end point shared by exactly two segments
  const cone = contourSegments(
    g,
    g,
    g.map((y) => g.map((x) => Math.abs(x) + Math.abs(y))),
    [0.5],
  );
  const ends = new Map<string, number>();
  for (const s of cone)
    for (const k of [`${s.x0.toFixed(9)},${s.y0.toFixed(9)}`, `${s.x1.toFixed(9)},${s.y1.toFixed(9)}`])
      ends.set(k, (ends.get(k) ?? 0) + 1);
  assert.ok([...ends.values()].every((n) => n === 2));
  // saddles give two segments, non-finite corners none
  assert.equal(
    contourSegments(
      [0, 1],
      [0, 1],
      [
        [1, 0],
        [0, 1],
      ],
      [0.5],
    ).length,
    2,
  );
  assert.equal(
    contourSegments(
      [0, 1],
      [0, 1],
      [
        [1, NaN],
        [0, 1],
      ],
      [0.5],
    ).length,
    0,
  );
});
