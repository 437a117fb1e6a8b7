// The playground's numerics without a browser: its URL state, its spec, and its Session (the page's
// trainer) against `runExperiment` on the same spec — the same batch losses and the same λmax, bit for
// bit, since both run the library's builders, step engine and hessian probe — and a flat Wasm heap.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { wasmHeapBytes } from "../src/core/index.js";
import { initRuntime } from "../src/core/runtime.js";
import { resolveSpec } from "../src/experiments/resolve.js";
import { runExperiment } from "../src/train/trainer.js";
import { parseSpec, Session } from "../web/playground/session.js";
import {
  DATASETS,
  DEFAULT_NOISE,
  DEFAULTS,
  OPTIMIZERS,
  formatState,
  parseState,
  toSpec,
  type PlaygroundState,
} from "../web/playground/state.js";
import { tempStore } from "./helpers.js";

describe("playground state", () => {
  it("round-trips every field through the query string", () => {
    const s: PlaygroundState = {
      ...DEFAULTS,
      data: "spirals",
      n: 150,
      noise: 0.2,
      width: 12,
      depth: 3,
      act: "relu",
      loss: "mse",
      opt: "sam",
      lr: 0.05,
      batch: 25,
      rho: 0.1,
      every: 7,
      seed: 42,
      backend: "wasm",
    };
    const back = parseState(`?${formatState(s)}`);
    assert.deepEqual(back.notes, []);
    assert.deepEqual(back.state, s);
  });

  it("falls back to the default for each invalid value, with a note naming the field", () => {
    const { state, notes } = parseState("?lr=abc&data=rings&width=2.5&every=0&seed=-1&bogus=1&opt=adam");
    assert.equal(state.lr, DEFAULTS.lr);
    assert.equal(state.data, DEFAULTS.data);
    assert.equal(state.width, DEFAULTS.width);
    assert.equal(state.every, DEFAULTS.every);
    assert.equal(state.seed, DEFAULTS.seed);
    assert.equal(state.opt, "adam", "valid values next to invalid ones are kept");
    assert.equal(notes.length, 6, notes.join("\n"));
    assert.match(notes.join("\n"), /lr: expected a number in \(0, 100\], got "abc"/);
    assert.match(
      notes.join("\n"),
      /data: expected one of moons, spirals, circles, xor, gaussianMixture, linearlySeparable/,
    );
    assert.match(notes.join("\n"), /width: expected an integer in \[1, 256\], got "2.5"/);
    assert.match(notes.join("\n"), /unknown setting "bogus"/);
  });

  it("a missing noise takes the data set's default", () => {
    assert.equal(parseState("?data=spirals").state.noise, 0.05);
    assert.equal(parseState("?data=gaussianMixture").state.noise, 1);
    assert.equal(parseState("?data=spirals&noise=0.3").state.noise, 0.3);
  });

  it("every optimizer gives a spec the run schema accepts, configured as documented", () => {
    for (const opt of OPTIMIZERS) {
      const spec = parseSpec(toSpec({ ...DEFAULTS, opt, batch: 32 }, 10));
      assert.equal(spec.batchSize, opt === "gd" ? "full" : 32, opt);
      assert.equal(spec.optimizer.kind, opt === "adam" ? "adam" : opt === "sam" ? "sam" : "sgd", opt);
      assert.equal(spec.labelNoise !== undefined, opt === "labelNoise", opt);
      assert.equal(spec.regularizer?.kind === "egr", opt === "egr", opt);
      assert.deepEqual(
        spec.probes.map((p) => p.kind),
        ["hessian"],
      );
    }
    const momentum = parseSpec(toSpec({ ...DEFAULTS, opt: "momentum", beta: 0.8 }, 10)).optimizer;
    assert.equal(momentum.kind === "sgd" && momentum.momentum, 0.8);
  });
});

describe("playground session", () => {
  it("builds and steps every data set", async () => {
    await initRuntime("wasm");
    for (const data of DATASETS) {
      const session = new Session(
        parseSpec(toSpec({ ...DEFAULTS, data, n: 40, width: 4, noise: DEFAULT_NOISE[data] }, 2)),
      );
      try {
        assert.equal(session.data.train.n, 40, data);
        assert.deepEqual(session.data.train.xShape, [2], data);
        assert.equal(session.data.train.numClasses, 2, data);
        const m = await session.measureSharpness();
        assert.ok(m.lambdaMax > 0 && Number.isFinite(await session.trainStep()), data);
      } finally {
        session.dispose();
      }
    }
  });

  /** Batch losses of every step and λmax of every measurement, stepping the page's way. */
  async function sessionTrajectory(state: PlaygroundState, steps: number) {
    const session = new Session(parseSpec(toSpec(state, steps)));
    const losses: number[] = [];
    const lambdas = new Map<number, number>();
    try {
      while (session.step < steps) {
        if (session.sharpnessDue) {
          const m = await session.measureSharpness();
          lambdas.set(m.step, m.lambdaMax);
        }
        losses.push(await session.trainStep());
      }
    } finally {
      session.dispose();
    }
    return { losses, lambdas };
  }

  for (const opt of ["gd", "sgd", "sam", "labelNoise", "egr"] as const) {
    it(`follows runExperiment's trajectory and λmax exactly (${opt})`, async () => {
      await initRuntime("wasm");
      const state: PlaygroundState = { ...DEFAULTS, n: 64, width: 8, opt, lr: 0.3, batch: 16, every: 4, seed: 3 };
      const steps = 9;
      const page = await sessionTrajectory(state, steps);
      const store = tempStore();
      try {
        const r = await runExperiment(resolveSpec(toSpec(state, steps)), { store });
        assert.equal(r.status, "completed");
        const cli = store.getMetrics(r.runId, { keys: ["train/batchLoss", "hessian/lambdaMax"] });
        const cliLoss = cli.filter((p) => p.key === "train/batchLoss").map((p) => p.value);
        const cliLambda = new Map(cli.filter((p) => p.key === "hessian/lambdaMax").map((p) => [p.step, p.value]));
        assert.deepEqual(page.losses, cliLoss);
        assert.deepEqual([...page.lambdas.keys()], [0, 4, 8]);
        assert.deepEqual(page.lambdas, cliLambda);
      } finally {
        store.close();
      }
    });
  }

  // With cross-entropy, every λmax measurement leaks ≈ 4.6 kB (n = 100, 2×16 tanh MLP): jax-js 0.1.25's
  // JVP rule of `reciprocal` under nested differentiation, once per linearization (see curvature/hvp.ts
  // and its canary in hvp.test.ts; the trainer's hessian probe leaks the same). MSE has no reciprocal,
  // so with MSE the whole loop must be flat; with CE, everything but the measurement.
  for (const loss of ["mse", "ce"] as const) {
    it(`keeps the Wasm heap flat over steps${loss === "mse" ? " and measurements" : ""} (${loss})`, async () => {
      await initRuntime("wasm");
      const session = new Session(parseSpec(toSpec({ ...DEFAULTS, n: 100, every: 10, loss })));
      const samples: number[] = [];
      try {
        while (session.step < 400) {
          if (loss === "mse" && session.sharpnessDue) await session.measureSharpness();
          await session.trainStep();
          if (session.step % 10 === 0) await session.evaluate();
          if (session.step % 10 === 0) await session.predict(new Float64Array(2 * 64 * 64));
          if (session.step % 100 === 0) samples.push(wasmHeapBytes());
        }
      } finally {
        session.dispose();
      }
      const growth = samples[samples.length - 1] - samples[0];
      assert.ok(growth <= 65536, `Wasm heap grew by ${growth} bytes over 300 steps: ${samples.join(", ")}`);
    });
  }
});
