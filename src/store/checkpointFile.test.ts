import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { UserError } from "../core/errors.js";
import { encodeCheckpoint, readCheckpointFile, writeCheckpointFile, type CheckpointPayload } from "./checkpointFile.js";
import { checkpointPath, loadCheckpoint, pruneCheckpoints, saveCheckpoint } from "./checkpoints.js";
import { RunStore } from "./store.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "sgdlab-ckpt-"));
  dirs.push(d);
  return d;
}

function payload(seed: number): CheckpointPayload {
  const w = new Float64Array(6);
  let s = seed;
  for (let i = 0; i < 6; i++) w[i] = Math.sin((s += 1.2345)) * 10 ** (i - 3);
  // NaN with a non-default payload, both zeros, a subnormal, the extremes
  const special = new Float64Array([NaN, -0, 0, 5e-324, -Infinity, Infinity, Number.MAX_VALUE]);
  new DataView(special.buffer).setBigUint64(0, 0x7ff8_0000_dead_beefn, true);
  return {
    meta: { step: seed, lr: 0.1, loss: NaN, note: "ünïcode" },
    arrays: {
      "params/w": { data: w, shape: [2, 3] },
      "params/b": new Float64Array([seed]),
      special,
      "opt/count": new Int32Array([-7, 0, 2 ** 31 - 1, -(2 ** 31)]),
      key: { data: new Uint32Array([0, 1, 0xffffffff]), shape: [3] },
      empty: { data: new Float64Array(0), shape: [0, 4] },
    },
  };
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectUserErrorNaming(file: string, fn: () => unknown, why: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.ok(e.message.includes(file), e.message);
    assert.match(e.message, why);
    return true;
  });
}

describe("checkpoint files", () => {
  it("round-trip bit-exactly (NaN payloads, -0, subnormals, int32/uint32 extremes, shapes)", () => {
    const file = join(tempDir(), "a", "b", "step-3.ckpt");
    const p = payload(3);
    const { bytes, sha256 } = writeCheckpointFile(file, p);
    assert.equal(readFileSync(file).length, bytes);
    assert.deepEqual(readdirSync(join(file, "..")), ["step-3.ckpt"]); // no temporary file left
    const back = readCheckpointFile(file);
    assert.equal(back.sha256, sha256);
    assert.deepEqual(back.meta, p.meta);
    assert.deepEqual(Object.keys(back.arrays), Object.keys(p.arrays));
    for (const [name, a] of Object.entries(p.arrays)) {
      const want = ArrayBuffer.isView(a) ? { data: a, shape: [a.length] } : a;
      const got = back.arrays[name];
      assert.equal(got.data.constructor, want.data.constructor, name);
      assert.deepEqual(got.shape, want.shape, name);
      assert.ok(bytesOf(got.data).equals(bytesOf(want.data)), name);
    }
  });

  it("follows the documented layout (magic, version, lengths, LE data, sha256 trailer)", () => {
    const { bytes: buf, sha256 } = encodeCheckpoint({
      meta: { a: 1 },
      arrays: { x: new Float64Array([1.5, -2]), k: new Uint32Array([7]) },
    });
    assert.equal(buf.toString("latin1", 0, 8), "SGDLCKPT");
    assert.equal(buf.readUInt32LE(8), 1);
    const h = buf.readUInt32LE(12);
    const d = Number(buf.readBigUInt64LE(16));
    assert.equal(h % 8, 0);
    assert.equal(buf.length, 24 + h + d + 32);
    const header = JSON.parse(buf.toString("utf8", 24, 24 + h));
    assert.deepEqual(header, {
      meta: { a: 1 },
      arrays: [
        { name: "x", dtype: "float64", shape: [2], offset: 0, byteLength: 16 },
        { name: "k", dtype: "uint32", shape: [1], offset: 16, byteLength: 4 },
      ],
    });
    assert.equal(d, 24); // 16 + 4 padded to 8
    assert.deepEqual(
      [buf.readDoubleLE(24 + h), buf.readDoubleLE(24 + h + 8), buf.readUInt32LE(24 + h + 16)],
      [1.5, -2, 7],
    );
    const digest = createHash("sha256")
      .update(buf.subarray(0, buf.length - 32))
      .digest();
    assert.ok(digest.equals(buf.subarray(buf.length - 32)));
    assert.equal(sha256, digest.toString("hex"));
  });

  it("a truncated file gives a UserError naming it", () => {
    const file = join(tempDir(), "t.ckpt");
    const { bytes } = writeCheckpointFile(file, payload(1));
    for (const len of [bytes - 1, bytes - 40, 100, 20, 0]) {
      writeCheckpointFile(file, payload(1));
      truncateSync(file, len);
      expectUserErrorNaming(file, () => readCheckpointFile(file), /truncated/);
    }
    expectUserErrorNaming(
      join(file, "..", "absent.ckpt"),
      () => readCheckpointFile(join(file, "..", "absent.ckpt")),
      /cannot read/,
    );
  });

  it("a flipped byte anywhere gives a UserError naming the file", () => {
    const file = join(tempDir(), "f.ckpt");
    const { bytes } = writeCheckpointFile(file, payload(2));
    const good = readFileSync(file);
    for (const at of [0, 9, 13, 17, 30, Math.floor(bytes / 2), bytes - 33, bytes - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x10;
      writeFileSync(file, bad);
      expectUserErrorNaming(file, () => readCheckpointFile(file), /corrupted|truncated|not an sgdlab|version/);
    }
  });

  it("a crash between write and rename leaves the previous checkpoint intact; prune keeps the newest", () => {
    const store = RunStore.open(tempDir());
    const { id } = store.createRun({ name: "c", spec: {} });
    const p10 = payload(10);
    saveCheckpoint(store, id, 10, p10);
    const file10 = join(store.dir, checkpointPath(id, 10));
    assert.equal(file10, join(store.dir, "checkpoints", id, "step-10.ckpt"));
    const before = readFileSync(file10);

    // A writer killed before its rename: half-written temporary files, for a new step and over step 10.
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid as number;
    const half = encodeCheckpoint(payload(20)).bytes.subarray(0, 150);
    writeFileSync(join(store.dir, checkpointPath(id, 20)) + `.tmp-${deadPid}`, half);
    writeFileSync(`${file10}.tmp-${deadPid}`, half);

    const loaded = loadCheckpoint(store, id);
    assert.equal(loaded.record.step, 10);
    assert.deepEqual(loaded.meta, p10.meta);
    assert.ok(
      bytesOf(loaded.arrays["params/w"].data).equals(bytesOf((p10.arrays["params/w"] as { data: Float64Array }).data)),
    );
    assert.ok(readFileSync(file10).equals(before));

    for (const s of [20, 30, 40, 50]) saveCheckpoint(store, id, s, payload(s));
    assert.deepEqual(pruneCheckpoints(store, id, 2), [10, 20, 30]);
    assert.deepEqual(
      store.listCheckpoints(id).map((c) => c.step),
      [40, 50],
    );
    assert.deepEqual(readdirSync(join(store.dir, "checkpoints", id)).sort(), ["step-40.ckpt", "step-50.ckpt"]);
    assert.equal(loadCheckpoint(store, id).meta && (loadCheckpoint(store, id).meta as { step: number }).step, 50);
    assert.equal((loadCheckpoint(store, id, 40).meta as { step: number }).step, 40);
    expectUserErrorNaming(id, () => loadCheckpoint(store, id, 10), /no checkpoint at step 10/);

    // a valid file that is not the registered one is refused
    const file50 = join(store.dir, checkpointPath(id, 50));
    writeCheckpointFile(file50, payload(51));
    expectUserErrorNaming(file50, () => loadCheckpoint(store, id), /not the one registered/);
    assert.ok(existsSync(file50));
    store.close();
  });
});
