import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { CIFAR10_RECORD_BYTES, loadCifar10 } from "./cifar10.js";

const dir = mkdtempSync(join(tmpdir(), "sgdlab-cifar-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A batch file of records [label, 3072 pixel bytes] with pixel byte (r, j) = (7r + 13j + seed) mod 256. */
function batch(labels: number[], seed: number): Buffer {
  const buf = Buffer.alloc(labels.length * 3073);
  labels.forEach((y, r) => {
    buf[r * 3073] = y;
    for (let j = 0; j < 3072; j++) buf[r * 3073 + 1 + j] = (7 * r + 13 * j + seed) % 256;
  });
  return buf;
}

describe("CIFAR-10 binary loader", () => {
  it("round-trips records from several batch files (plain and gzipped) exactly", () => {
    const a = join(dir, "data_batch_1.bin");
    const b = join(dir, "data_batch_2.bin.gz");
    writeFileSync(a, batch([6, 9, 0], 1));
    writeFileSync(b, gzipSync(batch([2, 7], 2)));
    const ds = loadCifar10([a, b]);
    assert.equal(CIFAR10_RECORD_BYTES, 3073);
    assert.equal(ds.n, 5);
    assert.equal(ds.numClasses, 10);
    assert.deepEqual(ds.xShape, [3072]);
    assert.deepEqual(Array.from(ds.labels!), [6, 9, 0, 2, 7]);
    const expected = (row: number, j: number) => {
      const [r, seed] = row < 3 ? [row, 1] : [row - 3, 2];
      return ((7 * r + 13 * j + seed) % 256) / 255;
    };
    for (let row = 0; row < 5; row++) {
      for (let j = 0; j < 3072; j++) assert.equal(ds.x[row * 3072 + j], expected(row, j));
    }
    const img = loadCifar10([a], { layout: "image" });
    assert.deepEqual(img.xShape, [3, 32, 32]);
    // CHW: channel c, row h, column w of record 1 is byte 1 + 1024c + 32h + w.
    const [c, h, w] = [2, 5, 17];
    assert.equal(img.x[3072 + c * 1024 + h * 32 + w], ((7 + 13 * (c * 1024 + h * 32 + w) + 1) % 256) / 255);
  });

  it("reports truncated, mislabelled and missing files as UserErrors naming the file", () => {
    const trunc = join(dir, "truncated.bin");
    writeFileSync(trunc, batch([1, 2], 0).subarray(0, 2 * 3073 - 5));
    assert.throws(() => loadCifar10([trunc]), { name: "UserError", message: /truncated\.bin.*size mismatch/ });
    const empty = join(dir, "empty.bin");
    writeFileSync(empty, Buffer.alloc(0));
    assert.throws(() => loadCifar10([empty]), { name: "UserError", message: /empty\.bin/ });
    const badLabel = join(dir, "badlabel.bin");
    writeFileSync(badLabel, batch([1, 10], 0));
    assert.throws(() => loadCifar10([badLabel]), { name: "UserError", message: /badlabel\.bin.*label 10/ });
    assert.throws(() => loadCifar10([join(dir, "missing.bin")]), {
      name: "UserError",
      message: /missing\.bin.*no such file/,
    });
    assert.throws(() => loadCifar10([]), { name: "UserError" });
  });
});
