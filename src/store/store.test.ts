import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { UserError } from "../core/errors.js";
import { RunStore } from "./store.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "sgdlab-store-"));
  dirs.push(d);
  return d;
}
function raw(dir: string): Database.Database {
  return new Database(join(dir, "sgdlab.db"), { readonly: true });
}
const SPECIAL = [1.5, -0, 0, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, Math.PI, -2.5e-300];

describe("RunStore tables round-trip", () => {
  it("runs: every field, defaults, summary with non-finite numbers", () => {
    const dir = tempDir();
    const store = RunStore.open(join(dir, "nested", "store"));
    const spec = { model: { kind: "mlp", widths: [4, 8] }, lr: 0.1, name: "x" };
    const run = store.createRun({ name: "demo", spec, backend: "wasm", dtype: "float64", seed: 42 });
    assert.match(run.id, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
    const iso = new Date(run.createdAt).toISOString(); // e.g. 2026-11-26T23:15:00.123Z
    assert.equal(run.id.slice(0, 15), `${iso.slice(0, 10).replace(/-/g, "")}-${iso.slice(11, 19).replace(/:/g, "")}`);
    // sha256 of the canonical (sorted-key) JSON, written out by hand
    const canonical = '{"lr":0.1,"model":{"kind":"mlp","widths":[4,8]},"name":"x"}';
    assert.equal(run.specHash, createHash("sha256").update(canonical).digest("hex"));
    assert.deepEqual(run.spec, spec);
    assert.equal(run.status, "running");
    assert.equal(run.pid, process.pid);
    assert.equal(run.hostname, hostname());
    assert.match(run.codeVersion, /^0\.1\.0(\+g[0-9a-f]{12})?$/);
    assert.deepEqual([run.backend, run.dtype, run.seed, run.summary, run.error], ["wasm", "float64", 42, null, null]);
    assert.ok(Math.abs(run.createdAt - Date.now()) < 5000 && run.startedAt === run.createdAt);
    assert.equal(run.finishedAt, null);

    const summary = { loss: NaN, acc: 0.75, gap: Infinity, low: -Infinity, nested: [1, NaN] };
    store.finishRun(run.id, "diverged", { summary, error: "loss became NaN at step 7" });
    const back = store.getRun(run.id);
    assert.equal(back.status, "diverged");
    assert.deepEqual(back.summary, summary);
    assert.equal(back.error, "loss became NaN at step 7");
    assert.ok(back.finishedAt !== null && back.finishedAt >= run.createdAt);
    assert.throws(() => store.finishRun(run.id, "running"), UserError);
    store.close();
  });

  it("metrics: NaN, ±Inf and -0 come back identical with finite=false; upsert; filters", () => {
    const dir = tempDir();
    const store = RunStore.open(dir);
    const { id } = store.createRun({ name: "m", spec: {} });
    const points = SPECIAL.map((value, i) => ({ step: i, key: "a/x", value }));
    assert.equal(store.appendMetrics(id, points), SPECIAL.length);
    store.appendMetrics(id, [
      { step: 3, key: "b/y", value: 7 },
      { step: 1, key: "b/y", value: 8 },
    ]);
    const got = store.getMetrics(id, { keys: ["a/x"] });
    assert.equal(got.length, SPECIAL.length);
    got.forEach((p, i) => {
      assert.equal(p.step, i);
      assert.ok(Object.is(p.value, SPECIAL[i]), `step ${i}: ${p.value} vs ${SPECIAL[i]}`);
      assert.equal(p.finite, Number.isFinite(SPECIAL[i]));
    });
    // the stored columns, read with plain SQL
    const db = raw(dir);
    const rows = db
      .prepare(
        "SELECT step, value, finite, special FROM metrics WHERE key = 'a/x' AND step IN (1, 3, 4, 5) ORDER BY step",
      )
      .all();
    db.close();
    assert.deepEqual(rows, [
      { step: 1, value: 0, finite: 1, special: "-0" },
      { step: 3, value: null, finite: 0, special: "nan" },
      { step: 4, value: null, finite: 0, special: "inf" },
      { step: 5, value: null, finite: 0, special: "-inf" },
    ]);
    // upsert replaces (finite → NaN → finite)
    store.appendMetrics(id, [{ step: 0, key: "a/x", value: NaN }]);
    assert.ok(Number.isNaN(store.getMetrics(id, { keys: ["a/x"], toStep: 0 })[0].value));
    store.appendMetrics(id, [{ step: 0, key: "a/x", value: 2 }]);
    assert.deepEqual(store.getMetrics(id, { keys: ["a/x"], toStep: 0 }), [
      { step: 0, key: "a/x", value: 2, finite: true },
    ]);
    assert.deepEqual(store.metricKeys(id), ["a/x", "b/y"]);
    assert.deepEqual(
      store.getMetrics(id, { fromStep: 1, toStep: 3 }).map((p) => [p.key, p.step]),
      [
        ["a/x", 1],
        ["a/x", 2],
        ["a/x", 3],
        ["b/y", 1],
        ["b/y", 3],
      ],
    );
    assert.deepEqual(store.getMetrics(id, { keys: [] }), []);
    store.close();
  });

  it("metrics: bad points and unknown runs are rejected before anything is written", () => {
    const store = RunStore.open(tempDir());
    const { id } = store.createRun({ name: "m", spec: {} });
    const bad = [
      { step: 0, key: "ok", value: 1 },
      { step: 1.5, key: "ok", value: 1 },
    ];
    assert.throws(
      () => store.appendMetrics(id, bad),
      (e: unknown) => e instanceof UserError && /step/.test(e.message),
    );
    assert.throws(() => store.appendMetrics(id, [{ step: 0, key: "", value: 1 }]), /key/);
    assert.deepEqual(store.getMetrics(id), []);
    assert.throws(
      () => store.appendMetrics("nope", [{ step: 0, key: "k", value: 1 }]),
      (e: unknown) => e instanceof UserError && e.message === `no run nope in store ${store.dir}`,
    );
    store.close();
  });

  it("events, checkpoints and artifacts", () => {
    const store = RunStore.open(tempDir());
    const { id } = store.createRun({ name: "e", spec: {} });
    store.logEvent(id, { kind: "diverged", message: "loss is NaN", step: 7, data: { loss: NaN, lr: 0.5 } });
    store.logEvent(id, { kind: "note", message: "plain" });
    const evs = store.getEvents(id);
    assert.deepEqual(
      evs.map((e) => [e.runId, e.step, e.kind, e.message, e.data]),
      [
        [id, 7, "diverged", "loss is NaN", { loss: NaN, lr: 0.5 }],
        [id, null, "note", "plain", null],
      ],
    );
    assert.ok(evs[0].seq < evs[1].seq);
    assert.deepEqual(
      store.getEvents(id, { kind: "note" }).map((e) => e.message),
      ["plain"],
    );

    assert.equal(store.latestCheckpoint(id), undefined);
    for (const step of [10, 30, 20]) {
      store.addCheckpoint(id, {
        step,
        path: `checkpoints/${id}/step-${step}.ckpt`,
        bytes: step * 100,
        sha256: "ab".repeat(32),
      });
    }
    const latest = store.latestCheckpoint(id);
    assert.deepEqual(latest && { ...latest, createdAt: 0 }, {
      runId: id,
      step: 30,
      path: `checkpoints/${id}/step-30.ckpt`,
      createdAt: 0,
      bytes: 3000,
      sha256: "ab".repeat(32),
    });
    assert.deepEqual(
      store.listCheckpoints(id).map((c) => c.step),
      [10, 20, 30],
    );
    assert.equal(store.removeCheckpoint(id, 30), true);
    assert.equal(store.latestCheckpoint(id)?.step, 20);
    assert.equal(store.getCheckpoint(id, 10)?.bytes, 1000);

    const density = { grid: [0, 0.5, 1], weights: [0.2, NaN, Infinity] };
    store.putArtifact(id, "hessian/density", 100, density);
    store.putArtifact(id, "hessian/density", 200, { grid: [1], weights: [1] });
    const bytes = new Uint8Array([0, 1, 2, 255, 128]);
    store.putArtifact(id, "raw", 0, bytes);
    const a = store.getArtifact(id, "hessian/density", 100);
    assert.equal(a?.kind, "json");
    assert.deepEqual(a?.value, density);
    assert.equal(store.getArtifact(id, "hessian/density")?.step, 200);
    const b = store.getArtifact(id, "raw");
    assert.equal(b?.kind, "blob");
    assert.deepEqual(b?.value, bytes);
    assert.equal(store.getArtifact(id, "missing"), undefined);
    assert.throws(() => store.putArtifact(id, "f64", 0, new Float64Array(2)), /f64.*Uint8Array/);
    assert.deepEqual(store.listArtifacts(id), [
      { name: "hessian/density", step: 100, kind: "json" },
      { name: "hessian/density", step: 200, kind: "json" },
      { name: "raw", step: 0, kind: "blob" },
    ]);
    store.close();
  });
});

describe("RunStore lookup and listing", () => {
  it("getRun: exact id, unique prefix, ambiguous prefix, unknown id", () => {
    const store = RunStore.open(tempDir());
    const ids = [0, 1, 2].map((i) => store.createRun({ name: `r${i}`, spec: {} }).id);
    const unique = (id: string) => {
      for (let n = 1; n <= id.length; n++) {
        const p = id.slice(0, n);
        if (ids.filter((o) => o.startsWith(p)).length === 1) return p;
      }
      throw new Error("unreachable");
    };
    for (const id of ids) {
      assert.equal(store.getRun(id).id, id);
      assert.equal(store.getRun(unique(id)).id, id);
    }
    const amb = (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(
        e.message,
        new RegExp(`^run id prefix "2" is ambiguous in store ${store.dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
      );
      for (const [i, id] of ids.entries()) assert.ok(e.message.includes(`${id}  r${i}`), e.message);
      return true;
    };
    assert.throws(() => store.getRun("2"), amb);
    assert.throws(
      () => store.getRun("19990101-000000-zzzz"),
      (e: unknown) => e instanceof UserError && e.message === `no run 19990101-000000-zzzz in store ${store.dir}`,
    );
    assert.throws(() => store.getRun(""), UserError);
    store.close();
  });

  it("listRuns: newest first, status filter, limit", async () => {
    const store = RunStore.open(tempDir());
    const a = store.createRun({ name: "a", spec: {} }).id;
    await sleep(3);
    const b = store.createRun({ name: "b", spec: {} }).id;
    await sleep(3);
    const c = store.createRun({ name: "c", spec: {} }).id;
    store.finishRun(b, "completed");
    store.finishRun(c, "failed", { error: "boom" });
    assert.deepEqual(
      store.listRuns().map((r) => r.id),
      [c, b, a],
    );
    assert.deepEqual(
      store.listRuns({ status: "running" }).map((r) => r.id),
      [a],
    );
    assert.deepEqual(
      store.listRuns({ status: "failed" }).map((r) => [r.id, r.error]),
      [[c, "boom"]],
    );
    assert.deepEqual(
      store.listRuns({ limit: 2 }).map((r) => r.id),
      [c, b],
    );
    assert.throws(() => store.listRuns({ status: "bogus" as never }), UserError);
    store.close();
  });

  it("a silent running run reads interrupted after the staleness limit; markInterrupted persists it", async () => {
    const dir = tempDir();
    const store = RunStore.open(dir, { staleAfterMs: 400 });
    const { id } = store.createRun({ name: "s", spec: {} });
    assert.equal(store.getRun(id).status, "running");
    await sleep(600);
    const stale = store.getRun(id);
    assert.equal(stale.status, "interrupted");
    assert.match(stale.error ?? "", /no heartbeat/);
    store.heartbeat(id);
    assert.equal(store.getRun(id).status, "running");
    assert.deepEqual(store.markInterrupted(), []);
    await sleep(600);
    assert.deepEqual(store.markInterrupted(id), [id]);
    const lenient = RunStore.open(dir); // default staleness: only the persisted status can say interrupted
    assert.equal(lenient.getRun(id).status, "interrupted");
    // a resumed run is running again, owned by this process
    const resumed = lenient.resumeRun(id);
    assert.deepEqual(
      [resumed.status, resumed.pid, resumed.error, resumed.finishedAt],
      ["running", process.pid, null, null],
    );
    assert.throws(() => lenient.resumeRun(id), /still running/);
    lenient.close();
    store.close();
  });

  it("read-only stores read but refuse writes; a missing store is a UserError", () => {
    const dir = tempDir();
    const w = RunStore.open(dir);
    const { id } = w.createRun({ name: "ro", spec: { a: 1 } });
    w.appendMetrics(id, [{ step: 0, key: "k", value: 3 }]);
    w.close();
    const r = RunStore.open(dir, { readonly: true });
    assert.equal(r.getRun(id).name, "ro");
    assert.equal(r.getMetrics(id)[0].value, 3);
    assert.throws(() => r.heartbeat(id), /read-only/);
    assert.throws(() => r.createRun({ name: "x", spec: {} }), UserError);
    r.close();
    const missing = join(dir, "nothing-here");
    assert.throws(
      () => RunStore.open(missing, { readonly: true }),
      (e: unknown) => e instanceof UserError && e.message.includes(missing),
    );
  });
});
