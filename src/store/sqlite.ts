import Database from "better-sqlite3";
import {
  accessSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  type Stats,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check, UserError } from "../core/errors.js";
import { migrate, SCHEMA_VERSION, schemaVersion } from "./schema.js";

/** The SQLite file inside a store folder. */
export const STORE_FILE = "sgdlab.db";
/** How long a writer waits for another process's write lock before failing (SQLite busy_timeout). */
export const BUSY_TIMEOUT_MS = 15_000;

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  ENOTDIR: "a component of the path is not a folder",
  EEXIST: "exists and is not a folder",
  EISDIR: "is a folder",
  ENOENT: "no such file or folder",
};

/** A file-system error as a one-line `UserError` naming `what` (exit 2: the user can fix it). */
export function fsError(e: unknown, what: string): UserError {
  const code = (e as NodeJS.ErrnoException)?.code ?? "";
  return new UserError(`${what}: ${ERRNO_TEXT[code] ?? (e as Error)?.message ?? String(e)}${code ? ` (${code})` : ""}`);
}

/** Whether `e` is an SQLite error saying the database file is damaged or not a database. */
export function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}

/** The `UserError` for a damaged database file (exit 2; the file was not modified). */
export function damaged(file: string, detail: string): UserError {
  return new UserError(
    `run store ${file} is damaged (${detail.split("\n")[0]}); sgdlab did not modify it. ` +
      `Copy it aside and recover what you can with: sqlite3 ${file} ".recover"`,
  );
}

/**
 * Creates a new store database atomically: build it (WAL, current schema) under a temporary name,
 * then hard-link it into place. A concurrent creator that wins the race is simply used; no process
 * ever sees a half-made or zero-byte `sgdlab.db` (which is why {@link openDatabase} can refuse one).
 */
function createDatabase(dir: string, file: string): void {
  const tmp = `${file}.new-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  try {
    const db = new Database(tmp, { timeout: BUSY_TIMEOUT_MS });
    try {
      db.pragma("journal_mode = WAL");
      migrate(db, dir);
    } finally {
      db.close();
    }
    try {
      linkSync(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // EEXIST: another process created the store first. Without hard links, rename (not atomic
      // against a racing creator, but each racer's file is complete).
      if (code !== "EEXIST" && !existsSync(file)) renameSync(tmp, file);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw fsError(e, `cannot create run store ${file}`);
  } finally {
    for (const s of ["", "-wal", "-shm"]) rmSync(tmp + s, { force: true });
  }
}

/**
 * Opens `<dir>/sgdlab.db`: WAL journal, `synchronous = NORMAL` (durable against process crashes),
 * busy timeout {@link BUSY_TIMEOUT_MS}, foreign keys on. Read-write: creates the folder and the
 * database (atomically) and migrates the schema forward. Read-only: the store must exist at the
 * current schema version, and nothing is written.
 *
 * Every open runs `PRAGMA quick_check` before anything else touches the file: a damaged database
 * (or a file that is not one) is refused with a `UserError` (exit 2) and left unmodified. A zero-byte
 * `sgdlab.db` is refused too (SQLite would silently treat it as empty; sgdlab never leaves one).
 * Problems the user can fix (store path is a file, missing store, permissions, schema version)
 * throw `UserError` naming the path.
 */
export function openDatabase(dir: string, readonly: boolean): Database.Database {
  const file = join(dir, STORE_FILE);
  const dirStat = statOrNull(dir);
  check(dirStat === null || dirStat.isDirectory(), `run store ${dir} is not a folder (--store names a folder)`);
  if (readonly) check(dirStat !== null && existsSync(file), `no run store in ${dir} (expected ${file})`);
  else if (dirStat === null) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw fsError(e, `cannot create run store folder ${dir}`);
    }
  }
  const fileStat = statOrNull(file);
  check(fileStat === null || fileStat.isFile(), `${file} is not a regular file`);
  check(
    fileStat === null || fileStat.size > 0,
    `${file} is empty (0 bytes), so it holds no sgdlab store; remove it to start a new store in ${dir}`,
  );
  if (fileStat === null && !readonly) createDatabase(dir, file);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    throw new UserError(`cannot open run store ${file}: ${(e as Error).message}`);
  }
  try {
    prepare(db, dir, file, readonly);
  } catch (e) {
    db.close();
    const code = (e as { code?: unknown }).code;
    if (readonly && typeof code === "string" && /^SQLITE_(READONLY|CANTOPEN)/.test(code)) {
      // WAL mode needs a -shm file that a reader of a read-only folder cannot create
      db = openSnapshot(file);
      try {
        prepare(db, dir, file, true);
      } catch (e2) {
        db.close();
        throw translate(e2, file, readonly);
      }
      return db;
    }
    throw translate(e, file, readonly);
  }
  return db;
}

/** Checks (quick_check, schema version) and sets up (WAL, migration) an open database. */
function prepare(db: Database.Database, dir: string, file: string, readonly: boolean): void {
  const rows = db.pragma("quick_check") as { quick_check: string }[];
  const problems = rows.map((r) => r.quick_check).filter((r) => r !== "ok");
  if (problems.length) throw damaged(file, `SQLite quick_check: ${problems[0]}`);
  if (!readonly) {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
  }
  db.pragma("foreign_keys = ON");
  if (readonly) {
    const v = schemaVersion(db);
    if (v < SCHEMA_VERSION && writable(dir, file)) {
      // an older store that this user may write: migrate it once (a write command would do the same), so
      // that read commands keep working after an upgrade of sgdlab
      const w = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      try {
        w.pragma("journal_mode = WAL");
        migrate(w, dir);
      } finally {
        w.close();
      }
      return;
    }
    check(
      v === SCHEMA_VERSION,
      `store ${dir} has schema version ${v}, this sgdlab reads ${SCHEMA_VERSION}; ` +
        (v < SCHEMA_VERSION ? "open it once read-write to migrate it" : "upgrade sgdlab"),
    );
  } else {
    migrate(db, dir);
  }
}

/** Whether this process may write the store's folder and database file. */
function writable(dir: string, file: string): boolean {
  try {
    accessSync(dir, fsConstants.W_OK);
    accessSync(file, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function translate(e: unknown, file: string, readonly: boolean): unknown {
  if (isCorruption(e)) return damaged(file, (e as Error).message);
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && /^SQLITE_(CANTOPEN|READONLY|PERM|AUTH)/.test(code)) {
    return new UserError(`cannot ${readonly ? "read" : "write"} run store ${file}: ${(e as Error).message} (${code})`);
  }
  return e;
}

/**
 * A read-only view of a store whose folder the reader may not write (so SQLite cannot create the
 * WAL index): a private copy in the temporary folder, switched to a rollback journal, opened
 * read-only and unlinked at once (the open handle keeps it readable on POSIX systems). Refused when
 * a non-empty `-wal` file holds changes not yet in the main file.
 */
function openSnapshot(file: string): Database.Database {
  const wal = statOrNull(`${file}-wal`);
  check(
    wal === null || wal.size === 0,
    `cannot read run store ${file}: its folder is not writable and its -wal file holds recent changes; ` +
      `open it once as a user who may write the folder`,
  );
  const copy = join(tmpdir(), `sgdlab-snapshot-${process.pid}-${Math.random().toString(36).slice(2, 10)}.db`);
  try {
    copyFileSync(file, copy);
    const w = new Database(copy);
    try {
      w.pragma("journal_mode = DELETE");
    } finally {
      w.close();
    }
    return new Database(copy, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw translate(e, file, true);
  } finally {
    rmSync(copy, { force: true });
  }
}
