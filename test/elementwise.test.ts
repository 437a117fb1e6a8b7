/**
 * Guard for the SIMD elementwise kernels of the patched jax-js Wasm code generator
 * (patches/@jax-js+jax+0.1.25.patch, "SIMD exp and division" in patches/README.md): exp and
 * reciprocal (jax-js lowers x / y to x · (1/y), tanh to (e^{−2|x|} − 1)/(e^{−2|x|} + 1)·sign, sigmoid
 * to 1/(1 + e^{−x}), softmax to e^{x − max}/Σ) now run four float32 lanes per step.
 *
 * - exp is checked bit for bit against a host port of jax-js's scalar builtin (`wasm_exp`: x = k·ln2 + r
 *   with k = nearest(x/ln2), a degree-6 Taylor polynomial for e^r, the scale 2^k put into the exponent
 *   bits, +Inf for k > 127, 0 for k < −126), so the vector lanes lose nothing against the scalar path,
 *   special values included; and against float64 `Math.exp` within the scalar builtin's own error,
 *   (|x| + 8)·u relative (u = 2^−24; the reduction r = x − k·ln2 is one float32 product and difference,
 *   no Cody–Waite split, so the error grows with |x|: 70 u measured at x = −72).
 * - 1/x is correctly rounded (f32x4.div), x / y within 2 roundings (2u relative + 1 for the product).
 * - tanh within 4u absolute (measured 2.04u; relative error near 0 is not bounded: e^{2x} − 1 cancels),
 *   sigmoid within 2u absolute, softmax within (|x − max| + n + 16)u relative per entry.
 * - An activation fused into a matmul (tanh(A·B + c)) runs on the tiled kernel's f32x4 accumulators, the
 *   same operations lane by lane: within the dot product's bound plus the activation's own error.
 * Lengths 1, 3, 5, 7, 17, 1000, 1001 cover the scalar kernels (< 4 elements) and the vector kernels
 * with and without a ragged tail; a canary reads the compiled Wasm to see that the vector code is used.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { jit, nn, np, type Array } from "../src/core/jax.js";
import { toHost } from "../src/core/own.js";
import { initRuntime } from "../src/core/runtime.js";

before(async () => {
  await initRuntime("wasm");
});

const U = 2 ** -24;
const LENGTHS = [1, 3, 5, 7, 17, 1000, 1001];

/** Deterministic float32 values spread over [lo, hi]. */
function spread(n: number, lo: number, hi: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 2246822519) + 3266489917) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

async function run(f: (x: Array) => Array, x: Float32Array): Promise<Float64Array> {
  return toHost(f(np.array(x)));
}

const f = Math.fround;
/** IEEE round-half-to-even (Wasm f32.nearest) of a float32 value. */
function nearest(v: number): number {
  if (!Number.isFinite(v)) return v;
  const fl = Math.floor(v);
  const d = v - fl;
  return d < 0.5 ? fl : d > 0.5 ? fl + 1 : fl % 2 === 0 ? fl : fl + 1;
}
/** Host port of jax-js 0.1.25's scalar Wasm exp builtin (`wasm_exp`), each step rounded to float32. */
function wasmExp(x0: number): number {
  const x = f(x0);
  const kf = nearest(f(x * f(1 / Math.LN2)));
  const k = Number.isNaN(kf) ? 0 : Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.trunc(kf)));
  if (k > 127) return Infinity;
  if (k < -126) return 0;
  const r = f(x - f(kf * f(Math.LN2)));
  const as = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720];
  let p = f(as[6]);
  for (let i = 5; i >= 0; i--) p = f(f(p * r) + f(as[i]));
  return f(p * 2 ** k);
}

const SPECIALS = [0, -0, NaN, Infinity, -Infinity, 88.3, 88.4, 88.72, 89, -87.3, -87.4, -88, -103, 1e-30, -1e-30];
const SPECIALS2 = [3.4e38, -3.4e38, 1e-45, -1e-45, 1e-38, -1e-38, 0.5];

describe("Wasm elementwise float32 kernels against float64 host references", () => {
  it("exp equals the scalar builtin bit for bit (200 003 values in [−100, 100] and special values)", async () => {
    const n = 200003;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -100 + (200 * i) / (n - 1);
    x.set(SPECIALS, 0);
    x.set(SPECIALS2, SPECIALS.length);
    const got = await run((a) => np.exp(a), x);
    for (let i = 0; i < n; i++) {
      const want = wasmExp(x[i]);
      if (!Object.is(got[i], want)) assert.fail(`exp(${x[i]}) is ${got[i]}, the scalar builtin gives ${want}`);
    }
    // the special values spelled out (the builtin's documented behaviour)
    assert.deepEqual(
      [...got.subarray(0, SPECIALS.length + SPECIALS2.length)].map((v) => (Number.isNaN(v) ? "NaN" : v)),
      [1, 1, "NaN", Infinity, 0, f(wasmExp(88.3)), Infinity, Infinity, Infinity]
        .concat([f(wasmExp(-87.3)), f(wasmExp(-87.4)), 0, 0, 1, 1, Infinity, 0, 1, 1, 1, 1, f(wasmExp(0.5))])
        .map((v) => v as number | string),
    );
  });

  for (const n of LENGTHS) {
    it(`exp, 1/x, x/y, tanh, sigmoid on ${n} values within their bounds`, async () => {
      const x = spread(n, -80, 80, n);
      const y = spread(n, -3, 3, n + 7);
      const [e, r, q, t, s] = await Promise.all([
        run((a) => np.exp(a), x),
        run((a) => np.reciprocal(a), y),
        toHost(np.divide(np.array(x), np.array(y))),
        run((a) => np.tanh(a.mul(0.05)), x),
        run((a) => nn.sigmoid(a.mul(0.1)), x),
      ]);
      for (let i = 0; i < n; i++) {
        const ref = Math.exp(x[i]);
        const ctx = `n = ${n}, i = ${i}, x = ${x[i]}, y = ${y[i]}`;
        if (ref > 2 ** -126 && x[i] < 88.37)
          assert.ok(Math.abs(e[i] - ref) <= (Math.abs(x[i]) + 8) * U * ref, `exp: ${ctx}: ${e[i]} vs ${ref}`);
        assert.equal(r[i], f(1 / y[i]), `1/y: ${ctx}`);
        const qr = x[i] / y[i];
        assert.ok(Math.abs(q[i] - qr) <= 2.01 * U * Math.abs(qr) + 1e-300, `x/y: ${ctx}: ${q[i]} vs ${qr}`);
        const xt = f(x[i] * f(0.05));
        assert.ok(Math.abs(t[i] - Math.tanh(xt)) <= 4 * U, `tanh: ${ctx}: ${t[i]} vs ${Math.tanh(xt)}`);
        const xs = f(x[i] * f(0.1));
        const sr = 1 / (1 + Math.exp(-xs));
        assert.ok(Math.abs(s[i] - sr) <= 2 * U, `sigmoid: ${ctx}: ${s[i]} vs ${sr}`);
      }
    });
  }

  it("softmax rows of odd lengths (a fused exp, sum and division) within (|x − max| + n + 16)u", async () => {
    for (const n of [5, 17, 1001]) {
      const x = spread(3 * n, -20, 20, n);
      const got = await toHost(nn.softmax(np.array(x).reshape([3, n]), -1));
      for (let row = 0; row < 3; row++) {
        const xs = x.subarray(row * n, (row + 1) * n);
        const m = Math.max(...xs);
        const z = xs.reduce((acc, v) => acc + Math.exp(v - m), 0);
        for (let j = 0; j < n; j++) {
          const ref = Math.exp(xs[j] - m) / z;
          const err = Math.abs(got[row * n + j] - ref);
          // exp's own error at x − max, then the sum and the division
          assert.ok(
            err <= (Math.abs(xs[j] - m) + n + 16) * U * ref + 1e-40,
            `softmax n = ${n} [${row}, ${j}]: ${got[row * n + j]} vs ${ref}`,
          );
        }
      }
    }
  });

  it("tanh(A·B + c) and sigmoid(A·B ⊙ c), the activation fused into the matmul's epilogue, on odd shapes", async () => {
    // tanh and sigmoid are 1- and ¼-Lipschitz: the dot product's forward error bound γ_{K+2} Σ|a b| + |c|
    // (Higham eq. 3.5) plus the activation's own 4u (absolute)
    for (const [m, k, n] of [
      [7, 16, 10],
      [33, 17, 257],
      [100, 256, 10],
      [5, 8, 12],
      [9, 10, 5],
    ]) {
      const a = spread(m * k, -2, 2, m);
      const b = spread(k * n, -1, 1, k);
      const c = spread(n, -1, 1, n);
      const A = () => np.array(a).reshape([m, k]);
      const B = () => np.array(b).reshape([k, n]);
      const [t, s] = await Promise.all([
        toHost(jit((x: Array, y: Array, z: Array) => np.tanh(np.matmul(x, y).add(z)))(A(), B(), np.array(c))),
        toHost(jit((x: Array, y: Array, z: Array) => nn.sigmoid(np.matmul(x, y).mul(z)))(A(), B(), np.array(c))),
      ]);
      const gamma = ((k + 2) * U) / (1 - (k + 2) * U);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let y = 0;
          let abs = 0;
          for (let p = 0; p < k; p++) {
            y += a[i * k + p] * b[p * n + j];
            abs += Math.abs(a[i * k + p] * b[p * n + j]);
          }
          const ctx = `${m}×${k}×${n} [${i}, ${j}]`;
          const tb = gamma * (abs + Math.abs(c[j])) + 4 * U;
          assert.ok(Math.abs(t[i * n + j] - Math.tanh(y + c[j])) <= tb, `tanh: ${ctx}: ${t[i * n + j]}`);
          const sr = 1 / (1 + Math.exp(-y * c[j]));
          const sb = (gamma * abs * Math.abs(c[j])) / 4 + 4 * U;
          assert.ok(Math.abs(s[i * n + j] - sr) <= sb, `sigmoid: ${ctx}: ${s[i * n + j]} vs ${sr}`);
        }
    }
  });

  it("reductions with exp and 1/x in their body, along either axis (the tiled and the K-vectorized paths)", async () => {
    // a sum of n positive terms each within (|x| + 8)u (exp) or u (1/x): within (n + |x|max + 8)u relative
    for (const [m, k] of [
      [8, 12],
      [7, 33],
      [16, 10],
      [5, 257],
    ]) {
      const x = spread(m * k, -4, 4, m * k);
      const y = spread(m * k, 0.5, 3, m + k);
      for (const axis of [0, 1]) {
        const [e, r] = await Promise.all([
          toHost(jit((a: Array) => np.exp(a).sum(axis))(np.array(x).reshape([m, k]))),
          toHost(jit((a: Array) => np.reciprocal(a).sum(axis))(np.array(y).reshape([m, k]))),
        ]);
        const outer = axis === 0 ? k : m;
        const len = axis === 0 ? m : k;
        for (let o = 0; o < outer; o++) {
          let se = 0;
          let sr = 0;
          for (let l = 0; l < len; l++) {
            const idx = axis === 0 ? l * k + o : o * k + l;
            se += Math.exp(x[idx]);
            sr += 1 / y[idx];
          }
          const ctx = `${m}×${k} axis ${axis} [${o}]`;
          assert.ok(Math.abs(e[o] - se) <= (len + 12) * U * se, `Σ exp: ${ctx}: ${e[o]} vs ${se}`);
          assert.ok(Math.abs(r[o] - sr) <= (len + 2) * U * sr, `Σ 1/x: ${ctx}: ${r[o]} vs ${sr}`);
        }
      }
    }
  });

  it("special values: tanh, sigmoid, 1/x and x/y of 0, −0, ±Inf, NaN, huge and tiny", async () => {
    const x = Float32Array.from([0, -0, Infinity, -Infinity, NaN, 3e38, -3e38, 1e-30, -1e-30, 1e-45, 5, -5, 2]);
    const [t, s, r, q] = await Promise.all([
      run((a) => np.tanh(a), x),
      run((a) => nn.sigmoid(a), x),
      run((a) => np.reciprocal(a), x),
      toHost(np.divide(np.array(x), np.array(x.slice().reverse()))),
    ]);
    const show = (a: Float64Array) => [...a].map((v) => (Number.isNaN(v) ? "NaN" : v));
    // tanh: ±1 at ±Inf and huge, NaN stays NaN, tiny inputs give a result no larger than themselves
    assert.deepEqual(show(t).slice(2, 7), [1, -1, "NaN", 1, -1]);
    for (const i of [0, 1, 7, 8, 9]) assert.ok(Math.abs(t[i]) <= Math.abs(x[i]), `tanh(${x[i]}) = ${t[i]}`);
    assert.deepEqual(show(s).slice(0, 9), [0.5, 0.5, 1, 0, "NaN", 1, 0, 0.5, 0.5]);
    assert.deepEqual(
      show(r),
      [...x].map((v) => (Number.isNaN(v) ? "NaN" : f(1 / v))),
    );
    const y = x.slice().reverse();
    for (let i = 0; i < x.length; i++) {
      const want = x[i] / y[i];
      if (Number.isNaN(want)) assert.ok(Number.isNaN(q[i]), `${x[i]} / ${y[i]} = ${q[i]}, expected NaN`);
      else if (!Number.isFinite(f(want)) || f(want) === 0)
        assert.equal(q[i], f(x[i] * f(1 / y[i])), `${x[i]} / ${y[i]}`);
      else assert.ok(Math.abs(q[i] - want) <= 2.01 * U * Math.abs(want), `${x[i]} / ${y[i]} = ${q[i]} vs ${want}`);
    }
  });
});

/** Bytes of every Wasm module compiled while `body` runs. */
async function compiledModules(body: () => Promise<unknown>): Promise<Uint8Array[]> {
  const seen: Uint8Array[] = [];
  const W = WebAssembly as unknown as Record<string, unknown>;
  const compile = WebAssembly.compile;
  const Module = WebAssembly.Module;
  const copy = (b: BufferSource) =>
    new Uint8Array(ArrayBuffer.isView(b) ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : b.slice(0));
  W.compile = (b: BufferSource) => (seen.push(copy(b)), compile(b));
  W.Module = class extends Module {
    constructor(b: BufferSource) {
      seen.push(copy(b));
      super(b);
    }
  };
  try {
    await body();
  } finally {
    W.compile = compile;
    W.Module = Module;
  }
  return seen;
}

function contains(hay: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe("the jax-js code-generator patch: SIMD exp and division", () => {
  it("compiles exp and 1/x kernels to f32x4 code (a (v128) → v128 exp function, f32x4.div)", async () => {
    // sizes no other test uses, so the kernels are compiled here, not taken from jax-js's cache
    const x = spread(1013, -5, 5, 3);
    const mods = await compiledModules(async () => {
      await toHost(jit((a: Array) => np.exp(a.ref).add(np.reciprocal(a)))(np.array(x)));
    });
    assert.ok(mods.length > 0, "no Wasm module was compiled");
    // function type (v128) -> v128: 0x60, one param v128 (0x7b), one result v128
    const vecExp = mods.some((m) => contains(m, [0x60, 0x01, 0x7b, 0x01, 0x7b]) && contains(m, [0xfd, 0x6a]));
    const vecDiv = mods.some((m) => contains(m, [0xfd, 0xe7, 0x01]));
    assert.ok(vecExp, "exp is not compiled to the f32x4 builtin: is the patch applied?");
    assert.ok(vecDiv, "1/x is not compiled to f32x4.div: is the patch applied?");
  });

  it("runs tanh fused into a matmul's epilogue on the vector accumulators (the f32x4 exp builtin is compiled)", async () => {
    // the product's own body has no exp: the (v128) → v128 builtin is only there for the epilogue
    const a = np.array(spread(12 * 20, -1, 1, 5)).reshape([12, 20]);
    const b = np.array(spread(20 * 28, -1, 1, 6)).reshape([20, 28]);
    const mods = await compiledModules(async () => {
      await toHost(jit((x: Array, y: Array) => np.tanh(np.matmul(x, y)))(a, b));
    });
    assert.ok(
      mods.some((m) => contains(m, [0x60, 0x01, 0x7b, 0x01, 0x7b])),
      "the matmul's tanh epilogue is not vectorized: is the patch applied?",
    );
  });
});
