/**
 * Batch and layer normalisation against naive host loops (norm.testkit.ts): train-mode batch
 * statistics, ghost batches, eval-mode running statistics and their momentum recursion, layer norm,
 * the stateful model API on an MLP, and gradients against float64 central finite differences.
 *
 * Tolerances: the layers use only +, ×, ÷ and √ (correctly rounded on every backend), so float64
 * outputs agree to ~1e-15; models with tanh agree to ~1e-7 on Wasm (float32-level tanh).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  initRuntime,
  jit,
  Key,
  keep,
  release,
  toHost,
  treeToHost,
  UserError,
  type Array,
  type Params,
} from "../core/index.js";
import { gradientVsFd, hostState, maxRelErr, relErr, upload, type GradCase } from "./check.testkit.js";
import { createModel } from "./index.js";
import { batchNormEval, batchNormTrain, layerNorm, type BatchNormState } from "./norm.js";
import {
  hostBatchNormEval,
  hostBatchNormTrain,
  hostLayerNorm,
  hostRunningUpdate,
  type HostBnState,
} from "./norm.testkit.js";
import { hostForward, hostForwardTrain, hostParams } from "./reference.testkit.js";
import type { ModelState } from "./types.js";

before(async () => {
  await initRuntime("cpu");
  await initRuntime("wasm");
});
after(async () => initRuntime("wasm"));

const SHAPES: number[][] = [
  [6, 4],
  [3, 4, 5, 2],
];

function draw(seed: number, n: number, scale = 1, shift = 0): Float64Array {
  return Key.fromSeed(seed)
    .rng()
    .normals(n, scale)
    .map((v) => v + shift);
}

/** x, γ, β for a shape (channels last), with non-zero means so that centring matters. */
function layerCase(shape: number[], seed: number) {
  const c = shape[shape.length - 1];
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    c,
    rows: shape[0],
    positions: n / (shape[0] * c),
    xs: draw(seed, n, 2, 0.7),
    gamma: draw(seed + 1, c, 0.5, 1),
    beta: draw(seed + 2, c),
  };
}

describe("batch norm, train mode (batch statistics)", () => {
  it("equals the host computation for dense and conv inputs, with and without affine", async () => {
    for (const [i, shape] of SHAPES.entries()) {
      const k = layerCase(shape, 10 * i);
      for (const withAffine of [true, false]) {
        const affine = withAffine ? { gamma: upload(k.gamma, [k.c]), beta: upload(k.beta, [k.c]) } : null;
        const [y, st] = batchNormTrain(upload(k.xs, shape), affine, null);
        assert.equal(st, null);
        assert.deepEqual(y.shape, shape);
        const ref = hostBatchNormTrain(k.xs, k.rows, k.positions, k.c, {
          eps: 1e-5,
          ghost: null,
          affine: withAffine ? { gamma: k.gamma, beta: k.beta } : undefined,
        });
        assert.ok(maxRelErr(await toHost(y), ref.y) < 1e-14, `[${shape}] affine=${withAffine}`);
      }
    }
  });

  it("with ghost batches normalises each chunk of g examples by its own statistics", async () => {
    const cases: [number[], number][] = [
      [[8, 3], 2], // 4 full ghost batches
      [[8, 3], 3], // 3, 3, 2
      [[5, 2, 2, 3], 2], // 2, 2, 1 (one example still has 4 values per channel)
      [[5, 2, 2, 3], 4], // 4, 1
    ];
    for (const [shape, g] of cases) {
      const k = layerCase(shape, 7);
      const [y] = batchNormTrain(upload(k.xs, shape), null, null, { ghostBatch: g, eps: 1e-3 });
      const ref = hostBatchNormTrain(k.xs, k.rows, k.positions, k.c, { eps: 1e-3, ghost: g });
      assert.ok(maxRelErr(await toHost(y), ref.y) < 1e-14, `[${shape}] g=${g}`);
      // The chunks really differ from whole-batch normalisation.
      const whole = hostBatchNormTrain(k.xs, k.rows, k.positions, k.c, { eps: 1e-3, ghost: null });
      assert.ok(maxRelErr(ref.y, whole.y) > 1e-3);
    }
    const k = layerCase([6, 4], 3);
    for (const g of [6, 50]) {
      const [y] = batchNormTrain(upload(k.xs, [6, 4]), null, null, { ghostBatch: g });
      const ref = hostBatchNormTrain(k.xs, 6, 1, 4, { eps: 1e-5, ghost: null });
      assert.ok(maxRelErr(await toHost(y), ref.y) < 1e-14, `g=${g} ≥ B is plain batch norm`);
    }
  });

  it("rejects a batch with one value per channel (UserError), as PyTorch does", () => {
    assert.throws(() => batchNormTrain(upload([1, 2, 3], [1, 3]), null, null), UserError);
    assert.throws(
      () => batchNormTrain(upload([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]), null, null, { ghostBatch: 2 }),
      (e: unknown) => e instanceof UserError && /ghostBatch = 2/.test(e.message),
    );
  });
});

describe("batch norm running statistics", () => {
  it("after k updates equal the host recursion r ← (1 − m)r + m·s (unbiased variance), and eval uses them", async () => {
    for (const [shape, ghost, momentum] of [
      [[6, 4], null, 0.1],
      [[4, 2, 3, 2], 3, 0.25],
    ] as const) {
      const c = shape[shape.length - 1];
      const positions = shape.slice(1, -1).reduce((a, b) => a * b, 1);
      let state: BatchNormState = { mean: upload(draw(1, c), [c]), var: upload(draw(2, c, 0.1, 1), [c]) };
      let host: HostBnState = { mean: draw(1, c), var: draw(2, c, 0.1, 1) };
      for (let step = 0; step < 4; step++) {
        const k = layerCase([...shape], 100 + step);
        const [y, next] = batchNormTrain(upload(k.xs, [...shape]), null, state, { momentum, ghostBatch: ghost });
        y.dispose();
        state = next as BatchNormState;
        host = hostRunningUpdate(
          host,
          hostBatchNormTrain(k.xs, k.rows, positions, c, { eps: 1e-5, ghost }).stats,
          momentum,
        );
      }
      assert.ok(maxRelErr(await toHost(state.mean.ref), host.mean) < 1e-14, `mean [${shape}]`);
      assert.ok(maxRelErr(await toHost(state.var.ref), host.var) < 1e-14, `var [${shape}]`);
      const k = layerCase([...shape], 999);
      const affine = { gamma: upload(k.gamma, [c]), beta: upload(k.beta, [c]) };
      const y = await toHost(batchNormEval(upload(k.xs, [...shape]), affine, state));
      const ref = hostBatchNormEval(k.xs, c, host, 1e-5, { gamma: k.gamma, beta: k.beta });
      assert.ok(maxRelErr(y, ref) < 1e-14, `eval [${shape}]`);
    }
  });
});

describe("layer norm", () => {
  it("equals the host computation (per example over all features; γ, β per channel)", async () => {
    for (const [i, shape] of SHAPES.entries()) {
      const k = layerCase(shape, 50 + i);
      const y = layerNorm(upload(k.xs, shape), { gamma: upload(k.gamma, [k.c]), beta: upload(k.beta, [k.c]) });
      const ref = hostLayerNorm(k.xs, k.rows, k.c, 1e-5, { gamma: k.gamma, beta: k.beta });
      assert.ok(maxRelErr(await toHost(y), ref) < 1e-14, `[${shape}]`);
    }
  });
});

describe("stateful model API (mlp with batch norm)", () => {
  const config = { kind: "mlp" as const, hidden: [5, 4], activation: "tanh" as const, norm: "batch" as const };
  const model = createModel(config, [3], 2);

  it("k applyTrain calls give the host recursion's state; eval-mode apply uses it; train-mode apply only reads the batch", async () => {
    const params = model.init(Key.fromSeed(1), "float64");
    const hp = await hostParams(keep(params));
    assert.ok(model.initState && model.applyTrain);
    let state: ModelState = model.initState("float64");
    let host = await hostState(keep(state));
    assert.deepEqual(
      host.map((s) => [[...s.mean], [...s.var]]),
      [5, 4].map((w) => [filled(w, 0), filled(w, 1)]),
      "initial state: mean 0, variance 1",
    );
    for (let step = 0; step < 3; step++) {
      const xs = draw(20 + step, 6 * 3, 1.5, 0.3);
      const [y, next] = model.applyTrain(keep(params), state, upload(xs, [6, 3]));
      const ref = hostForwardTrain(model, hp, xs, 6, host);
      assert.ok(maxRelErr(await toHost(y), ref.y) < 1e-6, `step ${step} outputs`);
      state = next;
      host = ref.state;
    }
    const got = await hostState(keep(state));
    for (let l = 0; l < 2; l++) {
      assert.ok(maxRelErr(got[l].mean, host[l].mean) < 1e-6, `layer ${l} mean`);
      assert.ok(maxRelErr(got[l].var, host[l].var) < 1e-6, `layer ${l} var`);
    }
    const xs = draw(40, 4 * 3);
    // Eval mode borrows the state: two calls with the same state.
    for (let rep = 0; rep < 2; rep++) {
      const y = await toHost(model.apply(keep(params), upload(xs, [4, 3]), { state }));
      assert.ok(maxRelErr(y, hostForward(model, hp, xs, 4, { state: host })) < 1e-6, "eval output");
    }
    const yb = await toHost(model.apply(keep(params), upload(xs, [4, 3]), { train: true, state }));
    assert.ok(maxRelErr(yb, hostForward(model, hp, xs, 4, { train: true })) < 1e-6, "train-mode output");
    assert.ok(maxRelErr(await treeToHost(keep(state)), flat(host)) < 1e-6, "state unchanged by apply");
    release(state);
    assert.throws(
      () => model.apply(keep(params), upload(xs, [4, 3])),
      (e: unknown) => e instanceof Error && /opts\.state/.test(e.message) && /train: true/.test(e.message),
    );
    release(params);
  });

  it("jitted applyTrain equals eager in float64 (constants stay float64 under jit)", async () => {
    const params = model.init(Key.fromSeed(2), "float64");
    const xs = draw(3, 6 * 3, 2);
    const run = (p: Params, s: ModelState, x: Array) => model.applyTrain!(p, s, x);
    const [y1, s1] = run(keep(params), model.initState!("float64"), upload(xs, [6, 3]));
    const fn = jit(run);
    const [y2, s2] = fn(params, model.initState!("float64"), upload(xs, [6, 3]));
    fn.dispose();
    assert.ok(maxRelErr(await toHost(y2), await toHost(y1)) < 1e-13);
    assert.ok(maxRelErr(await treeToHost(s2), await treeToHost(s1)) < 1e-13);
  });
});

describe("gradients of batch/layer-norm models equal float64 central finite differences", () => {
  const cases: GradCase[] = [
    {
      config: { kind: "mlp", hidden: [4, 3], activation: "tanh", norm: "batch" },
      inputShape: [3],
      batch: 5,
      mode: "train",
    },
    {
      config: { kind: "mlp", hidden: [4], activation: "softplus", norm: "batch" },
      inputShape: [3],
      batch: 4,
      mode: "eval",
    },
    {
      config: { kind: "mlp", hidden: [4, 3], activation: "gelu", norm: "layer" },
      inputShape: [3],
      batch: 3,
      mode: "eval",
    },
  ];
  // Wasm: float32-level tanh/exp (as losses/gradients.test.ts); cpu: the finite differences' own
  // truncation error, larger than for plain MLPs because normalising over few values is strongly curved.
  const TOL = { wasm: 2e-6, cpu: 1e-7 } as const;
  cases.forEach((c, i) => {
    it(`${JSON.stringify(c.config)} ${c.mode} [${c.inputShape}]×${c.batch}`, async () => {
      const backends = ["wasm", "cpu"] as const;
      const [grads, fd] = await gradientVsFd(c, backends, 300 + i);
      backends.forEach((backend, b) => {
        const e = relErr(grads[b], fd);
        assert.ok(e < TOL[backend], `${backend}: relative error ${e.toExponential(2)} over ${fd.length} parameters`);
      });
    });
  });
});

function filled(n: number, v: number): number[] {
  return new globalThis.Array<number>(n).fill(v);
}

function flat(s: HostBnState[]): number[] {
  return s.flatMap((l) => [...l.mean, ...l.var]);
}
