import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  grad,
  initRuntime,
  jit,
  Key,
  keep,
  np,
  toHost,
  treeSize,
  treeToHost,
  UserError,
  type Array,
  type Params,
} from "../core/index.js";
import { activate } from "./activations.js";
import { conv2dNhwc, pool2x2 } from "./cnn.js";
import { createModel, paramCount, type ModelConfigInput } from "./index.js";
import { preciseLog } from "./numerics.js";
import { hostAct, HostT, hostConv, hostForward, hostParams, hostPool } from "./reference.testkit.js";
import type { Activation } from "./schema.js";

before(async () => initRuntime("wasm"));

const f64 = (data: Float64Array, shape: number[]): Array => np.array(data, { dtype: np.float64 }).reshape(shape);

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return m / Math.max(scale, 1e-300);
}

const ALL_KINDS: { config: ModelConfigInput; inputShape: number[] }[] = [
  { config: { kind: "mlp", hidden: [7, 5], activation: "relu" }, inputShape: [3, 2] },
  { config: { kind: "mlp", hidden: [6], activation: "tanh", parametrization: "ntk", initScale: 1.3 }, inputShape: [4] },
  { config: { kind: "mlp", hidden: [], activation: "identity", bias: false }, inputShape: [4] },
  { config: { kind: "cnn", channels: [3, 4], kernelSize: 3, activation: "relu", hidden: [5] }, inputShape: [2, 7, 6] },
  {
    config: { kind: "cnn", channels: [2], kernelSize: 4, padding: "valid", pooling: "avg", activation: "gelu" },
    inputShape: [1, 7, 7],
  },
  { config: { kind: "cnn", channels: [2, 2], kernelSize: 2, pooling: "none", bias: false }, inputShape: [3, 4, 3] },
  { config: { kind: "twoLayer", width: 8, activation: "relu" }, inputShape: [4] },
  { config: { kind: "twoLayer", width: 8, activation: "tanh", fixedSecondLayer: true, bias: false }, inputShape: [4] },
  { config: { kind: "diagonalLinear", alpha: 0.3 }, inputShape: [4] },
  { config: { kind: "linear", init: "normal" }, inputShape: [2, 2] },
  // Stateless normalised models (eval mode needs no running statistics); the batch-norm variants
  // are tested in norm.test.ts, resnet.test.ts and scaleInvariant.test.ts.
  { config: { kind: "mlp", hidden: [5, 4], activation: "tanh", norm: "layer" }, inputShape: [3] },
  { config: { kind: "resnet", width: 2, norm: "layer", activation: "relu" }, inputShape: [2, 5, 4] },
  { config: { kind: "resnet", width: 2, norm: "none", shortcut: "projection" }, inputShape: [1, 4, 4] },
  { config: { kind: "scaleInvariantMlp", hidden: [5], norm: "layer", head: "normalized" }, inputShape: [4] },
];

describe("init", () => {
  it("is deterministic per key, and paramCount equals the sum of leaf sizes", async () => {
    for (const { config, inputShape } of ALL_KINDS) {
      const model = createModel(config, inputShape, 3);
      const a = model.init(Key.fromSeed(5), "float64");
      assert.equal(model.paramCount(), treeSize(a), config.kind);
      assert.equal(paramCount(a), model.paramCount());
      const ha = await treeToHost(a);
      const hb = await treeToHost(model.init(Key.fromSeed(5), "float64"));
      assert.deepEqual([...ha], [...hb], `${config.kind}: same key, same params`);
      const h32 = await treeToHost(model.init(Key.fromSeed(5), "float32"));
      assert.ok(maxRelErr(h32, ha) < 1e-6, `${config.kind}: float32 init rounds the same draws`);
      const hc = await treeToHost(model.init(Key.fromSeed(6), "float64"));
      const random = config.kind !== "diagonalLinear";
      assert.equal(
        ha.some((v, i) => v !== hc[i]),
        random,
        `${config.kind}: another key ${random ? "changes" : "keeps"} the params`,
      );
    }
  });

  it("draws weights with the scheme's standard deviation and zero biases", async () => {
    const [din, dout] = [300, 200];
    const expected = {
      lecun: 2 / Math.sqrt(din),
      he: 2 * Math.sqrt(2 / din),
      xavier: 2 * Math.sqrt(2 / (din + dout)),
      normal: 2,
    };
    for (const [init, std] of Object.entries(expected)) {
      const model = createModel({ kind: "mlp", hidden: [dout], init: init as "he", initScale: 2 }, [din], 1);
      const p = model.init(Key.fromSeed(1), "float64") as unknown as { layers: { W: Array; b: Array }[] };
      const w = await toHost(p.layers[0].W);
      const b = await toHost(p.layers[0].b);
      p.layers[1].W.dispose();
      p.layers[1].b.dispose();
      const mean = w.reduce((s, v) => s + v, 0) / w.length;
      const sd = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
      // 60000 draws: the sample sd is within 1% (≈ 3.5 standard errors) of the true one.
      assert.ok(Math.abs(sd / std - 1) < 0.01, `${init}: sd ${sd}, expected ${std}`);
      assert.ok(Math.abs(mean) < 4 * (std / Math.sqrt(w.length)), `${init}: mean ${mean}`);
      assert.ok(
        b.every((v) => v === 0),
        "biases start at zero",
      );
    }
  });

  it("starts the diagonal linear network at u = v = α (w₀ = 0)", async () => {
    const model = createModel({ kind: "diagonalLinear", alpha: 0.25 }, [6], 2);
    const h = await treeToHost(model.init(Key.fromSeed(0), "float64"));
    assert.ok(h.every((v) => v === 0.25));
    const out = await toHost(
      model.apply(model.init(Key.fromSeed(0), "float64"), np.ones([3, 6], { dtype: np.float64 })),
    );
    assert.ok(out.every((v) => v === 0));
  });
});

describe("forward passes equal the naive host implementations", () => {
  it("for every kind, in float64 (eager and jitted)", async () => {
    for (const [i, { config, inputShape }] of ALL_KINDS.entries()) {
      const model = createModel(config, inputShape, 3);
      const params = model.init(Key.fromSeed(10 + i), "float64");
      const hp = await hostParams(keep(params));
      const b = 5;
      const d = inputShape.reduce((s, v) => s * v, 1);
      const xs = Key.fromSeed(20 + i)
        .rng()
        .normals(b * d);
      const ref = hostForward(model, hp, xs, b);
      const x = f64(xs, [b, ...inputShape]);
      const eager = await toHost(model.apply(keep(params), x.ref));
      const fn = jit((p: Params, xx: Array) => model.apply(p, xx));
      const jitted = await toHost(fn(params, x));
      fn.dispose();
      // Wasm's exp/tanh have float32-level accuracy; relu/identity models are exact up to rounding.
      assert.ok(maxRelErr(eager, ref) < 1e-6, `${config.kind} #${i}: eager vs host ${maxRelErr(eager, ref)}`);
      // Under jit, a bare float64 JS literal would be rounded to float32 (~1e-8 relative).
      assert.ok(maxRelErr(jitted, eager) < 1e-13, `${config.kind} #${i}: jit vs eager ${maxRelErr(jitted, eager)}`);
    }
  });

  it("NTK parametrization equals the standard one with W_std = (initScale/√fan_in)·W_ntk", async () => {
    const cfg = { kind: "mlp" as const, hidden: [6, 5], activation: "tanh" as const, initScale: 1.7 };
    const ntk = createModel({ ...cfg, parametrization: "ntk" }, [4], 2);
    const std = createModel(cfg, [4], 2);
    const p = ntk.init(Key.fromSeed(3), "float64") as unknown as { layers: { W: Array; b: Array }[] };
    const ps = {
      layers: p.layers.map((l) => ({ W: l.W.ref.mul(1.7 / Math.sqrt(l.W.shape[0])), b: l.b.ref })),
    };
    const x = f64(Key.fromSeed(4).rng().normals(12), [3, 4]);
    const a = await toHost(ntk.apply(p as unknown as Params, x.ref));
    const b = await toHost(std.apply(ps as unknown as Params, x));
    assert.ok(maxRelErr(a, b) < 1e-14);
  });
});

describe("cnn building blocks", () => {
  it("im2col convolution equals a naive host-loop convolution", async () => {
    const rng = Key.fromSeed(7).rng();
    for (const k of [1, 2, 3, 4]) {
      for (const padding of ["same", "valid"] as const) {
        const shape = [2, 5, 6, 3];
        const xs = rng.normals(2 * 5 * 6 * 3);
        const ws = rng.normals(k * k * 3 * 4);
        const ref = hostConv(xs, shape, new HostT(ws, [k, k, 3, 4]), padding);
        const out = conv2dNhwc(f64(xs, shape), f64(ws, [k, k, 3, 4]), padding);
        assert.deepEqual(out.shape, ref.shape, `k=${k} ${padding}`);
        assert.ok(maxRelErr(await toHost(out), ref.y) < 1e-14, `k=${k} ${padding}`);
      }
    }
  });

  it("2×2 pooling equals host max/mean over blocks (odd sizes drop the last row/column)", async () => {
    const shape = [2, 5, 4, 3];
    const xs = Key.fromSeed(8)
      .rng()
      .normals(2 * 5 * 4 * 3);
    for (const kind of ["max", "avg"] as const) {
      const ref = hostPool(xs, shape, kind);
      const out = pool2x2(f64(xs, shape), kind);
      assert.deepEqual(out.shape, ref.shape);
      assert.ok(maxRelErr(await toHost(out), ref.y) < 1e-15, kind);
    }
  });
});

describe("activations", () => {
  const zs = Float64Array.from([-800, -100, -30, -5, -1.3, -0.2, 0.01, 0.7, 2.2, 9, 40, 800]);
  for (const act of ["tanh", "relu", "gelu", "softplus", "elu", "identity"] as Activation[]) {
    it(`${act} matches its formula, and its gradient is finite for |x| up to 800`, async () => {
      const out = await toHost(activate(act, f64(zs, [zs.length])));
      for (let i = 0; i < zs.length; i++) {
        const ref = hostAct(act, zs[i]);
        assert.ok(
          Math.abs(out[i] - ref) <= 1e-7 * Math.max(1, Math.abs(ref)),
          `${act}(${zs[i]}) = ${out[i]}, expected ${ref}`,
        );
      }
      const g = await toHost(grad((x: Array) => activate(act, x).sum())(f64(zs, [zs.length])));
      assert.ok(
        g.every((v) => Number.isFinite(v)),
        `${act}' = ${[...g]}`,
      );
    });
  }
});

describe("preciseLog (workaround for jax-js 0.1.25's inaccurate Wasm log)", () => {
  const ys = Float64Array.from({ length: 60 }, (_, i) => 0.3 + i * 0.06);
  it("is accurate to 3e-7 where np.log errs by up to 1e-5, with gradient 1/y", async () => {
    const out = await toHost(preciseLog(f64(ys, [ys.length])));
    assert.ok(maxRelErr(out, ys.map(Math.log)) < 3e-7 / Math.log(3.84));
    const g = await toHost(grad((y: Array) => preciseLog(y).sum())(f64(ys, [ys.length])));
    assert.ok(
      maxRelErr(
        g,
        ys.map((y) => 1 / y),
      ) < 1e-15,
    );
  });
  it("is still needed: np.log(1.95) on Wasm errs by more than 1e-6 (remove preciseLog when this fails)", async () => {
    // Arrays of fewer than 4 elements and constant arrays happen to be exact; 8 distinct values are not.
    const v = await toHost(
      np.log(
        f64(
          Float64Array.from({ length: 8 }, (_, i) => 1.95 + i / 1000),
          [8],
        ),
      ),
    );
    assert.ok(Math.abs(v[0] - Math.log(1.95)) > 1e-6);
  });
});

describe("createModel", () => {
  it("fills defaults, freezes the config and rejects impossible configs with UserError", () => {
    const m = createModel({ kind: "mlp" }, [4], 2);
    assert.deepEqual(m.config, {
      kind: "mlp",
      hidden: [100],
      activation: "relu",
      bias: true,
      init: "he",
      initScale: 1,
      parametrization: "standard",
      norm: "none",
    });
    assert.ok(Object.isFrozen(m.config));
    const bad: [ModelConfigInput | Record<string, unknown>, number[], RegExp][] = [
      [{ kind: "cnn" }, [784], /\[C, H, W\]/],
      [{ kind: "cnn", channels: [4, 4, 4] }, [1, 6, 6], /model\.pooling/],
      [{ kind: "cnn", kernelSize: 5, padding: "valid" }, [1, 4, 4], /model\.kernelSize/],
      [{ kind: "mlp", widths: [3] }, [4], /model\.?/],
      [{ kind: "mlp", activation: "swish" }, [4], /model\.activation/],
      [{ kind: "resnet" }, [4], /model\.kind/],
      [{ kind: "twoLayer", width: 0 }, [4], /model\.width/],
    ];
    for (const [config, shape, re] of bad) {
      assert.throws(
        () => createModel(config as ModelConfigInput, shape, 2),
        (e: unknown) => e instanceof UserError && re.test(e.message),
        JSON.stringify(config),
      );
    }
  });
});
