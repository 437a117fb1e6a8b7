import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Key } from "../core/keys.js";
import { filterNormalize, jacobiEigen, pcaDirections, randomDirection } from "./directions.js";

// A tiny tree by hand: W [3, 2] (row-major; filter j = column j = entries 0+j, 2+j, 4+j), b [2].
const layout = { shapes: [[3, 2], [2]], names: ["W", "b"] };
const theta = Float64Array.from([1, 0, 2, 3, 2, 4, /* b */ 5, -6]); // column norms 3 and 5
const d = Float64Array.from([1, 1, 1, 1, 1, 1, /* b */ 7, 8]); // column norms √3 and √3

describe("filterNormalize (Li et al. 2018, §4)", () => {
  it("scales each filter (output column) of d to the norm of θ's, by hand", () => {
    const out = filterNormalize(d, theta, layout);
    const col = (v: Float64Array, j: number) => Math.hypot(v[j], v[2 + j], v[4 + j]);
    assert.ok(Math.abs(col(out, 0) - 3) < 1e-9, `filter 0 norm ${col(out, 0)}`);
    assert.ok(Math.abs(col(out, 1) - 5) < 1e-9, `filter 1 norm ${col(out, 1)}`);
    // the direction within a filter is d's: every entry of column 0 is 3/√3 = √3
    for (const i of [0, 2, 4]) assert.ok(Math.abs(out[i] - Math.sqrt(3)) < 1e-9);
    for (const i of [1, 3, 5]) assert.ok(Math.abs(out[i] - 5 / Math.sqrt(3)) < 1e-9);
    assert.deepEqual(Array.from(d), [1, 1, 1, 1, 1, 1, 7, 8], "d is not modified");
  });

  it("zeroes 1-D leaves (biases, BN) by default and copies θ there with include", () => {
    assert.deepEqual(Array.from(filterNormalize(d, theta, layout).subarray(6)), [0, 0]);
    assert.deepEqual(Array.from(filterNormalize(d, theta, layout, "include").subarray(6)), [5, -6]);
  });

  it("normalizes conv kernels per output channel (last axis) and keeps random draws seeded", () => {
    const conv = { shapes: [[2, 2, 1, 3]], names: ["conv.W"] };
    const th = Float64Array.from({ length: 12 }, (_, i) => i + 1);
    const r1 = randomDirection(th, conv, Key.fromSeed(4), "ignore");
    assert.deepEqual(r1, randomDirection(th, conv, Key.fromSeed(4), "ignore"));
    for (let j = 0; j < 3; j++) {
      const idx = [0, 1, 2, 3].map((k) => k * 3 + j);
      const n = (v: Float64Array) => Math.hypot(...idx.map((i) => v[i]));
      assert.ok(Math.abs(n(r1) - n(th)) < 1e-9 * n(th)); // the reference code's +1e-10 guard
    }
  });
});

describe("pcaDirections (Li et al. 2018, §6)", () => {
  it("jacobiEigen solves a known symmetric matrix", () => {
    // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, −1)/√2 and (1, 1)/√2
    const { values, vectors } = jacobiEigen(Float64Array.from([2, 1, 1, 2]), 2);
    const hi = values[0] > values[1] ? 0 : 1;
    assert.ok(Math.abs(values[hi] - 3) < 1e-12 && Math.abs(values[1 - hi] - 1) < 1e-12);
    assert.ok(Math.abs(Math.abs(vectors[hi]) - Math.SQRT1_2) < 1e-12);
    assert.ok(Math.abs(vectors[hi] - vectors[2 + hi]) < 1e-12);
  });

  it("finds orthonormal directions spanning a synthetic trajectory's top variance", () => {
    const dim = 50;
    const rng = Key.fromSeed(9).rng();
    // two orthonormal directions u, v (coordinate axes rotated by a known angle) and a final point
    const u = new Float64Array(dim);
    const v = new Float64Array(dim);
    u[3] = 0.6;
    u[7] = 0.8;
    v[3] = -0.8;
    v[7] = 0.6;
    const last = rng.normals(dim);
    const traj: Float64Array[] = [];
    for (let t = 0; t < 20; t++) {
      // uncorrelated coordinates (odd and even about the middle), variance along u ≫ along v
      const a = 2 * (t - 9.5);
      const b = 0.1 * ((t - 9.5) ** 2 - 33.25);
      const noise = rng.normals(dim, 1e-3);
      traj.push(last.map((x, i) => x + a * u[i] + b * v[i] + noise[i]));
    }
    traj.push(last);
    const plane = pcaDirections(traj);
    const dot = (x: Float64Array, y: Float64Array) => x.reduce((s, xi, i) => s + xi * y[i], 0);
    const [d1, d2] = plane.directions;
    assert.ok(Math.abs(dot(d1, d1) - 1) < 1e-12 && Math.abs(dot(d2, d2) - 1) < 1e-12);
    assert.ok(Math.abs(dot(d1, d2)) < 1e-10);
    assert.ok(Math.abs(Math.abs(dot(d1, u)) - 1) < 1e-4, `d1·u = ${dot(d1, u)}`);
    assert.ok(Math.abs(Math.abs(dot(d2, v)) - 1) < 1e-4, `d2·v = ${dot(d2, v)}`);
    assert.ok(plane.explainedVariance[0] > plane.explainedVariance[1]);
    assert.ok(plane.explainedVariance[0] + plane.explainedVariance[1] > 0.999);
    // the path ends at the origin, and each point's coordinates are its offsets along d1, d2
    assert.deepEqual(plane.path.at(-1), [0, 0]);
    const off = traj[0].map((x, i) => x - last[i]);
    assert.ok(Math.abs(plane.path[0][0] - dot(off, d1)) < 1e-9);
  });

  it("refuses too short or one-dimensional trajectories", () => {
    const p = (x: number) => Float64Array.from([x, 0, 0]);
    assert.throws(() => pcaDirections([p(0), p(1)]), /at least 3 checkpoints/);
    assert.throws(() => pcaDirections([p(0), p(1), p(3), p(2)]), /fewer than 2 dimensions/);
  });
});
