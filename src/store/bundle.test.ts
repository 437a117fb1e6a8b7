import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, describe, it } from "node:test";
import { UserError } from "../core/errors.js";
import { decodeBundle, encodeBundle, exportBundle, importBundle } from "./bundle.js";
import { loadCheckpoint, saveCheckpoint } from "./checkpoints.js";
import { RunStore } from "./store.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempStore(): RunStore {
  const d = mkdtempSync(join(tmpdir(), "sgdlab-bundle-"));
  dirs.push(d);
  return RunStore.open(d);
}
const SPECIAL = [1.5, -0, 0, NaN, Infinity, -Infinity, 5e-324, Math.PI];
const SWEEP = {
  name: "grid",
  spec: { steps: 3 },
  grid: {},
  members: [{ index: 0, overrides: { lr: 1 }, specHash: "h" }],
};

/** A store holding one finished sweep-member run with every kind of row, checkpoints at steps 1 and 2. */
function sourceRun() {
  const store = tempStore();
  const { sweep } = store.sweeps.ensure(SWEEP);
  const run = store.createRun({ name: "grid/0", spec: { lr: 1 }, seed: 7, sweep: { id: sweep.id, index: 0 } });
  store.appendMetrics(
    run.id,
    SPECIAL.map((value, i) => ({ step: i % 3, key: `k/${i}`, value })),
  );
  store.logEvent(run.id, { kind: "start", message: "begin", step: 0, data: { x: NaN } });
  store.putArtifact(run.id, "data", 0, { n: 3 });
  store.putArtifact(run.id, "bytes", 2, new Uint8Array([1, 2, 255]));
  for (const step of [1, 2]) {
    saveCheckpoint(store, run.id, step, { meta: { step }, arrays: { w: new Float64Array([step, -0, NaN]) } });
  }
  store.finishRun(run.id, "completed", { summary: { loss: Infinity, step: 2 } });
  return { store, sweep, run: store.getRun(run.id) };
}

describe("run bundles", () => {
  it("carry a run between stores with the same id, times and values (NaN, ±Inf, −0 bit for bit)", () => {
    const src = sourceRun();
    const bytes = encodeBundle(exportBundle(src.store, src.run.id));
    const dst = tempStore();
    dst.sweeps.adopt(src.sweep);
    const got = importBundle(dst, decodeBundle(bytes));
    assert.deepEqual(got, src.run);
    const a = src.store.getMetrics(src.run.id);
    const b = dst.getMetrics(src.run.id);
    assert.equal(b.length, SPECIAL.length);
    for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i].value, b[i].value) && a[i].key === b[i].key);
    const strip = (e: { seq: number }[]) => e.map(({ seq: _seq, ...rest }) => rest);
    assert.deepEqual(strip(dst.getEvents(src.run.id)), strip(src.store.getEvents(src.run.id)));
    assert.deepEqual(dst.getArtifact(src.run.id, "bytes")?.value, new Uint8Array([1, 2, 255]));
    assert.deepEqual(dst.getArtifact(src.run.id, "data"), src.store.getArtifact(src.run.id, "data"));
    // only the latest checkpoint travels, and it reads back intact in its new home
    assert.deepEqual(
      dst.listCheckpoints(src.run.id).map((c) => c.step),
      [2],
    );
    const ck = loadCheckpoint(dst, src.run.id);
    assert.ok(Object.is(ck.arrays.w.data[1], -0) && Number.isNaN(ck.arrays.w.data[2]));
  });

  it("import twice = import once (nothing duplicated), and a prefix import is replaced by the whole run", () => {
    const src = sourceRun();
    const dst = tempStore();
    dst.sweeps.adopt(src.sweep);
    const prefix = decodeBundle(encodeBundle(exportBundle(src.store, src.run.id, { upToStep: 1 })));
    assert.deepEqual(prefix.metrics.map((m) => m.step).sort(), [0, 0, 0, 1, 1, 1]);
    assert.equal(prefix.checkpoint?.record.step, 1);
    assert.equal(importBundle(dst, prefix, { status: "interrupted" }).status, "interrupted");
    const whole = decodeBundle(encodeBundle(exportBundle(src.store, src.run.id)));
    importBundle(dst, whole);
    importBundle(dst, whole);
    assert.equal(dst.listRuns().length, 1);
    assert.equal(dst.getEvents(src.run.id).length, 1);
    assert.equal(dst.getMetrics(src.run.id).length, SPECIAL.length);
    assert.equal(dst.getRun(src.run.id).status, "completed");
    // the step-1 file of the prefix is gone with its row
    assert.deepEqual(readdirSync(join(dst.dir, "checkpoints", src.run.id)), ["step-2.ckpt"]);
  });

  it("a failure half-way through an import leaves the run as it was (one transaction)", () => {
    const src = sourceRun();
    const dst = tempStore();
    dst.sweeps.adopt(src.sweep);
    const whole = exportBundle(src.store, src.run.id);
    importBundle(dst, whole);
    // metrics deleted and rewritten, then an event the schema refuses (kind NOT NULL): all rolled back
    const broken = { ...whole, metrics: [], events: [{ ...whole.events[0], kind: null as unknown as string }] };
    assert.throws(() => importBundle(dst, broken), /NOT NULL/);
    assert.equal(dst.getMetrics(src.run.id).length, SPECIAL.length);
    assert.equal(dst.getEvents(src.run.id).length, 1);
    assert.deepEqual(dst.getRun(src.run.id), src.run);
  });

  it("refuses malformed bytes, a checkpoint that is not the one named, and a run of an unknown sweep", () => {
    const src = sourceRun();
    const b = exportBundle(src.store, src.run.id);
    const isUser = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);
    assert.throws(() => decodeBundle(Buffer.from("not gzip")), isUser(/not a gzipped JSON bundle/));
    assert.throws(() => decodeBundle(gzipSync('{"format":"x"}')), isUser(/malformed: format/));
    const evil = { ...b, run: { ...b.run, id: "../../etc" } };
    assert.throws(() => decodeBundle(encodeBundle(evil)), isUser(/malformed: run\.id/));
    const dst = tempStore();
    assert.throws(() => importBundle(dst, b), isUser(/belongs to sweep .* which store/));
    dst.sweeps.adopt(src.sweep);
    const wrong = {
      ...b,
      checkpoint: { record: { ...b.checkpoint!.record, sha256: "0".repeat(64) }, bytes: b.checkpoint!.bytes },
    };
    assert.throws(() => importBundle(dst, wrong), isUser(/not the one it names/));
    assert.equal(dst.listRuns().length, 0);
    // a path in the bundle is never used: the file lands where this store keeps checkpoints
    const moved = { ...b, checkpoint: { ...b.checkpoint!, record: { ...b.checkpoint!.record, path: "../../x.ckpt" } } };
    importBundle(dst, moved);
    assert.ok(existsSync(join(dst.dir, "checkpoints", src.run.id, "step-2.ckpt")));
    assert.equal(dst.latestCheckpoint(src.run.id)?.path, `checkpoints/${src.run.id}/step-2.ckpt`);
  });
});
