// The safetensors reader against files built by hand, byte by byte, independently of
// `encodeSafetensors`: an 8-byte little-endian header length, the JSON header, then the little-endian
// tensor bytes (format: https://github.com/huggingface/safetensors, "Format" section).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readSafetensors } from "./safetensors.js";

const dir = mkdtempSync(join(tmpdir(), "sgdlab-safetensors-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes `bytes` to a fresh file and returns its path. */
function file(bytes: Uint8Array): string {
  const p = join(dir, `f${counter++}.safetensors`);
  writeFileSync(p, bytes);
  return p;
}

/** Header length (u64 LE, written with DataView) + header text + body. */
function assemble(headerText: string, body: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const head = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + head.length + body.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(head.length), true);
  out.set(head, 8);
  out.set(body, 8 + head.length);
  return out;
}

type Writer = (view: DataView, offset: number, value: number) => void;
const WRITERS: Record<string, [number, Writer]> = {
  F64: [8, (v, o, x) => v.setFloat64(o, x, true)],
  F32: [4, (v, o, x) => v.setFloat32(o, x, true)],
  I64: [8, (v, o, x) => v.setBigInt64(o, BigInt(x), true)],
  I32: [4, (v, o, x) => v.setInt32(o, x, true)],
  U8: [1, (v, o, x) => v.setUint8(o, x)],
};

/** The body bytes of `values` in `dtype`, little-endian. */
function bytesOf(dtype: string, values: number[]): Uint8Array {
  const [w, write] = WRITERS[dtype];
  const b = new Uint8Array(w * values.length);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => write(v, i * w, x));
  return b;
}

describe("readSafetensors on hand-built files", () => {
  it("reads literal bytes: F32 [1, -2] and U8 [7]", () => {
    // header {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}}
    const header =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}}';
    assert.equal(header.length, 106);
    // prettier-ignore
    const bytes = Uint8Array.from([
      // 106 = 0x6a as u64 little-endian
      0x6a, 0, 0, 0, 0, 0, 0, 0,
      ...Buffer.from(header, "ascii"),
      // 1.0f = 0x3f800000, -2.0f = 0xc0000000, little-endian
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0,
      0x07,
    ]);
    const { tensors } = readSafetensors(file(bytes));
    assert.deepEqual(Object.keys(tensors).sort(), ["a", "b"]);
    assert.equal(tensors.a.dtype, "F32");
    assert.deepEqual(tensors.a.shape, [2]);
    assert.deepEqual([...tensors.a.data], [1, -2]);
    assert.deepEqual([...tensors.b.data], [7]);
  });

  it("reads F64, F32, I64, I32 and U8 tensors, in any byte order, with metadata and header padding", () => {
    const f64 = [0.1, -1e300, Number.MIN_VALUE, 2 ** 53, -0.5, 3];
    const f32 = [0.1, -3.5, 1e-7, 65504.25];
    const i64 = [-5, 2 ** 40 + 3, 0, -(2 ** 52)];
    const i32 = [-7, 2147483647, -2147483648, 0, 12, 13];
    const u8 = [0, 255, 128, 1];
    // body layout deliberately not in header order: u8, i32, f64, i64, f32
    const parts: [string, string, number[], number[]][] = [
      ["u", "U8", [2, 2], u8],
      ["i32", "I32", [3, 2], i32],
      ["w.f64", "F64", [2, 3], f64],
      ["i64", "I64", [4], i64],
      ["f32", "F32", [2, 1, 2], f32],
    ];
    const header: Record<string, unknown> = { __metadata__: { format: "pt", note: "hand-built" } };
    const bodies: Uint8Array[] = [];
    let offset = 0;
    for (const [name, dtype, shape, values] of parts) {
      const b = bytesOf(dtype, values);
      header[name] = { dtype, shape, data_offsets: [offset, offset + b.length] };
      bodies.push(b);
      offset += b.length;
    }
    const body = new Uint8Array(offset);
    let o = 0;
    for (const b of bodies) {
      body.set(b, o);
      o += b.length;
    }
    // keys in a different order than the data, and trailing spaces (allowed by the format)
    const ordered = Object.fromEntries(["f32", "__metadata__", "w.f64", "i64", "u", "i32"].map((k) => [k, header[k]]));
    let text = JSON.stringify(ordered);
    while ((8 + text.length) % 8) text += " ";
    const { tensors, metadata } = readSafetensors(file(assemble(text, body)));
    assert.deepEqual(metadata, { format: "pt", note: "hand-built" });
    assert.deepEqual(Object.keys(tensors).sort(), ["f32", "i32", "i64", "u", "w.f64"]);
    for (const [name, dtype, shape, values] of parts) {
      const t = tensors[name];
      assert.equal(t.dtype, dtype, name);
      assert.deepEqual(t.shape, shape, name);
      assert.ok(t.data instanceof Float64Array);
      const expected = dtype === "F32" ? values.map(Math.fround) : values;
      assert.deepEqual([...t.data], expected, name);
    }
  });

  it("reads a scalar (shape []) and an empty tensor (a zero dimension)", () => {
    const text = JSON.stringify({
      s: { dtype: "F64", shape: [], data_offsets: [0, 8] },
      e: { dtype: "F32", shape: [0, 3], data_offsets: [8, 8] },
    });
    const { tensors } = readSafetensors(file(assemble(text, bytesOf("F64", [-2.75]))));
    assert.deepEqual(tensors.s.shape, []);
    assert.deepEqual([...tensors.s.data], [-2.75]);
    assert.deepEqual(tensors.e.shape, [0, 3]);
    assert.equal(tensors.e.data.length, 0);
  });
});

describe("readSafetensors on malformed files", () => {
  const one = JSON.stringify({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } });
  const good = assemble(one, bytesOf("F32", [1, 2]));
  const userError = (re: RegExp) => (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.name, "UserError", `${e.name}: ${e.message}`);
    assert.match(e.message, re);
    assert.match(e.message, /safetensors file/);
    return true;
  };

  it("a good file reads (control for the cases below)", () => {
    assert.deepEqual([...readSafetensors(file(good)).tensors.a.data], [1, 2]);
  });

  it("a missing file", () => {
    assert.throws(() => readSafetensors(join(dir, "missing.safetensors")), userError(/no such file/));
  });

  it("fewer than 8 bytes", () => {
    assert.throws(() => readSafetensors(file(good.subarray(0, 5))), userError(/too short \(5 bytes\)/));
  });

  it("a header length of 0, past the end of the file, or absurdly large", () => {
    for (const n of [0n, BigInt(one.length + 9), 2n ** 63n]) {
      const bytes = assemble(one, bytesOf("F32", [1, 2]), n);
      assert.throws(() => readSafetensors(file(bytes)), userError(/header length/), `length ${n}`);
    }
  });

  it("truncated inside the header", () => {
    assert.throws(() => readSafetensors(file(good.subarray(0, 8 + 10))), userError(/header length/));
  });

  it("truncated inside the tensor data", () => {
    assert.throws(() => readSafetensors(file(good.subarray(0, good.length - 1))), userError(/data_offsets/));
  });

  it("a header that is not JSON", () => {
    assert.throws(() => readSafetensors(file(assemble("{not json", new Uint8Array(0)))), userError(/not valid JSON/));
  });

  it("a header that is JSON but not an object of tensors", () => {
    for (const text of ["null", "[1,2]", "7", '"x"', '{"a":null}', '{"a":7}']) {
      assert.throws(() => readSafetensors(file(assemble(text, new Uint8Array(0)))), userError(/./), text);
    }
  });

  it("offsets out of range, reversed, negative or not matching the shape", () => {
    const cases: [unknown, string][] = [
      [[0, 12], "end past the file"],
      [[4, 12], "shifted past the file"],
      [[0, 4], "fewer bytes than the shape needs"],
      [[8, 0], "reversed"],
      [[-4, 4], "negative begin"],
      [[0.5, 8.5], "not integers"],
      [[0], "one offset"],
      ["0,8", "not an array"],
    ];
    for (const [offsets, why] of cases) {
      const text = JSON.stringify({ a: { dtype: "F32", shape: [2], data_offsets: offsets } });
      assert.throws(() => readSafetensors(file(assemble(text, bytesOf("F32", [1, 2])))), userError(/a/), why);
    }
    // a negative begin must not read header bytes as data
    const neg = JSON.stringify({ a: { dtype: "U8", shape: [2], data_offsets: [-2, 0] } });
    assert.throws(() => readSafetensors(file(assemble(neg, new Uint8Array(0)))), userError(/data_offsets/));
  });

  it("an unsupported dtype and a bad shape", () => {
    for (const dtype of ["F16", "BF16", "BOOL", undefined]) {
      const text = JSON.stringify({ a: { dtype, shape: [2], data_offsets: [0, 4] } });
      assert.throws(() => readSafetensors(file(assemble(text, new Uint8Array(4)))), userError(/dtype/), String(dtype));
    }
    for (const shape of [[-2], [1.5], "2", null]) {
      const text = JSON.stringify({ a: { dtype: "U8", shape, data_offsets: [0, 2] } });
      assert.throws(
        () => readSafetensors(file(assemble(text, new Uint8Array(2)))),
        userError(/shape/),
        JSON.stringify(shape),
      );
    }
  });
});
