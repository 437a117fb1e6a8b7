/**
 * `node --import tsx bench/ui.ts [DIR]`: how `sgdlab ui` holds up on a large store. Builds (once; an
 * existing DIR is reused) a store of 10 000 runs and 10 000 000 metric rows by bulk SQL inserts in
 * one transaction per table — 9 990 ordinary runs (4 keys × 150 steps each, summaries with final
 * metrics, a few still "running") and 10 long runs (4 keys × 100 000 steps each) — then times the
 * API's heaviest requests through fastify's `inject` (routing, validation, query, figure building,
 * JSON serialization; no socket), median of BENCH_REPS (default 5) after one warm-up.
 * Environment: UI_BENCH_RUNS (10 000), UI_BENCH_LONG (10), UI_BENCH_LONG_STEPS (100 000).
 */
import Database from "better-sqlite3";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { RunStore, STORE_FILE } from "../src/store/index.js";
import { createUiServer } from "../src/ui/index.js";

const RUNS = Number(process.env.UI_BENCH_RUNS ?? 10_000);
const LONG = Number(process.env.UI_BENCH_LONG ?? 10);
const LONG_STEPS = Number(process.env.UI_BENCH_LONG_STEPS ?? 100_000);
const SHORT_STEPS = 150;
const KEYS = ["train/batchLoss", "train/loss", "test/loss", "hessian/lambdaMax"];
const REPS = Number(process.env.BENCH_REPS ?? 5);

const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "sgdlab-ui-bench-"));

/** Writes the synthetic store (runs, sweeps-free) with one transaction per table. */
function build(): void {
  RunStore.open(dir).close(); // creates and migrates the schema
  const db = new Database(join(dir, STORE_FILE));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const t0 = performance.now();
  const base = Date.UTC(2026, 0, 1);
  const ids: string[] = [];
  const insertRun = db.prepare(
    `INSERT INTO runs (id, name, spec, spec_hash, status, created_at, started_at, finished_at, updated_at, code_version,
       backend, dtype, seed, pid, hostname, summary, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'bench', 'wasm', 'float32', ?, 1, 'bench-host', ?, NULL)`,
  );
  db.transaction(() => {
    for (let i = 0; i < RUNS; i++) {
      const id = `bench-${String(i).padStart(6, "0")}`;
      ids.push(id);
      const long = i < LONG;
      const steps = long ? LONG_STEPS : SHORT_STEPS;
      const running = i % 1000 === 999;
      const lr = [0.01, 0.03, 0.1, 0.3][i % 4];
      const spec = { name: `bench-${i % 97}`, seed: i, optimizer: { kind: "sgd", lr }, steps };
      const t = base + i * 60_000;
      const summary = running
        ? null
        : JSON.stringify({
            step: steps,
            "train/loss": 1 / (1 + (i % 13)),
            "test/loss": 1.2 / (1 + (i % 11)),
            "test/accuracy": (i % 100) / 100,
          });
      insertRun.run(
        id,
        spec.name,
        JSON.stringify(spec),
        `hash-${i}`,
        running ? "running" : "completed",
        t,
        t,
        running ? null : t + 30_000,
        t + 30_000,
        i,
        summary,
      );
    }
  })();
  const insertMetric = db.prepare(
    "INSERT INTO metrics (run_id, step, key, value, finite, special) VALUES (?, ?, ?, ?, 1, NULL)",
  );
  let rows = 0;
  db.transaction(() => {
    ids.forEach((id, i) => {
      const steps = i < LONG ? LONG_STEPS : SHORT_STEPS;
      for (const [k, key] of KEYS.entries())
        for (let s = 0; s < steps; s++) {
          insertMetric.run(id, s, key, Math.exp(-s / (steps / 3)) * (1 + k) + 0.01 * Math.sin(s + i));
          rows++;
        }
    });
  })();
  db.close();
  console.log(
    `built ${RUNS} runs, ${rows.toLocaleString("en-US")} metric rows in ${((performance.now() - t0) / 1000).toFixed(0)} s; ` +
      `${(statSync(join(dir, STORE_FILE)).size / 2 ** 20).toFixed(0)} MiB`,
  );
}

if (!existsSync(join(dir, STORE_FILE))) build();
const server = await createUiServer({ store: dir, webRoot: join(dir, "no-web") });
const metricRows = (server.dashboard.db.prepare("SELECT count(*) AS n FROM metrics").get() as { n: number }).n;
const runCount = (server.dashboard.db.prepare("SELECT count(*) AS n FROM runs").get() as { n: number }).n;
console.log(`store ${dir}: ${runCount} runs, ${metricRows.toLocaleString("en-US")} metric rows`);

const long = "bench-000000";
const longIds = Array.from({ length: Math.min(5, LONG) }, (_, i) => `bench-${String(i).padStart(6, "0")}`);
const short = `bench-${String(RUNS - 2).padStart(6, "0")}`;
const cases: [string, string][] = [
  ["runs table, first page (50, newest first)", "/api/runs"],
  ["runs table, page 100 sorted by name", "/api/runs?sort=name&order=asc&offset=5000"],
  ["runs table sorted by final test/accuracy", "/api/runs?sort=metric&key=test%2Faccuracy"],
  ["runs table, search 'bench-42'", "/api/runs?q=bench-42"],
  ["runs table, status running (judged per row)", "/api/runs?status=running"],
  [`run page facts, long run (${(KEYS.length * LONG_STEPS).toLocaleString("en-US")} rows)`, `/api/runs/${long}`],
  ["run figures, long run, 1000 points/series", `/api/runs/${long}/figures`],
  ["run figures, long run, 5000 points/series", `/api/runs/${long}/figures?points=5000`],
  [`run figures, ordinary run (${KEYS.length * SHORT_STEPS} rows)`, `/api/runs/${short}/figures`],
  [`compare ${longIds.length} long runs, train/loss`, `/api/compare?ids=${longIds.join(",")}&key=train%2Floss`],
];
const table: string[] = ["| request | median ms | response KiB |", "|---|---:|---:|"];
for (const [name, url] of cases) {
  const times: number[] = [];
  let bytes = 0;
  for (let r = 0; r <= REPS; r++) {
    const t0 = performance.now();
    const res = await server.app.inject({ method: "GET", url, headers: { host: "127.0.0.1" } });
    const dt = performance.now() - t0;
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
    bytes = res.rawPayload.length;
    if (r > 0) times.push(dt);
  }
  times.sort((a, b) => a - b);
  table.push(`| ${name} | ${times[Math.floor(times.length / 2)].toFixed(1)} | ${(bytes / 1024).toFixed(0)} |`);
}
const t0 = performance.now();
for (let i = 0; i < 100; i++) server.watcher.poll();
table.push(`| change poll (PRAGMA data_version), no change | ${((performance.now() - t0) / 100).toFixed(3)} | - |`);
console.log(table.join("\n"));
await server.close();
