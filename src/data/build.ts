/**
 * The part of `loadData` that needs no files, so that the browser playground builds its data with the
 * same code as a run: config parsing, the synthetic kinds, and the pipeline every kind goes through
 * (sizing, class-balanced subset, normalization, label corruption, layout). `load.ts` adds the file
 * kinds (MNIST, IDX, CIFAR-10, NPY, CSV) on Node.
 */
import { UserError } from "../core/errors.js";
import { Key } from "../core/keys.js";
import { corruptLabels } from "./corruption.js";
import { classCounts, takeRows } from "./dataset.js";
import { DataConfigSchema, type DataConfig, type DataConfigInput } from "./schema.js";
import {
  circles,
  gaussianMixture,
  linearlySeparable,
  moons,
  sparseLinear,
  teacherStudent,
  twoSpirals,
  xor,
} from "./synthetic.js";
import { balancedSubset, normalize, randomSubset, splitDataset, toLayout } from "./transforms.js";
import type { Dataset, DataSplit } from "./types.js";

/** Parses a data config (defaults filled in); problems become a `UserError` naming each field. */
export function parseDataConfig(config: DataConfigInput | DataConfig): DataConfig {
  const r = DataConfigSchema.safeParse(config);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `data${i.path.map((p) => `.${String(p)}`).join("")}: ${i.message}`);
  throw new UserError(`invalid data config:\n  ${lines.join("\n  ")}`);
}

/** Raw data of one kind: a train set and, for synthetic/mnist/test files, a test set. */
export type DataSource = {
  train: Dataset;
  test: Dataset | null;
  description: string;
  imageShape?: readonly number[];
};

/** The synthetic kinds (generated on the host, no files). */
export const SYNTHETIC_KINDS = [
  "gaussianMixture",
  "spirals",
  "moons",
  "circles",
  "xor",
  "teacherStudent",
  "sparseLinear",
  "linearlySeparable",
] as const;

/**
 * Generates the raw data of a synthetic kind from `key.fold("generate")`: nTrain + nTest examples,
 * the first nTrain for training. Null for the other kinds.
 */
export function syntheticSource(c: DataConfig, key: Key): DataSource | null {
  const gen = key.fold("generate");
  const synthetic = (ds: Dataset, nTrain: number, description: string): DataSource => {
    const all = Array.from({ length: ds.n }, (_, i) => i);
    return {
      train: takeRows(ds, all.slice(0, nTrain), `${ds.name}[train]`),
      test: takeRows(ds, all.slice(nTrain), `${ds.name}[test]`),
      description,
    };
  };
  switch (c.kind) {
    case "gaussianMixture": {
      const ds = gaussianMixture({ ...c, n: c.nTrain + c.nTest }, gen);
      return synthetic(ds, c.nTrain, `gaussianMixture C=${c.classes} d=${c.dim} s=${c.separation} σ=${c.noise}`);
    }
    case "spirals":
      return synthetic(
        twoSpirals({ ...c, n: c.nTrain + c.nTest }, gen),
        c.nTrain,
        `twoSpirals T=${c.turns} σ=${c.noise}`,
      );
    case "moons":
      return synthetic(moons({ ...c, n: c.nTrain + c.nTest }, gen), c.nTrain, `moons σ=${c.noise}`);
    case "circles":
      return synthetic(circles({ ...c, n: c.nTrain + c.nTest }, gen), c.nTrain, `circles ρ=${c.factor} σ=${c.noise}`);
    case "xor":
      return synthetic(xor({ ...c, n: c.nTrain + c.nTest }, gen), c.nTrain, `xor γ=${c.margin} σ=${c.noise}`);
    case "teacherStudent": {
      const ds = teacherStudent({ ...c, n: c.nTrain + c.nTest }, gen);
      return synthetic(
        ds,
        c.nTrain,
        `teacherStudent d=${c.dim} h=${c.hidden} ${c.activation} k=${c.outDim} σ=${c.noise}`,
      );
    }
    case "sparseLinear": {
      const ds = sparseLinear({ ...c, n: c.nTrain + c.nTest }, gen);
      return synthetic(ds, c.nTrain, `sparseLinear d=${c.dim} k=${c.k} σ=${c.noise}`);
    }
    case "linearlySeparable": {
      const ds = linearlySeparable({ ...c, n: c.nTrain + c.nTest }, gen);
      return synthetic(ds, c.nTrain, `linearlySeparable d=${c.dim} γ=${c.margin}`);
    }
    default:
      return null;
  }
}

/** The file kinds' sizing: split off or subsample the test set, then subsample the training set. */
function sizeFiles(c: DataConfig, src: DataSource, key: Key): { train: Dataset; test: Dataset } {
  let { train, test } = src;
  const isFile = c.kind === "idx" || c.kind === "cifar10" || c.kind === "npy" || c.kind === "csv";
  if (test === null) {
    if (c.nTest === undefined) {
      throw new UserError(`data.nTest: ${c.kind} data without test files needs nTest, the test-split size`);
    }
    ({ train, test } = splitDataset(train, c.nTest, key.fold("split")));
  } else if (isFile && c.nTest !== undefined) {
    test = randomSubset(test, c.nTest, key.fold("testSubset"), "data.nTest");
  }
  if (isFile && c.nTrain !== undefined) train = randomSubset(train, c.nTrain, key.fold("trainSubset"), "data.nTrain");
  if (train.task !== test.task || train.xShape.join() !== test.xShape.join() || train.targetDim !== test.targetDim) {
    throw new UserError(
      `data: the test set (${test.name}) does not match the training set (${train.name}) in shape or task`,
    );
  }
  if (train.numClasses !== test.numClasses) {
    throw new UserError(`data: ${train.name} has ${train.numClasses} classes but ${test.name} has ${test.numClasses}`);
  }
  return { train, test };
}

/**
 * Builds a run's data from a parsed config and its raw `source`: train/test split (or test files) →
 * `nTrain` subsample → class-balanced subset → input normalization (training statistics) → label
 * corruption (training set only) → layout. All randomness comes from `Key.fromSeed(seed).fold("data")`,
 * with the children "generate", "split", "testSubset", "trainSubset", "balancedSubset", "labelNoise".
 * `info` records the source, sizes, class counts, the steps applied and the corruption record.
 */
export function buildSplit(c: DataConfig, seed: number, source: (c: DataConfig, key: Key) => DataSource): DataSplit {
  const key = Key.fromSeed(seed).fold("data");
  const src = source(c, key);
  let { train, test } = sizeFiles(c, src, key);
  const info: Record<string, unknown> = { kind: c.kind, source: src.description };
  if (c.balancedSubset !== undefined) {
    train = balancedSubset(train, c.balancedSubset, key.fold("balancedSubset"));
    info.balancedSubset = c.balancedSubset;
  }
  ({ train, test } = normalize(train, test, c.normalize));
  info.normalize = c.normalize;
  if (c.labelNoise > 0) {
    const { dataset, record } = corruptLabels(train, c.labelNoise, key.fold("labelNoise"));
    train = dataset;
    info.labelCorruption = {
      fraction: record.fraction,
      count: record.indices.length,
      changedCount: record.changedCount,
      indices: Array.from(record.indices),
      originalLabels: Array.from(record.originalLabels),
      newLabels: Array.from(record.newLabels),
    };
  }
  train = toLayout(train, c.layout, src.imageShape);
  test = toLayout(test, c.layout, src.imageShape);
  info.layout = c.layout;
  info.nTrain = train.n;
  info.nTest = test.n;
  if (train.task === "classification") info.classCounts = { train: classCounts(train), test: classCounts(test) };
  return { train, test, info };
}

/**
 * `loadData` for the synthetic kinds only (no file access; what the browser playground uses): the
 * same split, bit for bit, as `loadData(config, seed)`. A `UserError` for the file kinds.
 */
export function syntheticData(config: DataConfigInput | DataConfig, seed: number): DataSplit {
  const c = parseDataConfig(config);
  return buildSplit(c, seed, (c, key) => {
    const src = syntheticSource(c, key);
    if (src === null) {
      throw new UserError(`data.kind: "${c.kind}" reads files; here only ${SYNTHETIC_KINDS.join(", ")} are available`);
    }
    return src;
  });
}
