/**
 * The CIFAR-style ResNet against naive host loops: strided convolution, parameter counts and shapes
 * counted by hand, forward passes in train and eval mode, the running statistics of `applyTrain`,
 * and gradients against float64 central finite differences (Wasm and cpu backends).
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
  tree,
  treeSize,
  treeToHost,
  UserError,
  type Array,
  type Params,
} from "../core/index.js";
import {
  deviceState,
  gradientVsFd,
  hostState,
  maxRelErr,
  randomState,
  relErr,
  upload,
  type GradCase,
} from "./check.testkit.js";
import { conv2dNhwc } from "./cnn.js";
import { createModel, type ModelConfigInput } from "./index.js";
import { hostConvSame } from "./norm.testkit.js";
import { hostConv, hostForward, hostForwardTrain, hostParams, HostT } from "./reference.testkit.js";
import type { ModelState } from "./types.js";

before(async () => {
  await initRuntime("cpu");
  await initRuntime("wasm");
});
after(async () => initRuntime("wasm"));

describe("strided im2col convolution", () => {
  it('"same" equals a host loop with stride s (output ⌈H/s⌉ × ⌈W/s⌉)', async () => {
    const rng = Key.fromSeed(1).rng();
    for (const k of [1, 2, 3])
      for (const s of [1, 2, 3])
        for (const [h, w] of [
          [6, 5],
          [7, 8],
        ]) {
          const shape = [2, h, w, 3];
          const xs = rng.normals(2 * h * w * 3);
          const ws = rng.normals(k * k * 3 * 2);
          const ref = hostConvSame(xs, shape, ws, k, 2, s);
          const out = conv2dNhwc(upload(xs, shape), upload(ws, [k, k, 3, 2]), "same", s);
          assert.deepEqual(out.shape, ref.shape, `k=${k} s=${s} ${h}×${w}`);
          assert.ok(maxRelErr(await toHost(out), ref.y) < 1e-14, `k=${k} s=${s} ${h}×${w}`);
        }
  });

  it('"valid" with stride s equals every s-th output of the stride-1 host convolution', async () => {
    const rng = Key.fromSeed(2).rng();
    for (const [k, s, h] of [
      [3, 2, 7],
      [2, 2, 6],
      [3, 3, 8],
    ]) {
      const shape = [1, h, h, 2];
      const xs = rng.normals(h * h * 2);
      const ws = rng.normals(k * k * 2 * 3);
      const full = hostConv(xs, shape, new HostT(ws, [k, k, 2, 3]), "valid");
      const fo = full.shape[1];
      const ho = Math.floor((h - k) / s) + 1;
      const ref: number[] = [];
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < ho; j++) for (let o = 0; o < 3; o++) ref.push(full.y[(s * i * fo + s * j) * 3 + o]);
      const out = conv2dNhwc(upload(xs, shape), upload(ws, [k, k, 2, 3]), "valid", s);
      assert.deepEqual(out.shape, [1, ho, ho, 3]);
      assert.ok(maxRelErr(await toHost(out), ref) < 1e-14, `k=${k} s=${s}`);
    }
  });
});

describe("resnet geometry", () => {
  // Counted by hand for C = 3, w = 4, n = 2 blocks per stage, 10 outputs (see the comments).
  const cases: [ModelConfigInput, number][] = [
    // stem 9·3·4 + 8 = 116; stage 1: 2·(2·9·16 + 16) = 608; stage 2: 9·4·8 + 9·64 + 32 + (4·8 + 16) = 944,
    // then 2·576 + 32 = 1184; stage 3: 9·8·16 + 9·256 + 64 + (8·16 + 32) = 3680, then 2·2304 + 64 = 4672;
    // head 16·10 + 10 = 170.
    [{ kind: "resnet", depth: 2, width: 4, shortcut: "projection" }, 11374],
    // as above without the projections (option A): 116 + 608 + 896 + 1184 + 3520 + 4672 + 170.
    [{ kind: "resnet", depth: 2, width: 4, norm: "layer" }, 11166],
    // conv biases instead of γ, β: 112 + 2·296 + 880 + 1168 + 3488 + 4640 + 170.
    [{ kind: "resnet", depth: 2, width: 4, norm: "none" }, 11050],
  ];
  for (const [config, count] of cases) {
    it(`${JSON.stringify(config)}: ${count} parameters, outputs [B, 10] for 8×8 and 7×5 images`, async () => {
      for (const [h, w] of [
        [8, 8],
        [7, 5],
      ]) {
        const model = createModel(config, [3, h, w], 10);
        assert.equal(model.paramCount(), count);
        const p = model.init(Key.fromSeed(0), "float32");
        assert.equal(treeSize(p), count);
        const x = upload(
          Key.fromSeed(1)
            .rng()
            .normals(2 * 3 * h * w),
          [2, 3, h, w],
          "float32",
        );
        const out = model.apply(p, x, { train: true });
        assert.deepEqual(out.shape, [2, 10]);
        out.dispose();
      }
    });
  }

  it("has the kernels and batch-norm state of the hand-built layout", () => {
    const model = createModel({ kind: "resnet", depth: 2, width: 4, shortcut: "projection" }, [3, 8, 8], 10);
    const p = model.init(Key.fromSeed(0), "float32") as unknown as {
      stem: { W: Array };
      stages: { conv1: { W: Array }; conv2: { W: Array }; shortcut?: { conv: { W: Array } } }[][];
      head: { W: Array };
    };
    assert.deepEqual(p.stem.W.shape, [3, 3, 3, 4]);
    assert.deepEqual(p.stages[0][1].conv1.W.shape, [3, 3, 4, 4]);
    assert.equal(p.stages[0][0].shortcut, undefined);
    assert.deepEqual(p.stages[1][0].conv1.W.shape, [3, 3, 4, 8]);
    assert.deepEqual(p.stages[1][0].shortcut?.conv.W.shape, [1, 1, 4, 8]);
    assert.deepEqual(p.stages[2][0].conv2.W.shape, [3, 3, 16, 16]);
    assert.deepEqual(p.head.W.shape, [16, 10]);
    release(p as unknown as Params);
    const state = model.initState?.("float32") as unknown as { mean: Array; var: Array }[];
    // stem, 2 norms per block, plus one per projection: 1 + 12 + 2.
    assert.deepEqual(
      state.map((s) => s.mean.shape[0]),
      [4, 4, 4, 4, 4, 8, 8, 8, 8, 8, 16, 16, 16, 16, 16],
    );
    release(state as unknown as ModelState);
    assert.equal(createModel({ kind: "resnet", norm: "layer" }, [3, 8, 8], 10).initState, undefined);
  });

  it("rejects flat inputs and ghost batches without batch norm (UserError)", () => {
    assert.throws(
      () => createModel({ kind: "resnet" }, [12], 2),
      (e: unknown) => e instanceof UserError && /model\.kind "resnet"/.test(e.message),
    );
    assert.throws(
      () => createModel({ kind: "resnet", norm: "layer", ghostBatch: 4 }, [1, 4, 4], 2),
      (e: unknown) => e instanceof UserError && /model\.ghostBatch/.test(e.message),
    );
  });
});

const FORWARD: { config: ModelConfigInput; inputShape: number[] }[] = [
  { config: { kind: "resnet", depth: 1, width: 2 }, inputShape: [2, 5, 6] },
  {
    config: { kind: "resnet", depth: 2, width: 2, shortcut: "projection", ghostBatch: 2, momentum: 0.3, eps: 1e-3 },
    inputShape: [1, 4, 5],
  },
  { config: { kind: "resnet", depth: 1, width: 3, norm: "layer", shortcut: "projection" }, inputShape: [2, 4, 4] },
  { config: { kind: "resnet", depth: 1, width: 2, norm: "none", activation: "identity" }, inputShape: [1, 5, 5] },
];

describe("resnet forward passes equal the host loops", () => {
  FORWARD.forEach(({ config, inputShape }, i) => {
    it(JSON.stringify(config), async () => {
      const model = createModel(config, inputShape, 3);
      const params = model.init(Key.fromSeed(30 + i), "float64");
      const hp = await hostParams(keep(params));
      const b = 5;
      const d = inputShape.reduce((a, v) => a * v, 1);
      const xs = Key.fromSeed(40 + i)
        .rng()
        .normals(b * d, 1.5);
      // relu/identity with +, ×, ÷, √ only: float64 agreement to rounding.
      const train = await toHost(model.apply(keep(params), upload(xs, [b, ...inputShape]), { train: true }));
      assert.ok(maxRelErr(train, hostForward(model, hp, xs, b, { train: true })) < 1e-12, "train mode");
      if (model.initState && model.applyTrain) {
        const host0 = await randomState(model, 50 + i);
        const [y, s1] = model.applyTrain(keep(params), deviceState(host0), upload(xs, [b, ...inputShape]));
        const ref = hostForwardTrain(model, hp, xs, b, host0);
        assert.ok(maxRelErr(await toHost(y), ref.y) < 1e-12, "applyTrain outputs");
        const got = await hostState(keep(s1));
        assert.ok(
          maxRelErr(
            got.flatMap((s) => [...s.mean, ...s.var]),
            ref.state.flatMap((s) => [...s.mean, ...s.var]),
          ) < 1e-12,
          "applyTrain state",
        );
        const ev = await toHost(model.apply(keep(params), upload(xs, [b, ...inputShape]), { state: s1 }));
        release(s1);
        assert.ok(maxRelErr(ev, hostForward(model, hp, xs, b, { state: ref.state })) < 1e-12, "eval mode");
        release(params);
      } else {
        const ev = await toHost(model.apply(params, upload(xs, [b, ...inputShape])));
        assert.ok(maxRelErr(ev, hostForward(model, hp, xs, b)) < 1e-12, "eval mode");
      }
    });
  });

  it("jitted applyTrain equals eager in float64", async () => {
    const { config, inputShape } = FORWARD[1];
    const model = createModel(config, inputShape, 3);
    const params = model.init(Key.fromSeed(1), "float64");
    const xs = Key.fromSeed(2)
      .rng()
      .normals(4 * 20);
    const run = (p: Params, s: ModelState, x: Array) =>
      (model.applyTrain as NonNullable<typeof model.applyTrain>)(p, s, x);
    const init = () => (model.initState as NonNullable<typeof model.initState>)("float64");
    const eager = run(keep(params), init(), upload(xs, [4, ...inputShape]));
    const fn = jit(run);
    const jitted = fn(params, init(), upload(xs, [4, ...inputShape]));
    fn.dispose();
    assert.ok(maxRelErr(await treeToHost(tree.ref(jitted)), await treeToHost(eager)) < 1e-13);
    release(jitted);
  });
});

describe("resnet gradients equal float64 central finite differences", () => {
  const cases: GradCase[] = [
    { config: { kind: "resnet", width: 1, activation: "tanh" }, inputShape: [1, 4, 4], batch: 3, mode: "train" },
    {
      config: { kind: "resnet", width: 1, activation: "tanh", shortcut: "projection", ghostBatch: 2 },
      inputShape: [1, 4, 5],
      batch: 4,
      mode: "train",
    },
    { config: { kind: "resnet", width: 1, activation: "tanh" }, inputShape: [2, 4, 3], batch: 2, mode: "eval" },
    {
      config: { kind: "resnet", width: 1, activation: "tanh", norm: "layer", shortcut: "projection" },
      inputShape: [2, 3, 3],
      batch: 2,
      mode: "eval",
    },
    {
      config: { kind: "resnet", width: 1, activation: "tanh", norm: "none" },
      inputShape: [1, 4, 4],
      batch: 2,
      mode: "eval",
    },
  ];
  // Wasm: float32-level tanh/exp (as losses/gradients.test.ts); cpu: the finite differences' own
  // truncation error, larger than for plain MLPs because normalising over few values is strongly curved.
  const TOL = { wasm: 2e-6, cpu: 1e-7 } as const;
  cases.forEach((c, i) => {
    it(`${JSON.stringify(c.config)} ${c.mode} [${c.inputShape}]×${c.batch}`, async () => {
      const backends = ["wasm", "cpu"] as const;
      const [grads, fd] = await gradientVsFd(c, backends, 400 + i);
      backends.forEach((backend, b) => {
        const e = relErr(grads[b], fd);
        assert.ok(e < TOL[backend], `${backend}: relative error ${e.toExponential(2)} over ${fd.length} parameters`);
      });
    });
  });
});
