import type Database from "better-sqlite3";
import { check, UserError } from "../core/errors.js";
import { decodeJson, encodeJson } from "./records.js";
import { newRunId } from "./runId.js";

/** What {@link ReproductionTable.put} records of one `sgdlab reproduce` invocation. */
export interface NewReproduction {
  name: string;
  size: string;
  pass: boolean;
  /** The machine-readable verdict (criteria with values and thresholds, member runs, notes). */
  result: unknown;
  /** The report as data (title, facts, figure specs), so that it can be written again. */
  report: unknown;
}

/** A stored reproduction (times in ms since the Unix epoch, UTC). */
export interface ReproductionRecord extends NewReproduction {
  id: string;
  createdAt: number;
}

interface Row {
  id: string;
  name: string;
  size: string;
  pass: number;
  result: string;
  report: string;
  created_at: number;
}

const fromRow = (r: Row): ReproductionRecord => ({
  id: r.id,
  name: r.name,
  size: r.size,
  pass: r.pass === 1,
  result: decodeJson(r.result),
  report: decodeJson(r.report),
  createdAt: r.created_at,
});

/**
 * The `reproductions` table (schema version 4): one row per `sgdlab reproduce` invocation, with its
 * verdict and its report as data; the member runs are ordinary runs named `<reproduction>/<member>`.
 */
export class ReproductionTable {
  constructor(
    private readonly db: Database.Database,
    private readonly dir: string,
    private readonly readonly: boolean,
  ) {}

  /** Records one reproduction; returns its record (id `rp-<time>-<random>`). */
  put(r: NewReproduction): ReproductionRecord {
    check(!this.readonly, `store ${this.dir} is open read-only`);
    const now = Date.now();
    const id = `rp-${newRunId(now)}`;
    this.db
      .prepare(
        "INSERT INTO reproductions (id, name, size, pass, result, report, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(id, r.name, r.size, r.pass ? 1 : 0, encodeJson(r.result ?? null), encodeJson(r.report ?? null), now);
    return this.get(id);
  }

  /** The reproduction with id (or unique id prefix) `ref`; a `UserError` when there is none or several. */
  get(ref: string): ReproductionRecord {
    const rows = this.db
      .prepare("SELECT * FROM reproductions WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT 3")
      .all(ref, `${ref.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) as Row[];
    const exact = rows.find((r) => r.id === ref);
    if (exact) return fromRow(exact);
    if (rows.length === 1) return fromRow(rows[0]);
    if (rows.length === 0) throw new UserError(`no reproduction ${ref} in store ${this.dir} (see sgdlab reproduce)`);
    throw new UserError(
      `reproduction id prefix ${ref} is ambiguous in store ${this.dir}: ${rows.map((r) => r.id).join(", ")}, …`,
    );
  }

  /** Every reproduction, newest first. */
  list(): ReproductionRecord[] {
    return (this.db.prepare("SELECT * FROM reproductions ORDER BY created_at DESC, id DESC").all() as Row[]).map(
      fromRow,
    );
  }
}
