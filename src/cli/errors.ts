/**
 * Every error that reaches the CLI's top level becomes one line and an exit code: `UserError`s as
 * they are, SQLite and file-system errors as what they mean for the user, anything else as an
 * "internal error" line (its stack only with SGDLAB_DEBUG=1).
 */
import { UserError } from "../core/errors.js";

const ERRNO: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EISDIR: "is a folder",
  ENOTDIR: "a component of the path is not a folder",
  ENOENT: "no such file or folder",
  EEXIST: "already exists",
  EMFILE: "too many open files",
};

/**
 * What jax-js 0.1.25 throws where its WebGPU backend lacks something a spec needs: an op or dtype
 * without a WGSL kernel (`X<dtype> not supported in webgpu backend`, `Unsupported dtype for WebGPU`),
 * a routine (`routine 'X' is not supported in webgpu backend`), or a limit of the adapter.
 */
const WEBGPU_LIMITS =
  /not supported in webgpu backend|Unsupported dtype for WebGPU|for WebGPU pipeline|WebGPU device does not support/;

/** The message (without the `sgdlab: ` prefix) and exit code for an error. */
export function describeError(e: unknown): { message: string; exitCode: number } {
  if (e instanceof UserError) return { message: e.message, exitCode: e.exitCode };
  const err = e as { code?: unknown; message?: unknown; path?: unknown; syscall?: unknown; stack?: unknown };
  const code = typeof err?.code === "string" ? err.code : "";
  const text = typeof err?.message === "string" ? err.message : String(e);
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return {
      message: `the run store's database is damaged (${code}: ${text}); copy it aside and recover what you can with sqlite3 ".recover"`,
      exitCode: 2,
    };
  }
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return { message: `the run store is locked by another process (${code}); try again`, exitCode: 1 };
  }
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code)) {
    return { message: `cannot write the run store: ${text} (${code})`, exitCode: 2 };
  }
  if (/^SQLITE_(FULL|IOERR)/.test(code)) return { message: `run store I/O error: ${text} (${code})`, exitCode: 1 };
  if (code in ERRNO) {
    const where = typeof err.path === "string" ? `${err.path}: ` : "";
    return {
      message: `${where}${ERRNO[code]} (${code}${err.syscall ? ` in ${String(err.syscall)}` : ""})`,
      exitCode: 2,
    };
  }
  if (WEBGPU_LIMITS.test(text)) {
    return {
      message: `backend: webgpu: jax-js's WebGPU backend cannot run this (${text.split("\n")[0]}); use backend: wasm`,
      exitCode: 2,
    };
  }
  const debug = process.env.SGDLAB_DEBUG === "1" && typeof err?.stack === "string";
  return {
    message: `internal error: ${text.split("\n")[0]}${debug ? `\n${String(err.stack)}` : " (set SGDLAB_DEBUG=1 for details)"}`,
    exitCode: 1,
  };
}
