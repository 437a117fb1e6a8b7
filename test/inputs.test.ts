// Issue 7 §3: every malformed input ends with one line naming the problem and exit code 2 (1 for a
// run that started and failed), never a stack trace. Most cases run the CLI in-process; the ones that
// concern the executable itself (thread flags read before jax-js loads, EPIPE on a real pipe, another
// user's permissions) spawn bin/sgdlab.js, which runs dist/ (`npm run build` first, as `npm test` does).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cli, leaksInternals, tinySpec, workdir, type CliResult } from "./clikit.js";

const BIN = join(import.meta.dirname, "..", "bin", "sgdlab.js");

function spawned(args: string[], cwd: string, env: Record<string, string> = {}, prefix: string[] = []): CliResult {
  const cmd = [...prefix, process.execPath, BIN, ...args];
  const r = spawnSync(cmd[0], cmd.slice(1), {
    cwd,
    encoding: "utf8",
    env: { ...process.env, SGDLAB_THREADS: "", ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts exit `code` and a one-line `sgdlab: ` message matching `pattern`, without internals. */
function refused(r: CliResult, pattern: RegExp, code = 2, what = ""): void {
  assert.equal(r.code, code, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  assert.match(r.stderr, /^sgdlab: /, what);
  assert.match(r.stderr, pattern, what);
  assert.ok(!leaksInternals(r.stderr), `${what}: ${r.stderr}`);
}

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

async function trainedStore(): Promise<{ dir: string; store: string; id: string }> {
  const dir = workdir();
  const store = join(dir, "store");
  const r = await cli(["run", join(dir, "spec.json"), "--store", store, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return { dir, store, id: (JSON.parse(r.stdout) as { runId: string }).runId };
}

describe("malformed inputs get one line and exit 2", () => {
  it("--threads and SGDLAB_THREADS", async () => {
    const dir = workdir();
    for (const v of ["abc", "0", "-1", "1.5", "999", ""]) {
      refused(
        await cli(["run", join(dir, "spec.json"), `--threads=${v}`]),
        /--threads must be an integer from 1 to 256/,
        2,
        v,
      );
    }
    refused(spawned(["run", "spec.json", "--threads", "abc"], dir), /--threads must be an integer/, 2, "bin --threads");
    refused(spawned(["runs"], dir, { SGDLAB_THREADS: "1.5" }), /SGDLAB_THREADS must be an integer/, 2, "bin env");
  });

  it("prototype keys in --set and in spec files pollute nothing", async () => {
    const dir = workdir();
    const spec = join(dir, "spec.json");
    for (const set of ["__proto__.polluted=1", "constructor.prototype.polluted=1", "model.__proto__.polluted=1"]) {
      refused(await cli(["run", spec, "--set", set]), /is not a spec field/, 2, set);
    }
    refused(await cli(["run", spec, "--set", "model={__proto__: {polluted: 1}}"]), /not allowed/, 2, "value");
    writeFileSync(join(dir, "proto.yaml"), "__proto__:\n  polluted: 1\nsteps: 3\n");
    refused(await cli(["run", join(dir, "proto.yaml")]), /key "__proto__" is not allowed/, 2, "file");
    writeFileSync(join(dir, "proto.json"), '{"constructor": {"prototype": {"polluted": 1}}}');
    refused(await cli(["run", join(dir, "proto.json")]), /key "constructor" is not allowed/, 2, "json");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false);
  });

  it("sizes beyond the schema's bounds or the memory the backend has", async () => {
    const spec = join(workdir(), "spec.json");
    refused(
      await cli(["run", spec, "--set", "model.hidden=[1000000000000000]"]),
      /model\.hidden\[0\]: expected a number ≤/,
    );
    refused(
      await cli(["run", spec, "--set", "data.nTrain=1e15"]),
      /data\.nTrain: expected a number ≤ 100000000, got 1000000000000000/,
    );
    refused(
      await cli(["run", spec, "--set", "data={kind: gaussianMixture, dim: 1000000000000}"]),
      /data\.dim: expected a number ≤/,
    );
    refused(
      await cli(["run", spec, "--set", "data={kind: gaussianMixture, dim: 100000, nTrain: 100000}"]),
      /needs at least .* GiB \(data .*\), more than the 4\.00 GiB/,
    );
    refused(await cli(["run", spec, "--set", "model.hidden=[5000000, 5000000]"]), /needs at least .*parameters/);
  });

  it("--set values that are not YAML, precise zod messages", async () => {
    const spec = join(workdir(), "spec.json");
    refused(
      await cli(["run", spec, "--set", "name=[oops"]),
      /--set name: the value "\[oops" is not valid YAML.*quote it/,
    );
    const r = await cli(["run", spec, "--set", "schedule.kind=bogus", "--set", "batchSize=x", "--set", "steps=-1"]);
    refused(r, /schedule\.kind: expected one of "constant", "step"/);
    assert.doesNotMatch(r.stderr, /, ,|"", |null|undefined/);
    assert.match(r.stderr, /batchSize: expected a number or "full", got "x"/);
    assert.match(r.stderr, /steps: expected a number > 0, got -1/);
  });

  it("output files that cannot be written", async () => {
    const { dir, store, id } = await trainedStore();
    refused(
      await cli(["export", id, "--store", store, "--out", join(dir, "missing-dir", "out.csv")]),
      /no such file or folder \(ENOENT\)/,
    );
    refused(await cli(["export", id, "--store", store, "--out", dir]), /it is a folder/);
    refused(await cli(["export", id, "--store", store, "--weights", join(dir, "nope", "w.safetensors")]), /ENOENT/);
    assert.deepEqual(readdirSync(dir).sort(), ["spec.json", "store"], "no stray temporary files");
  });

  it("stores that are files, devices, empty or damaged; nothing modified", async () => {
    const { dir, store, id } = await trainedStore();
    const spec = join(dir, "spec.json");
    const file = join(dir, "a-file");
    writeFileSync(file, "not a folder");
    for (const s of [file, "/dev/null"]) {
      for (const args of [["runs"], ["run", spec], ["show", id], ["export", id], ["hessian", id], ["resume", id]]) {
        refused(await cli([...args, "--store", s]), /is not a folder/, 2, `${args[0]} --store ${s}`);
      }
    }
    const empty = join(dir, "empty");
    mkdirSync(empty);
    writeFileSync(join(empty, "sgdlab.db"), "");
    for (const args of [["runs"], ["run", spec], ["show", id]]) {
      refused(await cli([...args, "--store", empty]), /is empty \(0 bytes\)/, 2, `${args[0]} empty`);
    }
    assert.equal(statSync(join(empty, "sgdlab.db")).size, 0, "the empty file is left alone");

    // damage one b-tree page header (the page after the schema pages)
    const bad = join(dir, "bad");
    cpSync(store, bad, { recursive: true });
    for (const s of ["-wal", "-shm"]) rmSync(join(bad, `sgdlab.db${s}`), { force: true });
    const db = readFileSync(join(bad, "sgdlab.db"));
    const page = db.readUInt16BE(16);
    db.fill(0xa5, page * 4, page * 4 + 40);
    writeFileSync(join(bad, "sgdlab.db"), db);
    const before = sha(join(bad, "sgdlab.db"));
    for (const args of [["runs"], ["show", id], ["export", id], ["run", spec], ["resume", id, "--step", "10"]]) {
      refused(await cli([...args, "--store", bad]), /is damaged .*did not modify it/, 2, `${args[0]} damaged`);
    }
    assert.equal(sha(join(bad, "sgdlab.db")), before, "the damaged database is unchanged");
  });

  it("hessian on a missing or non-checkpoint file exits 2", async () => {
    const dir = workdir();
    refused(await cli(["hessian", join(dir, "missing.ckpt")]), /cannot read checkpoint file/);
    refused(await cli(["hessian", join(dir, "spec.json")]), /is not an sgdlab checkpoint/);
    refused(await cli(["hessian", dir]), /checkpoint/);
  });

  it("control characters from user data are escaped", async () => {
    const dir = workdir();
    const store = join(dir, "store");
    const name = "evil\u001b[2J\u009b31m\u202eeman";
    const r = await cli([
      "run",
      join(dir, "spec.json"),
      "--store",
      store,
      "--quiet",
      "--set",
      `name=${JSON.stringify(name)}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim().split(" ")[1];
    for (const args of [
      ["runs"],
      ["runs", "--json"],
      ["show", id],
      ["show", id, "--json"],
      ["export", id, "--format", "json"],
    ]) {
      const o = await cli([...args, "--store", store]);
      assert.equal(o.code, 0, o.stderr);
      for (const c of ["\u001b", "\u009b", "\u202e"]) assert.ok(!o.stdout.includes(c), args.join(" "));
      assert.match(o.stdout, /evil\\u001b\[2J/, args.join(" "));
    }
    const json = await cli(["runs", "--json", "--store", store]);
    assert.equal((JSON.parse(json.stdout) as { name: string }[])[0].name, name, "--json stays valid JSON");
    refused(await cli(["show", "\u001b[31mx", "--store", store]), /\\u001b\[31mx/);
  });

  it("EPIPE on stdout is a quiet exit 0 (spawned)", () => {
    const dir = workdir();
    const run = spawned(["run", "spec.json", "--quiet"], dir);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim().split(" ")[1];
    for (const cmd of [`export ${id} --format csv`, `show ${id}`]) {
      const r = spawnSync(
        "bash",
        ["-c", `"${process.execPath}" "${BIN}" ${cmd} | true; echo "rc=\${PIPESTATUS[0]}" >&2`],
        {
          cwd: dir,
          encoding: "utf8",
          env: { ...process.env, SGDLAB_THREADS: "" },
        },
      );
      assert.match(r.stderr, /^rc=0\n$/, `${cmd}: ${r.stderr}`);
    }
  });

  const asNobody = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv");
  it(
    "read-only stores: readable by another user, writes refused (spawned as nobody)",
    { skip: !asNobody && "needs root and setpriv (as root, chmod stops no write)" },
    async () => {
      const { dir, store, id } = await trainedStore();
      const ro = join(dir, "ro");
      cpSync(store, ro, { recursive: true });
      for (const s of ["-wal", "-shm"]) rmSync(join(ro, `sgdlab.db${s}`), { force: true });
      chmodSync(dir, 0o755);
      chmodSync(ro, 0o555);
      writeFileSync(join(dir, "spec.json"), JSON.stringify(tinySpec));
      chmodSync(join(dir, "spec.json"), 0o644);
      const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
      for (const args of [["runs"], ["show", id], ["export", id, "--format", "csv"]]) {
        const r = spawned([...args, "--store", ro], "/", {}, nobody);
        assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
        assert.ok(r.stdout.length > 0);
      }
      refused(
        spawned(["run", join(dir, "spec.json"), "--store", ro], "/", {}, nobody),
        /cannot write (the )?run store/,
        2,
        "run",
      );
      refused(
        spawned(["run", join(dir, "spec.json"), "--store", join(ro, "sub")], "/", {}, nobody),
        /permission denied \(EACCES\)/,
        2,
        "mkdir",
      );
    },
  );
});

describe("resume: damaged checkpoints and --step", () => {
  it("falls back to the newest intact checkpoint with a warning and an event; --step N rewinds", async () => {
    const dir = workdir();
    const store = join(dir, "store");
    const straight = await cli(["run", join(dir, "spec.json"), "--store", store, "--json"]);
    const straightId = (JSON.parse(straight.stdout) as { runId: string }).runId;
    const lossColumn = async (id: string) => {
      const csv = (await cli(["export", id, "--store", store])).stdout.trim().split("\n");
      const col = csv[0].split(",").indexOf("train/batchLoss");
      return csv.slice(1).map((l) => l.split(",")[col]);
    };

    const { RunStore } = await import("../src/store/index.js");
    const { loadSpec } = await import("../src/experiments/resolve.js");
    const { runExperiment } = await import("../src/train/trainer.js");
    const s = RunStore.open(store);
    const stopped = await runExperiment(loadSpec(join(dir, "spec.json")), { store: s, stopAfter: 25 });
    const ckpts = s.listCheckpoints(stopped.runId).map((c) => c.step);
    const latest = s.latestCheckpoint(stopped.runId)!;
    s.close();
    assert.equal(stopped.status, "interrupted");
    assert.deepEqual(ckpts.slice(0, 2), [10, 20]);
    const file = join(store, latest.path);
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(file, bytes);

    const resumed = await cli(["resume", stopped.runId, "--store", store, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /warning: .*sha256 mismatch.*skipping the checkpoint at step 25/);
    assert.match(resumed.stderr, /resuming from the newest intact checkpoint, at step 20/);
    const shown = JSON.parse((await cli(["show", stopped.runId, "--store", store, "--json"])).stdout) as {
      events: { kind: string; step: number }[];
      checkpoints: { step: number }[];
    };
    assert.ok(shown.events.some((e) => e.kind === "rewind" && e.step === 20));
    assert.deepEqual(
      shown.checkpoints.map((c) => c.step),
      [10, 20, 30],
    );
    assert.deepEqual(await lossColumn(stopped.runId), await lossColumn(straightId), "the identical trajectory");

    // --step N on a completed run: later rows are replaced, never duplicated
    refused(await cli(["resume", stopped.runId, "--store", store]), /already completed/, 1);
    refused(
      await cli(["resume", stopped.runId, "--store", store, "--step", "7"]),
      /no checkpoint at step 7; it has steps 10, 20, 30/,
    );
    refused(
      await cli(["resume", stopped.runId, "--store", store, "--step", "x"]),
      /--step must be a non-negative integer/,
    );
    const again = await cli(["resume", stopped.runId, "--store", store, "--step", "10", "--json"]);
    assert.equal(again.code, 0, again.stderr);
    const loss = await lossColumn(stopped.runId);
    assert.equal(loss.length, 31, "one row per step 0..30");
    assert.deepEqual(loss, await lossColumn(straightId));
  });

  it("resumeExperiment (the API) also falls back past a damaged checkpoint", async () => {
    const dir = workdir();
    const store = join(dir, "store");
    const { RunStore } = await import("../src/store/index.js");
    const { loadSpec } = await import("../src/experiments/resolve.js");
    const { runExperiment, resumeExperiment } = await import("../src/train/trainer.js");
    const s = RunStore.open(store);
    try {
      const stopped = await runExperiment(loadSpec(join(dir, "spec.json")), { store: s, stopAfter: 25 });
      const latest = s.latestCheckpoint(stopped.runId)!;
      writeFileSync(join(store, latest.path), "garbage");
      const r = await resumeExperiment(stopped.runId, { store: s });
      assert.deepEqual([r.status, r.step], ["completed", 30]);
      assert.ok(s.getEvents(stopped.runId).some((e) => e.kind === "rewind" && e.step === 20));
      const steps = s.getMetrics(stopped.runId, { keys: ["train/batchLoss"] }).map((m) => m.step);
      assert.deepEqual(
        steps,
        Array.from({ length: 30 }, (_, i) => i),
        "steps 0..29, each once",
      );
    } finally {
      s.close();
    }
  });
});
