/**
 * The scale-invariant MLP: forward passes against the host loops, exact invariance of the loss to
 * scaling one group (float64, 1e-12) with the gradient scaling by 1/c and orthogonal to the group,
 * gradients against float64 central finite differences, and the effective learning rate η/‖w‖².
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  grad,
  initRuntime,
  Key,
  keep,
  np,
  release,
  toHost,
  toScalar,
  treeToHost,
  UserError,
  type Array,
  type Params,
} from "../core/index.js";
import { gradientVsFd, maxRelErr, relErr, upload, type GradCase } from "./check.testkit.js";
import { createModel, type ModelConfigInput, type ScaleInvariantMlpConfig } from "./index.js";
import { hostForward, hostForwardTrain, hostParams } from "./reference.testkit.js";
import { dctHead, effectiveLr, scaleInvariantGroups, type ScaleInvariantMlpParams } from "./scaleInvariant.js";

before(async () => {
  await initRuntime("cpu");
  await initRuntime("wasm");
});
after(async () => initRuntime("wasm"));

type SiConfig = Partial<ScaleInvariantMlpConfig> & { kind: "scaleInvariantMlp" };
const VARIANTS: SiConfig[] = [
  { kind: "scaleInvariantMlp", hidden: [6, 5], norm: "batch" },
  { kind: "scaleInvariantMlp", hidden: [6, 5], norm: "batch", head: "normalized", ghostBatch: 4 },
  { kind: "scaleInvariantMlp", hidden: [6], norm: "layer", head: "normalized", headScale: 2.5 },
  { kind: "scaleInvariantMlp", hidden: [4, 5], norm: "standardize", activation: "tanh" },
  { kind: "scaleInvariantMlp", hidden: [6, 5], norm: "layer", activation: "gelu", eps: 1e-5 },
];
const IN = 4;
const OUT = 3;
const B = 7;

describe("scale-invariant MLP forward passes equal the host loops", () => {
  VARIANTS.forEach((config, i) => {
    it(JSON.stringify(config), async () => {
      const model = createModel(config as ModelConfigInput, [IN], OUT);
      assert.equal(model.paramCount(), (await treeToHost(model.init(Key.fromSeed(0), "float64"))).length);
      const params = model.init(Key.fromSeed(i), "float64");
      const hp = await hostParams(keep(params));
      const xs = Key.fromSeed(10 + i)
        .rng()
        .normals(B * IN);
      // tanh/gelu run at float32-level accuracy on Wasm; relu is exact up to rounding.
      const tol = config.activation ? 1e-6 : 1e-12;
      const y = await toHost(model.apply(keep(params), upload(xs, [B, IN]), { train: true }));
      assert.ok(maxRelErr(y, hostForward(model, hp, xs, B, { train: true })) < tol, "train mode");
      if (model.initState && model.applyTrain) {
        const [yt, s1] = model.applyTrain(keep(params), model.initState("float64"), upload(xs, [B, IN]));
        yt.dispose();
        const hostState = hostForwardTrain(
          model,
          hp,
          xs,
          B,
          (config.hidden as number[]).map((w) => ({ mean: new Float64Array(w), var: new Float64Array(w).fill(1) })),
        ).state;
        const ev = await toHost(model.apply(params, upload(xs, [B, IN]), { state: s1 }));
        release(s1);
        assert.ok(maxRelErr(ev, hostForward(model, hp, xs, B, { state: hostState })) < tol, "eval mode");
      } else {
        const ev = await toHost(model.apply(params, upload(xs, [B, IN])));
        assert.ok(maxRelErr(ev, hostForward(model, hp, xs, B)) < tol, "eval mode");
      }
    });
  });

  it("the fixed head is the orthonormal DCT-II: QᵀQ = I for m ≥ k, QQᵀ = I for m < k", () => {
    for (const [m, k] of [
      [7, 3],
      [3, 7],
      [5, 5],
    ]) {
      const q = dctHead(m, k);
      const [r, inner] = m >= k ? [k, m] : [m, k];
      for (let a = 0; a < r; a++)
        for (let b = 0; b < r; b++) {
          let s = 0;
          for (let t = 0; t < inner; t++) s += m >= k ? q[t * k + a] * q[t * k + b] : q[a * k + t] * q[b * k + t];
          assert.ok(Math.abs(s - (a === b ? 1 : 0)) < 1e-14, `${m}×${k} (${a}, ${b}): ${s}`);
        }
    }
  });

  it("rejects ghost batches with layer norm (UserError)", () => {
    assert.throws(
      () => createModel({ kind: "scaleInvariantMlp", norm: "layer", ghostBatch: 2 }, [3], 2),
      (e: unknown) => e instanceof UserError && /model\.ghostBatch/.test(e.message),
    );
  });
});

/** The mean squared error ½·mean((f − y)²) of `model` in train mode (batch statistics). */
function mseLoss(config: SiConfig, x: Array, y: Array) {
  const model = createModel(config as ModelConfigInput, [IN], OUT);
  return (p: Params): Array => {
    const d = model.apply(p, x.ref, { train: true }).sub(y.ref);
    return d.ref
      .mul(d)
      .mean()
      .mul(np.full([], 0.5, { dtype: np.float64 }));
  };
}

/** Host params with group `name` multiplied by c (a copy). */
function scaleGroup(params: Params, name: string, c: number): Params {
  const p = params as unknown as ScaleInvariantMlpParams;
  const scale = (key: string, w: Array) => (key === name ? w.ref.mul(np.full([], c, { dtype: w.dtype })) : w.ref);
  const out: ScaleInvariantMlpParams = { layers: p.layers.map((l, i) => ({ W: scale(`layers/${i}/W`, l.W) })) };
  if (p.head) out.head = { W: scale("head/W", p.head.W) };
  return out as unknown as Params;
}

function groupSlices(params: Params): Map<string, [number, number]> {
  const p = params as unknown as ScaleInvariantMlpParams;
  const map = new Map<string, [number, number]>();
  let o = 0;
  p.layers.forEach((l, i) => {
    map.set(`layers/${i}/W`, [o, o + l.W.size]);
    o += l.W.size;
  });
  if (p.head) map.set("head/W", [o, o + p.head.W.size]);
  return map;
}

describe("scale invariance (float64)", () => {
  VARIANTS.filter((c) => c.eps === undefined).forEach((config, i) => {
    it(`${JSON.stringify(config)}: L(c·w) = L(w) to 1e-12, ∇L(c·w) = ∇L(w)/c, ⟨∇_w L, w⟩ = 0`, async () => {
      const model = createModel(config as ModelConfigInput, [IN], OUT);
      const params = model.init(Key.fromSeed(70 + i), "float64");
      const rng = Key.fromSeed(80 + i).rng();
      const x = upload(rng.normals(B * IN), [B, IN]);
      const y = upload(rng.normals(B * OUT), [B, OUT]);
      const loss = mseLoss(config, x, y);
      const l0 = await toScalar(loss(keep(params)));
      const g0 = await treeToHost(grad(loss)(keep(params)));
      const w0 = await treeToHost(keep(params));
      const slices = groupSlices(params);
      const groups = scaleInvariantGroups(params);
      assert.deepEqual(groups, [...slices.keys()]);
      for (const name of groups) {
        const [a, b] = slices.get(name) as [number, number];
        let dot = 0;
        for (let j = a; j < b; j++) dot += g0[j] * w0[j];
        const gn = Math.hypot(...g0.subarray(a, b));
        const wn = Math.hypot(...w0.subarray(a, b));
        assert.ok(gn > 0, `${name}: non-zero gradient`);
        assert.ok(Math.abs(dot) < 1e-12 * gn * wn, `${name}: ⟨∇L, w⟩ = ${dot} (‖∇L‖‖w‖ = ${gn * wn})`);
        for (const c of [3.7, 0.05]) {
          const l1 = await toScalar(loss(scaleGroup(params, name, c)));
          assert.ok(Math.abs(l1 - l0) <= 1e-12 * Math.abs(l0), `${name} × ${c}: L ${l1} vs ${l0}`);
          const g1 = await treeToHost(grad(loss)(scaleGroup(params, name, c)));
          const expected = g0.map((v, j) => (j >= a && j < b ? v / c : v));
          assert.ok(relErr(g1, expected) < 1e-10, `${name} × ${c}: gradient ${relErr(g1, expected)}`);
        }
      }
      release([params, x, y]);
    });
  });
});

describe("scale invariance needs ε = 0", () => {
  it("with ε = 1e-5 the loss changes when a group shrinks to ‖w‖² ~ ε (the test above is not vacuous)", async () => {
    const config = VARIANTS[4];
    const model = createModel(config as ModelConfigInput, [IN], OUT);
    const params = model.init(Key.fromSeed(9), "float64");
    const rng = Key.fromSeed(10).rng();
    const x = upload(rng.normals(B * IN), [B, IN]);
    const y = upload(rng.normals(B * OUT), [B, OUT]);
    const loss = mseLoss(config, x, y);
    const l0 = await toScalar(loss(keep(params)));
    const l1 = await toScalar(loss(scaleGroup(params, "layers/0/W", 1e-3)));
    assert.ok(Math.abs(l1 - l0) > 1e-6 * Math.abs(l0), `L ${l1} vs ${l0}`);
    release([params, x, y]);
  });
});

describe("scale-invariant MLP gradients equal float64 central finite differences", () => {
  const cases: GradCase[] = [
    { config: { ...VARIANTS[1], activation: "tanh" } as ModelConfigInput, inputShape: [IN], batch: 6, mode: "train" },
    {
      config: { ...VARIANTS[2], activation: "softplus" } as ModelConfigInput,
      inputShape: [IN],
      batch: 3,
      mode: "eval",
    },
    { config: VARIANTS[3] as ModelConfigInput, inputShape: [IN], batch: 5, mode: "eval" },
  ];
  // Wasm: float32-level tanh/exp; cpu: the finite differences' truncation error.
  const TOL = { wasm: 2e-6, cpu: 1e-7 } as const;
  cases.forEach((c, i) => {
    it(`${JSON.stringify(c.config)} ${c.mode}`, async () => {
      const backends = ["wasm", "cpu"] as const;
      const [grads, fd] = await gradientVsFd(c, backends, 500 + i);
      backends.forEach((backend, b) => {
        const e = relErr(grads[b], fd);
        assert.ok(e < TOL[backend], `${backend}: relative error ${e.toExponential(2)} over ${fd.length} parameters`);
      });
    });
  });
});

describe("effective learning rate", () => {
  it("is η/‖w‖² per group, from the host norms of the weights", async () => {
    const model = createModel(VARIANTS[1] as ModelConfigInput, [IN], OUT);
    const params = model.init(Key.fromSeed(3), "float64");
    const w = await treeToHost(keep(params));
    const slices = groupSlices(params);
    const got = await effectiveLr(params, 0.3);
    assert.deepEqual(Object.keys(got), ["layers/0/W", "layers/1/W", "head/W"]);
    for (const [name, [a, b]] of slices) {
      let sq = 0;
      for (let j = a; j < b; j++) sq += w[j] * w[j];
      assert.ok(Math.abs(got[name] - 0.3 / sq) <= 1e-14 * (0.3 / sq), name);
    }
  });

  it("rejects parameters of another model", () => {
    const other = createModel({ kind: "mlp", hidden: [3] }, [2], 2).init(Key.fromSeed(0), "float32");
    assert.throws(() => scaleInvariantGroups(other), /scaleInvariantMlp parameters/);
    return assert.rejects(effectiveLr(other, 0.1), /scaleInvariantMlp parameters/);
  });
});
