// Sweeps on Redis + BullMQ with real parts: a redis-server started here (on a free port, in a
// temporary folder, AOF persistence on, a password required), 3 `sgdlab worker` processes and the
// `sgdlab sweep --executor` coordinator, all spawned from bin/sgdlab.js (so `npm run build` first).
// Skipped with a reason when redis-server is missing, unless SGDLAB_REQUIRE_REDIS=1 (then it fails).
// The tests run in order and share the server, the workers and the local reference stores (the
// restart test compares with the first test's local sweep, the SIGTERM test with the SIGKILL test's).
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Queue, type ConnectionOptions } from "bullmq";
import { Redis } from "ioredis";
import { RunStore } from "../src/store/index.js";
import { createUiServer } from "../src/ui/index.js";
import { SMALL_SPEC, metricMap } from "./helpers.js";

const BIN = join(import.meta.dirname, "..", "bin", "sgdlab.js");
const REDIS = process.env.SGDLAB_REDIS_SERVER ?? "redis-server";
const haveRedis = spawnSync(REDIS, ["--version"]).status === 0;
const required = process.env.SGDLAB_REQUIRE_REDIS === "1";
const skip = !haveRedis && !required ? `${REDIS} is not installed (set SGDLAB_REQUIRE_REDIS=1 to fail instead)` : false;
const PASSWORD = "s3cret pass";
const LOCK_MS = 2000;

const started = new Set<ChildProcess>();
const dirs: string[] = [];
let port = 0;
let redisDir = "";
let redisProc: ChildProcess | null = null;
let url = "";
let workdir = "";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function track(child: ChildProcess): ChildProcess {
  started.add(child);
  child.once("exit", () => started.delete(child));
  return child;
}

async function startRedis(): Promise<void> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", redisDir, "--appendonly", "yes"];
  redisProc = track(
    spawn(REDIS, [...args, "--save", "", "--requirepass", PASSWORD, "--daemonize", "no"], { stdio: "ignore" }),
  );
  for (let i = 0; i < 100; i++) {
    const r = new Redis({ port, host: "127.0.0.1", password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on("error", () => {});
    try {
      await r.connect();
      if ((await r.ping()) === "PONG") return;
    } catch {
      // not up yet
    } finally {
      r.disconnect();
    }
    await sleep(100);
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

async function stopRedis(): Promise<void> {
  const p = redisProc;
  if (!p || p.exitCode !== null) return;
  const gone = new Promise((r) => p.once("exit", r));
  p.kill("SIGTERM"); // a clean shutdown: the AOF is flushed
  await gone;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A spawned `sgdlab …` whose end can be awaited. */
function sgdlab(args: string[], env: Record<string, string> = {}) {
  const child = track(
    spawn(process.execPath, [BIN, ...args], { cwd: workdir, env: { ...process.env, SGDLAB_THREADS: "", ...env } }),
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

const workers: ReturnType<typeof sgdlab>[] = [];
function startWorker() {
  const w = sgdlab(["worker", url, "--lock-ms", String(LOCK_MS)]);
  workers.push(w);
  return w;
}

function client(): Redis {
  const r = new Redis({ port, host: "127.0.0.1", password: PASSWORD, maxRetriesPerRequest: null });
  r.on("error", () => {});
  return r;
}

function openStore(name: string): RunStore {
  return RunStore.open(join(workdir, name), { readonly: true });
}

/** Member index → metric map (timings excluded) of a store's sweep. */
function sweepMetrics(storeName: string, sweep: string): Map<number, Map<string, number>> {
  const store = openStore(storeName);
  try {
    const s = store.sweeps.get(sweep);
    const out = new Map<number, Map<string, number>>();
    for (const r of store.listRuns({ sweepId: s.id })) out.set(r.sweepIndex as number, metricMap(store, r.id));
    return out;
  } finally {
    store.close();
  }
}

const GRID = ["--grid", "seed=[1,2,3,4,5,6]", "--grid", "optimizer.lr=[0.05,0.1]"];

describe("sweeps on Redis (real redis-server, 3 workers)", { skip }, () => {
  before(async () => {
    if (!haveRedis) throw new Error(`SGDLAB_REQUIRE_REDIS=1 but ${REDIS} is not installed`);
    workdir = mkdtempSync(join(tmpdir(), "sgdlab-cluster-"));
    redisDir = join(workdir, "redis");
    dirs.push(workdir);
    mkdirSync(redisDir);
    writeFileSync(join(workdir, "spec.json"), JSON.stringify({ ...SMALL_SPEC, checkpointEvery: 10 }));
    writeFileSync(
      join(workdir, "long.json"),
      JSON.stringify({ ...SMALL_SPEC, steps: 1000, evalEvery: 100, checkpointEvery: 50 }),
    );
    port = await freePort();
    url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/0`;
    await startRedis();
    for (let i = 0; i < 3; i++) startWorker();
  });

  after(async () => {
    for (const c of started) c.kill("SIGKILL");
    await sleep(100);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("a 12-member sweep completes on the workers with the metrics of the same sweep run locally", async () => {
    const remote = sgdlab(["sweep", "spec.json", ...GRID, "--name", "grid", "--store", "remote", "--executor", url]);
    const local = sgdlab(["sweep", "spec.json", ...GRID, "--name", "grid", "--store", "local", "--parallel", "2"]);
    const [r, l] = await Promise.all([remote.done, local.done]);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(r.code, 0, r.stderr + workers.map((w) => w.stderr()).join("\n"));
    assert.match(r.stdout, /12 members, 12 completed, 0 failed, 0 diverged \(12 run now, 0 already done\)/);
    const a = sweepMetrics("remote", "grid");
    const b = sweepMetrics("local", "grid");
    assert.equal(a.size, 12);
    for (let i = 0; i < 12; i++) {
      assert.ok((a.get(i)?.size ?? 0) > 20, `member ${i} has metrics`);
      assert.deepStrictEqual(a.get(i), b.get(i), `member ${i}`);
    }
    // the runs keep the ids their workers gave them, and several workers shared the sweep
    const store = openStore("remote");
    const q = client();
    try {
      const s = store.sweeps.get("grid");
      for (const run of store.listRuns({ sweepId: s.id })) {
        assert.equal(run.status, "completed");
        assert.equal(await q.hget(`sgdlab:shelf:${s.id}-${run.sweepIndex}`, "last"), run.id);
        assert.equal(store.getEvents(run.id, { kind: "start" }).length, 1);
      }
    } finally {
      store.close();
      q.disconnect();
    }
    const busy = workers.filter((w) => /: run \S+ completed/.test(w.stderr()));
    assert.ok(busy.length >= 2, `${busy.length} of the workers ran members`);
    // re-invoking queues nothing again and changes nothing
    const again = await sgdlab([
      "sweep",
      "spec.json",
      ...GRID,
      "--name",
      "grid",
      "--store",
      "remote",
      "--executor",
      url,
    ]).done;
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /\(0 run now, 12 already done\)/);
    const status = await sgdlab(["sweeps", "--store", "remote", "--executor", url, "--json"]).done;
    const js = JSON.parse(status.stdout) as {
      queue: { name: string; counts: Record<string, number> }[];
      workers: unknown[];
    };
    assert.deepEqual(js.queue.find((x) => x.name === "grid")?.counts, { queued: 0, running: 0, done: 12, failed: 0 });
    assert.equal(js.workers.length, 3);
    // plain `sgdlab sweeps` finds the queue the sweep ran on (its password from the environment)
    const plain = await sgdlab(["sweeps", "--store", "remote"], { SGDLAB_REDIS_PASSWORD: PASSWORD }).done;
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, new RegExp(`jobs on redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0:\n`));
    assert.match(plain.stdout, /\ngrid +0 +0 +12 +0\n/);
    assert.match(plain.stdout, /workers alive: 3 /);
    // the dashboard shows the same jobs and workers (GET /api/queues over the same store)
    const ui = await createUiServer({ store: join(workdir, "remote"), pollMs: 60_000 });
    process.env.SGDLAB_REDIS_PASSWORD = PASSWORD;
    try {
      const res = await ui.app.inject({ method: "GET", url: "/api/queues", headers: { host: "127.0.0.1" } });
      assert.equal(res.statusCode, 200, res.body);
      const view = res.json() as typeof js & { unreachable: unknown[] };
      assert.deepEqual(view.queue.find((x) => x.name === "grid")?.counts, {
        queued: 0,
        running: 0,
        done: 12,
        failed: 0,
      });
      assert.equal(view.workers.length, 3);
      assert.deepEqual(view.unreachable, []);
    } finally {
      delete process.env.SGDLAB_REDIS_PASSWORD;
      await ui.close();
    }
    const noPass = await sgdlab(["sweeps", "--store", "remote"]).done;
    assert.equal(noPass.code, 0, noPass.stderr);
    assert.match(
      noPass.stdout,
      /jobs on redis:\/\/127\.0\.0\.1:\d+\/0: not reachable \(cannot reach Redis .*(NOAUTH|auth)/i,
    );
  });

  it("a worker killed with SIGKILL mid-run: another worker finishes its job from the latest checkpoint, bit-identical", async () => {
    const args = ["sweep", "long.json", "--grid", "seed=[7]", "--name", "long"];
    const remote = sgdlab([...args, "--store", "remote", "--executor", url]);
    const q = client();
    let killedAt = -1;
    try {
      for (let i = 0; i < 600 && killedAt < 0; i++) {
        await sleep(100);
        if (!existsSync(join(workdir, "remote", "sgdlab.db"))) continue;
        const st = openStore("remote");
        const sweep = st.sweeps.find("long");
        st.close();
        if (!sweep) continue;
        const key = `sgdlab:shelf:${sweep.id}-0`;
        const step = Number(await q.hget(key, "progressStep"));
        const who = await q.hget(key, "progressWorker");
        if (step >= 100 && who) {
          const pid = Number(who.split(":").pop());
          const w = workers.find((x) => x.child.pid === pid);
          assert.ok(w, `the worker ${who} is one of ours`);
          w.child.kill("SIGKILL");
          killedAt = step;
        }
      }
    } finally {
      q.disconnect();
    }
    assert.ok(killedAt >= 100, "a checkpoint was shipped before the kill");
    const r = await remote.done;
    startWorker(); // back to 3
    assert.equal(r.code, 0, r.stderr);
    const local = await sgdlab([...args, "--store", "local"]).done;
    assert.equal(local.code, 0, local.stderr);
    assert.deepStrictEqual(sweepMetrics("remote", "long").get(0), sweepMetrics("local", "long").get(0));
    const store = openStore("remote");
    try {
      const [run] = store.listRuns({ sweepId: store.sweeps.get("long").id });
      assert.equal(run.summary?.step, 1000);
      const resumes = store.getEvents(run.id, { kind: "resume" });
      assert.ok(resumes.length >= 1, "the run was resumed, not restarted");
      assert.ok((resumes[0].step as number) >= killedAt, `resumed from step ${resumes[0].step} ≥ ${killedAt}`);
      assert.equal(store.getEvents(run.id, { kind: "start" }).length, 1);
    } finally {
      store.close();
    }
  });

  it("a worker stopped politely (SIGTERM) hands its job back at a fresh checkpoint without spending an attempt", async () => {
    const args = ["sweep", "long.json", "--grid", "seed=[7]", "--name", "long"];
    const remote = sgdlab([...args, "--store", "polite", "--executor", url]);
    const q = client();
    let stopped: ReturnType<typeof sgdlab> | undefined;
    try {
      for (let i = 0; i < 600 && !stopped; i++) {
        await sleep(100);
        if (!existsSync(join(workdir, "polite", "sgdlab.db"))) continue;
        const st = openStore("polite");
        const sweep = st.sweeps.find("long");
        st.close();
        if (!sweep) continue;
        const key = `sgdlab:shelf:${sweep.id}-0`;
        const who = await q.hget(key, "progressWorker");
        if (Number(await q.hget(key, "progressStep")) >= 100 && who) {
          stopped = workers.find((x) => x.child.pid === Number(who.split(":").pop()));
          stopped?.child.kill("SIGTERM");
        }
      }
    } finally {
      q.disconnect();
    }
    assert.ok(stopped, "a worker shipped a checkpoint and was stopped");
    const end = await stopped.done;
    assert.equal(end.code, 130, end.stderr);
    assert.match(end.stderr, /handed back at step \d+/);
    startWorker(); // back to 3
    const r = await remote.done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepStrictEqual(sweepMetrics("polite", "long").get(0), sweepMetrics("local", "long").get(0));
    const queue = new Queue("members", {
      prefix: "sgdlab",
      connection: { host: "127.0.0.1", port, password: PASSWORD } as ConnectionOptions,
    });
    try {
      const st = openStore("polite");
      const id = `${st.sweeps.get("long").id}-0`;
      st.close();
      const job = await queue.getJob(id);
      assert.equal(await job?.getState(), "completed");
      assert.equal(job?.attemptsMade, 1, "the hand-back spent no attempt");
    } finally {
      await queue.close();
    }
  });

  it("the Redis server restarted mid-sweep: the sweep completes, nothing lost or duplicated", async () => {
    const grid = ["--grid", "seed=[1,2,3]", "--grid", "optimizer.lr=[0.05,0.1]"];
    const q = client();
    const before = await q.zcard("sgdlab:members:completed");
    const remote = sgdlab(["sweep", "spec.json", ...grid, "--name", "grid", "--store", "restart", "--executor", url]);
    try {
      for (let i = 0; i < 600; i++) {
        await sleep(100);
        if ((await q.zcard("sgdlab:members:completed")) > before) break; // one member done: restart now
      }
    } finally {
      q.disconnect();
    }
    await stopRedis();
    await sleep(500);
    await startRedis();
    const r = await remote.done;
    assert.equal(r.code, 0, r.stderr + workers.map((w) => w.stderr()).join("\n"));
    assert.match(r.stdout, /6 members, 6 completed/);
    const store = openStore("restart");
    try {
      const s = store.sweeps.get("grid");
      const runs = store.listRuns({ sweepId: s.id });
      assert.deepEqual(runs.map((x) => x.sweepIndex).sort(), [0, 1, 2, 3, 4, 5]);
      for (const run of runs) assert.equal(store.getEvents(run.id, { kind: "start" }).length, 1);
    } finally {
      store.close();
    }
    const got = sweepMetrics("restart", "grid");
    const want = sweepMetrics("local", "grid");
    for (let i = 0; i < 6; i++) assert.deepStrictEqual(got.get(i), want.get(i), `member ${i}`);
  });

  it("--detach only queues; sgdlab ingest collects; a member failing for its spec gets --attempts tries, then is recorded failed", async () => {
    writeFileSync(
      join(workdir, "bad.json"),
      JSON.stringify({ ...SMALL_SPEC, data: { kind: "csv", train: "/nonexistent/x.csv", label: 0 } }),
    );
    const common = ["--store", "det", "--executor", url, "--detach"];
    const good = await sgdlab(["sweep", "spec.json", "--grid", "seed=[9]", "--name", "det", ...common]).done;
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /sweep det: queued 1 member\(s\) on redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/);
    const bad = await sgdlab([
      "sweep",
      "bad.json",
      "--name",
      "bad",
      "--attempts",
      "2",
      "--backoff-ms",
      "500",
      ...common,
    ]).done;
    assert.equal(bad.code, 0, bad.stderr);
    let ingested = 0;
    for (let i = 0; i < 300 && ingested < 2; i++) {
      await sleep(200);
      const r = await sgdlab(["ingest", url, "--store", "det", "--json"]).done;
      assert.equal(r.code, 0, r.stderr);
      ingested += (JSON.parse(r.stdout) as { collected: unknown[] }[]).reduce((n, x) => n + x.collected.length, 0);
    }
    assert.equal(ingested, 2);
    const store = openStore("det");
    try {
      const [ok] = store.listRuns({ sweepId: store.sweeps.get("det").id });
      assert.equal(ok.status, "completed");
      const failed = store.listRuns({ sweepId: store.sweeps.get("bad").id });
      assert.equal(failed.length, 1);
      assert.equal(failed[0].status, "failed");
      assert.match(failed[0].error ?? "", /nonexistent/);
    } finally {
      store.close();
    }
    const queue = new Queue("members", {
      prefix: "sgdlab",
      connection: { host: "127.0.0.1", port, password: PASSWORD } as ConnectionOptions,
    });
    try {
      const [job] = (await queue.getJobs(["failed"])).filter((j) => j.data?.sweep?.name === "bad");
      assert.equal(job.attemptsMade, 2);
    } finally {
      await queue.close();
    }
    // ingesting again changes nothing; re-invoking leaves the failed member alone (no --retry-failed)
    const again = await sgdlab(["ingest", url, "--store", "det"]).done;
    assert.match(again.stdout, /nothing to ingest/);
    const rerun = await sgdlab(["sweep", "bad.json", "--name", "bad", "--store", "det", "--executor", url]).done;
    assert.equal(rerun.code, 1);
    assert.match(rerun.stdout, /1 failed, 0 diverged \(0 run now, 1 already done\)/);
    // --retry-failed queues it afresh (the failed job and its bundles are dropped): a second failed run
    const retry = await sgdlab([
      "sweep",
      "bad.json",
      "--name",
      "bad",
      "--store",
      "det",
      "--executor",
      url,
      "--retry-failed",
      "--attempts",
      "1",
    ]).done;
    assert.equal(retry.code, 1, retry.stderr);
    assert.match(retry.stdout, /1 failed, 0 diverged \(1 run now, 0 already done\)/);
    const shown = JSON.parse((await sgdlab(["show", "--sweep", "bad", "--store", "det", "--json"]).done).stdout) as {
      members: { attempts: number; status: string }[];
    };
    assert.deepEqual(
      shown.members.map((m) => [m.status, m.attempts]),
      [["failed", 2]],
    );
  });

  it("rediss:// (TLS, with a password and a CA of our own) carries a sweep end to end; --artifacts ships bundles as files", async (t) => {
    if (spawnSync("openssl", ["version"]).status !== 0) {
      assert.ok(!required, "SGDLAB_REQUIRE_REDIS=1 but openssl (for the test's certificate) is not installed");
      return t.skip("openssl is not installed (to make a certificate)");
    }
    const tls = join(workdir, "tls");
    mkdirSync(tls);
    const [key, cert] = [join(tls, "k.pem"), join(tls, "c.pem")];
    const made = spawnSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost",
    ]);
    assert.equal(made.status, 0, String(made.stderr));
    const tlsPort = await freePort();
    const server = track(
      spawn(
        REDIS,
        [
          "--port",
          "0",
          "--tls-port",
          String(tlsPort),
          "--bind",
          "127.0.0.1",
          "--dir",
          tls,
          "--save",
          "",
          "--tls-cert-file",
          cert,
          "--tls-key-file",
          key,
          "--tls-ca-cert-file",
          cert,
          "--tls-auth-clients",
          "no",
          "--requirepass",
          PASSWORD,
        ],
        { stdio: "ignore" },
      ),
    );
    try {
      const tlsUrl = `rediss://:${encodeURIComponent(PASSWORD)}@localhost:${tlsPort}`;
      const env = { SGDLAB_REDIS_CA: cert };
      let probe = { code: 1 as number | null, stdout: "", stderr: "" };
      for (let i = 0; i < 50 && probe.code !== 0; i++) {
        await sleep(200);
        probe = await sgdlab(["sweeps", "--store", "tls", "--executor", tlsUrl], env).done;
      }
      assert.equal(probe.code, 0, probe.stderr);
      assert.match(probe.stdout, /jobs on rediss:\/\/:\*\*\*@localhost:\d+\/0:/);
      const shared = join(workdir, "shared"); // --artifacts: bundles as files, Redis holding their paths
      const w = sgdlab(["worker", tlsUrl, "--quiet", "--artifacts", shared], env);
      const r = await sgdlab(
        ["sweep", "spec.json", "--grid", "seed=[1]", "--name", "tls", "--store", "tls", "--executor", tlsUrl],
        env,
      ).done;
      w.child.kill("SIGTERM");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /1 members, 1 completed/);
      const st = openStore("tls");
      const [run] = st.listRuns();
      st.close();
      const jobDir = join(shared, `${run.sweepId}-0`);
      assert.deepEqual(readdirSync(jobDir).sort(), ["progress.bundle", `result-${run.id}.bundle`]);
      // without the CA the certificate is refused, in one line
      const untrusted = await sgdlab(["sweeps", "--executor", tlsUrl]).done;
      assert.equal(untrusted.code, 1);
      assert.match(
        untrusted.stderr,
        /^sgdlab: cannot reach Redis at rediss:\/\/:\*\*\*@localhost:\d+\/0: self[- ]signed certificate\n$/,
      );
      assert.equal((await w.done).code, 130);
    } finally {
      server.kill("SIGKILL");
    }
  });

  it("a poisoned job payload is rejected and recorded, never run, and the workers go on", async () => {
    const queue = new Queue("members", {
      prefix: "sgdlab",
      connection: { host: "127.0.0.1", port, password: PASSWORD } as ConnectionOptions,
    });
    try {
      const base = { format: "sgdlab-member/1", threads: 1, codeVersion: "x" };
      const sweep = {
        id: "sw-evil",
        name: "evil",
        spec: { ...SMALL_SPEC, model: { kind: "shell", cmd: "rm -rf /" } },
        grid: {},
        createdAt: 0,
      };
      const member = { index: 0, overrides: {}, specHash: "0".repeat(64) };
      await queue.add("member", { cmd: "touch /tmp/pwned" }, { jobId: "junk-1", attempts: 5 });
      await queue.add("member", { ...base, sweep, member }, { jobId: "sw-evil-0", attempts: 5 });
      let failed: { id?: string; failedReason: string; attemptsMade: number }[] = [];
      for (let i = 0; i < 100 && failed.length < 2; i++) {
        await sleep(100);
        failed = (await queue.getJobs(["failed"])).filter((j) => j.id === "junk-1" || j.id === "sw-evil-0");
      }
      const byId = new Map(failed.map((j) => [j.id, j]));
      assert.match(
        byId.get("junk-1")?.failedReason ?? "",
        /rejected: job junk-1: not an sgdlab member payload: format/,
      );
      assert.match(
        byId.get("sw-evil-0")?.failedReason ?? "",
        /rejected: invalid spec sweep evil member 0 \(no overrides\): model\.kind: expected one of/,
      );
      for (const j of failed) assert.equal(j.attemptsMade, 1, `${j.id} is not retried`);
    } finally {
      await queue.close();
    }
    const status = await sgdlab(["sweeps", "--store", "remote", "--executor", url, "--json"]).done;
    const js = JSON.parse(status.stdout) as { rejected: { jobId: string }[]; workers: unknown[] };
    assert.deepEqual(js.rejected.map((x) => x.jobId).sort(), ["junk-1", "sw-evil-0"]);
    assert.equal(js.workers.length, 3);
    const text = await sgdlab(["sweeps", "--store", "remote", "--executor", url]).done;
    assert.match(text.stdout, /workers alive: 3/);
    assert.match(text.stdout, /rejected jobs: 2/);
    assert.doesNotMatch(text.stdout, new RegExp(PASSWORD));
    // a wrong password is one clear line, exit 1
    const bad = await sgdlab(["sweeps", "--executor", `redis://:wrong@127.0.0.1:${port}`]).done;
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^sgdlab: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: .*(WRONGPASS|invalid)/,
    );
    assert.equal(bad.stderr.trim().split("\n").length, 1);
  });
});
