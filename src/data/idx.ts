/**
 * IDX files (the format of the original MNIST distribution, LeCun et al. 1998), plain or gzipped.
 */
import { UserError } from "../core/errors.js";
import { makeDataset } from "./dataset.js";
import { readDataFile } from "./files.js";
import type { Dataset } from "./types.js";

const IDX_TYPES: Record<number, { name: string; size: number; read: (v: DataView, off: number) => number }> = {
  0x08: { name: "uint8", size: 1, read: (v, o) => v.getUint8(o) },
  0x09: { name: "int8", size: 1, read: (v, o) => v.getInt8(o) },
  0x0b: { name: "int16", size: 2, read: (v, o) => v.getInt16(o, false) },
  0x0c: { name: "int32", size: 4, read: (v, o) => v.getInt32(o, false) },
  0x0d: { name: "float32", size: 4, read: (v, o) => v.getFloat32(o, false) },
  0x0e: { name: "float64", size: 8, read: (v, o) => v.getFloat64(o, false) },
};

/** The contents of an IDX file: its dimensions, element type and values. */
export interface IdxArray {
  shape: number[];
  dtype: string;
  data: Float64Array;
}

/**
 * Reads an IDX file (gzipped or not). Layout: bytes 0–1 zero, byte 2 the type code (0x08 uint8,
 * 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), byte 3 the number of dimensions
 * m, then m big-endian uint32 sizes, then the values big-endian in row-major order. Wrong magic
 * bytes, unknown types, truncated or oversized files throw a `UserError` naming the file.
 */
export function readIdx(path: string, what = "idx file"): IdxArray {
  const buf = readDataFile(path, what);
  const fail = (problem: string) => new UserError(`${what} "${path}": ${problem}`);
  if (buf.length < 4) throw fail(`truncated: ${buf.length} bytes, too short for an IDX header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  const type = IDX_TYPES[buf[2]];
  if (buf[0] !== 0 || buf[1] !== 0 || type === undefined) {
    throw fail(`wrong magic number 0x${magic.toString(16).padStart(8, "0")} (not an IDX file)`);
  }
  const ndim = buf[3];
  if (ndim < 1) throw fail("wrong magic number: zero dimensions");
  const header = 4 + 4 * ndim;
  if (buf.length < header) throw fail(`truncated: the header needs ${header} bytes, the file has ${buf.length}`);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * type.size;
  const have = buf.length - header;
  if (have < expected) {
    throw fail(`truncated data: shape [${shape.join(", ")}] of ${type.name} needs ${expected} bytes, found ${have}`);
  }
  if (have > expected) {
    throw fail(`size mismatch: shape [${shape.join(", ")}] of ${type.name} needs ${expected} bytes, found ${have}`);
  }
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = type.read(view, header + i * type.size);
  return { shape, dtype: type.name, data };
}

/** Options of `loadIdx`. */
export interface IdxOptions {
  /** "flat" gives xShape [h·w], "image" gives [1, h, w] (or [c, h, w] for 4-D files). Default "flat". */
  layout?: "flat" | "image";
  /** Number of classes; default max(label) + 1. */
  numClasses?: number;
  /** Dataset name; default "idx:<images file>". */
  name?: string;
}

/**
 * A classification dataset from an IDX images file ([n, h, w], [n, c, h, w] or [n, d]) and an IDX
 * labels file ([n], integer type). uint8 pixels are divided by 255 (values in [0, 1]); other types
 * are kept as stored. Mismatched counts, non-integer or negative labels throw a `UserError`.
 */
export function loadIdx(imagesPath: string, labelsPath: string, opts: IdxOptions = {}): Dataset {
  const images = readIdx(imagesPath, "idx images file");
  const labels = readIdx(labelsPath, "idx labels file");
  const fail = (path: string, what: string, problem: string) => new UserError(`${what} "${path}": ${problem}`);
  if (images.shape.length < 2 || images.shape.length > 4) {
    throw fail(imagesPath, "idx images file", `expected 2 to 4 dimensions, found [${images.shape.join(", ")}]`);
  }
  if (labels.shape.length !== 1) {
    throw fail(labelsPath, "idx labels file", `expected 1 dimension, found [${labels.shape.join(", ")}]`);
  }
  if (labels.dtype.startsWith("float"))
    throw fail(labelsPath, "idx labels file", `bad dtype ${labels.dtype} for labels`);
  const n = images.shape[0];
  if (labels.shape[0] !== n) {
    throw fail(
      labelsPath,
      "idx labels file",
      `size mismatch: ${labels.shape[0]} labels for ${n} images in "${imagesPath}"`,
    );
  }
  const y = new Int32Array(n);
  let max = -1;
  for (let i = 0; i < n; i++) {
    const v = labels.data[i];
    if (v < 0) throw fail(labelsPath, "idx labels file", `negative label ${v} at index ${i}`);
    y[i] = v;
    max = Math.max(max, v);
  }
  const numClasses = opts.numClasses ?? max + 1;
  if (max >= numClasses) throw fail(labelsPath, "idx labels file", `label ${max} >= numClasses ${numClasses}`);
  const x = images.data;
  if (images.dtype === "uint8") for (let i = 0; i < x.length; i++) x[i] /= 255;
  const rest = images.shape.slice(1);
  const d = rest.reduce((a, b) => a * b, 1);
  const image = rest.length === 2 ? [1, ...rest] : rest;
  const layout = opts.layout ?? "flat";
  if (layout === "image" && rest.length < 2) {
    throw fail(
      imagesPath,
      "idx images file",
      `layout "image" needs 3-D or 4-D images, found [${images.shape.join(", ")}]`,
    );
  }
  return makeDataset({
    name: opts.name ?? `idx:${imagesPath}`,
    xShape: layout === "image" ? image : [d],
    x,
    labels: y,
    numClasses,
  });
}
