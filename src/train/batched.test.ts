import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../core/errors.js";
import { metricMap, smallExperiment, tempStore } from "../../test/helpers.js";
import { grad, np, tree, vmap, wasmHeapBytes, type Array as JaxArray } from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { batchKey, checkBatchable, JAXJS_VMAP_GRAD_DEFECT, trainBatched } from "./batched.js";
import { resumeExperiment, runExperiment } from "./trainer.js";
import type { ResolvedExperiment } from "../experiments/resolve.js";
import type { RunStore } from "../store/index.js";

/** Max relative difference of two runs' metrics (same keys required); float32 rounding differs. */
function compareRuns(a: Map<string, number>, b: Map<string, number>, tol: number, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: metric keys`);
  for (const [k, va] of a) {
    const vb = b.get(k)!;
    const err = Math.abs(va - vb) / Math.max(1e-3, Math.abs(va));
    assert.ok(err <= tol, `${what}: ${k} batched ${vb} vs sequential ${va} (rel. ${err.toExponential(2)})`);
  }
}

async function sequential(store: RunStore, exps: ResolvedExperiment[]) {
  const out = [];
  for (const e of exps) out.push(await runExperiment(e, { store }));
  return out;
}

describe("batched training (trainBatched)", () => {
  it("gives each member the metrics of its sequential run: lr and seed sweep, mini-batch SGD with momentum", async () => {
    // SMALL_SPEC: mini-batch SGD with momentum 0.9 on a Gaussian mixture, CE, evaluation every 10 steps
    const exps = [
      smallExperiment(["optimizer.lr=0.1", "seed=3", "name=m0"]),
      smallExperiment(["optimizer.lr=0.05", "seed=3", "name=m1", "checkpointEvery=15"]),
      smallExperiment(["optimizer.lr=0.1", "seed=4", "name=m2", "steps=25"]),
    ];
    const store = tempStore();
    try {
      const seq = await sequential(store, exps);
      const bat = await trainBatched(exps.map((exp) => ({ exp, store })));
      for (let k = 0; k < exps.length; k++) {
        assert.equal(bat[k].status, "completed");
        assert.equal(bat[k].step, exps[k].spec.steps);
        compareRuns(metricMap(store, seq[k].runId), metricMap(store, bat[k].runId), 2e-4, `member ${k}`);
        // same summary keys; same record fields
        assert.deepEqual(Object.keys(bat[k].summary).sort(), Object.keys(seq[k].summary).sort());
        const r = store.getRun(bat[k].runId);
        assert.equal(r.status, "completed");
        assert.equal(r.specHash, exps[k].hash);
        assert.deepEqual(
          store.listCheckpoints(bat[k].runId).map((c) => c.step),
          store.listCheckpoints(seq[k].runId).map((c) => c.step),
        );
        assert.deepEqual(
          store.getEvents(bat[k].runId).map((e) => e.kind),
          store.getEvents(seq[k].runId).map((e) => e.kind),
        );
      }
      // the members differ (different lr, seed), so agreement is not a coincidence
      const final = bat.map((r) => r.summary["train/loss"]);
      assert.notEqual(final[0], final[1]);
      assert.notEqual(final[0], final[2]);
    } finally {
      store.close();
    }
  });

  it("full-batch GD (shared batch), Adam with a schedule, NTK MLPs and two-layer nets agree with the sequential trainer", async () => {
    const base = {
      data: { kind: "teacherStudent", dim: 2, hidden: 8, nTrain: 64, nTest: 32 },
      model: { kind: "mlp", hidden: [8, 8], activation: "tanh" },
      loss: { kind: "mse" },
      batchSize: "full",
      steps: 30,
      evalEvery: 10,
    };
    // unrolled chunks stop at every member's boundaries: evaluations (10), checkpoints (7), ends (23, 30)
    const gd = [0.05, 0.2].map((lr, i) =>
      smallExperiment([`optimizer.lr=${lr}`, `name=gd${i}`, ...(i ? ["steps=23", "checkpointEvery=7"] : [])], {
        ...base,
        optimizer: { kind: "sgd", lr },
      }),
    );
    const adam = [1e-3, 3e-3].map((lr, i) =>
      smallExperiment([`name=adam${i}`], {
        ...base,
        optimizer: { kind: "adam", lr, clipNorm: 1 },
        schedule: { kind: "cosine" },
      }),
    );
    // the generic path (vmap of the gradient): models other than a plain MLP
    const ntk = [0.05, 0.2].map((lr) =>
      smallExperiment([`name=ntk${lr}`], {
        ...base,
        model: { kind: "mlp", hidden: [8, 8], activation: "tanh", parametrization: "ntk" },
        optimizer: { kind: "sgd", lr, momentum: 0.5 },
      }),
    );
    const twoLayer = [1, 2].map((seed) =>
      smallExperiment([`seed=${seed}`, `name=two${seed}`], {
        model: { kind: "twoLayer", width: 12, activation: "tanh" },
      }),
    );
    const store = tempStore();
    try {
      for (const group of [gd, adam, ntk, twoLayer]) {
        const seq = await sequential(store, group);
        const bat = await trainBatched(group.map((exp) => ({ exp, store })));
        for (let k = 0; k < group.length; k++) {
          compareRuns(metricMap(store, seq[k].runId), metricMap(store, bat[k].runId), 2e-4, group[k].spec.name);
          assert.deepEqual(
            store.listCheckpoints(bat[k].runId).map((c) => c.step),
            store.listCheckpoints(seq[k].runId).map((c) => c.step),
          );
        }
      }
    } finally {
      store.close();
    }
  });

  it("writes checkpoints that resume as the sequential trainer's; an aborted group ends interrupted", async () => {
    const exps = [0, 1].map((i) => smallExperiment([`seed=${i}`, `name=r${i}`, "steps=30"]));
    const store = tempStore();
    try {
      let ended = 0;
      const bat = await trainBatched(
        exps.map((exp) => ({ exp, store })),
        { onMemberEnd: () => ended++ },
      );
      assert.equal(ended, 2);
      assert.ok(bat.every((r) => r.status === "completed"));
      // a signal already aborted stops the group after its first step: each member checkpoints there
      const ac2 = new AbortController();
      ac2.abort();
      const stopped = await trainBatched(
        exps.map((exp) => ({ exp, store })),
        { signal: ac2.signal },
      );
      assert.deepEqual(
        stopped.map((r) => [r.status, r.step]),
        [
          ["interrupted", 1],
          ["interrupted", 1],
        ],
      );
      // resuming with the sequential trainer continues the same trajectory as the straight batched run
      for (const [k, r] of stopped.entries()) {
        const res = await resumeExperiment(r.runId, { store });
        assert.equal(res.status, "completed");
        compareRuns(metricMap(store, bat[k].runId), metricMap(store, r.runId), 2e-4, `resumed member ${k}`);
      }
    } finally {
      store.close();
    }
  });

  for (const batch of ["16", '"full"']) {
    it(`ends a diverging member diverged while the others complete (batchSize ${batch})`, async () => {
      await divergence(batch);
    });
  }

  async function divergence(batch: string) {
    const exps = [0.1, 1e4].map((lr, i) =>
      smallExperiment([`optimizer.lr=${lr}`, `name=d${i}`, "steps=20", `batchSize=${batch}`, "divergenceFactor=100"]),
    );
    const store = tempStore();
    try {
      const [seq] = await sequential(store, [exps[1]]);
      const bat = await trainBatched(exps.map((exp) => ({ exp, store })));
      assert.equal(bat[0].status, "completed");
      assert.equal(bat[1].status, "diverged");
      assert.equal(seq.status, "diverged");
      assert.equal(bat[1].step, seq.step);
      // nothing recorded past the divergence, even when it happened inside an unrolled chunk
      compareRuns(metricMap(store, seq.runId), metricMap(store, bat[1].runId), 2e-4, "diverged member");
      assert.equal(store.listCheckpoints(bat[1].runId).length, 0);
      assert.deepEqual(
        store.getEvents(bat[1].runId).map((e) => [e.kind, e.step]),
        store.getEvents(seq.runId).map((e) => [e.kind, e.step]),
      );
    } finally {
      store.close();
    }
  }

  it("refuses unsupported specs and mixed groups with one-line errors naming the field, writing nothing", async () => {
    const cases: [string[], Record<string, unknown>, RegExp][] = [
      [[], { probes: [{ kind: "weightNorm", every: 5 }] }, /probes are not supported/],
      [[], { regularizer: { kind: "l2", lambda: 0.1 } }, /regularizer is not supported/],
      [[], { optimizer: { kind: "signSgd", lr: 0.1 } }, /optimizer.kind "signSgd" is not supported/],
      [[], { optimizer: { kind: "sgd", lr: 0.1, averaging: { kind: "ema" } } }, /optimizer.averaging/],
      [[], { model: { kind: "mlp", hidden: [8], norm: "batch" } }, /model.norm "batch"/],
      [[], { batchSchedule: { milestones: [5], factor: 2 } }, /batchSchedule/],
    ];
    for (const [o, base, re] of cases) {
      const exp = smallExperiment(o, base);
      assert.throws(
        () => checkBatchable(exp.spec),
        (e: unknown) => e instanceof UserError && re.test(e.message),
      );
    }
    const store = tempStore();
    try {
      const mixed = [smallExperiment([]), smallExperiment(["model.hidden=[8]"])];
      await assert.rejects(
        trainBatched(mixed.map((exp) => ({ exp, store }))),
        (e: unknown) => e instanceof UserError && /member 1 .* differs from member 0/.test(e.message),
      );
      const bad = [smallExperiment([], { probes: [{ kind: "weightNorm", every: 5 }] })];
      await assert.rejects(trainBatched(bad.map((exp) => ({ exp, store }))), UserError);
      const tooBig = [smallExperiment(['batchSize="full"', "chunkSize=32"])];
      await assert.rejects(
        trainBatched(tooBig.map((exp) => ({ exp, store }))),
        (e: unknown) => e instanceof UserError && /chunkSize ≥ 96/.test(e.message),
      );
      assert.equal(store.listRuns().length, 0);
    } finally {
      store.close();
    }
    // the group key ignores what members may differ in, and nothing else
    const a = smallExperiment(["seed=1", "optimizer.lr=0.3", "steps=7", "name=x"]).spec;
    const b = smallExperiment(["seed=2", "optimizer.lr=0.1", "steps=9", "name=y"]).spec;
    assert.equal(batchKey(a), batchKey(b));
    assert.notEqual(batchKey(a), batchKey(smallExperiment(["optimizer.momentum=0.5"]).spec));
    assert.notEqual(batchKey(a), batchKey(smallExperiment(["batchSize=8"]).spec));
  });

  it("keeps the Wasm heap flat over repeated groups (mini-batch and unrolled full-batch steps)", async () => {
    const store = tempStore();
    try {
      const heap: number[] = [];
      for (let r = 0; r < 3; r++) {
        for (const batch of ["16", '"full"']) {
          const exps = [1, 2].map((seed) =>
            smallExperiment([
              `seed=${seed}`,
              `batchSize=${batch}`,
              "steps=300",
              "evalEvery=100",
              "checkpointEvery=150",
            ]),
          );
          const res = await trainBatched(exps.map((exp) => ({ exp, store })));
          assert.ok(res.every((x) => x.status === "completed"));
        }
        heap.push(wasmHeapBytes());
      }
      // one leaked 16x3 matrix per step would add ~230 kB per round; the heap grows in 64 KiB pages
      assert.ok(heap[0] > 0);
      assert.ok(heap[2] - heap[0] <= 65536, `Wasm heap grew: ${heap.join(", ")}`);
    } finally {
      store.close();
    }
  });

  it(`canary: ${JAXJS_VMAP_GRAD_DEFECT} (fails once fixed: then take ∇Σ_k L_k of the vmapped loss)`, async () => {
    await initRuntime("wasm");
    const r = (shape: number[], s: number) =>
      np.array(Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(s * (i + 1)))).reshape(shape);
    const member1 = (a: JaxArray) => a.slice([1, 2]).reshape(a.shape.slice(1));
    type P = { w2: JaxArray; w3: JaxArray };
    const f = (p: P, x: JaxArray): JaxArray => {
      const o = np.matmul(np.matmul(x, p.w2), p.w3);
      return o.ref.mul(o).sum();
    };
    const x = r([3, 4], 5);
    const p: P = { w2: r([2, 4, 4], 1), w3: r([2, 4, 1], 3) };
    const batched = grad((q: P) => (vmap(f, [0, null])(q, x.ref) as JaxArray).sum())(tree.ref(p)) as P;
    const alone = grad((q: P) => f(q, x.ref))({ w2: member1(p.w2.ref), w3: member1(p.w3.ref) }) as P;
    const perMember = vmap((q: P, xx: JaxArray) => grad((qq: P) => f(qq, xx))(q), [0, null])(p, x) as P;
    const diff = async (a: JaxArray, b: JaxArray) => {
      const [u, v] = [Array.from(await a.data(), Number), Array.from(await b.data(), Number)];
      return Math.max(...u.map((z, i) => Math.abs(z - v[i])));
    };
    assert.ok((await diff(member1(perMember.w2), alone.w2.ref)) < 1e-6, "vmap(grad) is right");
    assert.ok((await diff(member1(batched.w2), alone.w2)) > 0.1, "grad(Σ vmap) is still wrong for member 1");
    tree.dispose([batched.w3, alone.w3, perMember.w3]);
  });
});
