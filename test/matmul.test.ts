/**
 * Guard for the Wasm matmul and reduction kernels, which sgdlab runs through a patched jax-js code
 * generator (patches/@jax-js+jax+0.1.25.patch, described in patches/README.md): products over many
 * shapes — odd sizes that exercise the vector tails (1, 3, 5, 7, 10, 17, 33, 255, 257), transposed
 * operands, batch dimensions, a fused epilogue — in float32 and float64, each entry checked against a
 * float64 host reference within the standard forward error bound of a length-K dot product,
 * |ŷ − y| ≤ γ_K Σ_k |a_ik b_kj| with γ_K = K·u/(1 − K·u) (Higham, Accuracy and Stability of Numerical
 * Algorithms, 2nd ed., eq. 3.5), taken with a factor 2 of slack and K + 2 terms for the epilogue;
 * sum, max, min and prod along either axis of odd shapes the same way. A canary fails loudly when
 * the patch is missing (a fresh install that skipped `postinstall`).
 *
 * The same products then run through the patch's native GEMM hook (OpenBLAS through koffi,
 * `src/core/blas.ts`) with the size threshold at 0, so that every case, including the degenerate
 * M = 1, N = 1 and K = 1 layouts, batches and broadcasts, takes the native path; a count of native
 * calls proves it did. Skipped with a reason where OpenBLAS cannot load, unless SGDLAB_REQUIRE_BLAS=1.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jit, np, type Array } from "../src/core/jax.js";
import { toHost } from "../src/core/own.js";
import { configureNativeBlas, disableNativeBlas, nativeGemmCalls, setNativeMinFlops } from "../src/core/blas.js";
import { initRuntime } from "../src/core/runtime.js";

type Dt = "float32" | "float64";

await initRuntime("wasm");
// whether OpenBLAS loads here; the Wasm sections run with the native path off
const nativeInfo = await configureNativeBlas({ SGDLAB_BLAS: "auto" });
disableNativeBlas();
const requireBlas = process.env.SGDLAB_REQUIRE_BLAS === "1";
const nativeSkip =
  nativeInfo === null && !requireBlas
    ? "OpenBLAS does not load here (Debian: apt install libopenblas0; SGDLAB_REQUIRE_BLAS=1 fails instead)"
    : false;

before(() => disableNativeBlas());

/** Deterministic values in [−1, 1), rounded to the dtype, so the host reference sees the same inputs. */
function values(size: number, seed: number, dt: Dt): Float32Array | Float64Array {
  const out = dt === "float32" ? new Float32Array(size) : new Float64Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s ^ (s >>> 15), 2246822519) + 3266489917) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function device(host: Float32Array | Float64Array, shape: number[]): Array {
  return np.array(host).reshape(shape);
}

/**
 * Accessor (b, i, j) of a host buffer holding `batch` row-major [rows, cols] matrices (or their
 * transposes); batch 1 broadcasts.
 */
function reader(host: ArrayLike<number>, rows: number, cols: number, transposed: boolean, batch: number) {
  const per = rows * cols;
  return (b: number, i: number, j: number) =>
    transposed ? host[(b % batch) * per + j * rows + i] : host[(b % batch) * per + i * cols + j];
}

const EPS: Record<Dt, number> = { float32: 2 ** -24, float64: 2 ** -53 };

interface Case {
  m: number;
  k: number;
  n: number;
  ta?: boolean;
  tb?: boolean;
  /** Batch sizes of A and B (0: no batch dim; 1 with the other > 1: broadcast). */
  ba?: number;
  bb?: number;
}

async function check(c: Case, dt: Dt, seed: number): Promise<void> {
  const { m, k, n, ta = false, tb = false, ba = 0, bb = 0 } = c;
  const aHost = values(Math.max(ba, 1) * m * k, seed, dt);
  const bHost = values(Math.max(bb, 1) * k * n, seed + 1, dt);
  const aShape = ta ? [k, m] : [m, k];
  const bShape = tb ? [n, k] : [k, n];
  let a = device(aHost, ba ? [ba, ...aShape] : aShape);
  let b = device(bHost, bb ? [bb, ...bShape] : bShape);
  if (ta) a = ba ? a.transpose([0, 2, 1]) : a.transpose();
  if (tb) b = bb ? b.transpose([0, 2, 1]) : b.transpose();
  const got = await toHost(np.matmul(a, b));
  const batch = Math.max(ba, bb, 1);
  assert.equal(got.length, batch * m * n, `${JSON.stringify(c)} ${dt}: output size`);
  const A = reader(aHost, m, k, ta, Math.max(ba, 1));
  const B = reader(bHost, k, n, tb, Math.max(bb, 1));
  const gamma = (2 * (k + 2) * EPS[dt]) / (1 - (k + 2) * EPS[dt]);
  for (let bi = 0; bi < batch; bi++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let y = 0;
        let abs = 0;
        for (let p = 0; p < k; p++) {
          const t = A(bi, i, p) * B(bi, p, j);
          y += t;
          abs += Math.abs(t);
        }
        const err = Math.abs(got[(bi * m + i) * n + j] - y);
        const bound = gamma * abs + 1e-300;
        if (!(err <= bound))
          assert.fail(
            `${JSON.stringify(c)} ${dt}: entry [${bi}, ${i}, ${j}] is ${got[(bi * m + i) * n + j]}, reference ${y} (error ${err} > bound ${bound})`,
          );
      }
}

const ODD = [1, 3, 5, 7, 10, 17, 33];
const CASES: Case[] = [
  // every odd size in every position, against sizes that are and are not multiples of 4
  ...ODD.flatMap((s) => [
    { m: s, k: 16, n: 12 },
    { m: 8, k: s, n: 12 },
    { m: 8, k: 16, n: s },
    { m: s, k: s, n: s },
  ]),
  // large odd sizes: column tiles of 128 with a ragged last tile, K tiles with a remainder
  { m: 255, k: 257, n: 33 },
  { m: 64, k: 255, n: 257 },
  { m: 257, k: 64, n: 10 },
  // the MLP's output layer shapes (N or K = 10), scaled down in batch
  { m: 100, k: 256, n: 10 },
  { m: 100, k: 10, n: 256, tb: true },
  { m: 256, k: 100, n: 10, ta: true },
  // multiples of 4 (the fast paths), with every transpose combination
  { m: 32, k: 64, n: 48 },
  { m: 32, k: 64, n: 48, ta: true },
  { m: 32, k: 64, n: 48, tb: true },
  { m: 32, k: 64, n: 48, ta: true, tb: true },
  // transposes with odd sizes
  ...ODD.flatMap((s) => [
    { m: 9, k: s, n: 20, tb: true },
    { m: s, k: 20, n: 6, ta: true },
    { m: 12, k: 8, n: s, ta: true, tb: true },
  ]),
  // batch dimensions, and a batch broadcast against a plain matrix
  { m: 6, k: 10, n: 7, ba: 3, bb: 3 },
  { m: 8, k: 12, n: 16, ba: 2, bb: 2, tb: true },
  { m: 5, k: 9, n: 12, ba: 4, bb: 1 },
  { m: 7, k: 16, n: 10, ba: 1, bb: 3, ta: true },
];

// layouts only the native path tells apart: a single row, column or reduction step, with transposes
const DEGENERATE: Case[] = [
  { m: 1, k: 17, n: 9 },
  { m: 1, k: 17, n: 9, ta: true, tb: true },
  { m: 9, k: 17, n: 1 },
  { m: 9, k: 17, n: 1, ta: true, tb: true },
  { m: 9, k: 1, n: 7 },
  { m: 9, k: 1, n: 7, ta: true, tb: true },
  { m: 1, k: 5, n: 1, ba: 3, bb: 3 },
];

for (const kernels of ["wasm", "native"] as const)
  for (const dt of ["float32", "float64"] as const) {
    const label = kernels === "wasm" ? "Wasm matmul" : "Native (OpenBLAS) matmul through the patch's GEMM hook";
    describe(`${label}, ${dt}, against a float64 host reference`, { skip: kernels === "native" && nativeSkip }, () => {
      before(async () => {
        if (kernels === "wasm") return disableNativeBlas();
        const info = await configureNativeBlas({ SGDLAB_BLAS: "openblas" });
        assert.ok(info, "OpenBLAS did not load");
        setNativeMinFlops(0);
      });
      after(() => disableNativeBlas());

      const cases = kernels === "wasm" ? CASES : [...CASES, ...DEGENERATE];
      it(`${cases.length} shapes within the dot-product error bound`, async () => {
        let seed = 1;
        const calls = nativeGemmCalls();
        for (const c of cases) {
          const before = nativeGemmCalls();
          await check(c, dt, (seed += 2));
          // (jax-js computes a 1×1×1 product elementwise: no reduction kernel)
          if (kernels === "native" && c.m * c.k * c.n > 1)
            assert.ok(
              nativeGemmCalls() > before,
              `${JSON.stringify(c)} ${dt}: the product did not take the native path`,
            );
        }
        if (kernels === "wasm") assert.equal(nativeGemmCalls(), calls, "a product took the native path with it off");
      });

      it("a fused epilogue ((A·B + c) ⊙ c) under jit, N = 10 and N = 257", async () => {
        const calls = nativeGemmCalls();
        for (const n of [10, 257]) {
          const [m, k] = [37, 50];
          const aHost = values(m * k, 5, dt);
          const bHost = values(k * n, 6, dt);
          const cHost = values(n, 7, dt);
          const f = jit((a: Array, b: Array, c: Array) => np.matmul(a, b).add(c.ref).mul(c));
          const got = await toHost(f(device(aHost, [m, k]), device(bHost, [k, n]), device(cHost, [n])));
          f.dispose();
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let y = cHost[j];
              let abs = Math.abs(y);
              for (let p = 0; p < k; p++) {
                y += aHost[i * k + p] * bHost[p * n + j];
                abs += Math.abs(aHost[i * k + p] * bHost[p * n + j]);
              }
              const err = Math.abs(got[i * n + j] - y * cHost[j]);
              const bound = 2 * (k + 3) * EPS[dt] * abs * Math.abs(cHost[j]) + 1e-300;
              assert.ok(
                err <= bound,
                `n=${n} [${i}, ${j}]: ${got[i * n + j]} vs ${y * cHost[j]} (error ${err} > ${bound})`,
              );
            }
        }
        // natively: the product by BLAS, then the epilogue as a Wasm kernel over it in place
        if (kernels === "native") assert.equal(nativeGemmCalls(), calls + 2, "the fused products did not run natively");
      });
    });
  }

/** Host reduction of a row-major [r, c] buffer along `axis`. */
function hostReduce(h: ArrayLike<number>, r: number, c: number, axis: 0 | 1, op: "sum" | "max" | "min" | "prod") {
  const [outer, inner] = axis === 0 ? [c, r] : [r, c];
  const out: { y: number; abs: number }[] = [];
  for (let o = 0; o < outer; o++) {
    let y = op === "sum" ? 0 : op === "prod" ? 1 : op === "max" ? -Infinity : Infinity;
    let abs = op === "prod" ? 1 : 0;
    for (let i = 0; i < inner; i++) {
      const v = axis === 0 ? h[i * c + o] : h[o * c + i];
      if (op === "sum") y += v;
      else if (op === "prod") y *= v;
      else y = op === "max" ? Math.max(y, v) : Math.min(y, v);
      abs = op === "prod" ? abs * Math.abs(v) : abs + Math.abs(v);
    }
    out.push({ y, abs });
  }
  return out;
}

for (const dt of ["float32", "float64"] as const) {
  describe(`Wasm reductions, ${dt}: sum, max, min, prod along either axis of odd shapes`, () => {
    // Reducing along axis 0 gives contiguous output lanes: the tiled path, with vector tails when the
    // row length is not a multiple of the lane count; along axis 1, the K-vectorized path (sums).
    it("equal the host reductions (max, min exactly; sum and prod within the error bound)", async () => {
      for (const [r, c] of [
        [7, 10],
        [33, 257],
        [5, 3],
        [16, 6],
        [9, 5],
      ] as const) {
        // values near 1 keep products finite
        const h = values(r * c, r + c, dt).map((v) => 1 + v / 8);
        for (const axis of [0, 1] as const)
          for (const op of ["sum", "max", "min", "prod"] as const) {
            const x = device(h, [r, c]);
            const got = await toHost(
              op === "sum"
                ? np.sum(x, axis)
                : op === "prod"
                  ? np.prod(x, axis)
                  : op === "max"
                    ? np.max(x, axis)
                    : np.min(x, axis),
            );
            const want = hostReduce(h, r, c, axis, op);
            const n = axis === 0 ? r : c;
            const gamma = (2 * (n + 2) * EPS[dt]) / (1 - (n + 2) * EPS[dt]);
            assert.equal(got.length, want.length, `${r}×${c} ${op} axis ${axis}: size`);
            want.forEach(({ y, abs }, i) => {
              const bound = op === "max" || op === "min" ? 0 : gamma * abs;
              assert.ok(
                Math.abs(got[i] - y) <= bound,
                `${r}×${c} ${dt} ${op} axis ${axis} [${i}]: ${got[i]} vs ${y} (bound ${bound})`,
              );
            });
          }
      }
    });
  });
}

describe("sums over a zero body (the patch folds them to their epilogue)", () => {
  it("0·W + b is b exactly, and a row sum of zeros is +0, in float32 and float64", async () => {
    for (const dt of ["float32", "float64"] as const) {
      const w = device(values(500 * 30, 3, dt), [500, 30]);
      const bHost = values(30, 4, dt);
      const y = await toHost(np.matmul(np.zeros([300, 500], { dtype: np[dt] }), w).add(device(bHost, [30])));
      assert.equal(y.length, 300 * 30);
      y.forEach((v, i) => assert.ok(Object.is(v, bHost[i % 30]), `${dt} [${i}]: ${v} vs ${bHost[i % 30]}`));
      const s = await toHost(np.sum(np.zeros([300, 500], { dtype: np[dt] }), 1));
      assert.ok(s.length === 300 && s.every((v) => Object.is(v, 0)), `${dt}: a sum of zeros is not +0`);
    }
  });
});

describe("the jax-js code-generator patch (patches/@jax-js+jax+0.1.25.patch)", () => {
  it("is applied to the installed jax-js (run `npm install`, whose postinstall runs patch-package)", () => {
    // the ES module build, the one sgdlab loads (the CommonJS build is left as published)
    const dist = dirname(createRequire(import.meta.url).resolve("@jax-js/jax"));
    const backends = readdirSync(dist).filter((f) => /^backend-.*\.js$/.test(f));
    assert.ok(backends.length > 0, `no backend file in ${dist}`);
    for (const f of backends)
      assert.match(
        readFileSync(join(dist, f), "utf8"),
        /sgdlab patch: vector tails[\s\S]*sgdlab patch: f64x2/,
        `${join(dist, f)} is not patched: run \`npm install\` (postinstall applies patches/ with patch-package)`,
      );
  });

  it("runs a K = 10 A·Bᵀ product through the vector kernel (lane-wise sums, not one sequential sum)", async () => {
    // Row a = [2^24, 1, 1, 1, −2^24, 0, …] against rows of B that start with five ones: summed sequentially in float32 each +1
    // is lost to rounding (2^24 + 1 = 2^24) and the result is 0; the vector kernel sums the four
    // lanes k ≡ 0, 1, 2, 3 (mod 4) separately and gets the exact 3.
    const aRow = [2 ** 24, 1, 1, 1, -(2 ** 24), 0, 0, 0, 0, 0];
    const a = np.array(Float32Array.from({ length: 4 * 10 }, (_, i) => aRow[i % 10])).reshape([4, 10]);
    // B[j, k] = 1 for k < 5 and j beyond (multiplied by zeros): non-uniform, so not folded into a constant
    const b = np
      .array(Float32Array.from({ length: 8 * 10 }, (_, i) => (i % 10 < 5 ? 1 : Math.floor(i / 10))))
      .reshape([8, 10]);
    const got = await toHost(np.matmul(a, b.transpose()));
    assert.deepEqual(
      [...got],
      [...new Float64Array(32).fill(3)],
      "the K-tail vector path is not in use: is the patch applied?",
    );
  });

  it("runs a float64 K = 10 A·Bᵀ product through the f64x2 kernel", async () => {
    // Same idea with two lanes: [2^53, 1, −2^53, 1, 0, …] sums sequentially to 1 (2^53 + 1 rounds to
    // 2^53) and lane-wise (k even, k odd) to the exact 2.
    const aRow = [2 ** 53, 1, -(2 ** 53), 1, 0, 0, 0, 0, 0, 0];
    const a = np.array(Float64Array.from({ length: 4 * 10 }, (_, i) => aRow[i % 10])).reshape([4, 10]);
    const b = np
      .array(Float64Array.from({ length: 8 * 10 }, (_, i) => (i % 10 < 4 ? 1 : Math.floor(i / 10))))
      .reshape([8, 10]);
    const got = await toHost(np.matmul(a, b.transpose()));
    assert.deepEqual(
      [...got],
      [...new Float64Array(32).fill(2)],
      "the float64 vector path is not in use: is the patch applied?",
    );
  });
});
