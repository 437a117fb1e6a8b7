/**
 * Reading data files for the loaders: file-system errors and corrupt gzip streams become `UserError`s
 * that name the file.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { UserError } from "../core/errors.js";

/**
 * The bytes of `path`, gunzipped when the file starts with the gzip magic bytes 1f 8b (whatever
 * its extension). `what` names the file's role in messages, e.g. "idx images file".
 */
export function readDataFile(path: string, what: string): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (e as Error).message;
    throw new UserError(`${what} "${path}": cannot read (${why})`);
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new UserError(`${what} "${path}": corrupt gzip data (${(e as Error).message})`);
    }
  }
  return buf;
}
