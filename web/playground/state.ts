/**
 * The playground's configuration and its URL form. Every setting lives in the query string, so a
 * configuration is shared as a link; `parseState` restores it and replaces each invalid value by its
 * default with a note that names the field and what was expected. `toSpec` turns a state into the
 * experiment spec (src/experiments/schema.ts) that a run with the same settings would use: the page
 * trains that spec, and `sgdlab run` on it reproduces the page's numbers.
 */
import type { ExperimentSpecInput } from "../../src/experiments/schema.js";

/** The 2-D synthetic data sets (src/data/synthetic.ts) the page offers. */
export const DATASETS = ["moons", "spirals", "circles", "xor", "gaussianMixture", "linearlySeparable"] as const;
/** Optimizers, each configured exactly as a spec configures it (see `toSpec`). */
export const OPTIMIZERS = ["gd", "sgd", "momentum", "adam", "sam", "labelNoise", "egr"] as const;
export const ACTIVATIONS = ["tanh", "relu", "gelu", "softplus", "elu"] as const;
export const LOSSES = ["ce", "mse"] as const;
export const BACKENDS = ["auto", "wasm", "webgpu"] as const;

export type DatasetName = (typeof DATASETS)[number];
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Everything the page's training depends on. */
export interface PlaygroundState {
  data: DatasetName;
  /** Training examples (as many test examples are generated beside them). */
  n: number;
  /** Noise σ of moons/spirals/circles/xor/gaussianMixture, margin γ of linearlySeparable. */
  noise: number;
  /** Hidden units per layer and number of hidden layers. */
  width: number;
  depth: number;
  act: (typeof ACTIVATIONS)[number];
  loss: (typeof LOSSES)[number];
  opt: OptimizerName;
  /** Step size η. */
  lr: number;
  /** Mini-batch size, 0 = full batch (GD is always full batch). */
  batch: number;
  /** Momentum β (momentum), SAM radius ρ (sam), relabeling probability p (labelNoise), EGR μ (egr). */
  beta: number;
  rho: number;
  p: number;
  mu: number;
  /** λmax (warm-started Lanczos) every this many steps. */
  every: number;
  seed: number;
  backend: (typeof BACKENDS)[number];
}

/** Default noise (or margin) per data set: the schema's defaults (src/data/schema.ts). */
export const DEFAULT_NOISE: Record<DatasetName, number> = {
  moons: 0.1,
  spirals: 0.05,
  circles: 0.1,
  xor: 0,
  gaussianMixture: 1,
  linearlySeparable: 0.1,
};

export const DEFAULTS: Readonly<PlaygroundState> = Object.freeze({
  data: "moons",
  n: 200,
  noise: DEFAULT_NOISE.moons,
  width: 16,
  depth: 2,
  act: "tanh",
  loss: "ce",
  opt: "gd",
  lr: 0.5,
  batch: 0,
  beta: 0.9,
  rho: 0.05,
  p: 0.1,
  mu: 0.5,
  every: 10,
  seed: 0,
  backend: "auto",
});

type NumberField = {
  [K in keyof PlaygroundState]: PlaygroundState[K] extends number ? K : never;
}[keyof PlaygroundState];
type ChoiceField = Exclude<keyof PlaygroundState, NumberField>;

/** Ranges of the numeric fields: [min, max, integer?]; min is exclusive where `open` says so. */
const RANGES: Record<NumberField, { min: number; max: number; int: boolean; open?: boolean }> = {
  n: { min: 4, max: 2000, int: true },
  noise: { min: 0, max: 5, int: false },
  width: { min: 1, max: 256, int: true },
  depth: { min: 1, max: 6, int: true },
  lr: { min: 0, max: 100, int: false, open: true },
  batch: { min: 0, max: 2000, int: true },
  beta: { min: 0, max: 0.999, int: false },
  rho: { min: 0, max: 10, int: false },
  p: { min: 0, max: 1, int: false },
  mu: { min: 0, max: 100, int: false },
  every: { min: 1, max: 1000, int: true },
  seed: { min: 0, max: 2 ** 31 - 1, int: true },
};

const CHOICES: Record<ChoiceField, readonly string[]> = {
  data: DATASETS,
  act: ACTIVATIONS,
  loss: LOSSES,
  opt: OPTIMIZERS,
  backend: BACKENDS,
};

/** What a numeric field accepts, in words (for notes and errors). */
export function describeRange(field: NumberField): string {
  const r = RANGES[field];
  const kind = r.int ? "an integer" : "a number";
  return `${kind} in ${r.open ? "(" : "["}${r.min}, ${r.max}]`;
}

function checkNumber(field: NumberField, raw: string): number | null {
  const r = RANGES[field];
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw)) return null;
  const v = Number(raw);
  if (!Number.isFinite(v) || (r.int && !Number.isInteger(v))) return null;
  if (r.open ? v <= r.min : v < r.min) return null;
  return v > r.max ? null : v;
}

/** Whether `field` is a numeric setting. */
export function isNumberField(field: string): field is NumberField {
  return field in RANGES;
}

/** Validates one setting given as text: the value, or an error naming the field and what it expects. */
export function parseField(
  field: keyof PlaygroundState,
  raw: string,
): { ok: true; value: PlaygroundState[typeof field] } | { ok: false; error: string } {
  if (isNumberField(field)) {
    const v = checkNumber(field, raw);
    return v === null
      ? { ok: false, error: `${field}: expected ${describeRange(field)}, got ${JSON.stringify(raw)}` }
      : { ok: true, value: v };
  }
  const allowed = CHOICES[field as ChoiceField];
  return allowed.includes(raw)
    ? { ok: true, value: raw as PlaygroundState[typeof field] }
    : { ok: false, error: `${field}: expected one of ${allowed.join(", ")}, got ${JSON.stringify(raw)}` };
}

/**
 * The state in a query string (`?data=moons&lr=0.5…`, with or without `?`). Unknown keys and invalid
 * values are ignored with a note each; a missing `noise` takes the data set's default.
 */
export function parseState(query: string): { state: PlaygroundState; notes: string[] } {
  const params = new URLSearchParams(query);
  const state: PlaygroundState = { ...DEFAULTS };
  const notes: string[] = [];
  const fields = Object.keys(DEFAULTS) as (keyof PlaygroundState)[];
  for (const [key, raw] of params) {
    if (!(fields as string[]).includes(key)) {
      notes.push(`unknown setting ${JSON.stringify(key)} ignored`);
      continue;
    }
    const field = key as keyof PlaygroundState;
    const r = parseField(field, raw);
    if (r.ok) (state as unknown as Record<string, unknown>)[field] = r.value;
    else notes.push(`${r.error}; using the default ${DEFAULTS[field]}`);
  }
  if (!params.has("noise") || notes.some((n) => n.startsWith("noise:"))) state.noise = DEFAULT_NOISE[state.data];
  return { state, notes };
}

/** The query string of a state (every field, in a fixed order), without the leading `?`. */
export function formatState(state: PlaygroundState): string {
  const params = new URLSearchParams();
  for (const k of Object.keys(DEFAULTS) as (keyof PlaygroundState)[]) params.set(k, String(state[k]));
  return params.toString();
}

/** The mini-batch size a state trains with ("full" for GD and for batch 0). */
export function batchSize(state: PlaygroundState): number | "full" {
  return state.opt === "gd" || state.batch === 0 ? "full" : state.batch;
}

/**
 * The experiment spec of a state: the page trains it step by step, and `sgdlab run` on it (with a
 * finite `steps`) follows the same trajectory and measures the same λmax (hessian probe every `every`
 * steps, warm-started Lanczos, full training set). Optimizers:
 * gd = sgd on the full batch; sgd = sgd on mini-batches; momentum = heavy ball (sgd, momentum β);
 * adam = adam; sam = sam(ρ) around sgd (Foret et al. 2021); labelNoise = sgd with fresh label noise p
 * every step (Blanc et al. 2020); egr = sgd on L + (μ/4)‖∇L‖² (Barrett & Dherin 2021).
 */
export function toSpec(state: PlaygroundState, steps = 1_000_000): ExperimentSpecInput {
  const noiseKey = state.data === "linearlySeparable" ? "margin" : "noise";
  const sgd = { kind: "sgd" as const, lr: state.lr };
  const optimizer =
    state.opt === "momentum"
      ? { ...sgd, momentum: state.beta }
      : state.opt === "adam"
        ? { kind: "adam" as const, lr: state.lr }
        : state.opt === "sam"
          ? { kind: "sam" as const, rho: state.rho, base: sgd }
          : sgd;
  return {
    name: `playground ${state.data} ${state.opt}`,
    seed: state.seed,
    dtype: "float32",
    backend: "wasm",
    data: { kind: state.data, nTrain: state.n, nTest: state.n, [noiseKey]: state.noise },
    model: { kind: "mlp", hidden: Array.from({ length: state.depth }, () => state.width), activation: state.act },
    loss: state.loss === "mse" ? { kind: "mse" } : { kind: "ce" },
    optimizer,
    batchSize: batchSize(state),
    steps,
    ...(state.opt === "labelNoise" ? { labelNoise: { p: state.p } } : {}),
    ...(state.opt === "egr" ? { regularizer: { kind: "egr" as const, mu: state.mu } } : {}),
    probes: [{ kind: "hessian", every: state.every }],
  };
}
