/**
 * The training loop: deterministic stepping, periodic evaluation on the full train and test sets,
 * probes, divergence handling, atomic checkpoints and resume. A thin API the CLI calls
 * (`runExperiment`, `resumeExperiment`); progress goes to an injected `TrainReporter`.
 */
import { deriveKey, Key, keep, release, settle, toScalar, UserError, type Params } from "../core/index.js";
import type { ModelState } from "../models/types.js";
import { initRuntime } from "../core/runtime.js";
import { growingBatches, loadData, makeBatchPlan } from "../data/index.js";
import type { DataSplit } from "../data/types.js";
import { resolveSpec, type ResolvedExperiment } from "../experiments/resolve.js";
import type { ExperimentSpec } from "../experiments/schema.js";
import { createLoss } from "../losses/index.js";
import { createModel } from "../models/index.js";
import { createOptimizer, createSchedule, optimizerLr, optimizerMomentum } from "../optim/index.js";
import { createProbes, probeDue, type Probe } from "../probes/index.js";
import { codeVersion, type RunStore } from "../store/index.js";
import { readTrainCheckpoint, writeTrainCheckpoint } from "./checkpoint.js";
import { StepEngine, type TrainState } from "./engine.js";
import { noisyTargets } from "../losses/labelNoise.js";

/** Final status of a run. */
export type RunStatus = "completed" | "diverged" | "interrupted" | "failed";

/** Progress callbacks (all optional). The CLI renders them; tests ignore them. */
export interface TrainReporter {
  start?(info: { runId: string; name: string; paramCount: number; startStep: number; steps: number }): void;
  step?(info: { step: number; steps: number; loss: number; lr: number; stepsPerSec: number }): void;
  eval?(info: { step: number; metrics: Record<string, number> }): void;
  end?(info: { runId: string; status: RunStatus; step: number; summary: Record<string, number> }): void;
}

export interface TrainOptions {
  store: RunStore;
  reporter?: TrainReporter;
  /** Stop (status `interrupted`, with a checkpoint) after this many steps of this invocation. */
  stopAfter?: number;
  /** Aborting stops at the next step boundary, writes a checkpoint, status `interrupted`. */
  signal?: AbortSignal;
}

export interface TrainResult {
  runId: string;
  status: RunStatus;
  step: number;
  summary: Record<string, number>;
}

/** Starts a new run of `exp` in the store and trains it. */
export async function runExperiment(exp: ResolvedExperiment, opts: TrainOptions): Promise<TrainResult> {
  const { spec, hash } = exp;
  const run = opts.store.createRun({
    name: spec.name,
    spec,
    specHash: hash,
    codeVersion: codeVersion(),
    backend: spec.backend,
    dtype: spec.dtype,
    seed: spec.seed,
  });
  return train(run.id, spec, false, opts);
}

/** Continues a run from its latest checkpoint: the identical trajectory it would have followed. */
export async function resumeExperiment(runIdOrPrefix: string, opts: TrainOptions): Promise<TrainResult> {
  const run = opts.store.getRun(runIdOrPrefix);
  const { spec } = resolveSpec(run.spec, `stored spec of run ${run.id}`);
  opts.store.resumeRun(run.id);
  return train(run.id, spec, true, opts);
}

async function train(runId: string, spec: ExperimentSpec, resume: boolean, opts: TrainOptions): Promise<TrainResult> {
  const { store, reporter = {} } = opts;
  let engine: StepEngine | null = null;
  let live: TrainState | null = null;
  let initParams: Params | null = null;
  const probes: Probe[] = [];
  let step = 0;
  try {
    await initRuntime(spec.backend);
    const data = await loadData(spec.data, spec.seed);
    store.putArtifact(runId, "data", 0, {
      info: data.info,
      train: describe(data, "train"),
      test: describe(data, "test"),
    });
    const task = data.train.task;
    const outputDim = task === "classification" ? data.train.numClasses : data.train.targetDim;
    const model = createModel(spec.model, data.train.xShape, outputDim);
    const loss = createLoss(spec.loss);
    const opt = createOptimizer(spec.optimizer);
    const schedule = createSchedule(spec.schedule, optimizerLr(spec.optimizer), spec.steps);
    const root = Key.fromSeed(spec.seed);
    if (spec.batchSchedule && spec.batchSize === "full") {
      throw new UserError("batchSchedule needs a numeric batchSize (the size before the first milestone)");
    }
    const plan = spec.batchSchedule
      ? growingBatches(data.train.n, { base: spec.batchSize as number, ...spec.batchSchedule }, root.fold("batches"))
      : makeBatchPlan(data.train.n, spec.batchSize, spec.replacement, root.fold("batches"));
    engine = new StepEngine(model, loss, opt, {
      dtype: spec.dtype,
      chunkSize: spec.chunkSize,
      classification: task === "classification",
      regularizer: spec.regularizer,
    });
    probes.push(...createProbes(spec.probes));

    initParams = model.init(root.fold("init"), spec.dtype);
    const restored = resume ? readTrainCheckpoint(store, runId, initParams, opt, engine.initModelState()) : null;
    if (restored) {
      live = restored.state;
      for (const probe of probes) {
        const prefix = `${probe.name}/`;
        const own = Object.entries(restored.probeState).filter(([k]) => k.startsWith(prefix));
        if (own.length) probe.loadState?.(Object.fromEntries(own.map(([k, v]) => [k.slice(prefix.length), v])));
      }
      step = restored.step;
      store.logEvent(runId, { step, kind: "resume", message: `resumed from step ${step}` });
    } else {
      const params = keep(initParams);
      live = { params, opt: opt.init(keep(params)), model: engine.initModelState() };
      store.logEvent(runId, { step: 0, kind: "start", message: `${model.paramCount()} parameters` });
    }
    reporter.start?.({ runId, name: spec.name, paramCount: model.paramCount(), startStep: step, steps: spec.steps });

    const buffer: { step: number; key: string; value: number }[] = [];
    const flush = () => {
      if (buffer.length) store.appendMetrics(runId, buffer.splice(0));
      store.heartbeat(runId);
    };
    const evaluate = async (at: number) => {
      const m: Record<string, number> = {};
      const measure = async (params: Params, ms: ModelState, prefix: string) => {
        const tr = await engine!.evaluate(params, ms, data.train);
        const te = await engine!.evaluate(params, ms, data.test);
        Object.assign(m, {
          [`${prefix}train/loss`]: tr.loss,
          [`${prefix}test/loss`]: te.loss,
          [`${prefix}gap/loss`]: te.loss - tr.loss,
        });
        if (task === "classification") {
          Object.assign(m, {
            [`${prefix}train/accuracy`]: tr.accuracy,
            [`${prefix}test/accuracy`]: te.accuracy,
            [`${prefix}gap/accuracy`]: tr.accuracy - te.accuracy,
          });
        }
      };
      await measure(live!.params, live!.model, "");
      // an averaged iterate (tail/EMA/SWA/Gadam) is evaluated beside the raw one, with batch-norm
      // statistics recomputed for it
      const avg = opt.averaged?.(live!.opt) ?? null;
      if (avg) {
        const ms = engine!.stateful ? engine!.recalibrate(avg, data.train) : [];
        await measure(avg, ms, "avg/");
        release([avg, ms]);
      }
      for (const [key, value] of Object.entries(m)) buffer.push({ step: at, key, value });
      reporter.eval?.({ step: at, metrics: m });
      return m;
    };

    let status: RunStatus = "completed";
    let lastEval: Record<string, number> = {};
    let initialLoss: number | null = null;
    const t0 = performance.now();
    let stepsThisCall = 0;
    let lastFlush = t0;
    let lastYield = t0;
    while (step < spec.steps) {
      if (step % spec.evalEvery === 0) lastEval = await evaluate(step);
      const indices = plan.kind === "full" ? null : plan.indicesAt(step);
      const batchSize = indices === null ? data.train.n : indices.length;
      const lr = schedule(step);
      for (const probe of probes) {
        if (!probeDue(probe, step)) continue;
        const values = await probe.measure({
          step,
          params: live.params,
          initParams,
          model,
          loss,
          data,
          batchIndices: indices,
          lr,
          dtype: spec.dtype,
          chunkSize: spec.chunkSize,
          key: deriveKey(spec.seed, `probe/${probe.name}`, step),
          rootKey: root,
          optState: live.opt,
          optimizer: spec.optimizer,
          transform: opt,
          artifact: (name, value) => store.putArtifact(runId, name, step, value),
        });
        for (const [key, value] of Object.entries(values)) buffer.push({ step, key, value });
      }
      const key = deriveKey(spec.seed, "optimizer", step).toArray();
      let value;
      if (spec.labelNoise) {
        // label-noise SGD: fresh noise on this step's targets, from (seed, "labelNoise", step)
        const noisy = noisyTargets(data.train, indices, spec.labelNoise, deriveKey(spec.seed, "labelNoise", step));
        [value, live] = engine.step(live, noisy, null, lr, step, key, true);
      } else {
        [value, live] = engine.step(live, data.train, indices, lr, step, key);
      }
      const params = live.params;
      const state = live.opt;
      const batchLoss = await toScalar(value);
      await settle([params, state]);
      buffer.push(
        { step, key: "train/batchLoss", value: batchLoss },
        { step, key: "optim/lr", value: lr },
        { step, key: "optim/batchSize", value: batchSize },
        // SGD noise scale g = εN/(B(1−m)) (Smith & Le 2018; m the heavy-ball momentum, 0 otherwise)
        {
          step,
          key: "optim/noiseScale",
          value: (lr * data.train.n) / (batchSize * (1 - optimizerMomentum(spec.optimizer))),
        },
      );
      step++;
      stepsThisCall++;
      const now = performance.now();
      const stepsPerSec = (stepsThisCall * 1000) / (now - t0);
      reporter.step?.({ step, steps: spec.steps, loss: batchLoss, lr, stepsPerSec });

      initialLoss ??= batchLoss;
      if (!Number.isFinite(batchLoss) || batchLoss > spec.divergenceFactor * Math.max(initialLoss, 1e-12)) {
        status = "diverged";
        store.logEvent(runId, {
          step,
          kind: "diverged",
          message: `loss ${batchLoss} ${Number.isFinite(batchLoss) ? `> ${spec.divergenceFactor} x initial ${initialLoss}` : "is not finite"}`,
        });
        break;
      }
      if (spec.checkpointEvery > 0 && step % spec.checkpointEvery === 0 && step < spec.steps) {
        flush();
        await writeTrainCheckpoint(store, runId, step, live, spec, probeStates(probes));
      }
      if (now - lastYield > 25) {
        // Wasm work completes in microtasks only: yield to the event loop so signals (Ctrl-C) and
        // timers are seen while training.
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
      if (now - lastFlush > 1000) {
        flush();
        lastFlush = now;
      }
      if (opts.signal?.aborted || (opts.stopAfter !== undefined && stepsThisCall >= opts.stopAfter)) {
        if (step < spec.steps) status = "interrupted";
        break;
      }
    }
    const elapsed = (performance.now() - t0) / 1000;
    if (status !== "diverged" && (step === spec.steps || status === "interrupted")) {
      lastEval = await evaluate(step);
    }
    buffer.push({ step, key: "time/stepsPerSec", value: stepsThisCall / Math.max(elapsed, 1e-9) });
    flush();
    if (status !== "diverged") await writeTrainCheckpoint(store, runId, step, live, spec, probeStates(probes));
    const summary = { step, ...lastEval, stepsPerSec: stepsThisCall / Math.max(elapsed, 1e-9) };
    if (status === "interrupted") store.finishRun(runId, "interrupted", { summary });
    else store.finishRun(runId, status, { summary });
    reporter.end?.({ runId, status, step, summary });
    return { runId, status, step, summary };
  } catch (e) {
    store.finishRun(runId, "failed", { error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    if (live) release([live.params, live.opt, live.model]);
    release(initParams);
    for (const p of probes) p.dispose?.();
    engine?.dispose();
  }
}

/** Every probe's checkpointable state, keyed `<probe name>/<key>`. */
function probeStates(probes: Probe[]): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const p of probes) for (const [k, v] of Object.entries(p.saveState?.() ?? {})) out[`${p.name}/${k}`] = v;
  return out;
}

function describe(data: DataSplit, which: "train" | "test") {
  const d = data[which];
  return { name: d.name, n: d.n, xShape: d.xShape, task: d.task, numClasses: d.numClasses };
}
