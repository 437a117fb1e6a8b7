// The analysis commands end to end, in-process on tiny specs: `stability`, `init-curvature`, `reparam`,
// `scaling` and `flow`. Each `--json` output has exactly the keys README.md documents, finite numbers
// where numbers are documented, and values that agree with a cheap independent check; bad input exits 2
// with one `sgdlab: ` line and no stack trace; `--help` exits 0.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { before, describe, it } from "node:test";
import { cli, leaksInternals, workdir, type CliResult } from "./clikit.js";

/** Two-class logistic regression on a 3-d Gaussian mixture: convex, float64, a few steps. */
const logreg = {
  name: "logreg-tiny",
  seed: 3,
  dtype: "float64",
  data: { kind: "gaussianMixture", nTrain: 24, nTest: 24, classes: 2, dim: 3 },
  model: { kind: "linear" },
  loss: { kind: "ce" },
  optimizer: { kind: "sgd", lr: 0.1 },
  batchSize: 6,
  steps: 8,
  evalEvery: 4,
};

/** A one-hidden-layer ReLU MLP with momentum: something T_α applies to and m ≠ 0 for the noise scale. */
const mlp = {
  name: "mlp-tiny",
  seed: 2,
  dtype: "float64",
  data: { kind: "gaussianMixture", nTrain: 32, nTest: 16, classes: 3, dim: 4 },
  model: { kind: "mlp", hidden: [5], activation: "relu" },
  loss: { kind: "ce" },
  optimizer: { kind: "sgd", lr: 0.05, momentum: 0.5 },
  batchSize: 8,
  steps: 6,
  evalEvery: 3,
  checkpointEvery: 3,
};

/** A smooth model for the flow comparison. */
const smooth = {
  name: "flow-tiny",
  seed: 0,
  dtype: "float64",
  data: { kind: "gaussianMixture", nTrain: 16, nTest: 8, classes: 2, dim: 3 },
  model: { kind: "mlp", hidden: [3], activation: "tanh" },
  loss: { kind: "mse", reduction: "half_mean" },
  optimizer: { kind: "sgd", lr: 0.1 },
  batchSize: "full",
  steps: 10,
};

/** Asserts exit 2 and exactly one `sgdlab: ` line matching `pattern` on stderr, nothing on stdout. */
function refused(r: CliResult, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  assert.equal(r.stdout, "", `${what}: stdout ${r.stdout}`);
  assert.match(r.stderr, /^sgdlab: [^\n]*\n$/, `${what}: not exactly one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern, what);
  assert.ok(!leaksInternals(r.stderr), `${what}: ${r.stderr}`);
}

/** Parses a successful `--json` run and checks its top-level keys are exactly `keys`. */
function json(r: CliResult, keys: string[], what: string): Record<string, unknown> {
  assert.equal(r.code, 0, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  const o = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(o).sort(), [...keys].sort(), `${what}: top-level keys`);
  return o;
}

/** Asserts that every named field of `o` is a finite number. */
function finite(o: unknown, fields: string[], what: string): void {
  const r = o as Record<string, unknown>;
  for (const f of fields) {
    assert.equal(typeof r[f], "number", `${what}.${f} is ${JSON.stringify(r[f])}`);
    assert.ok(Number.isFinite(r[f]), `${what}.${f} = ${String(r[f])} is not finite`);
  }
}

/** Asserts `--help` exits 0 with the command's usage on stdout. */
async function helps(cmd: string): Promise<void> {
  const r = await cli([cmd, "--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^usage: sgdlab ${cmd} `));
  assert.equal(r.stderr, "");
}

describe("analysis commands", () => {
  const dir = workdir(logreg);
  const logregFile = join(dir, "spec.json");
  const mlpFile = join(dir, "mlp.json");
  const flowFile = join(dir, "flow.json");
  const store = join(dir, "store");
  const missing = join(dir, "no-such-spec.yaml");
  let runId = "";
  writeFileSync(mlpFile, JSON.stringify(mlp));
  writeFileSync(flowFile, JSON.stringify(smooth));

  before(async () => {
    const r = await cli(["run", mlpFile, "--store", store, "--json", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    runId = (JSON.parse(r.stdout) as { runId: string }).runId;
  });

  it("stability --json: documented keys, finite values, K = 0 gives distance 0", async () => {
    const what = "stability";
    const o = json(
      await cli(["stability", logregFile, "--replace", "1", "--pairs", "2", "--every", "4", "--json"]),
      [
        "n",
        "replace",
        "heldOut",
        "steps",
        "meanDistance",
        "pairs",
        "stability",
        "sumLr",
        "c",
        "maxLr",
        "lipschitz",
        "smoothness",
        "bounds",
        "seconds",
      ],
      what,
    );
    finite(o, ["n", "replace", "heldOut", "sumLr", "c", "maxLr", "lipschitz", "smoothness", "seconds"], what);
    assert.equal(o.n, logreg.data.nTrain);
    assert.equal(o.replace, 1);
    // two pairs take one held-out row each; the rest measure the loss difference
    assert.equal(o.heldOut, logreg.data.nTest - 2);
    // constant step: Σα_t = ηT, max α = η
    assert.ok(Math.abs((o.sumLr as number) - logreg.optimizer.lr * logreg.steps) < 1e-9, `sumLr ${String(o.sumLr)}`);
    assert.equal(o.maxLr, logreg.optimizer.lr);
    const steps = o.steps as number[];
    const mean = o.meanDistance as number[];
    assert.equal(steps[0], 0);
    assert.equal(steps.at(-1), logreg.steps);
    assert.equal(mean.length, steps.length);
    const pairs = o.pairs as Record<string, unknown>[];
    assert.equal(pairs.length, 2);
    for (const [j, p] of pairs.entries()) {
      assert.deepEqual(Object.keys(p).sort(), ["distance", "maxLossDiff", "meanLossDiff", "replaced"]);
      finite(p, ["maxLossDiff", "meanLossDiff"], `pairs[${j}]`);
      assert.equal((p.replaced as number[]).length, 1);
      const d = p.distance as number[];
      assert.equal(d.length, steps.length);
      assert.equal(d[0], 0, "same initialization");
      assert.ok(d.every((x) => Number.isFinite(x) && x >= 0));
      assert.ok((p.maxLossDiff as number) >= (p.meanLossDiff as number));
    }
    for (let i = 0; i < steps.length; i++) {
      const m = (pairs[0].distance as number[])[i] / 2 + (pairs[1].distance as number[])[i] / 2;
      assert.ok(Math.abs(mean[i] - m) <= 1e-12 * (1 + m), `meanDistance[${i}]`);
    }
    const st = o.stability as Record<string, unknown>;
    assert.deepEqual(Object.keys(st).sort(), ["max", "mean", "min", "stderr"]);
    finite(st, ["mean", "stderr", "min", "max"], "stability");
    const lossDiffs = pairs.map((p) => p.maxLossDiff as number);
    assert.ok(Math.abs((st.mean as number) - (lossDiffs[0] + lossDiffs[1]) / 2) < 1e-12);
    assert.equal(st.min, Math.min(...lossDiffs));
    assert.equal(st.max, Math.max(...lossDiffs));
    const b = o.bounds as Record<string, Record<string, unknown> | string>;
    assert.deepEqual(Object.keys(b).sort(), ["convex", "kind", "nonConvex"]);
    const convex = b.convex as Record<string, unknown>;
    assert.deepEqual(Object.keys(convex).sort(), ["applies", "distanceBound", "lossBound", "why"]);
    finite(convex, ["lossBound", "distanceBound"], "bounds.convex");
    const nonConvex = b.nonConvex as Record<string, unknown>;
    assert.deepEqual(Object.keys(nonConvex).sort(), ["exponent", "lossBound", "why"]);

    // K = 0 is documented: identical data, distance exactly 0 everywhere
    const zero = json(
      await cli(["stability", logregFile, "--replace", "0", "--pairs", "1", "--json"]),
      Object.keys(o),
      "stability --replace 0",
    );
    for (const p of zero.pairs as { distance: number[]; maxLossDiff: number }[]) {
      assert.ok(
        p.distance.every((x) => x === 0),
        `distance ${String(p.distance)}`,
      );
      assert.equal(p.maxLossDiff, 0);
    }
  });

  it("init-curvature --json: documented keys, two draws with distinct seeds", async () => {
    const o = json(
      await cli(["init-curvature", logregFile, "--draws", "2", "--probes", "4", "--json"]),
      ["draws", "flattest", "written", "seconds"],
      "init-curvature",
    );
    finite(o, ["seconds"], "init-curvature");
    assert.equal(o.written, null);
    const draws = o.draws as Record<string, unknown>[];
    assert.equal(draws.length, 2);
    for (const [i, d] of draws.entries()) {
      assert.deepEqual(Object.keys(d).sort(), ["gradNorm", "lambdaMax", "loss", "seed", "trace", "traceStderr"]);
      finite(d, ["seed", "loss", "lambdaMax", "trace", "traceStderr", "gradNorm"], `draws[${i}]`);
      // CE of a linear model is convex: λmax ≥ 0, and tr H ≥ λmax up to the Hutchinson error
      assert.ok((d.lambdaMax as number) >= -1e-9);
      assert.equal(d.seed, logreg.seed + i, "seeds seed … seed+N−1");
    }
    assert.notEqual(draws[0].seed, draws[1].seed);
    assert.notDeepEqual(draws[0], draws[1]);
    const lowest = Math.min(...draws.map((d) => d.lambdaMax as number));
    assert.deepEqual(
      o.flattest,
      draws.find((d) => d.lambdaMax === lowest),
    );
  });

  it("reparam --json: documented keys; α = 1 changes nothing, α = 4 keeps the outputs", async () => {
    const side = ["averageSharpness", "averageSharpnessStderr", "lambdaMax", "loss", "trace", "traceStderr"];
    const keys = ["runId", "alpha", "variant", "factors", "outputChange", "before", "after", "sigma", "seconds"];
    const flags = ["--store", store, "--probes", "4", "--samples", "2", "--json"];
    const one = json(await cli(["reparam", runId, "--alpha", "1", ...flags]), keys, "reparam α = 1");
    finite(one, ["alpha", "outputChange", "sigma", "seconds"], "reparam");
    assert.equal(one.alpha, 1);
    assert.equal(one.sigma, 0.01);
    assert.equal(one.outputChange, 0);
    assert.match(one.runId as string, new RegExp(runId));
    const b1 = one.before as Record<string, number>;
    const a1 = one.after as Record<string, number>;
    assert.deepEqual(Object.keys(b1).sort(), side);
    assert.deepEqual(Object.keys(a1).sort(), side);
    finite(b1, side, "before");
    finite(a1, side, "after");
    assert.deepEqual(a1, b1, "α = 1 is the identity");

    const four = json(await cli(["reparam", runId, "--alpha", "4", ...flags]), keys, "reparam α = 4");
    assert.deepEqual(four.factors, { "layers.0.W": 4, "layers.0.b": 4, "layers.1.W": 0.25 });
    assert.ok((four.outputChange as number) < 1e-12, `output change ${String(four.outputChange)}`);
    const b4 = four.before as Record<string, number>;
    const a4 = four.after as Record<string, number>;
    assert.deepEqual(b4, b1, "before does not depend on α");
    assert.ok(Math.abs(a4.loss - b4.loss) <= 1e-12 * (1 + b4.loss));
    assert.ok(a4.lambdaMax > b4.lambdaMax, `λmax ${b4.lambdaMax} → ${a4.lambdaMax}`);
  });

  it("scaling --json: documented keys; the noise scale is εN/(B(1−m)) of the spec", async () => {
    const keys = [
      "runId",
      "step",
      "lr",
      "batchSize",
      "n",
      "momentum",
      "noiseScale",
      "bSimple",
      "bCrit",
      "gradNormSq",
      "traceCov",
      "examples",
      "suggestion",
    ];
    const o = json(await cli(["scaling", runId, "--store", store, "--batch", "16", "--json"]), keys, "scaling");
    finite(o, keys.slice(1, -1), "scaling");
    const { lr, momentum } = mlp.optimizer;
    assert.equal(o.step, mlp.steps);
    assert.equal(o.lr, lr);
    assert.equal(o.batchSize, mlp.batchSize);
    assert.equal(o.n, mlp.data.nTrain);
    assert.equal(o.momentum, momentum);
    const byHand = (lr * mlp.data.nTrain) / (mlp.batchSize * (1 - momentum));
    assert.ok(Math.abs((o.noiseScale as number) - byHand) < 1e-12 * byHand, `${String(o.noiseScale)} vs ${byHand}`);
    assert.equal(o.bCrit, o.bSimple);
    assert.equal(o.examples, mlp.data.nTrain);
    assert.ok(
      Math.abs((o.bSimple as number) - (o.traceCov as number) / (o.gradNormSq as number)) <=
        1e-9 * (o.bSimple as number),
    );
    const s = o.suggestion as Record<string, unknown>;
    assert.deepEqual(Object.keys(s).sort(), ["beyondNoiseScale", "linear", "newBatchSize", "sqrt"]);
    assert.equal(s.newBatchSize, 16);
    assert.ok(Math.abs((s.linear as number) - lr * 2) < 1e-12);
    assert.ok(Math.abs((s.sqrt as number) - lr * Math.SQRT2) < 1e-12);
    assert.equal(typeof s.beyondNoiseScale, "boolean");

    // an earlier checkpoint, and no suggestion without --batch
    const early = json(await cli(["scaling", runId, "--store", store, "--step", "3", "--json"]), keys, "scaling 3");
    assert.equal(early.step, 3);
    assert.equal(early.suggestion, null);
  });

  it("flow --json: documented keys; two step sizes give two rows with finite distances", async () => {
    const out = join(dir, "flow-report");
    const r = await cli(["flow", flowFile, "--h", "0.2,0.1", "--time", "0.4", "--out", out, "--json"]);
    const o = json(
      r,
      ["spec", "method", "integrator", "time", "slopeFlow", "slopeModified", "flowStats", "rows", "unstable", "report"],
      "flow",
    );
    finite(o, ["time"], "flow");
    assert.equal(o.spec, flowFile);
    assert.equal(o.method, "dopri");
    assert.equal(o.time, 0.4);
    assert.equal(o.unstable, null);
    assert.equal(typeof o.report, "string");
    assert.deepEqual(Object.keys(o.flowStats as object).sort(), ["evaluations", "rejected", "steps"]);
    finite(o.flowStats, ["evaluations", "rejected", "steps"], "flowStats");
    const rows = o.rows as Record<string, unknown>[];
    assert.equal(rows.length, 2);
    for (const [i, row] of rows.entries()) {
      assert.deepEqual(Object.keys(row).sort(), [
        "along",
        "distFlow",
        "distModified",
        "h",
        "modifiedStats",
        "steps",
        "time",
      ]);
      finite(row, ["h", "steps", "time", "distFlow", "distModified"], `rows[${i}]`);
      assert.equal(row.h, [0.2, 0.1][i]);
      assert.equal(row.steps, [2, 4][i]);
      assert.ok(Math.abs((row.time as number) - 0.4) < 1e-12);
      assert.ok((row.distFlow as number) > 0);
      for (const a of row.along as Record<string, unknown>[]) {
        assert.deepEqual(Object.keys(a).sort(), ["distFlow", "distModified", "step", "t"]);
        finite(a, ["step", "t", "distFlow", "distModified"], `rows[${i}].along`);
      }
    }
    // first-order method: halving h about halves ‖GD − flow‖ and quarters ‖GD − modified‖. The fitted
    // slopes are NaN (JSON null) with fewer than 3 step sizes (train/flow.ts), else the two-point slope.
    const slope = (key: string) => Math.log((rows[0][key] as number) / (rows[1][key] as number)) / Math.log(2);
    assert.ok(slope("distFlow") > 0.5 && slope("distFlow") < 1.5, `plain slope ${slope("distFlow")}`);
    assert.ok(slope("distModified") > 1.5, `modified slope ${slope("distModified")}`);
    for (const [key, fitted] of [
      ["distFlow", o.slopeFlow],
      ["distModified", o.slopeModified],
    ] as const) {
      if (fitted !== null) assert.ok(Math.abs((fitted as number) - slope(key)) < 1e-9, `${key}: ${String(fitted)}`);
    }
  });

  it("bad input exits 2 with one line", async () => {
    const cases: [string[], RegExp][] = [
      [["stability", missing, "--replace", "1"], /no-such-spec/],
      [["stability", logregFile, "--replace", "x"], /--replace must be an integer ≥ 0/],
      [["stability", logregFile, "--replace", "1", "--pairs", "99"], /held-out/],
      [["init-curvature", missing, "--draws", "2"], /no-such-spec/],
      [["init-curvature", logregFile, "--draws", "0"], /--draws must be an integer ≥ 1, got "0"/],
      [["init-curvature", logregFile, "--draws", "1.5"], /--draws must be an integer ≥ 1/],
      [["reparam", "nosuchrun", "--alpha", "2", "--store", store], /nosuchrun/],
      [["reparam", runId, "--alpha=-1", "--store", store], /--alpha must be a positive number, got "-1"/],
      [["reparam", runId, "--alpha", "0", "--store", store], /--alpha must be a positive number, got "0"/],
      [["reparam", runId, "--alpha", "2", "--variant", "tanh", "--store", store], /--variant must be relu or preNorm/],
      [["scaling", "nosuchrun", "--store", store], /nosuchrun/],
      [["scaling", runId, "--batch", "0", "--store", store], /--batch must be an integer ≥ 1/],
      [["flow", missing], /no-such-spec/],
      [["flow", flowFile, "--h", "abc"], /--h must be a comma-separated list of positive numbers, got "abc"/],
      [["flow", flowFile, "--h", "0.1,0"], /--h must be a comma-separated list/],
      [["flow", flowFile, "--h", ""], /--h must be a comma-separated list/],
      [["flow", flowFile, "--method", "euler"], /--method must be dopri or rk4/],
    ];
    for (const [argv, pattern] of cases) refused(await cli(argv), pattern, argv.join(" "));
  });

  it("reparam --samples 0 is refused, as --probes 0 is", async () => {
    // zero draws leave the average sharpness undefined (NaN, null in the JSON)
    const argv = ["reparam", runId, "--alpha", "2", "--samples", "0", "--store", store, "--probes", "4"];
    refused(await cli(argv), /--samples/, argv.join(" "));
  });

  it("stability --every 0 is refused, not an endless loop", () => {
    // In a child process with a time limit: the loop that lists the recorded steps never advances with a
    // stride of 0, grows its array until V8 aborts, and would take this test process down with it.
    const main = pathToFileURL(join(import.meta.dirname, "..", "src", "cli", "main.ts")).href;
    const script =
      `const { main } = await import(${JSON.stringify(main)});` +
      `process.exitCode = await main(${JSON.stringify(["stability", logregFile, "--replace", "1", "--every", "0"])}, ` +
      `{ out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: join(import.meta.dirname, ".."),
      encoding: "utf8",
      env: { ...process.env, SGDLAB_THREADS: "1" },
      timeout: 20_000,
      maxBuffer: 1 << 20,
    });
    refused(
      { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.slice(0, 2000) },
      /--every/,
      `stability --every 0 (signal ${String(r.signal)})`,
    );
  });

  it("missing required flags and parse errors exit 2: one problem line, then usage or a hint", async () => {
    // These deliberately add the usage text (a missing flag) or `run "sgdlab CMD --help"` (parseArgs'
    // errors, whose own message for a dash-led value after a space spans three lines) after the problem.
    const cases: [string[], RegExp][] = [
      [["stability", logregFile], /^sgdlab: stability: --replace K is required\nusage: sgdlab stability /],
      [["init-curvature", logregFile], /^sgdlab: init-curvature: --draws N is required\n$/],
      [["reparam", runId, "--store", store], /^sgdlab: reparam: --alpha A is required\n$/],
      [
        ["reparam", runId, "--alpha", "-1", "--store", store],
        /^sgdlab: reparam: Option '--alpha' argument is ambiguous/,
      ],
      [
        ["init-curvature", logregFile, "--draws", "-2"],
        /^sgdlab: init-curvature: Option '--draws' argument is ambiguous/,
      ],
      [["flow", flowFile, "--bogus"], /^sgdlab: flow: Unknown option '--bogus'[^\n]*; see "sgdlab flow --help"\n$/],
      [["scaling"], /^sgdlab: scaling: expected one run id\nusage: sgdlab scaling /],
    ];
    for (const [argv, pattern] of cases) {
      const r = await cli(argv);
      const what = argv.join(" ");
      assert.equal(r.code, 2, `${what}: exit ${r.code}, stderr ${r.stderr}`);
      assert.equal(r.stdout, "", what);
      assert.match(r.stderr, pattern, what);
      assert.ok(!leaksInternals(r.stderr), `${what}: ${r.stderr}`);
    }
  });

  it("--help exits 0", async () => {
    for (const cmd of ["stability", "init-curvature", "reparam", "scaling", "flow"]) await helps(cmd);
  });
});
