import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runExperiment, resumeExperiment } from "../src/train/trainer.js";
import { loadCheckpoint } from "../src/store/index.js";
import { Key, treeFromHost, treeSpec, treeToHost, type Params } from "../src/core/index.js";
import { createModel } from "../src/models/index.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";

type Store = ReturnType<typeof tempStore>;
const values = (store: Store, id: string, key: string) => store.getMetrics(id, { keys: [key] }).map((p) => p.value);

describe("the optimizer zoo inside the trainer", () => {
  it("SAM and m-sharpness run through the trainer's gradFn; ρ = 0 reduces to the base optimizer", async () => {
    const store = tempStore();
    const sgd = await runExperiment(smallExperiment(["dtype=float64", "optimizer={kind: sgd, lr: 0.1}"]), { store });
    const sam0 = await runExperiment(
      smallExperiment(["dtype=float64", "optimizer={kind: sam, rho: 0, base: {kind: sgd, lr: 0.1}}"]),
      { store },
    );
    const a = values(store, sgd.runId, "test/loss");
    values(store, sam0.runId, "test/loss").forEach((v, i) => assert.ok(Math.abs(v - a[i]) < 1e-10, `${v} vs ${a[i]}`));
    const sam = await runExperiment(
      smallExperiment(["dtype=float64", "optimizer={kind: sam, rho: 0.1, base: {kind: sgd, lr: 0.1}}"]),
      { store },
    );
    const msam = await runExperiment(
      smallExperiment(["dtype=float64", "optimizer={kind: sam, rho: 0.1, m: 2, base: {kind: sgd, lr: 0.1}}"]),
      { store },
    );
    for (const r of [sam, msam]) {
      assert.equal(r.status, "completed");
      assert.notDeepEqual(
        values(store, r.runId, "train/batchLoss").slice(1),
        values(store, sgd.runId, "train/batchLoss").slice(1),
      );
    }
    assert.notDeepEqual(values(store, msam.runId, "train/batchLoss"), values(store, sam.runId, "train/batchLoss"));
    assert.equal(values(store, sam.runId, "optim/lr")[0], 0.1, "lr comes from SAM's base optimizer");
    store.close();
  });

  it("evaluates an averaged iterate beside the raw one (EMA with decay 0 is the raw iterate)", async () => {
    const store = tempStore();
    const ema0 = await runExperiment(
      smallExperiment(["dtype=float64", "optimizer={kind: sgd, lr: 0.1, averaging: {kind: ema, decay: 0}}"]),
      { store },
    );
    const raw = values(store, ema0.runId, "train/loss");
    const avg = values(store, ema0.runId, "avg/train/loss");
    assert.equal(avg.length, raw.length);
    avg.slice(1).forEach((v, i) => assert.ok(Math.abs(v - raw[i + 1]) < 1e-12, `${v} vs ${raw[i + 1]}`));
    const swa = await runExperiment(
      smallExperiment(["optimizer={kind: sgd, lr: 0.1, averaging: {kind: swa, start: 10, cycle: 5}}"]),
      { store },
    );
    const keys = store.metricKeys(swa.runId);
    for (const k of ["avg/train/loss", "avg/test/accuracy", "avg/gap/loss"]) assert.ok(keys.includes(k), k);
    assert.notDeepEqual(
      values(store, swa.runId, "avg/test/loss").slice(3),
      values(store, swa.runId, "test/loss").slice(3),
    );
    store.close();
  });

  it("batch-norm models thread running statistics through training, checkpoints and resume", async () => {
    const store = tempStore();
    const exp = smallExperiment(["model.norm=batch", "optimizer={kind: sgd, lr: 0.05}"]);
    const straight = await runExperiment(exp, { store });
    const part = await runExperiment(exp, { store, stopAfter: 15 });
    await resumeExperiment(part.runId, { store });
    const a = metricMap(store, straight.runId);
    const b = metricMap(store, part.runId);
    for (const k of [...b.keys()]) if (k.startsWith("15 ") && !a.has(k)) b.delete(k);
    assert.deepEqual(b, a);
    const ck = store.latestCheckpoint(straight.runId);
    assert.ok(ck);
    store.close();
  });

  it("SAM's second pass leaves batch-norm statistics unchanged (they come from the first pass)", async () => {
    const store = tempStore();
    const one = ["model.norm=batch", "steps=1", "evalEvery=1"];
    const sgd = await runExperiment(smallExperiment([...one, "optimizer={kind: sgd, lr: 0.1}"]), { store });
    const sam = await runExperiment(
      smallExperiment([...one, "optimizer={kind: sam, rho: 0.5, base: {kind: sgd, lr: 0.1}}"]),
      { store },
    );
    const a = loadCheckpoint(store, sgd.runId, 1).arrays;
    const b = loadCheckpoint(store, sam.runId, 1).arrays;
    assert.ok(a.modelState.data.length > 0);
    assert.deepEqual([...b.modelState.data], [...a.modelState.data]);
    assert.notDeepEqual([...b.params.data], [...a.params.data], "the updates themselves differ");
    store.close();
  });

  it("scale-invariant networks report their effective learning rates η/‖w‖² (hand-computed per group)", async () => {
    const store = tempStore();
    const exp = smallExperiment(
      [
        "optimizer={kind: sibert, lr: 0.1, weightDecay: 0.001}",
        "schedule={kind: cosine}",
        "dtype=float64",
        "checkpointEvery=10",
      ],
      {
        model: { kind: "scaleInvariantMlp", hidden: [16, 16], norm: "layer" },
        probes: [
          { kind: "effectiveLr", every: 10 },
          { kind: "weightNorm", every: 10 },
        ],
      },
    );
    const r = await runExperiment(exp, { store });
    assert.equal(r.status, "completed");
    const keys = store.metricKeys(r.runId).filter((k) => k.startsWith("weights/effectiveLr/"));
    for (const step of [10, 20, 30]) {
      // by hand: the checkpoint at `step` holds the parameters the probe measured (before that step's
      // update); the groups are the weight matrices of the { layers: [{W}, ...], head?: {W} } tree, and
      // η_t = 0.1·½(1 + cos(πt/40)) (cosine decay over the 40 steps)
      const flat = loadCheckpoint(store, r.runId, step).arrays.params.data;
      const model = createModel(exp.spec.model, [5], 3);
      const t = treeFromHost(treeSpec(model.init(Key.fromSeed(0), "float64")), flat) as unknown as {
        layers: { W: Params }[];
        head?: { W: Params };
      };
      const groups: [string, Params][] = t.layers.map((l, i) => [`layers/${i}/W`, l.W]);
      if (t.head) groups.push(["head/W", t.head.W]);
      const eta = 0.1 * 0.5 * (1 + Math.cos((Math.PI * step) / 40));
      const expected = new Map<string, number>();
      for (const [name, w] of groups) {
        const v = await treeToHost(w);
        expected.set(`weights/effectiveLr/${name}`, eta / v.reduce((s, x) => s + x * x, 0));
      }
      assert.deepEqual([...keys].sort(), [...expected.keys()].sort());
      assert.ok(expected.size >= 2);
      for (const [k, want] of expected) {
        const got = store.getMetrics(r.runId, { keys: [k] }).find((p) => p.step === step)!.value;
        assert.ok(Math.abs(got - want) < 1e-12 * want, `${k} at ${step}: ${got} vs ${want}`);
      }
    }
    store.close();
  });

  it("a small ResNet with batch norm trains on image-layout data", async () => {
    const store = tempStore();
    const r = await runExperiment(
      smallExperiment(["steps=6", "evalEvery=3", "batchSize=8"], {
        data: { kind: "mnist", nTrain: 32, nTest: 16, layout: "image" },
        model: { kind: "resnet", depth: 1, width: 4 },
      }),
      { store },
    );
    assert.equal(r.status, "completed");
    assert.ok(Number.isFinite(values(store, r.runId, "test/loss").at(-1)!));
    store.close();
  });
});
