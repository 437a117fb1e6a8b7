// Issue 7 §3: generated malformed specs and argument vectors (fixed seed) through the CLI, in-process.
// None may print a stack trace or an internal error, exit outside {0, 1, 2} (130 only when the harness
// stopped a valid mutant's training), hang, pollute a prototype, or change an existing run.
// SGDLAB_FUZZ_CASES raises the number of cases (default 240 specs + 240 argument vectors).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stringify as toYaml } from "yaml";
import { RunStore } from "../src/store/index.js";
import { cli, leaksInternals, tinySpec, workdir, type CliResult } from "./clikit.js";

const CASES = Number(process.env.SGDLAB_FUZZ_CASES ?? 240);
/** A valid mutant's training is stopped (like Ctrl-C) after this long. */
const TRAIN_MS = 2_000;
/** A case that takes longer than this is a hang. */
const HANG_MS = 30_000;

/** mulberry32: a small seeded PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Rng = ReturnType<typeof prng>;

const NUMBERS = [0, -1, 1, 0.5, -0.0, 1e308, -1e308, 1e15, 2 ** 53, 2 ** 31, 1e-320, 3, 7, 1e6];
const STRINGS = ["", "full", "mlp", "sgd", "x".repeat(300), "\u001b[2J", "__proto__", "NaN", "-1", "1e999", "🙂"];
const KEYS = [
  "kind",
  "lr",
  "hidden",
  "nTrain",
  "dim",
  "steps",
  "batchSize",
  "zzz",
  "__proto__",
  "constructor",
  "prototype",
];

function randomValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 4 : 7)) {
    case 0:
      return r.pick(NUMBERS);
    case 1:
      return r.pick(STRINGS);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return r.next() * 10 ** (r.int(40) - 20) * (r.next() < 0.3 ? -1 : 1);
    case 4:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    case 5:
      return Object.fromEntries(Array.from({ length: r.int(3) }, () => [r.pick(KEYS), randomValue(r, depth + 1)]));
    default:
      return { kind: r.pick(STRINGS) };
  }
}

/** Every (object path) of a JSON value. */
function paths(v: unknown, prefix: string[] = []): string[][] {
  if (v === null || typeof v !== "object") return [prefix];
  return [prefix, ...Object.entries(v).flatMap(([k, c]) => paths(c, [...prefix, k]))];
}

const bases: unknown[] = [
  { ...tinySpec, steps: 3, checkpointEvery: 0 },
  {
    name: "reg",
    data: { kind: "teacherStudent", dim: 3, nTrain: 32, nTest: 8 },
    model: { kind: "mlp", hidden: [4] },
    loss: { kind: "mse" },
    optimizer: { kind: "adam", lr: 0.01 },
    schedule: { kind: "cosine" },
    steps: 2,
    probes: [{ kind: "gradNorm", every: 1 }],
  },
];

/** A malformed (usually) spec file's text and extension. */
function mutantSpec(r: Rng): { text: string; ext: string; sets: string[] } {
  const doc = structuredClone(r.pick(bases)) as Record<string, unknown>;
  const sets: string[] = [];
  const edits = 1 + r.int(3);
  let raw: string | null = null;
  for (let e = 0; e < edits; e++) {
    const all = paths(doc).filter((p) => p.length > 0);
    const p = r.pick(all);
    const parent = p.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, doc);
    switch (r.int(8)) {
      case 0:
        parent[p[p.length - 1]] = randomValue(r);
        break;
      case 1:
        delete parent[p[p.length - 1]];
        break;
      case 2:
        parent[r.pick(KEYS)] = randomValue(r);
        break;
      case 3: {
        let deep: unknown = 1;
        for (let i = 0; i < 20 + r.int(300); i++) deep = r.next() < 0.5 ? { a: deep } : [deep];
        parent[p[p.length - 1]] = deep;
        break;
      }
      case 4:
        sets.push(
          `${p.join(".")}=${String(r.pick([...STRINGS, "[1, 2", "{a: ", "!!binary x", "*alias", "1e15", "-3"]))}`,
        );
        break;
      case 5:
        sets.push(`${r.pick(["__proto__", "constructor", "a.__proto__", "model.constructor.prototype"])}.x=1`);
        break;
      case 6:
        raw = Array.from({ length: 1 + r.int(200) }, () => String.fromCharCode(r.int(256))).join("");
        break;
      default:
        // a prototype key inside the document itself (JSON.parse keeps "__proto__" as an own key)
        raw = JSON.stringify(doc).replace(/^\{/, `{"${r.pick(["__proto__", "constructor"])}": {"polluted": 1}, `);
    }
  }
  if (raw !== null) return { text: raw, ext: r.pick(["json", "yaml"]), sets };
  const ext = r.pick(["json", "yaml"]);
  let text: string;
  try {
    text = ext === "json" ? JSON.stringify(doc) : toYaml(doc);
  } catch {
    text = JSON.stringify(doc);
  }
  return { text, ext, sets };
}

const FLAGS = [
  "--store",
  "--json",
  "--quiet",
  "--threads",
  "--set",
  "--format",
  "--out",
  "--weights",
  "--step",
  "--status",
  "--limit",
  "--top",
  "--bottom",
  "--trace",
  "--objective",
  "--tol",
  "--dtype",
  "--max-iter",
  "--chunk-size",
  "--batch-sizes",
  "--draws",
  "--model",
  "--from-json",
  "--density",
  "--bogus",
  "-h",
  "--",
  "-",
];
const FLAG_VALUES = [
  "",
  "0",
  "-1",
  "1.5",
  "abc",
  "999",
  "1e309",
  "NaN",
  "csv",
  "json",
  "xml",
  "full",
  "subset:0",
  "batch:-3",
  "float16",
  "8,,32",
  "1,2,3",
  "\u001b[31m",
  "x".repeat(500),
];

/** A (usually) malformed argument vector; `id` is the protected run, `dir` the only place files may go. */
function mutantArgs(r: Rng, id: string, dir: string): string[] {
  const cmd = r.pick(["run", "resume", "runs", "show", "export", "hessian", "frobnicate", "", "--version", "help"]);
  const argv = [cmd];
  const positional = () =>
    r.pick([id, id.slice(0, 1 + r.int(id.length)), "nope", "", join(dir, "missing.yaml"), dir, "/dev/null", "-"]);
  for (let i = 0, n = r.int(5); i < n; i++) {
    if (r.next() < 0.35) {
      argv.push(positional());
      continue;
    }
    const flag = r.pick(FLAGS);
    const value = (() => {
      if (flag === "--out" || flag === "--weights") return r.pick([join(dir, "o.csv"), dir, join(dir, "no", "x"), ""]);
      if (flag === "--store") return r.pick([join(dir, "store"), "/dev/null", dir, join(dir, "spec.json")]);
      if (flag === "--step" && cmd === "resume") return r.pick(["-1", "abc", "99999", "1.5"]); // never rewind it
      return r.pick(FLAG_VALUES);
    })();
    argv.push(r.next() < 0.2 ? `${flag}=${value}` : flag);
    if (r.next() < 0.8) argv.push(value);
  }
  if (!argv.some((a) => a.startsWith("--store"))) argv.push("--store", join(dir, "store"));
  return argv;
}

function snapshot(storeDir: string, id: string): string {
  const s = RunStore.open(storeDir, { readonly: true });
  try {
    const run = s.getRun(id);
    const checkpoints = s.listCheckpoints(id);
    const files = checkpoints.map((c) =>
      createHash("sha256")
        .update(readFileSync(join(storeDir, c.path)))
        .digest("hex"),
    );
    return JSON.stringify({ run, metrics: s.getMetrics(id), events: s.getEvents(id), checkpoints, files });
  } finally {
    s.close();
  }
}

async function guarded(argv: string[]): Promise<CliResult & { stopped: boolean }> {
  const ac = new AbortController();
  let stopped = false;
  const stop = setTimeout(() => ((stopped = true), ac.abort()), TRAIN_MS);
  let hang: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      cli(argv, ac.signal),
      new Promise<never>((_, reject) => {
        hang = setTimeout(() => reject(new Error(`hang: ${JSON.stringify(argv)}`)), HANG_MS);
      }),
    ]);
    return { ...r, stopped };
  } finally {
    clearTimeout(stop);
    clearTimeout(hang);
  }
}

function check(r: CliResult & { stopped: boolean }, what: string): void {
  const all = r.stdout + r.stderr;
  assert.ok(!leaksInternals(all), `${what}: internals leaked:\n${all.slice(0, 2000)}`);
  assert.doesNotMatch(r.stderr, /internal error/, `${what}: ${r.stderr.slice(0, 2000)}`);
  const codes = r.stopped ? [0, 1, 2, 130] : [0, 1, 2];
  assert.ok(codes.includes(r.code), `${what}: exit ${r.code}\n${r.stderr.slice(0, 2000)}`);
  if (r.code === 2) assert.match(r.stderr, /^sgdlab: /, what);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false, `${what}: polluted`);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "x"), false, `${what}: polluted`);
}

describe("fuzz: malformed specs and arguments", { timeout: 600_000 }, () => {
  it(`${CASES} specs and ${CASES} argument vectors: one-line answers, nothing changed`, async (t) => {
    const dir = workdir();
    const store = join(dir, "store");
    const first = await cli(["run", join(dir, "spec.json"), "--store", store, "--json"]);
    assert.equal(first.code, 0, first.stderr);
    const id = (JSON.parse(first.stdout) as { runId: string }).runId;
    const before = snapshot(store, id);
    const r = prng(20261130);
    const tally: Record<number, number> = {};
    for (let i = 0; i < CASES; i++) {
      const m = mutantSpec(r);
      const file = join(dir, `mutant.${m.ext}`);
      writeFileSync(file, m.text, "latin1");
      const argv = ["run", file, "--store", store, "--quiet", ...m.sets.flatMap((s) => ["--set", s])];
      const res = await guarded(argv);
      check(res, `spec case ${i} ${JSON.stringify(argv)}\n${m.text.slice(0, 300)}`);
      tally[res.code] = (tally[res.code] ?? 0) + 1;
    }
    for (let i = 0; i < CASES; i++) {
      const argv = mutantArgs(r, id, dir);
      const res = await guarded(argv);
      check(res, `argv case ${i} ${JSON.stringify(argv)}`);
      tally[res.code] = (tally[res.code] ?? 0) + 1;
    }
    t.diagnostic(`exit codes: ${JSON.stringify(tally)}`);
    assert.equal(snapshot(store, id), before, "the completed run is unchanged");
    assert.ok((tally[2] ?? 0) > CASES, `most cases are refused: ${JSON.stringify(tally)}`);
  });
});
