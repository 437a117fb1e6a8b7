/**
 * Canaries for the jax-js 0.1.25 defects sgdlab works around. Each test asserts that the defect is
 * STILL PRESENT; when one fails after a jax-js upgrade, the defect is fixed and the workaround named in
 * the test can go. (Other canaries: src/models/models.test.ts "preciseLog", src/optim/transforms.test.ts
 * "b1Power/b2Power".)
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { defaultDevice, grad, jit, jvp, np, tree, type Array } from "../src/core/jax.js";
import { toHost } from "../src/core/own.js";
import { initRuntime } from "../src/core/runtime.js";

const f64 = { dtype: np.float64 };

before(async () => {
  await initRuntime("cpu");
  await initRuntime("wasm");
});

describe("jax-js 0.1.25 defects (canaries)", () => {
  it("reverse-over-reverse HVPs are wrong on Wasm float32 (workaround: forward-over-reverse everywhere)", async () => {
    const R = (shape: [number, number], s: number) =>
      np.array(Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => Math.sin(1.3 * i + s))).reshape(shape);
    const results: Record<string, { revrev: Float64Array; fwdrev: Float64Array }> = {};
    for (const dev of ["cpu", "wasm"] as const) {
      defaultDevice(dev);
      const x = R([3, 8], 40);
      const W = [R([8, 8], 1), R([8, 8], 2)];
      const V = [R([8, 8], 3), R([8, 8], 4)];
      const L = (p: Array[]) => {
        const h = np.matmul(np.matmul(x.ref, p[0]), p[1]);
        return np.sum(h.ref.mul(h));
      };
      const revrev = grad((p: Array[]) => {
        const g = grad(L)(p) as Array[];
        return np.sum(g[0].mul(V[0].ref)).add(np.sum(g[1].mul(V[1].ref)));
      })(tree.ref(W)) as Array[];
      const [g, fwdrev] = jvp(grad(L), [tree.ref(W)], [tree.ref(V)]) as unknown as [Array[], Array[]];
      tree.dispose(g);
      results[dev] = { revrev: await toHost(revrev[1]), fwdrev: await toHost(fwdrev[1]) };
      tree.dispose([revrev[0], fwdrev[0], x, W, V]);
    }
    defaultDevice("wasm");
    const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    const scale = Math.max(...results.cpu.fwdrev.map(Math.abs));
    // forward-over-reverse agrees across backends; the reference backend's two modes agree
    assert.ok(maxDiff(results.wasm.fwdrev, results.cpu.fwdrev) < 1e-4 * scale);
    assert.ok(maxDiff(results.cpu.revrev, results.cpu.fwdrev) < 1e-4 * scale);
    // the defect: Wasm reverse-over-reverse differs
    const d = maxDiff(results.wasm.revrev, results.cpu.fwdrev);
    assert.ok(d > 1e-2 * scale, `Wasm reverse-over-reverse now agrees (diff ${d}): the defect is fixed`);
  });

  it("under jit a float64 JS literal is rounded to float32 (workaround: core/own.ts lit())", async () => {
    const f = jit((x: Array) => x.mul(0.1));
    const [v] = await toHost(f(np.array([1], f64)));
    f.dispose();
    assert.equal(v, Math.fround(0.1), "jit now keeps float64 literals: lit() is no longer needed");
  });

  it("jit(jvp(grad(f))) is garbage in float64 when f ends in .mul(literal) (workaround: lit() in losses)", async () => {
    const L = (w: Array, x: Array) => {
      const d = np.matmul(x, w);
      return d.ref.mul(d).sum().mul(0.5);
    };
    const hvp = (w: Array, v: Array, x: Array) => {
      const [g, h] = jvp((z: Array) => grad((q: Array) => L(q, x.ref))(z), [w], [v]) as unknown as [Array, Array];
      g.dispose();
      x.dispose();
      return h;
    };
    const W = () => np.array([[0.5], [-0.5]], f64);
    const V = () => np.array([[1], [1]], f64);
    const X = () =>
      np.array(
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        f64,
      );
    const eager = await toHost(hvp(W(), V(), X()));
    assert.deepEqual([...eager], [79, 100]);
    const jitted = jit(hvp);
    const bad = await toHost(jitted(W(), V(), X()));
    jitted.dispose();
    assert.ok(
      Math.abs(bad[0] - 79) > 1e-3 || Math.abs(bad[1] - 100) > 1e-3,
      `jit(jvp(grad)) now correct (${bad}): the lit() constraint on losses can be relaxed`,
    );
  });

  it("float64 exp on Wasm is accurate to ~1e-8 relative, not to double precision (tests use 1e-6..1e-7 tolerances)", async () => {
    defaultDevice("wasm");
    const xs = Float64Array.from({ length: 200 }, (_, i) => -6 + 0.06 * i);
    const got = await toHost(np.exp(np.array(xs, f64)));
    let worst = 0;
    for (let i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(got[i] - Math.exp(xs[i])) / Math.exp(xs[i]));
    assert.ok(worst < 1e-6, `exp error ${worst} grew beyond what the test tolerances assume`);
    assert.ok(
      worst > 1e-12,
      `float64 exp now accurate (${worst}): tolerances near 1e-7 in value tests can be tightened`,
    );
  });
});
