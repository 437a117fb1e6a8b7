/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0, as written by `numpy.save`).
 */
import { endianness } from "node:os";
import { UserError } from "../core/errors.js";
import { makeDataset } from "./dataset.js";
import { readDataFile } from "./files.js";
import type { Dataset } from "./types.js";

/** An array read from an `.npy` file; floats come back as Float64Array, integers as Int32Array. */
export interface NpyArray {
  shape: number[];
  /** Normalized dtype: "f4", "f8", "u1", "i4" or "i8". */
  dtype: "f4" | "f8" | "u1" | "i4" | "i8";
  data: Float64Array | Int32Array;
}

const SIZES = { f4: 4, f8: 8, u1: 1, i4: 4, i8: 8 } as const;
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

function headerField(header: string, key: string): string | undefined {
  const m = new RegExp(`['"]${key}['"]\\s*:\\s*(\\([^)]*\\)|'[^']*'|"[^"]*"|\\[|True|False)`).exec(header);
  return m?.[1];
}

/**
 * Reads an `.npy` file (gzipped or not). Layout: magic "\x93NUMPY", major and minor version bytes,
 * the header length (uint16 LE for v1, uint32 LE for v2/v3), a Python dict literal with `descr`,
 * `fortran_order` and `shape`, then the raw values. Supported dtypes: f4, f8, u1, i4, i8 with the
 * byte-order prefix "<", "|" or "=" (little-endian); C order only. i8 values must fit in int32.
 * Every problem (wrong magic, bad version, unsupported dtype, Fortran order, truncated or oversized
 * data) throws a `UserError` naming the file.
 */
export function readNpy(path: string, what = "npy file"): NpyArray {
  const buf = readDataFile(path, what);
  const fail = (problem: string) => new UserError(`${what} "${path}": ${problem}`);
  if (buf.length < 10 || !MAGIC.every((b, i) => buf[i] === b)) {
    throw fail('wrong magic number (an .npy file starts with "\\x93NUMPY")');
  }
  const major = buf[6];
  if (major < 1 || major > 3) throw fail(`unsupported format version ${major}.${buf[7]} (expected 1, 2 or 3)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) throw fail("truncated header");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (buf.length < start + headerLen) {
    throw fail(`truncated header: it claims ${headerLen} bytes, the file has ${buf.length - start}`);
  }
  const header = buf.toString(major === 3 ? "utf8" : "latin1", start, start + headerLen);
  const descr = headerField(header, "descr");
  const fortran = headerField(header, "fortran_order");
  const shapeText = headerField(header, "shape");
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw fail(`bad header ${JSON.stringify(header.trim())} (needs 'descr', 'fortran_order' and 'shape')`);
  }
  if (descr === "[") throw fail("bad dtype: structured arrays are not supported");
  const dt = descr.slice(1, -1);
  const m = /^([<|=>]?)(f4|f8|u1|i4|i8)$/.exec(dt);
  if (m === null) throw fail(`bad dtype '${dt}' (supported: <f4, <f8, |u1, <i4, <i8)`);
  const order = m[1] === "=" ? (endianness() === "LE" ? "<" : ">") : m[1];
  const dtype = m[2] as NpyArray["dtype"];
  if (order === ">" && dtype !== "u1") throw fail(`bad dtype '${dt}': big-endian data is not supported`);
  if (fortran === "True")
    throw fail("fortran_order is True: only C-order arrays are supported (save with np.ascontiguousarray)");
  if (fortran !== "False") throw fail(`bad header: fortran_order is ${fortran}`);
  const dims = shapeText
    .slice(1, -1)
    .split(",")
    .map((s) => s.trim().replace(/L$/, ""))
    .filter((s) => s !== "");
  if (!dims.every((s) => /^\d+$/.test(s))) throw fail(`bad header: shape ${shapeText}`);
  const shape = dims.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = SIZES[dtype];
  const offset = start + headerLen;
  const have = buf.length - offset;
  if (have < count * size) {
    throw fail(`truncated data: shape (${shape.join(", ")}) of ${dtype} needs ${count * size} bytes, found ${have}`);
  }
  if (have > count * size) {
    throw fail(`size mismatch: shape (${shape.join(", ")}) of ${dtype} needs ${count * size} bytes, found ${have}`);
  }
  let data: Float64Array | Int32Array;
  if (dtype === "f4" || dtype === "f8") {
    data = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      data[i] = dtype === "f4" ? view.getFloat32(offset + 4 * i, true) : view.getFloat64(offset + 8 * i, true);
    }
  } else {
    data = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      if (dtype === "u1") data[i] = buf[offset + i];
      else if (dtype === "i4") data[i] = view.getInt32(offset + 4 * i, true);
      else {
        const v = view.getBigInt64(offset + 8 * i, true);
        if (v < -(2n ** 31n) || v >= 2n ** 31n) throw fail(`int64 value ${v} at index ${i} does not fit in int32`);
        data[i] = Number(v);
      }
    }
  }
  return { shape, dtype, data };
}

/** Options of `loadNpyDataset`. */
export interface NpyDatasetOptions {
  /** Default: "classification" when y has an integer dtype, "regression" when it has a float one. */
  task?: "classification" | "regression";
  /** Number of classes (classification); default max(label) + 1. */
  numClasses?: number;
  /** Dataset name; default "npy:<x file>". */
  name?: string;
}

/**
 * A dataset from an x array of shape [n, ...s] (xShape = s, or [1] when x is 1-D) and a y array:
 * class labels of shape [n] or [n, 1] (integers >= 0; float dtypes allowed when integer-valued) or
 * regression targets of shape [n] (targetDim 1) or [n, k]. Mismatched row counts or bad labels throw
 * a `UserError` naming the file.
 */
export function loadNpyDataset(xPath: string, yPath: string, opts: NpyDatasetOptions = {}): Dataset {
  const xa = readNpy(xPath, "npy x file");
  const ya = readNpy(yPath, "npy y file");
  const failY = (problem: string) => new UserError(`npy y file "${yPath}": ${problem}`);
  if (xa.shape.length < 1) throw new UserError(`npy x file "${xPath}": expected an array of rows, found a scalar`);
  const n = xa.shape[0];
  if (ya.shape.length < 1 || ya.shape.length > 2) {
    throw failY(`expected shape [n] or [n, k], found (${ya.shape.join(", ")})`);
  }
  if (ya.shape[0] !== n) throw failY(`size mismatch: ${ya.shape[0]} rows, but "${xPath}" has ${n}`);
  const xShape = xa.shape.length === 1 ? [1] : xa.shape.slice(1);
  if (xShape.includes(0))
    throw new UserError(`npy x file "${xPath}": rows have zero size, shape (${xa.shape.join(", ")})`);
  const x = xa.data instanceof Float64Array ? xa.data : Float64Array.from(xa.data);
  const name = opts.name ?? `npy:${xPath}`;
  const task = opts.task ?? (ya.dtype.startsWith("f") ? "regression" : "classification");
  if (task === "regression") {
    const targetDim = ya.shape.length === 2 ? ya.shape[1] : 1;
    const targets = ya.data instanceof Float64Array ? ya.data : Float64Array.from(ya.data);
    return makeDataset({ name, xShape, x, targets, targetDim });
  }
  if (ya.shape.length === 2 && ya.shape[1] !== 1) {
    throw failY(`class labels need shape [n] or [n, 1], found (${ya.shape.join(", ")})`);
  }
  const labels = new Int32Array(n);
  let max = -1;
  for (let i = 0; i < n; i++) {
    const v = ya.data[i];
    if (!Number.isInteger(v) || v < 0) throw failY(`label ${v} at index ${i} is not a non-negative integer`);
    labels[i] = v;
    max = Math.max(max, v);
  }
  const numClasses = opts.numClasses ?? max + 1;
  if (max >= numClasses) throw failY(`label ${max} >= numClasses ${numClasses}`);
  return makeDataset({ name, xShape, x, labels, numClasses });
}
