import Database from "better-sqlite3";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { check, UserError } from "../core/errors.js";
import { migrate, SCHEMA_VERSION, schemaVersion } from "./schema.js";

/** The SQLite file inside a store folder. */
export const STORE_FILE = "sgdlab.db";
/** How long a writer waits for another process's write lock before failing (SQLite busy_timeout). */
export const BUSY_TIMEOUT_MS = 15_000;

/**
 * Opens `<dir>/sgdlab.db`: WAL journal, `synchronous = NORMAL` (durable against process crashes),
 * busy timeout {@link BUSY_TIMEOUT_MS}, foreign keys on. Read-write: creates the folder and migrates
 * the schema forward. Read-only: the store must exist at the current schema version. Problems the
 * user can fix (missing store, unreadable file, version mismatch) throw `UserError` naming the path.
 */
export function openDatabase(dir: string, readonly: boolean): Database.Database {
  const file = join(dir, STORE_FILE);
  if (readonly) check(existsSync(file), `no run store in ${dir} (expected ${file})`);
  else mkdirSync(dir, { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    throw new UserError(`cannot open run store ${file}: ${(e as Error).message}`, 1);
  }
  try {
    if (!readonly) {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
    }
    db.pragma("foreign_keys = ON");
    if (readonly) {
      const v = schemaVersion(db);
      check(
        v === SCHEMA_VERSION,
        `store ${dir} has schema version ${v}, this sgdlab reads ${SCHEMA_VERSION}; ` +
          (v < SCHEMA_VERSION ? "open it once read-write to migrate it" : "upgrade sgdlab"),
      );
    } else {
      migrate(db, dir);
    }
  } catch (e) {
    db.close();
    if (e instanceof Database.SqliteError && /NOTADB|CORRUPT/.test(e.code)) {
      throw new UserError(`${file} is not a readable sgdlab store: ${e.message}`, 1);
    }
    throw e;
  }
  return db;
}
