/**
 * The contract every registered optimizer meets (optax's common test): state shaped like the params,
 * determinism, convergence on a convex quadratic, jit ≡ eager, `averaged()` where present, and no
 * leaked arrays. The registered kinds are split over two test files (`contractPart`), so that each
 * stays fast; a new kind lands in one of them by its position in the registry.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jit, keep, np, settle, tree, type Array as NpArray, type DType, type Params } from "../core/index.js";
import { createOptimizer, createSchedule, optimizerLr, optimizerRegistry } from "./registry.js";
import { OptimizerConfigSchema, parseConfig } from "./schema.js";
import type { OptimizerConfigInput, OptimizerKind } from "./schema.js";
import { applyStep, halfSquareExtras, host, Quadratic, quadraticStep, scalar, treeOf } from "./testkit.js";
import type { GradientTransformation, OptState } from "./types.js";

/** Option sets per kind beyond the defaults; a kind missing here is tested with its defaults only. */
const variants: Partial<Record<OptimizerKind, Record<string, unknown>[]>> = {
  sgd: [
    { momentum: 0.9 },
    { momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
    { momentum: 0.5, weightDecay: 1e-2, decoupled: true, clipNorm: 1 },
    { momentum: 0.9, averaging: { kind: "tail", start: 1 } },
  ],
  adam: [{ weightDecay: 1e-3, epsRoot: 1e-12 }],
  adamw: [{ clipNorm: 0.5, averaging: { kind: "ema", decay: 0.9 } }],
  rmsprop: [
    { centered: true, momentum: 0.9 },
    { momentum: 0.5, nesterov: true, weightDecay: 1e-3, decoupled: true },
  ],
  adagrad: [{ weightDecay: 1e-3, decoupled: true }],
  normalizedGd: [{ averaging: { kind: "swa", start: 1, cycle: 2 } }],
  signum: [{ momentum: 0.5 }],
  generalizedSignSgd: [{ b2: 0 }, { b1: 0, biasCorrection: false }],
  delayedAdagrad: [{ coordinatewise: true, epsExponent: 0.1 }],
  stepTunedSgd: [{ delta: 0, beta: 0.5 }],
  sibert: [{ weightDecay: 1e-3 }, { C: 1, scaleInvariant: ["a"], rest: { kind: "adam", lr: 0.1 } }],
  gadam: [{ start: 2, clipNorm: 1 }],
};

/** Learning rates that make 200 steps on the test quadratic converge. */
const lrs: Record<string, number> = {
  sgd: 0.3,
  adam: 0.1,
  adamw: 0.1,
  rmsprop: 0.03,
  adagrad: 0.5,
  normalizedGd: 0.1,
  sqrtLossGd: 0.3,
  signSgd: 0.05,
  signum: 0.05,
  normalizedSgdMomentum: 0.1,
  generalizedSignSgd: 0.1,
  adagradNorm: 1,
  delayedAdagrad: 1,
  stepTunedSgd: 1,
  sibert: 0.9,
  gadam: 0.1,
};

const cases: { name: string; config: OptimizerConfigInput }[] = Object.keys(optimizerRegistry).flatMap((kind) =>
  [{}, ...(variants[kind as OptimizerKind] ?? [])].map((opts) => ({
    name: `${kind}${Object.keys(opts).length ? " " + JSON.stringify(opts) : ""}`,
    config: (kind === "sam"
      ? // SAM wraps a base optimizer; a small ρ so that it settles within the tolerance of x*
        { kind, rho: 1e-4, base: { kind: "sgd", lr: 0.1, momentum: 0.5 }, ...opts }
      : { kind, lr: lrs[kind] ?? 0.1, ...opts }) as OptimizerConfigInput,
  })),
);

const q = new Quadratic([0.5, 0.8, 1, 1.3, 1.6, 2], [[1, 2, -1, 0.5, 1, -2]]);
const x0 = Float64Array.from([2, -1, 0.5, 1.5, -2, 1]);

interface LeafInfo {
  shape: number[];
  dtype: DType;
}
const infos = (t: OptState | Params): LeafInfo[] => tree.leaves(t).map((x) => ({ shape: x.shape, dtype: x.dtype }));

/**
 * opt.update with fresh lr/step arrays and the objective fields of `halfSquareExtras` (L = ½‖w‖² at
 * `p`, for rules that read `value` or call `gradFn`), all disposed after.
 */
function update(
  opt: GradientTransformation,
  g: Params,
  s: OptState,
  p: Params,
  lr: number,
  step: number,
  dtype: DType,
) {
  const extras = halfSquareExtras(p, scalar(lr, dtype), scalar(step, dtype));
  const out = opt.update(g, s, p, extras);
  tree.dispose([extras.lr, extras.step, extras.value]);
  return out;
}

function gradAt(t: number, n: number, dtype: DType, scale = 1): Params {
  return treeOf(
    Float64Array.from({ length: n }, (_, i) => scale * Math.sin(0.7 * i + 1.3 * t + 0.2)),
    dtype,
  );
}

/** The cases of part `part` (0 or 1): the kinds at even or odd positions of the registry. */
function partCases(part: 0 | 1) {
  const kinds = Object.keys(optimizerRegistry);
  return cases.filter((c) => kinds.indexOf(c.config.kind) % 2 === part);
}

/** Registers the contract suite for part `part` of the registered kinds (call at a test file's top level). */
export function contractPart(part: 0 | 1): void {
  for (const { name, config } of partCases(part)) contractSuite(name, config);
  if (part === 0) harnessSuite();
}

function contractSuite(name: string, config: OptimizerConfigInput): void {
  describe(`contract: ${name}`, () => {
    it("state leaves are 0-d or shaped like a parameter leaf, and keep their shapes across updates", async () => {
      const opt = createOptimizer(config);
      const params = treeOf(x0);
      const pInfo = infos(params);
      const state = opt.init(keep(params));
      const sInfo = infos(state);
      for (const l of sInfo) {
        if (l.shape.length === 0) continue;
        assert.ok(
          pInfo.some((p) => String(p.shape) === String(l.shape) && p.dtype === l.dtype),
          `state leaf [${l.shape}] ${l.dtype} matches no parameter`,
        );
      }
      const nonScalar = sInfo.filter((l) => l.shape.length > 0).length;
      assert.equal(nonScalar % pInfo.length, 0, "moment trees cover every parameter leaf");
      const [u, s2] = update(opt, gradAt(0, 6, np.float64), state, keep(params), 0.1, 0, np.float64);
      assert.deepEqual(infos(u), pInfo);
      assert.deepEqual(infos(s2), sInfo);
      assert.equal(String(tree.structure(s2)), String(tree.structure(opt.init(keep(params)))));
      tree.dispose([u, s2, params]);
    });

    it("gives bit-identical outputs for identical inputs", async () => {
      const opt = createOptimizer(config);
      const runOnce = async () => {
        let params = treeOf(x0);
        let state = opt.init(keep(params));
        for (let t = 0; t < 3; t++) [params, state] = applyStep(opt, params, state, gradAt(t, 6, np.float64), 0.1, t);
        return [...(await host(params)), ...(await host(state))];
      };
      assert.deepEqual(await runOnce(), await runOnce());
    });

    it("converges on a convex quadratic in 200 jitted steps (cosine schedule)", async () => {
      const opt = createOptimizer(config);
      const schedule = createSchedule(
        { kind: "cosine" },
        optimizerLr(parseConfig(OptimizerConfigSchema, config, "optimizer")),
        200,
      );
      const step = quadraticStep(opt, q.fStar());
      const [A, b] = q.toDevice();
      let params = treeOf(x0);
      let state = opt.init(keep(params));
      for (let t = 0; t < 200; t++) {
        [params, state] = step(params, state, A.ref, b.ref, scalar(schedule(t)), scalar(t));
        await settle([params, state]); // bounds jax-js's pending-work graph
      }
      const x = await host(params);
      tree.dispose([state, A, b]);
      step.dispose();
      const ratio = q.gap(x) / q.gap(x0);
      assert.ok(ratio < 1e-4, `f(x₂₀₀) − f* = ${ratio} · (f(x₀) − f*)`);
    });

    for (const [dtype, tol] of [
      [np.float32, 2e-6],
      [np.float64, 1e-13],
    ] as const) {
      it(`jit-compiled update equals the eager one (${dtype}, rel. tol ${tol})`, async () => {
        const opt = createOptimizer(config);
        const jitted = jit((g: Params, s: OptState, p: Params, lr: NpArray, step: NpArray) => {
          const extras = halfSquareExtras(p, lr, step);
          const out = opt.update(g, s, p, extras);
          tree.dispose([lr, step, extras.value]);
          return out;
        });
        let stateE = opt.init(treeOf(x0, dtype));
        let stateJ = opt.init(treeOf(x0, dtype));
        try {
          for (let t = 0; t < 3; t++) {
            const lr = 0.05 * (t + 1);
            const [uE, sE] = update(opt, gradAt(t, 6, dtype, 3), stateE, treeOf(x0, dtype), lr, t, dtype);
            const [uJ, sJ] = jitted(
              gradAt(t, 6, dtype, 3),
              stateJ,
              treeOf(x0, dtype),
              scalar(lr, dtype),
              scalar(t, dtype),
            );
            stateE = keep(sE);
            stateJ = keep(sJ);
            const e = [...(await host(uE)), ...(await host(sE))];
            const j = [...(await host(uJ)), ...(await host(sJ))];
            const scale = Math.max(...e.map(Math.abs));
            e.forEach((v, i) => assert.ok(Math.abs(v - j[i]) <= tol * scale, `t=${t} entry ${i}: ${v} vs ${j[i]}`));
          }
        } finally {
          tree.dispose([stateE, stateJ]);
          jitted.dispose();
        }
      });
    }

    it("averaged(state), where present, is shaped like the parameters and leaves the state intact", async () => {
      const opt = createOptimizer(config);
      const hasAverage = "averaging" in config || config.kind === "gadam";
      assert.equal(opt.averaged !== undefined, hasAverage);
      if (!opt.averaged) return;
      let params = treeOf(x0);
      let state = opt.init(keep(params));
      for (let t = 0; t < 3; t++) [params, state] = applyStep(opt, params, state, gradAt(t, 6, np.float64), 0.1, t);
      const before = tree.leaves(state).map((x) => x.refCount);
      const avg = opt.averaged(state);
      assert.ok(avg !== null);
      assert.deepEqual(infos(avg), infos(params));
      assert.ok((await host(avg)).every(Number.isFinite));
      assert.deepEqual(
        tree.leaves(state).map((x) => x.refCount),
        before,
      );
      tree.dispose([params, state]);
    });

    it("declares the theory of its kind; a threshold separates convergence from divergence", async () => {
      await checkTheory(config);
    });

    it("preconditioner.diagonal(state) is the P recomputed by hand from the gradients", async () => {
      await checkPreconditioner(config);
    });

    it("consumes its inputs exactly once and leaks no arrays (eager)", async () => {
      const opt = createOptimizer(config);
      assertConsumesInputs(opt);
      const growth = await memoryGrowth(opt);
      assert.ok(growth < LEAK_LIMIT, `Wasm memory grew by ${(growth / 2 ** 20).toFixed(1)} MiB over ${N_LEAK} steps`);
    });
  });
}

/** Kinds whose optimizer has a diagonal preconditioner / a raw-Hessian threshold (SAM: its base's P only). */
const PRECONDITIONED = ["adam", "adamw", "rmsprop", "adagrad", "gadam"];
const RAW_THRESHOLD = ["sgd"];

/**
 * ‖x_300‖/‖x_100‖ for jitted steps of `opt` (constant `lr`) from x_0 = 1e-9·(sin 0.7i + 0.2): 100
 * steps on f = 0 (so that Adam's bias corrections have faded: 1 − β₁¹⁰⁰ = 1 to 5 digits; without
 * this warm-up its first steps amplify x by ~1e14), then 200 on f = ½h‖x‖². The start is small
 * enough that a clipNorm never bites and, with ε = 1e3, √v̂ ≤ 1e-6·ε while the iteration contracts.
 */
async function growth(opt: GradientTransformation, h: number, lr: number): Promise<number> {
  const q = new Quadratic(new Array<number>(6).fill(h));
  const step = quadraticStep(opt, 0);
  const [A, b] = q.toDevice();
  b.dispose();
  const zero = np.zeros([6], { dtype: np.float64 });
  const zeroA = np.zeros([6, 6], { dtype: np.float64 });
  let params = treeOf(Float64Array.from({ length: 6 }, (_, i) => 1e-9 * (Math.sin(0.7 * i) + 0.2)));
  let state = opt.init(keep(params));
  let start = 0;
  for (let t = 0; t < 300; t++) {
    if (t === 100) start = Math.hypot(...(await host(keep(params))));
    [params, state] = step(params, state, (t < 100 ? zeroA : A).ref, zero.ref, scalar(lr), scalar(t));
    await settle([params, state]);
  }
  const x = await host(params);
  tree.dispose([state, A, zero, zeroA]);
  step.dispose();
  return Math.hypot(...x) / start;
}

/**
 * Which members the kind declares, and that each threshold is where the iteration turns unstable:
 * at 0.97× it contracts ≥ 10×, at 1.03× it grows ≥ 10× in 200 steps (see `growth`) (margins the spectral radius
 * of the worst recurrence, heavy ball β = 0.9, clears in < 50 steps). Preconditioned kinds are run
 * with ε = 1e3 ≫ √v̂ (documented equivalent of a frozen P ≈ ε·I), on the raw curvature h = c·thr·ε,
 * so that λ(P⁻¹H) = c·thr.
 */
async function checkTheory(config: OptimizerConfigInput): Promise<void> {
  const c = parseConfig(OptimizerConfigSchema, config, "optimizer");
  const opt = createOptimizer(c);
  const kind = c.kind === "sam" ? c.base.kind : c.kind;
  assert.equal(opt.preconditioner !== undefined, PRECONDITIONED.includes(kind), "preconditioner");
  assert.equal(opt.stabilityThreshold !== undefined, c.kind !== "sam" && RAW_THRESHOLD.includes(kind), "threshold");
  if (c.kind === "sam") assert.equal(opt.preconditioner?.threshold, undefined, "SAM has no threshold");
  const lr = optimizerLr(c);
  if (opt.stabilityThreshold) {
    const thr = opt.stabilityThreshold(lr);
    assert.ok((await growth(opt, 0.97 * thr, lr)) < 0.1, `below ${thr}`);
    assert.ok((await growth(opt, 1.03 * thr, lr)) > 10, `above ${thr}`);
  }
  if (opt.preconditioner?.threshold) {
    const eps = 1e3;
    const frozen = createOptimizer({ ...config, eps } as OptimizerConfigInput);
    const thr = frozen.preconditioner!.threshold!(lr);
    assert.equal(thr, opt.preconditioner.threshold(lr), "the threshold does not depend on ε");
    assert.ok((await growth(frozen, 0.97 * thr * eps, lr)) < 0.1, `below ${thr}`);
    assert.ok((await growth(frozen, 1.03 * thr * eps, lr)) > 10, `above ${thr}`);
  }
}

/**
 * P after 3 updates at fixed parameters x₀ with the gradients g_t of `gradAt`, recomputed on the host
 * from the kinds' equations: clipped to clipNorm, plus λx₀ for coupled decay, then Adam
 * √(EMA_β₂(g²)/(1 − β₂³) + ε_root) + ε, RMSProp √(EMA_ρ(g²) [− EMA_ρ(g)²]) + ε, AdaGrad √(G₀ + Σg²) + ε.
 */
async function checkPreconditioner(config: OptimizerConfigInput): Promise<void> {
  const c = parseConfig(OptimizerConfigSchema, config, "optimizer");
  const opt = createOptimizer(c);
  if (!opt.preconditioner || c.kind === "sam") return;
  const o = c as unknown as Record<string, number | boolean | undefined>;
  const lambda = Number(o.weightDecay ?? 0);
  const coupled = c.kind === "adam" || ((c.kind === "rmsprop" || c.kind === "adagrad") && !o.decoupled);
  const gs: Float64Array[] = [];
  const params = treeOf(x0);
  let state = opt.init(keep(params));
  for (let t = 0; t < 3; t++) {
    const [u, s] = update(opt, gradAt(t, 6, np.float64), state, keep(params), 0.1, t, np.float64);
    tree.dispose(u);
    state = s;
    let g = Float64Array.from({ length: 6 }, (_, i) => Math.sin(0.7 * i + 1.3 * t + 0.2));
    const norm = Math.hypot(...g);
    if (c.clipNorm !== undefined && norm > c.clipNorm) g = g.map((v) => (v * c.clipNorm!) / norm);
    if (coupled) g = g.map((v, i) => v + lambda * x0[i]);
    gs.push(g);
  }
  const ema = (b: number, f: (g: number) => number, i: number) => gs.reduce((m, g) => b * m + (1 - b) * f(g[i]), 0);
  const eps = Number(o.eps);
  const want = Float64Array.from({ length: 6 }, (_, i) => {
    if (c.kind === "rmsprop") {
      const nu = ema(c.decay, (g) => g * g, i);
      const mu = c.centered ? ema(c.decay, (g) => g, i) : 0;
      return Math.sqrt(Math.max(nu - mu * mu, 0)) + eps;
    }
    if (c.kind === "adagrad") return Math.sqrt(gs.reduce((a, g) => a + g[i] * g[i], c.initialAccumulatorValue)) + eps;
    const b2 = Number(o.b2);
    return Math.sqrt(ema(b2, (g) => g * g, i) / (1 - b2 ** 3) + Number(o.epsRoot)) + eps;
  });
  const before = tree.leaves(state).map((x) => x.refCount);
  const p = await opt.preconditioner.diagonal(state);
  assert.deepEqual(
    tree.leaves(state).map((x) => x.refCount),
    before,
    "diagonal borrows the state",
  );
  tree.dispose([state, params]);
  p.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-12 * want[i], `P_${i}: ${v} vs ${want[i]}`));
}

/**
 * `init` and `update` consume exactly the references they are given: afterwards every input leaf's
 * refCount is back to what the test holds (plus one per output leaf that is the same array).
 */
function assertConsumesInputs(opt: GradientTransformation): void {
  const params = treeOf(x0);
  const state = opt.init(keep(params));
  for (const p of tree.leaves(params)) assert.equal(p.refCount, 1, `init kept ${p.refCount - 1} refs to a parameter`);
  const grads = gradAt(0, 6, np.float64);
  const ins = [...tree.leaves(params), ...tree.leaves(state), ...tree.leaves(grads)];
  const held = new Map(ins.map((x) => [x, x.refCount]));
  const [u, s] = update(opt, keep(grads), keep(state), keep(params), 0.1, 0, np.float64);
  const outs = [...tree.leaves(u), ...tree.leaves(s)];
  for (const [x, rc] of held) {
    const aliased = outs.filter((o) => o === x).length;
    assert.equal(x.refCount, rc + aliased, `an input leaf [${x.shape}] kept ${x.refCount - rc - aliased} extra refs`);
  }
  for (const o of outs) assert.ok(o.refCount >= 1);
  tree.dispose([u, s, params, state, grads]);
}

// Large enough that one leaked parameter-sized array per step (512 KiB) shows far above the noise.
const N_BIG = 1 << 16;
const N_LEAK = 20;
const LEAK_LIMIT = 4 * 2 ** 20;

/** Off-heap memory that is not a JS ArrayBuffer: the Wasm heap, which never shrinks. */
function wasmBytes(): number {
  const m = process.memoryUsage();
  return m.external - m.arrayBuffers;
}

/**
 * Growth of the Wasm heap over N_LEAK eager steps on 512 KiB float64 parameters: the minimum over the
 * last 4 steps minus the minimum over the 4 after warm-up (minima, because V8's accounting of
 * transient host buffers spikes now and then; a leak raises every later sample).
 */
async function memoryGrowth(opt: GradientTransformation): Promise<number> {
  const g = Float64Array.from({ length: N_BIG }, (_, i) => Math.sin(i));
  let params = treeOf(new Float64Array(N_BIG).fill(0.5));
  let state = opt.init(keep(params));
  const samples: number[] = [];
  for (let t = 0; t < N_LEAK + 8; t++) {
    [params, state] = applyStep(opt, params, state, treeOf(g), 1e-3, t);
    await settle([params, state]);
    samples.push(wasmBytes());
  }
  tree.dispose([params, state]);
  return Math.min(...samples.slice(-4)) - Math.min(...samples.slice(4, 8));
}

function harnessSuite(): void {
  describe("contract harness", () => {
    it("covers every registered optimizer, each in exactly one part", () => {
      for (const kind of Object.keys(optimizerRegistry)) {
        const inPart = [0, 1].map((p) => partCases(p as 0 | 1).some((c) => c.config.kind === kind));
        assert.equal(inPart.filter(Boolean).length, 1, kind);
      }
    });

    it("flags a transform that leaks an intermediate or keeps an input", async () => {
      const base = createOptimizer({ kind: "sgd", lr: 0.1 });
      const leaky: GradientTransformation = {
        init: (p) => base.init(p),
        update: (g, s, p, e) => {
          tree.map((x: NpArray) => x.mul(2), keep(g)); // dropped on the floor
          return base.update(g, s, p, e);
        },
      };
      assert.ok((await memoryGrowth(leaky)) >= LEAK_LIMIT);
      const holding: GradientTransformation = {
        init: (p) => base.init(p),
        update: (g, s, p, e) => base.update(g, s, keep(p), e),
      };
      assert.throws(() => assertConsumesInputs(holding), /kept 1 extra refs/);
    });
  });
}
