import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { deriveKey, Key } from "./keys.js";
import { np, jit, type Array as NpArray } from "./jax.js";
import { lit, toHost, toScalar, keep } from "./own.js";
import { initRuntime } from "./runtime.js";
import { treeAdd, treeDot, treeFromHost, treeNormSq, treeRandomLike, treeScale, treeSpec, treeToHost } from "./tree.js";

before(async () => initRuntime("wasm"));

describe("keys", () => {
  it("derives the same key from the same (seed, purpose, step) and different ones otherwise", () => {
    const a = deriveKey(7, "init", 3);
    assert.equal(a.toString(), deriveKey(7, "init", 3).toString());
    const others = [deriveKey(8, "init", 3), deriveKey(7, "data", 3), deriveKey(7, "init", 4)];
    for (const o of others) assert.notEqual(o.toString(), a.toString());
  });
  it("host streams are uniform and normal to within sampling error", () => {
    const rng = Key.fromSeed(1).rng();
    const n = 100000;
    let s = 0;
    let s2 = 0;
    let u = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
      u += rng.uniform();
    }
    assert.ok(Math.abs(s / n) < 5 / Math.sqrt(n));
    assert.ok(Math.abs(s2 / n - 1) < 5 * Math.sqrt(2 / n));
    assert.ok(Math.abs(u / n - 0.5) < 5 * Math.sqrt(1 / 12 / n));
    const p = rng.permutation(1000);
    assert.deepEqual(
      [...p].sort((x, y) => x - y),
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });
  it("rejects bad seeds", () => {
    assert.throws(() => Key.fromSeed(-1), /seed/);
    assert.throws(() => Key.fromSeed(1.5), /seed/);
  });
});

describe("tree math", () => {
  it("flattens to host and back, and computes dot/norm like float64 host math", async () => {
    const spec = treeSpec({ w: np.zeros([2, 3], { dtype: np.float64 }), b: [np.zeros([3], { dtype: np.float64 })] });
    const a = treeRandomLike(spec, Key.fromSeed(2));
    const b = treeRandomLike(spec, Key.fromSeed(3));
    const ha = await treeToHost(keep(a));
    const hb = await treeToHost(keep(b));
    assert.equal(ha.length, 9);
    let dot = 0;
    let nsq = 0;
    for (let i = 0; i < 9; i++) {
      dot += ha[i] * hb[i];
      nsq += ha[i] * ha[i];
    }
    assert.ok(Math.abs((await toScalar(treeDot(keep(a), keep(b)))) - dot) < 1e-12);
    assert.ok(Math.abs((await toScalar(treeNormSq(keep(a)))) - nsq) < 1e-12);
    const sum = await treeToHost(treeAdd(treeScale(2, a), b));
    for (let i = 0; i < 9; i++) assert.ok(Math.abs(sum[i] - (2 * ha[i] + hb[i])) < 1e-12);
    const round = await treeToHost(treeFromHost(spec, ha));
    assert.deepEqual([...round], [...ha]);
  });
});

describe("lit", () => {
  it("keeps float64 constants exact under jit (the bare literal is rounded to float32)", async () => {
    const f = jit((x: NpArray) => x.mul(lit(0.1, x)));
    const out = await toHost(f(np.array([1], { dtype: np.float64 })));
    f.dispose();
    assert.equal(out[0], 0.1);
  });
});
