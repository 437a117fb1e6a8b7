/**
 * A reader for the safetensors format (Hugging Face): an 8-byte little-endian header length N, a
 * JSON header of N bytes `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`,
 * then the raw little-endian tensor bytes (offsets relative to the end of the header).
 * Supported dtypes: F64, F32, F16 is not (Wasm has none), I64, I32, U8. Errors are `UserError`s
 * naming the file and the problem.
 */
import { UserError } from "../core/errors.js";
import { readDataFile } from "./files.js";

/** One tensor, converted to float64, row-major. */
export interface SafeTensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly data: Float64Array;
}

const WIDTH: Record<string, number> = { F64: 8, F32: 4, I64: 8, I32: 4, U8: 1 };

/** Reads every tensor of a .safetensors file. */
export function readSafetensors(path: string): {
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
} {
  const buf = readDataFile(path, "safetensors file");
  const bad = (what: string): never => {
    throw new UserError(`safetensors file ${path}: ${what}`);
  };
  if (buf.length < 8) bad(`too short (${buf.length} bytes)`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n <= 0 || 8 + n > buf.length) bad(`header length ${n} does not fit in ${buf.length} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")) as Record<string, unknown>;
  } catch {
    return bad("header is not valid JSON");
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(header)) bad("header is not a JSON object of tensors");
  const base = 8 + n;
  const tensors: Record<string, SafeTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isObject(entry)) bad("__metadata__ is not an object");
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isObject(entry)) bad(`tensor "${name}" is not an object`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(e.dtype);
    const width = WIDTH[dtype];
    if (!width) bad(`tensor "${name}" has dtype ${dtype}; supported: ${Object.keys(WIDTH).join(", ")}`);
    const shape = e.shape as number[];
    if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0))
      bad(`tensor "${name}" has a bad shape`);
    const [begin, end] = (e.data_offsets ?? []) as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!(
      Number.isInteger(begin) &&
      Number.isInteger(end) &&
      begin >= 0 &&
      end >= begin &&
      end - begin === count * width &&
      base + end <= buf.length
    )) {
      bad(
        `tensor "${name}": data_offsets [${begin}, ${end}] do not match shape [${shape}] × ${width} bytes within the file`,
      );
    }
    const data = new Float64Array(count);
    const o = base + begin;
    for (let i = 0; i < count; i++) {
      const p = o + i * width;
      data[i] =
        dtype === "F64"
          ? buf.readDoubleLE(p)
          : dtype === "F32"
            ? buf.readFloatLE(p)
            : dtype === "I64"
              ? Number(buf.readBigInt64LE(p))
              : dtype === "I32"
                ? buf.readInt32LE(p)
                : buf[p];
    }
    tensors[name] = { dtype, shape, data };
  }
  return { tensors, metadata };
}

/**
 * Encodes tensors as safetensors (all F64 or all F32, little-endian, in insertion order), with an
 * optional `__metadata__` map of strings. The header is padded with spaces to a multiple of 8 bytes,
 * so the data of every tensor starts 8-byte aligned (as the format's reference writer does).
 */
export function encodeSafetensors(
  tensors: Record<string, { shape: number[]; data: ArrayLike<number> }>,
  dtype: "F64" | "F32" = "F64",
  metadata?: Record<string, string>,
): Buffer {
  const width = WIDTH[dtype];
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === "__metadata__") throw new UserError('a tensor cannot be named "__metadata__"');
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new UserError(`tensor "${name}": shape [${t.shape}] does not hold ${t.data.length} values`);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length * width] };
    offset += t.data.length * width;
  }
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const headerLen = (json.length + 7) & ~7;
  const buf = Buffer.alloc(8 + headerLen + offset, 0x20);
  buf.writeBigUInt64LE(BigInt(headerLen), 0);
  json.copy(buf, 8);
  let o = 8 + headerLen;
  for (const t of Object.values(tensors)) {
    for (let i = 0; i < t.data.length; i++, o += width) {
      if (dtype === "F64") buf.writeDoubleLE(t.data[i], o);
      else buf.writeFloatLE(t.data[i], o);
    }
  }
  return buf;
}
