/**
 * Datasets live on the host as float64 rows; the trainer uploads batches in the run's dtype.
 * Inputs are row-major: example i occupies x[i*d .. (i+1)*d) with d = prod(xShape).
 */
export interface Dataset {
  /** Human-readable origin, e.g. "mnist[train]" or "gaussianMixture". */
  readonly name: string;
  /** Number of examples. */
  readonly n: number;
  /** Shape of one input, e.g. [784] (flat) or [1, 28, 28] (image, channels first). */
  readonly xShape: readonly number[];
  readonly x: Float64Array;
  /** "classification": `labels` holds class indices; "regression": `targets` holds n × targetDim. */
  readonly task: "classification" | "regression";
  /** Number of classes (classification) or 0. */
  readonly numClasses: number;
  readonly labels: Int32Array | null;
  readonly targets: Float64Array | null;
  /** Width of a regression target (0 for classification). */
  readonly targetDim: number;
}

/** A train/test pair plus facts worth recording with the run (e.g. corrupted label indices). */
export interface DataSplit {
  readonly train: Dataset;
  readonly test: Dataset;
  readonly info: Record<string, unknown>;
}

/** Per-example input width. */
export function inputSize(d: Dataset): number {
  return d.xShape.reduce((a, b) => a * b, 1);
}
