import { createHash } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { endianness } from "node:os";
import { dirname } from "node:path";
import { UserError } from "../core/errors.js";
import { decodeJson, encodeJson } from "./records.js";

/** The array types a checkpoint holds. */
export type CheckpointDtype = "float64" | "int32" | "uint32";
/** A typed array a checkpoint holds. */
export type CheckpointData = Float64Array | Int32Array | Uint32Array;
/** A named array with its shape (row-major; the product of `shape` is `data.length`). */
export interface CheckpointArray {
  data: CheckpointData;
  shape: number[];
}
/** What a checkpoint file holds: JSON metadata and named arrays. */
export interface CheckpointPayload {
  /** Any JSON value (non-finite numbers survive). */
  meta: unknown;
  /** A bare typed array is written with shape `[length]`; reading always gives `{data, shape}`. */
  arrays: Record<string, CheckpointArray | CheckpointData>;
}
/** A checkpoint as read back. */
export interface LoadedCheckpoint {
  meta: unknown;
  arrays: Record<string, CheckpointArray>;
}

/** The 8 bytes every checkpoint file starts with. */
export const CHECKPOINT_MAGIC = "SGDLCKPT";
/** The format version written (and the only one read). */
export const CHECKPOINT_VERSION = 1;
const PREFIX = 24;
const DIGEST = 32;
const LE = endianness() === "LE";

const ITEM: Record<CheckpointDtype, number> = { float64: 8, int32: 4, uint32: 4 };
const CTOR = { float64: Float64Array, int32: Int32Array, uint32: Uint32Array } as const;

interface HeaderEntry {
  name: string;
  dtype: CheckpointDtype;
  shape: number[];
  offset: number;
  byteLength: number;
}

function dtypeOf(a: CheckpointData): CheckpointDtype {
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint32Array) return "uint32";
  throw new UserError("checkpoint arrays must be Float64Array, Int32Array or Uint32Array");
}

const pad8 = (n: number) => (n + 7) & ~7;

/**
 * Encodes a checkpoint. Layout (all integers little-endian):
 *
 * | offset | bytes | content |
 * |---|---|---|
 * | 0 | 8 | magic `SGDLCKPT` |
 * | 8 | 4 | format version (uint32) = 1 |
 * | 12 | 4 | header length H (uint32), a multiple of 8 |
 * | 16 | 8 | data length D (uint64) |
 * | 24 | H | UTF-8 JSON `{meta, arrays: [{name, dtype, shape, offset, byteLength}]}`, space-padded |
 * | 24+H | D | raw little-endian array data; each `offset` (from the data start) is a multiple of 8 |
 * | 24+H+D | 32 | sha256 of every byte before it |
 *
 * Returns the bytes and the hex digest of the trailer.
 */
export function encodeCheckpoint(payload: CheckpointPayload): { bytes: Buffer; sha256: string } {
  const entries: HeaderEntry[] = [];
  const datas: CheckpointData[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(payload.arrays)) {
    const arr = ArrayBuffer.isView(a) ? { data: a, shape: [a.length] } : a;
    const dtype = dtypeOf(arr.data);
    const n = arr.shape.reduce((p, d) => p * d, 1);
    if (!arr.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || n !== arr.data.length) {
      throw new UserError(`checkpoint array "${name}": shape [${arr.shape}] does not hold ${arr.data.length} values`);
    }
    entries.push({ name, dtype, shape: [...arr.shape], offset, byteLength: arr.data.byteLength });
    datas.push(arr.data);
    offset = pad8(offset + arr.data.byteLength);
  }
  const dataLen = offset;
  const json = Buffer.from(encodeJson({ meta: payload.meta ?? null, arrays: entries }), "utf8");
  const headerLen = pad8(json.length);
  const total = PREFIX + headerLen + dataLen + DIGEST;
  const buf = Buffer.alloc(total);
  buf.write(CHECKPOINT_MAGIC, 0, "latin1");
  buf.writeUInt32LE(CHECKPOINT_VERSION, 8);
  buf.writeUInt32LE(headerLen, 12);
  buf.writeBigUInt64LE(BigInt(dataLen), 16);
  json.copy(buf, PREFIX);
  buf.fill(0x20, PREFIX + json.length, PREFIX + headerLen);
  const base = PREFIX + headerLen;
  entries.forEach((e, i) => {
    const d = datas[i];
    const dst = base + e.offset;
    if (LE) Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(buf, dst);
    else for (let j = 0; j < d.length; j++) writeLE(buf, dst + j * ITEM[e.dtype], e.dtype, d[j]);
  });
  const digest = createHash("sha256")
    .update(buf.subarray(0, total - DIGEST))
    .digest();
  digest.copy(buf, total - DIGEST);
  return { bytes: buf, sha256: digest.toString("hex") };
}

/** Decodes {@link encodeCheckpoint} output, verifying size and sha256; `file` names the source in errors. */
export function decodeCheckpoint(buf: Buffer, file: string): LoadedCheckpoint & { sha256: string } {
  const bad = (why: string): never => {
    throw new UserError(`checkpoint file ${file} ${why}`, 1);
  };
  if (buf.length < PREFIX + DIGEST) bad(`is truncated (${buf.length} bytes)`);
  if (buf.toString("latin1", 0, 8) !== CHECKPOINT_MAGIC) bad(`is not an sgdlab checkpoint (bad magic)`);
  const version = buf.readUInt32LE(8);
  if (version !== CHECKPOINT_VERSION) bad(`has format version ${version}; this sgdlab reads ${CHECKPOINT_VERSION}`);
  const headerLen = buf.readUInt32LE(12);
  const dataLen = Number(buf.readBigUInt64LE(16));
  const expected = PREFIX + headerLen + dataLen + DIGEST;
  if (buf.length < expected) bad(`is truncated (${buf.length} of ${expected} bytes)`);
  if (buf.length > expected) bad(`is corrupted (${buf.length - expected} bytes beyond the declared ${expected})`);
  const digest = createHash("sha256")
    .update(buf.subarray(0, expected - DIGEST))
    .digest();
  if (!digest.equals(buf.subarray(expected - DIGEST))) bad("is corrupted (sha256 mismatch)");
  let header: { meta: unknown; arrays: HeaderEntry[] };
  try {
    header = decodeJson(buf.toString("utf8", PREFIX, PREFIX + headerLen)) as typeof header;
  } catch {
    return bad("has an unreadable header");
  }
  const arrays: Record<string, CheckpointArray> = {};
  const base = PREFIX + headerLen;
  for (const e of header.arrays) {
    const size = ITEM[e.dtype];
    const n = e.shape.reduce((p, d) => p * d, 1);
    if (size === undefined || n * size !== e.byteLength || e.offset < 0 || e.offset + e.byteLength > dataLen) {
      bad(`has an inconsistent header entry for "${e.name}"`);
    }
    const start = base + e.offset;
    let data: CheckpointData;
    if (LE) {
      // ArrayBuffer.slice copies, so the typed array is aligned and owns its memory.
      const ab = buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + e.byteLength) as ArrayBuffer;
      data = new CTOR[e.dtype](ab);
    } else {
      data = new CTOR[e.dtype](n);
      for (let j = 0; j < n; j++) data[j] = readLE(buf, start + j * size, e.dtype);
    }
    arrays[e.name] = { data, shape: e.shape };
  }
  return { meta: header.meta, arrays, sha256: digest.toString("hex") };
}

/**
 * Writes a checkpoint file atomically: encode, write to `<path>.tmp-<pid>`, fsync, rename over `path`,
 * fsync the folder. A crash at any point leaves either the old file or the new one, never a torn one
 * (at worst a stray `.tmp-<pid>` file). Creates the folder. Returns the size and trailer sha256.
 */
export function writeCheckpointFile(path: string, payload: CheckpointPayload): { bytes: number; sha256: string } {
  const { bytes, sha256 } = encodeCheckpoint(payload);
  writeFileAtomic(path, bytes);
  return { bytes: bytes.length, sha256 };
}

/**
 * Writes `bytes` to `path` atomically: a temporary file `<path>.tmp-<pid>` written and fsynced, renamed
 * over `path`, then the folder fsynced. A crash leaves the old file or the new one, never a torn one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, "w");
    try {
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/** Reads and verifies a checkpoint file; a missing, truncated or corrupted file gives a `UserError` naming it. */
export function readCheckpointFile(path: string): LoadedCheckpoint & { sha256: string } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new UserError(`cannot read checkpoint file ${path}: ${(e as Error).message}`, 1);
  }
  return decodeCheckpoint(buf, path);
}

/** fsync a folder so a rename in it is durable; some platforms (Windows) cannot, which is ignored. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // not supported on this platform
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeLE(buf: Buffer, at: number, dtype: CheckpointDtype, v: number): void {
  if (dtype === "float64") buf.writeDoubleLE(v, at);
  else if (dtype === "int32") buf.writeInt32LE(v, at);
  else buf.writeUInt32LE(v, at);
}

function readLE(buf: Buffer, at: number, dtype: CheckpointDtype): number {
  if (dtype === "float64") return buf.readDoubleLE(at);
  return dtype === "int32" ? buf.readInt32LE(at) : buf.readUInt32LE(at);
}
