import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Key } from "../core/keys.js";
import { corruptLabels } from "./corruption.js";
import { makeDataset } from "./dataset.js";

function labelled(n: number, C: number) {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = (i * 7) % C;
  return makeDataset({ name: "l", xShape: [1], x: new Float64Array(n), labels, numClasses: C });
}

describe("corruptLabels", () => {
  it("relabels exactly round(p·n) distinct recorded examples and nothing else", () => {
    const ds = labelled(1001, 10);
    for (const p of [0, 0.1, 0.25, 0.5005, 1]) {
      const { dataset, record } = corruptLabels(ds, p, Key.fromSeed(3));
      const m = Math.round(p * 1001);
      assert.equal(record.indices.length, m);
      assert.equal(new Set(record.indices).size, m, "distinct");
      for (let k = 1; k < m; k++) assert.ok(record.indices[k - 1] < record.indices[k], "ascending");
      const inRecord = new Map(Array.from(record.indices, (i, k) => [i, k]));
      let changed = 0;
      for (let i = 0; i < ds.n; i++) {
        const k = inRecord.get(i);
        if (k === undefined) {
          assert.equal(dataset.labels![i], ds.labels![i], `unrecorded example ${i} unchanged`);
        } else {
          assert.equal(record.originalLabels[k], ds.labels![i]);
          assert.equal(dataset.labels![i], record.newLabels[k]);
          assert.ok(record.newLabels[k] >= 0 && record.newLabels[k] < 10);
        }
        if (dataset.labels![i] !== ds.labels![i]) changed++;
      }
      assert.equal(record.changedCount, changed);
      assert.deepEqual(dataset.x, ds.x);
    }
    assert.equal(ds.labels![1], 7, "the input is not modified");
  });

  it("draws new labels uniformly, so about m(1 − 1/C) change", () => {
    const n = 20000;
    const C = 10;
    const { record } = corruptLabels(labelled(n, C), 1, Key.fromSeed(4));
    const counts = new Array(C).fill(0);
    for (const y of record.newLabels) counts[y]++;
    const chi2 = counts.reduce((s, c) => s + (c - n / C) ** 2 / (n / C), 0);
    assert.ok(chi2 < 30, `chi-square ${chi2} with 9 degrees of freedom`);
    const q = 1 - 1 / C;
    assert.ok(Math.abs(record.changedCount - n * q) < 5 * Math.sqrt(n * q * (1 - q)));
  });

  it("is deterministic in the key and rejects bad inputs", () => {
    const ds = labelled(300, 5);
    const a = corruptLabels(ds, 0.3, Key.fromSeed(1)).record;
    assert.deepEqual(corruptLabels(ds, 0.3, Key.fromSeed(1)).record, a);
    assert.notDeepEqual(corruptLabels(ds, 0.3, Key.fromSeed(2)).record.indices, a.indices);
    assert.throws(() => corruptLabels(ds, 1.5, Key.fromSeed(1)), { name: "UserError", message: /labelNoise/ });
    const reg = makeDataset({ name: "r", xShape: [1], x: new Float64Array(3), targets: new Float64Array(3) });
    assert.throws(() => corruptLabels(reg, 0.1, Key.fromSeed(1)), { name: "UserError", message: /classification/ });
  });
});
