import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { RunStore } from "./store.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const writer = fileURLToPath(new URL("./testdata/writer.ts", import.meta.url));
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempStore(): string {
  const d = mkdtempSync(join(tmpdir(), "sgdlab-store-conc-"));
  dirs.push(d);
  return d;
}

/** Spawns the writer script; `onLine` sees each stdout line. */
function spawnWriter(
  args: string[],
  onLine: (line: string) => void,
): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", writer, ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let buf = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  return { child, exited };
}

describe("several processes writing one store", () => {
  it("keeps every run and every point when 4 processes write 500 points each at once", async () => {
    const dir = tempStore();
    // no store yet: the writers also race on creating and migrating it
    let ready = 0;
    let release!: () => void;
    const allReady = new Promise<void>((res) => (release = res));
    const ids: string[] = [];
    const writers = [0, 1, 2, 3].map((w) =>
      spawnWriter([dir, "burst", `w${w}`], (line) => {
        if (line.startsWith("ready ")) {
          ids.push(line.slice(6));
          if (++ready === 4) release();
        }
      }),
    );
    await allReady;
    writeFileSync(join(dir, "go"), "");
    const codes = await Promise.all(writers.map((w) => w.exited));
    assert.deepEqual(codes, [0, 0, 0, 0]);

    const store = RunStore.open(dir);
    assert.equal(store.integrityCheck(), "ok");
    const runs = store.listRuns();
    assert.equal(runs.length, 4);
    assert.deepEqual(runs.map((r) => r.id).sort(), [...ids].sort());
    assert.deepEqual(runs.map((r) => r.name).sort(), ["w0", "w1", "w2", "w3"]);
    for (const r of runs) {
      assert.equal(r.status, "completed");
      const pts = store.getMetrics(r.id);
      assert.equal(pts.length, 500);
      for (const p of pts) assert.equal(p.value, p.step + Number(p.key.slice(1)) / 10);
    }
    store.close();
    const db = new Database(join(dir, "sgdlab.db"), { readonly: true });
    assert.equal(db.prepare("SELECT count(*) FROM metrics").pluck().get(), 2000);
    db.close();
  });

  it("survives SIGKILL mid-run: the store is sound, committed rows remain, the run reads interrupted", async () => {
    const dir = tempStore();
    const perStep = 200;
    let id = "";
    let reported = -1;
    let killAt!: () => void;
    const enough = new Promise<void>((res) => (killAt = res));
    const w = spawnWriter([dir, "loop", "victim", String(perStep)], (line) => {
      if (line.startsWith("id ")) id = line.slice(3);
      else if (line.startsWith("step ")) {
        reported = Number(line.slice(5));
        if (reported >= 40) killAt();
      }
    });
    await enough;
    w.child.kill("SIGKILL");
    assert.equal(await w.exited, null);

    const store = RunStore.open(dir);
    assert.equal(store.integrityCheck(), "ok");
    const run = store.getRun(id);
    assert.equal(run.status, "interrupted");
    assert.match(run.error ?? "", /ended without finishing/);
    assert.deepEqual(
      store.listRuns({ status: "interrupted" }).map((r) => r.id),
      [id],
    );
    assert.deepEqual(store.listRuns({ status: "running" }), []);

    // Every step is all-or-nothing and steps are contiguous from 0; every reported step is there.
    const pts = store.getMetrics(id);
    const perStepCount = new Map<number, number>();
    for (const p of pts) {
      assert.equal(p.value, p.step * 1000 + Number(p.key.slice(1)));
      perStepCount.set(p.step, (perStepCount.get(p.step) ?? 0) + 1);
    }
    const steps = [...perStepCount.keys()].sort((a, b) => a - b);
    assert.ok(steps.length >= reported + 1, `${steps.length} steps stored, ${reported + 1} reported`);
    steps.forEach((s, i) => {
      assert.equal(s, i);
      assert.equal(perStepCount.get(s), perStep);
    });

    assert.deepEqual(store.markInterrupted(), [id]);
    store.close();
    const db = new Database(join(dir, "sgdlab.db"), { readonly: true });
    assert.equal(db.prepare("SELECT status FROM runs WHERE id = ?").pluck().get(id), "interrupted");
    db.close();
  });
});
