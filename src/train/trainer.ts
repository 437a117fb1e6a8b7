/**
 * The training loop: deterministic stepping, periodic evaluation on the full train and test sets,
 * probes, divergence handling, atomic checkpoints and resume. A thin API the CLI calls
 * (`runExperiment`, `resumeExperiment`); progress goes to an injected `TrainReporter`.
 *
 * A run reads as its algorithm: `setup` (validate and load everything; nothing is written before it
 * succeeds), `startOrResume`, then per step `evaluate` (every evalEvery), `measure` (due probes),
 * `step` (one optimizer update) and `checkpoint` (every checkpointEvery), and `finish`.
 */
import { keep, release, settle, toScalar, type Params } from "../core/index.js";
import { initRuntime, kernelRecord } from "../core/runtime.js";
import { loadData } from "../data/index.js";
import type { DataSplit } from "../data/types.js";
import { resolveSpec, type ResolvedExperiment } from "../experiments/resolve.js";
import type { ExperimentSpec } from "../experiments/schema.js";
import { probeDue } from "../probes/index.js";
import { codeVersion, type RunStore } from "../store/index.js";
import { readTrainCheckpoint, writeTrainCheckpoint } from "./checkpoint.js";
import type { TrainState } from "./engine.js";
import {
  batchIndices,
  buildLab,
  divergence,
  evaluationMetrics,
  probeContext,
  runSummary,
  stepMetrics,
  updateStep,
  type Lab,
} from "./lab.js";

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

/** Starts a new run of `exp` in the store and trains it. Invalid input creates no run record. */
export async function runExperiment(exp: ResolvedExperiment, opts: TrainOptions): Promise<TrainResult> {
  const { spec, hash } = exp;
  const lab = await setup(spec);
  try {
    const run = opts.store.createRun({
      name: spec.name,
      spec,
      specHash: hash,
      codeVersion: codeVersion(),
      backend: spec.backend,
      dtype: spec.dtype,
      seed: spec.seed,
    });
    return await train(run.id, lab, false, opts);
  } finally {
    lab.dispose();
  }
}

/** Continues a run from its latest checkpoint: the identical trajectory it would have followed. */
export async function resumeExperiment(runIdOrPrefix: string, opts: TrainOptions): Promise<TrainResult> {
  const run = opts.store.getRun(runIdOrPrefix);
  const { spec } = resolveSpec(run.spec, `stored spec of run ${run.id}`);
  const lab = await setup(spec);
  try {
    opts.store.resumeRun(run.id);
    return await train(run.id, lab, true, opts);
  } finally {
    lab.dispose();
  }
}

/** Everything a run needs, validated and allocated before anything is written to the store. */
/** Phase 1: resolve the spec into data, model, loss, optimizer, objectives and probes. */
async function setup(spec: ExperimentSpec): Promise<Lab> {
  await initRuntime(spec.backend);
  return buildLab(spec, await loadData(spec.data, spec.seed));
}

/** The phases below share the live state of one invocation. */
interface Live {
  runId: string;
  state: TrainState;
  initParams: Params;
  step: number;
  /** The batch loss of step 0 (divergence is relative to it), also after a resume. */
  initialLoss: number | null;
  buffer: { step: number; key: string; value: number }[];
}

async function train(runId: string, lab: Lab, resume: boolean, opts: TrainOptions): Promise<TrainResult> {
  const { store, reporter = {} } = opts;
  const { spec, data } = lab;
  let live: Live | null = null;
  try {
    store.putArtifact(runId, "data", 0, {
      info: data.info,
      train: describe(data, "train"),
      test: describe(data, "test"),
    });
    live = startOrResume(runId, lab, resume, store);
    reporter.start?.({
      runId,
      name: spec.name,
      paramCount: lab.model.paramCount(),
      startStep: live.step,
      steps: spec.steps,
    });
    const flush = () => {
      if (live!.buffer.length) store.appendMetrics(runId, live!.buffer.splice(0));
      store.heartbeat(runId);
    };

    let status: RunStatus = "completed";
    let lastEval: Record<string, number> = {};
    let evalStep = -1;
    let batchLoss = NaN;
    const t0 = performance.now();
    let stepsThisCall = 0;
    let lastFlush = t0;
    let lastYield = t0;
    while (live.step < spec.steps) {
      if (live.step % spec.evalEvery === 0) {
        lastEval = await evaluate(lab, live, reporter);
        evalStep = live.step;
      }
      const indices = batchIndices(lab, live.step);
      const lr = lab.schedule(live.step);
      await measure(lab, live, indices, lr, store);
      batchLoss = await step(lab, live, indices, lr);
      stepsThisCall++;
      const now = performance.now();
      reporter.step?.({
        step: live.step,
        steps: spec.steps,
        loss: batchLoss,
        lr,
        stepsPerSec: (stepsThisCall * 1000) / (now - t0),
      });

      live.initialLoss ??= batchLoss;
      const diverged = divergence(spec, live.initialLoss, batchLoss);
      if (diverged !== null) {
        status = "diverged";
        store.logEvent(runId, { step: live.step, kind: "diverged", message: diverged });
        break;
      }
      if (spec.checkpointEvery > 0 && live.step % spec.checkpointEvery === 0 && live.step < spec.steps) {
        flush();
        await checkpoint(lab, live, store);
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
        if (live.step < spec.steps) status = "interrupted";
        break;
      }
    }
    // finish: a last evaluation at the end (not when interrupted, so a resumed run's metrics equal
    // the straight run's), a checkpoint (unless diverged), the summary
    const elapsed = (performance.now() - t0) / 1000;
    if (status === "completed") {
      lastEval = await evaluate(lab, live, reporter);
      evalStep = live.step;
    }
    const stepsPerSec = stepsThisCall / Math.max(elapsed, 1e-9);
    live.buffer.push({ step: live.step, key: "time/stepsPerSec", value: stepsPerSec });
    flush();
    if (status !== "diverged") await checkpoint(lab, live, store);
    // the evaluation may be older than the last step (diverged, interrupted): say from when
    const summary = runSummary(live.step, lastEval, evalStep, batchLoss, stepsPerSec);
    store.finishRun(runId, status, { summary });
    reporter.end?.({ runId, status, step: live.step, summary });
    return { runId, status, step: live.step, summary };
  } catch (e) {
    store.finishRun(runId, "failed", { error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    if (live) release([live.state.params, live.state.opt, live.state.model, live.initParams]);
  }
}

/** Phase 2: the state at the start — the initialization, or the latest checkpoint on resume. */
function startOrResume(runId: string, lab: Lab, resume: boolean, store: RunStore): Live {
  const initParams = lab.model.init(lab.root.fold("init"), lab.spec.dtype);
  try {
    const restored = resume
      ? readTrainCheckpoint(store, runId, initParams, lab.opt, lab.engine.initModelState())
      : null;
    if (restored) {
      for (const probe of lab.probes) {
        const prefix = `${probe.name}/`;
        const own = Object.entries(restored.probeState).filter(([k]) => k.startsWith(prefix));
        if (own.length) probe.loadState?.(Object.fromEntries(own.map(([k, v]) => [k.slice(prefix.length), v])));
      }
      store.logEvent(runId, {
        step: restored.step,
        kind: "resume",
        message: `resumed from step ${restored.step}`,
        data: { kernels: kernelRecord(lab.spec.backend) },
      });
      // divergence stays relative to the run's first loss, not the first after the resume
      const first = store.getMetrics(runId, { keys: ["train/batchLoss"], toStep: 0 })[0]?.value ?? null;
      return { runId, state: restored.state, initParams, step: restored.step, initialLoss: first, buffer: [] };
    }
    const params = keep(initParams);
    const state = { params, opt: lab.opt.init(keep(params)), model: lab.engine.initModelState() };
    // which kernels computed the run (the Wasm kernels give the same bits everywhere, a BLAS not)
    store.logEvent(runId, {
      step: 0,
      kind: "start",
      message: `${lab.model.paramCount()} parameters`,
      data: { kernels: kernelRecord(lab.spec.backend) },
    });
    return { runId, state, initParams, step: 0, initialLoss: null, buffer: [] };
  } catch (e) {
    release(initParams);
    throw e;
  }
}

/**
 * Phase 3: loss and accuracy on the full train and test sets (BN in eval mode), the gap, and the
 * same for the optimizer's averaged iterate (tail/EMA/SWA/Gadam) with batch-norm statistics
 * recomputed for it.
 */
async function evaluate(lab: Lab, live: Live, reporter: TrainReporter): Promise<Record<string, number>> {
  const classification = lab.data.train.task === "classification";
  const { evalTrain, evalTest } = lab;
  const m = await evaluationMetrics(evalTrain, evalTest, classification, live.state.params, live.state.model);
  const avg = lab.opt.averaged?.(live.state.opt) ?? null;
  if (avg) {
    const ms = lab.engine.recalibrate(avg);
    try {
      Object.assign(m, await evaluationMetrics(evalTrain, evalTest, classification, avg, ms, "avg/"));
    } finally {
      release([avg, ms]);
    }
  }
  for (const [key, value] of Object.entries(m)) live.buffer.push({ step: live.step, key, value });
  reporter.eval?.({ step: live.step, metrics: m });
  return m;
}

/** Phase 4: the probes due at this step, on the state before the step's update. */
async function measure(lab: Lab, live: Live, indices: Int32Array | null, lr: number, store: RunStore): Promise<void> {
  for (const probe of lab.probes) {
    if (!probeDue(probe, live.step)) continue;
    const at = live.step;
    const site = { step: at, params: live.state.params, initParams: live.initParams, optState: live.state.opt };
    const values = await probe.measure(
      probeContext(lab, probe, site, indices, lr, (name, value) => store.putArtifact(live.runId, name, at, value)),
    );
    for (const [key, value] of Object.entries(values)) live.buffer.push({ step: at, key, value });
  }
}

/**
 * Phase 5: one optimizer update on the step's batch (with fresh label noise on its targets for
 * label-noise SGD, from (seed, "labelNoise", step)); records the batch loss, lr, batch size and the
 * SGD noise scale. Returns the batch loss at the old parameters.
 */
async function step(lab: Lab, live: Live, indices: Int32Array | null, lr: number): Promise<number> {
  const { spec, data } = lab;
  const t = live.step;
  const [value, state] = updateStep(lab, live.state, t, indices, lr);
  live.state = state;
  const batchLoss = await toScalar(value);
  await settle([state.params, state.opt]);
  const batchSize = indices === null ? data.train.n : indices.length;
  live.buffer.push(...stepMetrics(spec, data.train.n, t, batchLoss, lr, batchSize));
  live.step = t + 1;
  return batchLoss;
}

/** Phase 6: an atomic checkpoint of the state, with the probes' own state (warm starts). */
async function checkpoint(lab: Lab, live: Live, store: RunStore): Promise<void> {
  const probeState: Record<string, Float64Array> = {};
  for (const p of lab.probes) {
    for (const [k, v] of Object.entries(p.saveState?.() ?? {})) probeState[`${p.name}/${k}`] = v;
  }
  await writeTrainCheckpoint(store, live.runId, live.step, live.state, lab.spec, probeState);
}

function describe(data: DataSplit, which: "train" | "test") {
  const d = data[which];
  return { name: d.name, n: d.n, xShape: d.xShape, task: d.task, numClasses: d.numClasses };
}
