import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { UserError } from "../core/errors.js";
import { codeVersion, computeCodeVersion } from "./codeVersion.js";
import { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from "./schema.js";
import { RunStore } from "./store.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "sgdlab-schema-"));
  dirs.push(d);
  return d;
}
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

describe("schema migrations", () => {
  it("a fresh store is at the latest version with WAL, foreign keys and a busy timeout ≥ 10 s", () => {
    const dir = tempDir();
    RunStore.open(dir).close();
    const db = new Database(join(dir, "sgdlab.db"));
    assert.equal(schemaVersion(db), SCHEMA_VERSION);
    assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    assert.deepEqual(tables, ["artifacts", "checkpoints", "events", "metrics", "reproductions", "runs", "sweeps"]);
    db.close();
    // the store's own connection settings
    const store = RunStore.open(dir);
    const conn = (store as unknown as { db: Database.Database }).db;
    assert.ok((conn.pragma("busy_timeout", { simple: true }) as number) >= 10_000);
    assert.equal(conn.pragma("foreign_keys", { simple: true }), 1);
    store.close();
  });

  it("migrates a version-1 store forward, keeping its runs and metrics", () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const db = new Database(join(dir, "sgdlab.db"));
    assert.deepEqual(migrate(db, dir, 1), { from: 0, to: 1 });
    db.prepare(
      `INSERT INTO runs (id, name, spec, spec_hash, status, created_at, updated_at, code_version)
       VALUES ('20250101-000000-abcd', 'old', '{"a":1}', 'h', 'completed', 1, 2, '0.0.1')`,
    ).run();
    db.prepare(
      "INSERT INTO metrics (run_id, step, key, value, finite) VALUES ('20250101-000000-abcd', 0, 'k', 2.5, 1)",
    ).run();
    db.close();

    // a read command on an old store its user may write migrates it first (as a write command would)
    const reader = RunStore.open(dir, { readonly: true });
    assert.equal(reader.getRun("20250101").name, "old");
    reader.close();
    const raw = new Database(join(dir, "sgdlab.db"), { readonly: true });
    assert.equal(raw.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    raw.close();
    const store = RunStore.open(dir);
    const run = store.getRun("20250101");
    assert.deepEqual([run.name, run.spec, run.status], ["old", { a: 1 }, "completed"]);
    assert.deepEqual(store.getMetrics(run.id), [{ step: 0, key: "k", value: 2.5, finite: true }]);
    store.putArtifact(run.id, "x", 0, [1, 2]); // the table version 2 added
    assert.deepEqual(store.getArtifact(run.id, "x")?.value, [1, 2]);
    assert.deepEqual([run.sweepId, run.sweepIndex], [null, null]); // the columns version 3 added
    const { sweep } = store.sweeps.ensure({ name: "s", spec: {}, grid: {}, members: [] });
    const member = store.forSweepMember(sweep.id, 0).createRun({ name: "m", spec: {} });
    assert.deepEqual([member.sweepId, member.sweepIndex], [sweep.id, 0]);
    assert.deepEqual(
      store.listRuns({ sweepId: sweep.id }).map((r) => r.id),
      [member.id],
    );
    store.close();
    const check = new Database(join(dir, "sgdlab.db"), { readonly: true });
    assert.equal(schemaVersion(check), SCHEMA_VERSION);
    check.close();
  });

  it("refuses a store from a newer sgdlab and a file that is not a database", () => {
    const dir = tempDir();
    RunStore.open(dir).close();
    const db = new Database(join(dir, "sgdlab.db"));
    db.pragma("user_version = 99");
    db.close();
    assert.throws(
      () => RunStore.open(dir),
      (e: unknown) => e instanceof UserError && /version 99, newer/.test(e.message),
    );
    const junk = tempDir();
    writeFileSync(join(junk, "sgdlab.db"), "this is not sqlite, just text padded out to a page or so".repeat(40));
    assert.throws(
      () => RunStore.open(junk),
      (e: unknown) => e instanceof UserError && e.message.includes(join(junk, "sgdlab.db")),
    );
  });
});

describe("codeVersion", () => {
  it("is the package version plus the checked-out commit (compared with git itself)", () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
    let commit: string | undefined;
    try {
      commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
    } catch {
      commit = undefined; // no git binary or no repository: version only
    }
    assert.equal(codeVersion(), commit === undefined ? version : `${version}+g${commit.slice(0, 12)}`);
  });

  it("reads packed refs and detached heads, and falls back to the version alone", () => {
    const root = tempDir();
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "sgdlab", version: "9.8.7" }));
    mkdirSync(join(root, "src", "store"), { recursive: true });
    const start = join(root, "src", "store");
    assert.equal(computeCodeVersion(start), "9.8.7");
    mkdirSync(join(root, ".git"));
    const sha = "0123456789abcdef0123456789abcdef01234567";
    writeFileSync(join(root, ".git", "HEAD"), "ref: refs/heads/dev\n");
    writeFileSync(join(root, ".git", "packed-refs"), `# pack-refs with: peeled\n${sha} refs/heads/dev\n`);
    assert.equal(computeCodeVersion(start), "9.8.7+g0123456789ab");
    writeFileSync(join(root, ".git", "HEAD"), "fedcba9876543210fedcba9876543210fedcba98\n");
    assert.equal(computeCodeVersion(start), "9.8.7+gfedcba987654");
    writeFileSync(join(root, ".git", "HEAD"), "ref: refs/heads/missing\n");
    assert.equal(computeCodeVersion(start), "9.8.7");
  });
});
