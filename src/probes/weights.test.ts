// The weight-dynamics probe against hand computations: W₁ of small samples, spectral norms in closed
// form, histogram counts, the cosine of known updates on a hand-made parameter tree, checkpointed
// state, and a real run whose update norms are recomputed from its stored checkpoints.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, np, release, type Params } from "../core/index.js";
import { UserError } from "../core/errors.js";
import { loadCheckpoint } from "../store/index.js";
import { runExperiment } from "../train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "../../test/helpers.js";
import type { ProbeContext } from "./probe.js";
import { ProbeConfigSchema } from "./schema.js";
import { wasserstein1 } from "../theory/wasserstein.js";
import { spectralNorm, weightDynamicsProbe, weightHistogram } from "./weights.js";

before(async () => initRuntime("wasm"));

const close = (a: number | undefined, b: number, tol = 1e-12, what = "") =>
  assert.ok(a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

function config(extra: Record<string, unknown> = {}) {
  const c = ProbeConfigSchema.parse({ kind: "weightDynamics", ...extra });
  assert.ok(c.kind === "weightDynamics");
  return c;
}

describe("weight-dynamics helpers", () => {
  it("W1 of two equal-size samples matches the hand computation", () => {
    // sorted [0, 1, 3] vs [0, 1, 2]: (0 + 0 + 1)/3
    close(wasserstein1([3, 0, 1], [2, 0, 1]), 1 / 3);
    // sorted [1, 2] vs [0, 4]: (1 + 2)/2
    close(wasserstein1([1, 2], [4, 0]), 1.5);
    close(wasserstein1([5, -1], [-1, 5]), 0);
  });

  it("spectral norm matches closed forms", () => {
    close(spectralNorm([3, 0, 0, 0, -5, 0, 0, 0, 1], 3, 3), 5, 1e-12, "diag(3, -5, 1)");
    // 2×2: σ²max = (T + √(T² − 4D²))/2 with T = ‖W‖_F², D = det W
    const [a, b, c, d] = [1, 2, 3, 4];
    const T = a * a + b * b + c * c + d * d;
    const D = a * d - b * c;
    close(spectralNorm([a, b, c, d], 2, 2), Math.sqrt((T + Math.sqrt(T * T - 4 * D * D)) / 2), 1e-12, "[[1,2],[3,4]]");
    // rank one u vᵀ: ‖u‖‖v‖, with the top right singular vector orthogonal to (1, 1)
    close(spectralNorm([1, -1, 1, -1], 2, 2), 2, 1e-12, "[[1,-1],[1,-1]]");
    close(spectralNorm([1, 2, 2, 2, 4, 4], 2, 3), Math.sqrt(5) * 3, 1e-12, "rank one 2×3");
    assert.equal(spectralNorm([0, 0, 0, 0], 2, 2), 0);
  });

  it("histogram counts on fixed bins", () => {
    // bins [-1, 0), [0, 1]; -2 below, 1.5 above, 1 in the last (closed) bin
    assert.deepEqual(weightHistogram([-2, -1, -0.5, 0, 0.25, 1, 1.5], -1, 1, 2), {
      counts: [2, 3],
      below: 1,
      above: 1,
    });
  });

  it("rejects a lag that is no multiple of every", () => {
    assert.throws(() => weightDynamicsProbe(config({ every: 2, lag: 3 })), UserError);
    assert.throws(() => weightDynamicsProbe(config({ range: [1, 1] })), UserError);
  });
});

/** A hand-made tree: one 2×2 weight matrix and a bias. */
function tree(W: number[][], b: number[]): Params {
  return { layers: [{ W: np.array(W, { dtype: np.float64 }), b: np.array(b, { dtype: np.float64 }) }] };
}

function context(step: number, params: Params, initParams: Params, artifacts: Map<string, unknown>): ProbeContext {
  return {
    step,
    params,
    initParams,
    artifact: (name: string, value: unknown) => artifacts.set(`${step} ${name}`, value),
  } as unknown as ProbeContext;
}

describe("weightDynamics probe on a hand-made tree", () => {
  // θ as (W row-major, b); updates u₁ = θ₁ − θ₀ = (1, 0, 0, 0 | 0, 0), u₂ = θ₂ − θ₁ = (1, 0, 0, 0 | 1, 0)
  const thetas: [number[][], number[]][] = [
    [
      [
        [1, 0],
        [0, 1],
      ],
      [0, 0],
    ],
    [
      [
        [2, 0],
        [0, 1],
      ],
      [0, 0],
    ],
    [
      [
        [3, 0],
        [0, 1],
      ],
      [1, 0],
    ],
  ];

  async function run(probeAt: (step: number) => ReturnType<typeof weightDynamicsProbe>) {
    const init = tree(...thetas[0]);
    const artifacts = new Map<string, unknown>();
    const out: Record<string, number>[] = [];
    try {
      for (let t = 0; t < thetas.length; t++) {
        const p = tree(...thetas[t]);
        try {
          out.push(await probeAt(t).measure(context(t, p, init, artifacts)));
        } finally {
          release(p);
        }
      }
    } finally {
      release(init);
    }
    return { out, artifacts };
  }

  it("measures each quantity as computed by hand", async () => {
    const probe = weightDynamicsProbe(config({ every: 1, bins: 4, range: [-2, 2] }));
    const { out, artifacts } = await run(() => probe);
    const [m0, m1, m2] = out;
    close(m0["weights/distFromInit"], 0);
    assert.equal(m0["weights/updateNorm"], undefined);
    close(m0["weights/norm"], Math.SQRT2);
    close(m0["weights/frobenius/layers.0.W"], Math.SQRT2);
    close(m0["weights/spectral/layers.0.W"], 1);
    assert.equal(m0["weights/spectral/layers.0.b"], undefined, "vectors have no spectral norm");
    close(m1["weights/updateNorm"], 1);
    assert.equal(m1["weights/updateCos"], undefined);
    close(m2["weights/spectral/layers.0.W"], 3);
    close(m2["weights/frobenius/layers.0.W"], Math.sqrt(10));
    // θ₂ − θ₀ = (2, 0, 0, 0 | 1, 0); its W part (2, 0, 0, 0)
    close(m2["weights/distFromInit"], Math.sqrt(5));
    close(m2["weights/distFromInit/layers.0.W"], 2);
    close(m2["weights/updateNorm"], Math.SQRT2);
    // cos∠((1,0,0,0,1,0), (1,0,0,0,0,0)) = 1/√2
    close(m2["weights/updateCos"], Math.SQRT1_2);
    // all entries: sorted θ₂ = (0,0,0,1,1,3), θ₁ = (0,0,0,0,1,2): (1 + 1)/6; W: (0,0,1,3) vs (0,0,1,2): 1/4
    close(m2["weights/w1Drift"], 2 / 6);
    close(m2["weights/w1Drift/layers.0.W"], 1 / 4);
    // bins [-2,-1), [-1,0), [0,1), [1,2] of W = (3, 0, 0, 1): two zeros, one 1, 3 above
    assert.deepEqual(artifacts.get("2 weights/histogram"), {
      range: [-2, 2],
      edges: [-2, -1, 0, 1, 2],
      layers: { "layers.0.W": { counts: [0, 0, 2, 1], below: 0, above: 1 } },
      all: { counts: [0, 0, 3, 2], below: 0, above: 1 },
    });
  });

  it("a probe restored from saved state measures as the straight one", async () => {
    const straight = weightDynamicsProbe(config({ every: 1 }));
    const first = await run(() => straight);
    let resumed = weightDynamicsProbe(config({ every: 1 }));
    const second = await run((t) => {
      if (t === 2) {
        // a fresh probe with only the checkpointed state of the one that measured steps 0 and 1
        const state = resumed.saveState!();
        assert.deepEqual(Object.keys(state).sort(), ["s0", "s1"]);
        resumed = weightDynamicsProbe(config({ every: 1 }));
        resumed.loadState!(state);
      }
      return resumed;
    });
    assert.deepEqual(second.out, first.out);
    assert.ok(second.out[2]["weights/updateCos"] !== undefined);
  });
});

describe("weightDynamics probe in a run", () => {
  it("writes its keys; update norms and W1 drift match the stored checkpoints", async () => {
    const spec = smallExperiment(["steps=8", "evalEvery=4", "checkpointEvery=2"], {
      probes: [{ kind: "weightDynamics", every: 2, bins: 10 }],
    });
    const store = tempStore();
    try {
      const r = await runExperiment(spec, { store });
      assert.equal(r.status, "completed");
      const m = metricMap(store, r.runId);
      const theta = (s: number) => loadCheckpoint(store, r.runId, s).arrays.params.data as Float64Array;
      const diff = (a: Float64Array, b: Float64Array) => a.map((x, i) => x - b[i]);
      const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      for (const key of ["weights/distFromInit", "weights/spectral/layers.0.W", "weights/frobenius/layers.1.W"]) {
        assert.ok(m.has(`0 ${key}`) && m.has(`6 ${key}`), key);
      }
      assert.equal(m.get("0 weights/distFromInit"), 0);
      assert.ok(!m.has("0 weights/updateNorm"));
      for (const t of [4, 6]) {
        close(m.get(`${t} weights/updateNorm`), norm(diff(theta(t), theta(t - 2))), 1e-12, `updateNorm at ${t}`);
        close(m.get(`${t} weights/w1Drift`), wasserstein1(theta(t), theta(t - 2)), 1e-12, `w1Drift at ${t}`);
        assert.ok(m.has(`${t} weights/w1Drift/layers.0.W`));
      }
      const u = diff(theta(6), theta(4));
      const v = diff(theta(4), theta(2));
      const dot = u.reduce((s, x, i) => s + x * v[i], 0);
      close(m.get("6 weights/updateCos"), dot / (norm(u) * norm(v)), 1e-12, "updateCos at 6");
      const h = store.getArtifact(r.runId, "weights/histogram", 4);
      assert.ok(h?.kind === "json");
      const layers = (h.value as { layers: Record<string, { counts: number[]; below: number; above: number }> }).layers;
      assert.deepEqual(Object.keys(layers).sort(), ["layers.0.W", "layers.1.W"]);
      const w0 = layers["layers.0.W"];
      // dim 5 → hidden 16: 80 entries
      assert.equal(w0.counts.reduce((a, b) => a + b, 0) + w0.below + w0.above, 80);
    } finally {
      store.close();
    }
  });
});
