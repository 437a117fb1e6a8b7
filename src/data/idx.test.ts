import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { loadIdx, readIdx } from "./idx.js";

const dir = mkdtempSync(join(tmpdir(), "sgdlab-idx-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An IDX file built by hand: 0, 0, type, ndim, big-endian uint32 dims, big-endian values. */
function idxBytes(type: number, shape: number[], values: number[]): Buffer {
  const size = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[type]!;
  const buf = Buffer.alloc(4 + 4 * shape.length + size * values.length);
  buf[2] = type;
  buf[3] = shape.length;
  shape.forEach((s, i) => buf.writeUInt32BE(s, 4 + 4 * i));
  const off = 4 + 4 * shape.length;
  values.forEach((v, i) => {
    const o = off + i * size;
    if (type === 0x08) buf.writeUInt8(v, o);
    else if (type === 0x09) buf.writeInt8(v, o);
    else if (type === 0x0b) buf.writeInt16BE(v, o);
    else if (type === 0x0c) buf.writeInt32BE(v, o);
    else if (type === 0x0d) buf.writeFloatBE(v, o);
    else buf.writeDoubleBE(v, o);
  });
  return buf;
}

function write(name: string, data: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

const n = 5;
const pixels = Array.from({ length: n * 4 * 3 }, (_, i) => (i * 37) % 256);
const labels = [3, 0, 9, 1, 3];

describe("IDX loader", () => {
  for (const gz of [false, true]) {
    it(`round-trips images and labels exactly (${gz ? "gzipped" : "plain"})`, () => {
      const enc = (b: Buffer) => (gz ? gzipSync(b) : b);
      const img = write(`img${gz ? ".gz" : ""}`, enc(idxBytes(0x08, [n, 4, 3], pixels)));
      const lab = write(`lab${gz ? ".gz" : ""}`, enc(idxBytes(0x08, [n], labels)));
      const ds = loadIdx(img, lab, { numClasses: 10 });
      assert.equal(ds.n, n);
      assert.deepEqual(ds.xShape, [12]);
      assert.deepEqual(
        Array.from(ds.x),
        pixels.map((p) => p / 255),
      );
      assert.deepEqual(Array.from(ds.labels!), labels);
      assert.equal(ds.numClasses, 10);
      assert.deepEqual(loadIdx(img, lab, { layout: "image" }).xShape, [1, 4, 3]);
      assert.equal(loadIdx(img, lab).numClasses, 10); // max label 9 + 1
    });
  }

  it("reads every IDX element type", () => {
    const cases: [number, number[]][] = [
      [0x09, [-128, 5, 127]],
      [0x0b, [-32768, 1234, 32767]],
      [0x0c, [-(2 ** 31), 7, 2 ** 31 - 1]],
      [0x0d, [Math.fround(0.1), -2.5, Math.fround(1e30)]],
      [0x0e, [0.1, -1e-300, Math.PI]],
    ];
    for (const [type, values] of cases) {
      const a = readIdx(write(`t${type}`, idxBytes(type, [3], values)));
      assert.deepEqual(a.shape, [3]);
      assert.deepEqual(Array.from(a.data), values);
    }
  });

  it("reports missing, corrupt and truncated files as UserErrors naming the file", () => {
    const good = idxBytes(0x08, [n, 4, 3], pixels);
    const lab = write("labels-ok", idxBytes(0x08, [n], labels));
    const bad = (name: string, data: Buffer, re: RegExp) => {
      const p = write(name, data);
      assert.throws(
        () => loadIdx(p, lab),
        (e: Error) => {
          assert.equal(e.name, "UserError");
          assert.ok(e.message.includes(name), e.message);
          assert.match(e.message, re);
          return true;
        },
      );
    };
    const magic = Buffer.from(good);
    magic[0] = 0x12;
    bad("bad-magic", magic, /magic/);
    const unknownType = Buffer.from(good);
    unknownType[2] = 0x07;
    bad("bad-type", unknownType, /magic/);
    bad("truncated", good.subarray(0, good.length - 3), /truncated/);
    bad("short-header", good.subarray(0, 9), /truncated/);
    bad("tiny", good.subarray(0, 2), /truncated/);
    bad("extra", Buffer.concat([good, Buffer.from([1, 2])]), /size mismatch/);
    bad("corrupt.gz", gzipSync(good).subarray(0, 30), /gzip/);
    bad("one-dim", idxBytes(0x08, [12], pixels.slice(0, 12)), /dimensions/);
    const img = write("images-ok", good);
    const wrongCount = write("labels-4", idxBytes(0x08, [4], labels.slice(0, 4)));
    assert.throws(() => loadIdx(img, wrongCount), { name: "UserError", message: /labels-4.*size mismatch/ });
    const floatLabels = write("labels-f", idxBytes(0x0e, [n], labels));
    assert.throws(() => loadIdx(img, floatLabels), { name: "UserError", message: /labels-f.*dtype/ });
    assert.throws(() => loadIdx(join(dir, "nope.idx"), lab), { name: "UserError", message: /nope\.idx.*no such file/ });
    assert.throws(() => loadIdx(img, lab, { numClasses: 5 }), { name: "UserError", message: /numClasses/ });
  });
});
