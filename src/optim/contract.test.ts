// The contract every registered optimizer meets (optax's common test): state shaped like the params,
// determinism, convergence on a convex quadratic, jit ≡ eager, and no leaked arrays.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  initRuntime,
  jit,
  keep,
  np,
  settle,
  tree,
  type Array as NpArray,
  type DType,
  type Params,
} from "../core/index.js";
import { createOptimizer, createSchedule, optimizerRegistry } from "./registry.js";
import type { OptimizerConfigInput, OptimizerKind } from "./schema.js";
import { applyStep, host, Quadratic, quadraticStep, scalar, treeOf } from "./testkit.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";

before(async () => initRuntime("wasm"));

/** Option sets per kind beyond the defaults; a kind missing here is tested with its defaults only. */
const variants: Partial<Record<OptimizerKind, Record<string, unknown>[]>> = {
  sgd: [
    { momentum: 0.9 },
    { momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
    { momentum: 0.5, weightDecay: 1e-2, decoupled: true, clipNorm: 1 },
  ],
  adam: [{ weightDecay: 1e-3, epsRoot: 1e-12 }],
  adamw: [{ clipNorm: 0.5 }],
  rmsprop: [
    { centered: true, momentum: 0.9 },
    { momentum: 0.5, nesterov: true, weightDecay: 1e-3, decoupled: true },
  ],
  adagrad: [{ weightDecay: 1e-3, decoupled: true }],
};

/** Learning rates that make 200 steps on the test quadratic converge. */
const lrs: Record<string, number> = { sgd: 0.3, adam: 0.1, adamw: 0.1, rmsprop: 0.03, adagrad: 0.5 };

const cases: { name: string; config: OptimizerConfigInput }[] = Object.keys(optimizerRegistry).flatMap((kind) =>
  [{}, ...(variants[kind as OptimizerKind] ?? [])].map((opts) => ({
    name: `${kind}${Object.keys(opts).length ? " " + JSON.stringify(opts) : ""}`,
    config: { kind, lr: lrs[kind] ?? 0.1, ...opts } as OptimizerConfigInput,
  })),
);

const q = new Quadratic([0.5, 0.8, 1, 1.3, 1.6, 2], [[1, 2, -1, 0.5, 1, -2]]);
const x0 = Float64Array.from([2, -1, 0.5, 1.5, -2, 1]);

interface LeafInfo {
  shape: number[];
  dtype: DType;
}
const infos = (t: OptState | Params): LeafInfo[] => tree.leaves(t).map((x) => ({ shape: x.shape, dtype: x.dtype }));

/** opt.update with fresh lr/step arrays (disposed after). */
function update(
  opt: GradientTransformation,
  g: Params,
  s: OptState,
  p: Params,
  lr: number,
  step: number,
  dtype: DType,
) {
  const extras: Extras = { lr: scalar(lr, dtype), step: scalar(step, dtype) };
  const out = opt.update(g, s, p, extras);
  extras.lr.dispose();
  extras.step.dispose();
  return out;
}

function gradAt(t: number, n: number, dtype: DType, scale = 1): Params {
  return treeOf(
    Float64Array.from({ length: n }, (_, i) => scale * Math.sin(0.7 * i + 1.3 * t + 0.2)),
    dtype,
  );
}

for (const { name, config } of cases) {
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
      const schedule = createSchedule({ kind: "cosine" }, (config as { lr: number }).lr, 200);
      const step = quadraticStep(opt);
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
          const out = opt.update(g, s, p, { lr, step });
          lr.dispose();
          step.dispose();
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

    it("consumes its inputs exactly once and leaks no arrays (eager)", async () => {
      const opt = createOptimizer(config);
      assertConsumesInputs(opt);
      const growth = await memoryGrowth(opt);
      assert.ok(growth < LEAK_LIMIT, `Wasm memory grew by ${(growth / 2 ** 20).toFixed(1)} MiB over ${N_LEAK} steps`);
    });
  });
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

describe("contract harness", () => {
  it("covers every registered optimizer", () => {
    for (const kind of Object.keys(optimizerRegistry)) assert.ok(cases.some((c) => c.config.kind === kind));
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
