import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Key } from "../core/keys.js";
import { makeDataset } from "./dataset.js";
import { balancedSubset, normalize, randomSubset, splitDataset, toLayout } from "./transforms.js";
import type { Dataset } from "./types.js";

/** n rows of width 2; row i is (i, i²/10); label i mod C except where `labelOf` says otherwise. */
function indexed(n: number, C: number, labelOf = (i: number) => i % C): Dataset {
  const x = new Float64Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = (i * i) / 10;
    labels[i] = labelOf(i);
  }
  return makeDataset({ name: "indexed", xShape: [2], x, labels, numClasses: C });
}
const rowIds = (ds: Dataset) => Array.from({ length: ds.n }, (_, r) => ds.x[2 * r]);
const key = Key.fromSeed(5);

describe("splits and subsets", () => {
  it("splitDataset partitions the rows, is seeded, and keeps rows intact", () => {
    const ds = indexed(100, 4);
    const { train, test } = splitDataset(ds, 30, key);
    assert.equal(train.n, 70);
    assert.equal(test.n, 30);
    const ids = [...rowIds(train), ...rowIds(test)].sort((a, b) => a - b);
    assert.deepEqual(
      ids,
      Array.from({ length: 100 }, (_, i) => i),
    );
    for (const part of [train, test]) {
      for (let r = 0; r < part.n; r++) {
        const i = part.x[2 * r];
        assert.equal(part.x[2 * r + 1], (i * i) / 10);
        assert.equal(part.labels![r], i % 4);
      }
    }
    assert.deepEqual(rowIds(splitDataset(ds, 30, key).test), rowIds(test));
    assert.notDeepEqual(rowIds(splitDataset(ds, 30, Key.fromSeed(6)).test), rowIds(test));
    assert.throws(() => splitDataset(ds, 100, key), { name: "UserError", message: /nTest/ });
  });

  it("randomSubset picks n distinct rows", () => {
    const sub = randomSubset(indexed(50, 2), 20, key);
    assert.equal(new Set(rowIds(sub)).size, 20);
    assert.throws(() => randomSubset(indexed(5, 2), 6, key), { name: "UserError" });
  });

  it("balancedSubset has equal class counts, spreading the remainder over the first classes", () => {
    // Unbalanced source: class c has 40 + 20c examples.
    const sizes = [40, 60, 80, 100];
    const labelOf = (i: number) => {
      let c = 0;
      let acc = sizes[0];
      while (i >= acc) acc += sizes[++c];
      return c;
    };
    const ds = indexed(280, 4, labelOf);
    for (const [n, expected] of [
      [100, [25, 25, 25, 25]],
      [102, [26, 26, 25, 25]],
      [160, [40, 40, 40, 40]],
    ] as const) {
      const sub = balancedSubset(ds, n, key);
      const counts = [0, 0, 0, 0];
      for (let r = 0; r < sub.n; r++) {
        counts[sub.labels![r]]++;
        assert.equal(sub.labels![r], labelOf(sub.x[2 * r]), "row keeps its label");
      }
      assert.deepEqual(counts, expected);
      assert.equal(new Set(rowIds(sub)).size, n);
    }
    assert.deepEqual(rowIds(balancedSubset(ds, 100, key)), rowIds(balancedSubset(ds, 100, key)));
    assert.throws(() => balancedSubset(ds, 200, key), { name: "UserError", message: /class 0.*40 examples, 50/ });
  });
});

describe("normalize", () => {
  const mk = (rows: number[][]) =>
    makeDataset({ name: "m", xShape: [3], x: Float64Array.from(rows.flat()), labels: new Int32Array(rows.length) });
  const train = mk([
    [1, 10, 5],
    [3, 20, 5],
    [8, 60, 5],
    [0, -2, 5],
  ]);
  const test = mk([
    [2, 4, 7],
    [-1, 0, 5],
  ]);
  // Naive train statistics.
  const mu = [0, 1, 2].map((j) => [0, 1, 2, 3].reduce((s, i) => s + train.x[3 * i + j], 0) / 4);
  const sd = [0, 1, 2].map((j) =>
    Math.sqrt([0, 1, 2, 3].reduce((s, i) => s + (train.x[3 * i + j] - mu[j]) ** 2, 0) / 4),
  );

  it("standardize uses training statistics for both sets; constant features are only centered", () => {
    const out = normalize(train, test, "standardize");
    for (const [src, dst] of [
      [train, out.train],
      [test, out.test],
    ]) {
      for (let i = 0; i < src.n; i++) {
        for (let j = 0; j < 3; j++) {
          const want = sd[j] > 0 ? (src.x[3 * i + j] - mu[j]) / sd[j] : src.x[3 * i + j] - mu[j];
          assert.ok(Math.abs(dst.x[3 * i + j] - want) < 1e-12);
        }
      }
    }
    for (let j = 0; j < 2; j++) {
      const col = [0, 1, 2, 3].map((i) => out.train.x[3 * i + j]);
      assert.ok(Math.abs(col.reduce((a, b) => a + b) / 4) < 1e-12);
      assert.ok(Math.abs(col.reduce((a, b) => a + b * b, 0) / 4 - 1) < 1e-12);
    }
    assert.equal(train.x[0], 1, "inputs are not modified in place");
  });

  it("center subtracts the training mean; unit scales rows to norm 1; none is the identity", () => {
    const c = normalize(train, test, "center");
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(c.test.x[3 * i + j] - (test.x[3 * i + j] - mu[j])) < 1e-12);
    const u = normalize(train, test, "unit");
    for (const ds of [u.train, u.test]) {
      for (let i = 0; i < ds.n; i++) assert.ok(Math.abs(Math.hypot(...ds.x.subarray(3 * i, 3 * i + 3)) - 1) < 1e-12);
    }
    assert.ok(Math.abs(u.test.x[0] - 2 / Math.hypot(2, 4, 7)) < 1e-15);
    const none = normalize(train, test, "none");
    assert.equal(none.train, train);
    assert.equal(none.test, test);
  });
});

describe("toLayout", () => {
  it("switches flat ↔ image without touching the data", () => {
    const ds = makeDataset({ name: "img", xShape: [1, 2, 3], x: new Float64Array(12), labels: new Int32Array(2) });
    const flat = toLayout(ds, "flat");
    assert.deepEqual(flat.xShape, [6]);
    assert.equal(flat.x, ds.x);
    assert.deepEqual(toLayout(flat, "image", [1, 2, 3]).xShape, [1, 2, 3]);
    assert.equal(toLayout(ds, "image"), ds);
    const hw = makeDataset({ name: "hw", xShape: [2, 3], x: new Float64Array(12), labels: new Int32Array(2) });
    assert.deepEqual(toLayout(hw, "image").xShape, [1, 2, 3]);
    assert.throws(() => toLayout(flat, "image"), { name: "UserError", message: /imageShape/ });
    assert.throws(() => toLayout(flat, "image", [1, 2, 2]), { name: "UserError", message: /imageShape/ });
  });
});
