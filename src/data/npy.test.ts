import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadNpyDataset, readNpy } from "./npy.js";

const dir = mkdtempSync(join(tmpdir(), "sgdlab-npy-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An .npy file as numpy.save writes it (header padded to a multiple of 64 bytes, ending in "\n"). */
function npyBytes(
  descr: string,
  shape: number[],
  values: number[],
  { version = 1, fortran = false, header }: { version?: number; fortran?: boolean; header?: string } = {},
): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = header ?? `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  while ((pre + dict.length + 1) % 64 !== 0) dict += " ";
  dict += "\n";
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(dict.length, 8);
  else head.writeUInt32LE(dict.length, 8);
  const t = descr.slice(1);
  const size = { f4: 4, f8: 8, u1: 1, i4: 4, i8: 8 }[t] ?? 8;
  const data = Buffer.alloc(size * values.length);
  values.forEach((v, i) => {
    if (t === "f4") data.writeFloatLE(v, 4 * i);
    else if (t === "f8") data.writeDoubleLE(v, 8 * i);
    else if (t === "u1") data.writeUInt8(v, i);
    else if (t === "i4") data.writeInt32LE(v, 4 * i);
    else if (t === "i8") data.writeBigInt64LE(BigInt(v), 8 * i);
    else data.writeDoubleBE(v, 8 * i);
  });
  return Buffer.concat([head, Buffer.from(dict, version === 3 ? "utf8" : "latin1"), data]);
}

function write(name: string, data: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

describe("NPY reader", () => {
  const cases: [string, number[], boolean][] = [
    ["f4", [Math.fround(0.1), -3.5, Math.fround(1e-20), 0, 7, Math.fround(-2.2)], true],
    ["f8", [0.1, -1e-300, Math.PI, 0, 7, -2.2], true],
    ["u1", [0, 1, 127, 128, 254, 255], false],
    ["i4", [-(2 ** 31), -1, 0, 1, 12345, 2 ** 31 - 1], false],
    ["i8", [-(2 ** 31), -1, 0, 1, 12345, 2 ** 31 - 1], false],
  ];
  for (const [t, values, isFloat] of cases) {
    for (const prefix of ["<", "|", "="]) {
      for (const version of [1, 2, 3]) {
        it(`round-trips ${prefix}${t} exactly (format v${version})`, () => {
          const p = write(`${t}-${version}.npy`, npyBytes(`${prefix}${t}`, [2, 3], values, { version }));
          const a = readNpy(p);
          assert.deepEqual(a.shape, [2, 3]);
          assert.equal(a.dtype, t);
          assert.ok(isFloat ? a.data instanceof Float64Array : a.data instanceof Int32Array);
          assert.deepEqual(Array.from(a.data), values);
        });
      }
    }
  }

  it("reads 1-D and 0-D shapes", () => {
    assert.deepEqual(readNpy(write("vec.npy", npyBytes("<f8", [3], [1, 2, 3]))).shape, [3]);
    const scalar = readNpy(write("scalar.npy", npyBytes("<f8", [], [4.5])));
    assert.deepEqual(scalar.shape, []);
    assert.deepEqual(Array.from(scalar.data), [4.5]);
  });

  it("reports unsupported and corrupt files as UserErrors naming the file", () => {
    const bad = (name: string, data: Buffer, re: RegExp) => {
      const p = write(name, data);
      assert.throws(
        () => readNpy(p),
        (e: Error) => {
          assert.equal(e.name, "UserError");
          assert.ok(e.message.includes(name), e.message);
          assert.match(e.message, re);
          return true;
        },
      );
    };
    const good = npyBytes("<f8", [2, 3], [1, 2, 3, 4, 5, 6]);
    bad("fortran.npy", npyBytes("<f8", [2, 3], [1, 2, 3, 4, 5, 6], { fortran: true }), /fortran_order/);
    bad("f2.npy", npyBytes("<f2", [1], [0]), /bad dtype '<f2'/);
    bad("big.npy", npyBytes(">f8", [1], [1]), /big-endian/);
    bad(
      "struct.npy",
      npyBytes("<f8", [1], [1], { header: "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }" }),
      /structured/,
    );
    bad(
      "noshape.npy",
      npyBytes("<f8", [1], [1], { header: "{'descr': '<f8', 'fortran_order': False, }" }),
      /bad header/,
    );
    const magic = Buffer.from(good);
    magic[1] = 0x41;
    bad("magic.npy", magic, /magic/);
    const ver = Buffer.from(good);
    ver[6] = 4;
    bad("version.npy", ver, /version 4/);
    bad("truncated.npy", good.subarray(0, good.length - 1), /truncated data/);
    bad("header-cut.npy", good.subarray(0, 40), /truncated header/);
    bad("extra.npy", Buffer.concat([good, Buffer.alloc(8)]), /size mismatch/);
    bad("i8big.npy", npyBytes("<i8", [1], [2 ** 40]), /int32/);
    assert.throws(() => readNpy(join(dir, "absent.npy")), { name: "UserError", message: /absent\.npy.*no such file/ });
  });
});

describe("loadNpyDataset", () => {
  it("turns x [n, ...] and integer y [n] into a classification dataset", () => {
    const xv = Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.fround(i / 7));
    const x = write("x.npy", npyBytes("<f4", [4, 2, 3], xv));
    const y = write("y.npy", npyBytes("<i8", [4], [2, 0, 1, 2]));
    const ds = loadNpyDataset(x, y);
    assert.equal(ds.task, "classification");
    assert.deepEqual(ds.xShape, [2, 3]);
    assert.deepEqual(Array.from(ds.x), xv);
    assert.deepEqual(Array.from(ds.labels!), [2, 0, 1, 2]);
    assert.equal(ds.numClasses, 3);
    assert.equal(loadNpyDataset(x, y, { numClasses: 10 }).numClasses, 10);
    const yFloat = write("yf.npy", npyBytes("<f8", [4, 1], [1, 0, 1, 0]));
    assert.deepEqual(Array.from(loadNpyDataset(x, yFloat, { task: "classification" }).labels!), [1, 0, 1, 0]);
  });

  it("turns float y [n, k] into regression targets", () => {
    const x = write("xr.npy", npyBytes("<f8", [3, 2], [1, 2, 3, 4, 5, 6]));
    const y = write("yr.npy", npyBytes("<f8", [3, 2], [0.5, -1, 2, 3, 4, 5.25]));
    const ds = loadNpyDataset(x, y);
    assert.equal(ds.task, "regression");
    assert.equal(ds.targetDim, 2);
    assert.deepEqual(Array.from(ds.targets!), [0.5, -1, 2, 3, 4, 5.25]);
    const y1 = write("yr1.npy", npyBytes("<f8", [3], [1, 2, 3]));
    assert.equal(loadNpyDataset(x, y1).targetDim, 1);
  });

  it("rejects mismatched rows and bad labels naming the y file", () => {
    const x = write("xm.npy", npyBytes("<f8", [3, 2], [1, 2, 3, 4, 5, 6]));
    const y = write("ym.npy", npyBytes("<i4", [2], [0, 1]));
    assert.throws(() => loadNpyDataset(x, y), { name: "UserError", message: /ym\.npy.*size mismatch/ });
    const yNeg = write("yneg.npy", npyBytes("<i4", [3], [0, -1, 1]));
    assert.throws(() => loadNpyDataset(x, yNeg), { name: "UserError", message: /yneg\.npy.*label -1/ });
    const yFrac = write("yfrac.npy", npyBytes("<f8", [3], [0, 0.5, 1]));
    assert.throws(() => loadNpyDataset(x, yFrac, { task: "classification" }), {
      name: "UserError",
      message: /yfrac\.npy.*label 0\.5/,
    });
  });
});
