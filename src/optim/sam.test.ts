// SAM's first update against hand-computed float64 formulas on a 2-parameter quadratic
// L(w) = ½ wᵀAw − bᵀw (base = sgd, so the update is −η ∇L(w + ε)), jit ≡ eager, ownership and errors.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  initRuntime,
  jit,
  keep,
  np,
  tree,
  treeToHost,
  UserError,
  type Array as NpArray,
  type DType,
  type Params,
} from "../core/index.js";
import { OptimizerConfigSchema } from "./schema.js";
import { sam, samConfigSchema, type SamOptions } from "./sam.js";
import { sgd } from "./sgd.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";

before(async () => initRuntime("wasm"));

type Vec = [number, number];
type Mat = [Vec, Vec];

// The batch objective is the mean of two chunk objectives: A = (A₁ + A₂)/2, b = (b₁ + b₂)/2.
const A1: Mat = [
  [4, 1],
  [1, 1],
];
const A2: Mat = [
  [2, 1],
  [1, 3],
];
const b1: Vec = [2, 0];
const b2: Vec = [0, -2];
const A: Mat = [
  [3, 1],
  [1, 2],
];
const b: Vec = [1, -1];
const w0: Vec = [0.7, -0.4];
const LR = 0.1;

// ---- host float64 reference -------------------------------------------------------------------
const gradH = (M: Mat, c: Vec, w: Vec): Vec => [
  M[0][0] * w[0] + M[0][1] * w[1] - c[0],
  M[1][0] * w[0] + M[1][1] * w[1] - c[1],
];
/** ‖v‖ plus sam's guard δ = 1e-12 (in every denominator, as documented). */
const norm = (v: Vec) => Math.hypot(v[0], v[1]) + 1e-12;
const add = (u: Vec, v: Vec): Vec => [u[0] + v[0], u[1] + v[1]];
const scale = (s: number, v: Vec): Vec => [s * v[0], s * v[1]];

/** ε-direction of one ascent step of length `size`: size·T²g/‖Tg‖ (T = 1 unless `t`). */
function stepH(g: Vec, size: number, t: Vec | null): Vec {
  const tt = t ?? [1, 1];
  const tg: Vec = [tt[0] * g[0], tt[1] * g[1]];
  return scale(size / norm(tg), [tt[0] * tg[0], tt[1] * tg[1]]);
}

/** The SAM gradient with k normalized ascent steps on (M, c) from w. */
function samGradH(M: Mat, c: Vec, w: Vec, rho: number, k: number, t: Vec | null): Vec {
  let eps: Vec = [0, 0];
  for (let i = 0; i < k; i++) eps = add(eps, stepH(gradH(M, c, add(w, eps)), rho / k, t));
  return gradH(M, c, add(w, eps));
}

// ---- device problem -------------------------------------------------------------------------------
const params = (w: Vec, dtype: DType = np.float64): Params => ({
  a: np.array([w[0]], { dtype }),
  b: np.array([w[1]], { dtype }),
});

/** ∇(½ wᵀMw − cᵀw) for the tree {a: [1], b: [1]}, from device arrays M [2,2], c [2] (consumed). */
function deviceGrad(p: Params, M: NpArray, c: NpArray): Params {
  const { a, b: bb } = p as { a: NpArray; b: NpArray };
  const g = np.matmul(M, np.concatenate([a, bb])).sub(c);
  const [ga, gb] = np.split(g, [1]);
  return { a: ga, b: gb };
}

const dev = (x: number[] | number[][], dtype: DType) => np.array(x, { dtype });

/** Extras with gradFn / chunkGradFn from device copies of the problem; `dispose` releases them. */
function problemExtras(step: number, dtype: DType = np.float64): Extras & { dispose(): void } {
  const held = [dev(A, dtype), dev(b, dtype), dev(A1, dtype), dev(b1, dtype), dev(A2, dtype), dev(b2, dtype)];
  const [dA, db, dA1, db1, dA2, db2] = held;
  return {
    lr: np.full([], LR, { dtype }),
    step: np.full([], step, { dtype }),
    batchSize: 4,
    gradFn: (p) => deviceGrad(p, dA.ref, db.ref),
    chunkGradFn: (p, j, m) => {
      assert.equal(m, 2);
      return j === 0 ? deviceGrad(p, dA1.ref, db1.ref) : deviceGrad(p, dA2.ref, db2.ref);
    },
    dispose() {
      tree.dispose([this.lr, this.step, held]);
    },
  };
}

/** The update of `opt` (SAM over sgd) at w0, step `step`, read to the host. */
async function firstUpdate(opt: GradientTransformation, step = 0): Promise<Float64Array> {
  const extras = problemExtras(step);
  const state = opt.init(params(w0));
  const g = params(gradH(A, b, w0));
  const [u, s] = opt.update(g, state, params(w0), extras);
  extras.dispose();
  tree.dispose(s);
  return treeToHost(u);
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])),
      `${what}[${i}]: ${got[i]} vs ${want[i]}`,
    );
  }
}

const descent = (g: Vec) => scale(-LR, g);

describe("sam: first update on ½wᵀAw − bᵀw equals the hand-computed one (base sgd, float64)", () => {
  it("SAM: ε = ρg/‖g‖, update −η∇L(w + ε)", async () => {
    const rho = 0.3;
    const g = gradH(A, b, w0);
    const eps = scale(rho / norm(g), g);
    const want = descent(gradH(A, b, add(w0, eps)));
    assertClose(await firstUpdate(sam(sgd(), { rho })), want, 1e-13, "sam");
    // and it differs from the plain step by a clear margin
    assert.ok(Math.abs(want[0] - descent(g)[0]) > 1e-2);
  });

  it("ASAM: ε = ρT²g/‖Tg‖ with T = |w| + η", async () => {
    const rho = 0.5;
    const eta = 0.05;
    const t: Vec = [Math.abs(w0[0]) + eta, Math.abs(w0[1]) + eta];
    const g = gradH(A, b, w0);
    const tg: Vec = [t[0] * g[0], t[1] * g[1]];
    const eps = scale(rho / norm(tg), [t[0] * tg[0], t[1] * tg[1]]);
    const want = descent(gradH(A, b, add(w0, eps)));
    assertClose(await firstUpdate(sam(sgd(), { rho, adaptive: true, eta })), want, 1e-13, "asam");
  });

  it("m-sharpness with 2 chunks: mean of ∇L_j(w + ρ∇L_j/‖∇L_j‖)", async () => {
    const rho = 0.2;
    const h1 = samGradH(A1, b1, w0, rho, 1, null);
    const h2 = samGradH(A2, b2, w0, rho, 1, null);
    const want = descent(scale(0.5, add(h1, h2)));
    assertClose(await firstUpdate(sam(sgd(), { rho, m: 2 })), want, 1e-13, "m=2");
    // differs from SAM on the whole batch
    const whole = descent(samGradH(A, b, w0, rho, 1, null));
    assert.ok(Math.abs(want[0] - whole[0]) + Math.abs(want[1] - whole[1]) > 1e-3);
  });

  it("m-sharpness with ASAM and 2 ascent steps per chunk", async () => {
    const rho = 0.4;
    const eta = 0.01;
    const t: Vec = [Math.abs(w0[0]) + eta, Math.abs(w0[1]) + eta];
    const want = descent(scale(0.5, add(samGradH(A1, b1, w0, rho, 2, t), samGradH(A2, b2, w0, rho, 2, t))));
    const opt = sam(sgd(), { rho, m: 2, adaptive: true, eta, ascentSteps: 2 });
    assertClose(await firstUpdate(opt), want, 1e-13, "m=2 asam k=2");
  });

  it("multi-step SAM: k = 3 normalized ascent steps of length ρ/3", async () => {
    const rho = 0.6;
    // explicit recursion, written out: ε₁ = (ρ/3) g₀/‖g₀‖, ε₂ = ε₁ + (ρ/3) g₁/‖g₁‖, ...
    const g0 = gradH(A, b, w0);
    const e1 = scale(rho / 3 / norm(g0), g0);
    const g1 = gradH(A, b, add(w0, e1));
    const e2 = add(e1, scale(rho / 3 / norm(g1), g1));
    const g2 = gradH(A, b, add(w0, e2));
    const e3 = add(e2, scale(rho / 3 / norm(g2), g2));
    const want = descent(gradH(A, b, add(w0, e3)));
    assert.ok(Math.hypot(e3[0], e3[1]) <= rho + 1e-15);
    assertClose(await firstUpdate(sam(sgd(), { rho, ascentSteps: 3 })), want, 1e-13, "k=3");
    const oneStep = descent(samGradH(A, b, w0, rho, 1, null));
    assert.ok(Math.abs(want[0] - oneStep[0]) > 1e-4, "k = 3 differs from k = 1 on this problem");
  });

  it("window {start: 2, end: 4}: plain sgd at steps 1 and 4, SAM at steps 2 and 3", async () => {
    const rho = 0.3;
    const opt = sam(sgd(), { rho, window: { start: 2, end: 4 } });
    const plain = descent(gradH(A, b, w0));
    const samU = descent(samGradH(A, b, w0, rho, 1, null));
    for (const [step, want] of [
      [0, plain],
      [1, plain],
      [2, samU],
      [3, samU],
      [4, plain],
      [50, plain],
    ] as const) {
      assertClose(await firstUpdate(opt, step), want, 1e-13, `step ${step}`);
    }
    const open = sam(sgd(), { rho, window: { start: 3 } });
    assertClose(await firstUpdate(open, 2), plain, 1e-13, "open window, step 2");
    assertClose(await firstUpdate(open, 1000), samU, 1e-13, "open window, step 1000");
  });

  it("rho = 0 is the base optimizer; a zero gradient gives ε = 0", async () => {
    assertClose(await firstUpdate(sam(sgd(), { rho: 0 })), descent(gradH(A, b, w0)), 1e-15, "rho 0");
    const xStar: Vec = [(2 * b[0] - b[1]) / 5, (3 * b[1] - b[0]) / 5]; // A⁻¹b
    const extras = problemExtras(0);
    const opt = sam(sgd(), { rho: 0.1 });
    const [u, s] = opt.update(params([0, 0]), opt.init(params(xStar)), params(xStar), extras);
    extras.dispose();
    tree.dispose(s);
    const got = await treeToHost(u);
    assert.ok(
      got.every((v) => Number.isFinite(v) && Math.abs(v) < 1e-12),
      `${got}`,
    );
  });

  it("keeps the base optimizer's state (momentum) and passes extras through", async () => {
    const rho = 0.3;
    const opt = sam(sgd({ momentum: 0.9 }), { rho });
    const extras = problemExtras(0);
    let state = opt.init(params(w0));
    let w = w0;
    let v: Vec = [0, 0];
    let p = params(w0);
    for (let t = 0; t < 3; t++) {
      const [u, s] = opt.update(params(gradH(A, b, w)), state, keep(p), extras);
      state = s;
      p = tree.map((x: NpArray, y: NpArray) => x.add(y), p, u) as Params;
      v = add(scale(0.9, v), samGradH(A, b, w, rho, 1, null));
      w = add(w, scale(-LR, v));
    }
    extras.dispose();
    tree.dispose(state);
    assertClose(await treeToHost(p), w, 1e-12, "3 momentum SAM steps");
  });
});

describe("sam under jit", () => {
  for (const [dtype, tol] of [
    [np.float64, 1e-13],
    [np.float32, 3e-6],
  ] as const) {
    it(`jitted update equals the eager one (${dtype}; SAM, ASAM + m = 2 + k = 2, window)`, async () => {
      const configs: SamOptions[] = [
        { rho: 0.3 },
        { rho: 0.4, adaptive: true, m: 2, ascentSteps: 2 },
        { rho: 0.3, window: { start: 1, end: 2 } },
      ];
      for (const cfg of configs) {
        const opt = sam(sgd({ momentum: 0.5 }), cfg);
        const jitted = jit(
          (g: Params, s: OptState, p: Params, lr: NpArray, step: NpArray, Ms: NpArray[], cs: NpArray[]) => {
            const extras: Extras = {
              lr,
              step,
              batchSize: 4,
              gradFn: (q) => deviceGrad(q, Ms[0].ref, cs[0].ref),
              chunkGradFn: (q, j) => deviceGrad(q, Ms[j + 1].ref, cs[j + 1].ref),
            };
            const out = opt.update(g, s, p, extras);
            tree.dispose([lr, step, Ms, cs]);
            return out;
          },
        );
        let stateE = opt.init(params(w0, dtype));
        let stateJ = opt.init(params(w0, dtype));
        for (let t = 0; t < 3; t++) {
          const w: Vec = [w0[0] + 0.1 * t, w0[1] - 0.05 * t];
          const extras = problemExtras(t, dtype);
          const [uE, sE] = opt.update(params(gradH(A, b, w), dtype), stateE, params(w, dtype), extras);
          extras.dispose();
          const [uJ, sJ] = jitted(
            params(gradH(A, b, w), dtype),
            stateJ,
            params(w, dtype),
            np.full([], LR, { dtype }),
            np.full([], t, { dtype }),
            [dev(A, dtype), dev(A1, dtype), dev(A2, dtype)],
            [dev(b, dtype), dev(b1, dtype), dev(b2, dtype)],
          );
          stateE = keep(sE);
          stateJ = keep(sJ);
          const e = [...(await treeToHost(uE)), ...(await treeToHost(sE))];
          const j = [...(await treeToHost(uJ)), ...(await treeToHost(sJ))];
          assertClose(j, e, tol, `${JSON.stringify(cfg)} t=${t}`);
        }
        tree.dispose([stateE, stateJ]);
        jitted.dispose();
      }
    });
  }
});

describe("sam: ownership and errors", () => {
  it("consumes its inputs exactly once (SAM, ASAM with m = 2, window)", () => {
    for (const cfg of [{ rho: 0.1 }, { rho: 0.1, adaptive: true, m: 2 }, { rho: 0.1, window: { start: 1 } }]) {
      const opt = sam(sgd({ momentum: 0.9 }), cfg);
      const p = params(w0);
      const state = opt.init(keep(p));
      const g = params([0.3, -0.2]);
      const ins = [...tree.leaves(p), ...tree.leaves(state), ...tree.leaves(g)];
      const held = new Map(ins.map((x) => [x, x.refCount]));
      const extras = problemExtras(0);
      const [u, s] = opt.update(keep(g), keep(state), keep(p), extras);
      extras.dispose();
      const outs = [...tree.leaves(u), ...tree.leaves(s)];
      for (const [x, rc] of held) {
        const aliased = outs.filter((o) => o === x).length;
        assert.equal(x.refCount, rc + aliased, `${JSON.stringify(cfg)}: an input kept extra refs`);
      }
      tree.dispose([u, s, p, state, g]);
    }
  });

  it("rejects bad options with a UserError and missing extras with an Error", () => {
    assert.throws(() => sam(sgd(), { rho: -1 }), UserError);
    assert.throws(() => sam(sgd(), { m: 1.5 }), /m \(chunks\)/);
    assert.throws(() => sam(sgd(), { ascentSteps: 0 }), /ascentSteps/);
    assert.throws(() => sam(sgd(), { window: { start: 5, end: 5 } }), /window.end/);
    const opt = sam(sgd(), { m: 3 });
    const extras = problemExtras(0);
    assert.throws(() => opt.update(params(w0), opt.init(params(w0)), params(w0), extras), /divide the batch size 4/);
    const noGrad = sam(sgd());
    assert.throws(
      () => noGrad.update(params(w0), noGrad.init(params(w0)), params(w0), { lr: extras.lr, step: extras.step }),
      /extras.gradFn is required/,
    );
    extras.dispose();
  });

  it("samConfigSchema fills defaults, plugs in a base schema and rejects bad fields", () => {
    const S = samConfigSchema(OptimizerConfigSchema);
    const c = S.parse({ kind: "sam", base: { kind: "sgd", lr: 0.1 } });
    assert.equal(c.rho, 0.05);
    assert.equal(c.adaptive, false);
    assert.equal(c.eta, 0.01);
    assert.equal(c.ascentSteps, 1);
    assert.equal(c.m, undefined);
    assert.equal(c.window, undefined);
    assert.equal(c.base.kind, "sgd");
    assert.deepEqual(S.parse({ kind: "sam", window: { end: 10 }, base: { kind: "adam", lr: 1e-3 } }).window, {
      start: 0,
      end: 10,
    });
    for (const bad of [
      { kind: "sam", base: { kind: "sgd", lr: 0.1 }, extra: 1 },
      { kind: "sam", base: { kind: "sgd", lr: -1 } },
      { kind: "sam", base: { kind: "sgd", lr: 0.1 }, m: 0 },
      { kind: "sam", base: { kind: "sgd", lr: 0.1 }, window: { start: 4, end: 2 } },
      { kind: "sam", base: { kind: "sgd", lr: 0.1 }, rho: -0.1 },
    ]) {
      assert.equal(S.safeParse(bad).success, false, JSON.stringify(bad));
    }
    // the parsed config is a valid options bag for sam()
    assert.doesNotThrow(() => sam(sgd(), S.parse({ kind: "sam", m: 2, base: { kind: "sgd", lr: 0.1 } })));
  });
});
