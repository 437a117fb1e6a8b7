/**
 * `sgdlab scaling RUN [--batch B']`: the batch-size / learning-rate relations of a run — the SGD noise
 * scale εN/(B(1−m)) (Smith & Le 2018), McCandlish et al.'s B_simple at its checkpoint (B_crit ≈
 * B_simple) and the linear / square-root rules for moving to batch size B'.
 */
import { Key, UserError } from "../core/index.js";
import { gradientNoise } from "../curvature/gradients.js";
import { loadRunModel } from "../experiments/external.js";
import { createLoss, createObjective } from "../losses/index.js";
import { createSchedule, optimizerLr, optimizerMomentum, sgdNoiseScale } from "../optim/index.js";
import { RunStore } from "../store/index.js";
import { batchScalingSuggestion } from "../theory/scaling.js";
import { common, parse } from "./args.js";
import { fmt } from "./format.js";

export const SCALING_USAGE = `usage: sgdlab scaling RUN [--batch B'] [--step N] [--subset M] [--store DIR] [--json]

At the run's checkpoint (latest, or step N): the SGD noise scale εN/(B(1−m)) with ε the schedule's
step size at that step, the per-example gradient noise B_simple = tr Σ/‖G‖² (McCandlish et al. 2018,
eq. 2.8; exact over the training set, or a fixed subset of M examples; B_crit ≈ B_simple), and with
--batch the linear (ηB'/B) and square-root (η√(B'/B)) learning rates for batch size B'.
  --json  {"runId","step","lr","batchSize","n","momentum","noiseScale","bSimple","bCrit","gradNormSq",
          "traceCov","examples","suggestion":{newBatchSize,linear,sqrt,beyondNoiseScale} or null}`;

/** Runs `sgdlab scaling`; returns the exit code. */
export async function scalingCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      batch: { type: "string" },
      step: { type: "string" },
      subset: { type: "string" },
    },
    "scaling",
  );
  if (values.help) {
    out(SCALING_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`scaling: expected one run id\n${SCALING_USAGE}`);
  const int = (v: string | undefined, flag: string, min: number) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min)
      throw new UserError(`scaling: ${flag} must be an integer ≥ ${min}, got "${v}"`);
    return Number(v);
  };
  const newBatch = int(values.batch, "--batch", 1);
  const subset = int(values.subset, "--subset", 2);
  const store = RunStore.open(values.store ?? ".sgdlab", { readonly: true });
  let t;
  let step: number;
  try {
    const run = store.getRun(positionals[0]);
    t = await loadRunModel(store, run.id, int(values.step, "--step", 0));
    step = Number(/at step (\d+)/.exec(t.source)?.[1] ?? t.spec.steps);
  } finally {
    store.close();
  }
  const { spec } = t;
  const n = t.data.n;
  const lr = createSchedule(
    spec.schedule,
    optimizerLr(spec.optimizer),
    spec.steps,
  )(Math.max(0, Math.min(step, spec.steps - 1)));
  const batchSize = spec.batchSize === "full" ? n : spec.batchSize;
  const momentum = optimizerMomentum(spec.optimizer);
  const noiseScale = lr > 0 ? sgdNoiseScale({ lr, datasetSize: n, batchSize, momentum }) : 0;
  const selection = subset !== undefined && subset < n ? `subset:${subset}` : "full";
  const obj = createObjective({ model: t.model, loss: createLoss(t.loss) }, t.data, selection, {
    dtype: t.dtype,
    chunkSize: spec.chunkSize,
    rootKey: Key.fromSeed(t.seed),
  });
  let g;
  try {
    g = await gradientNoise(obj, t.params(t.dtype));
  } finally {
    obj.dispose();
  }
  const suggestion =
    newBatch === undefined
      ? null
      : {
          newBatchSize: newBatch,
          ...batchScalingSuggestion({ lr, batchSize, newBatchSize: newBatch, noiseScale: g.noiseScale }),
        };
  const result = {
    runId: t.source,
    step,
    lr,
    batchSize,
    n,
    momentum,
    noiseScale,
    bSimple: g.noiseScale,
    bCrit: g.noiseScale,
    gradNormSq: g.gradNormSq,
    traceCov: g.traceCov,
    examples: g.n,
    suggestion,
  };
  if (values.json) {
    out(JSON.stringify(result));
    return 0;
  }
  const lines = [
    `${t.source}`,
    `SGD noise scale εN/(B(1−m))   ${fmt(noiseScale)}   (ε = ${fmt(lr)}, N = ${n}, B = ${batchSize}, m = ${momentum})`,
    `B_simple = tr Σ/‖G‖²          ${fmt(g.noiseScale)}   (tr Σ = ${fmt(g.traceCov)}, ‖G‖² = ${fmt(g.gradNormSq)}, ${g.n} examples)`,
    `critical batch B_crit ≈ B_simple ${fmt(g.noiseScale)}   (the batch size past which more examples per step stop saving steps)`,
  ];
  if (suggestion) {
    lines.push(
      `for B' = ${newBatch}: linear rule η = ${fmt(suggestion.linear)}, square-root rule η = ${fmt(suggestion.sqrt)}` +
        (suggestion.beyondNoiseScale ? `  (B' > B_simple: the linear rule likely overshoots)` : ""),
    );
  }
  out(lines.join("\n"));
  return 0;
}
