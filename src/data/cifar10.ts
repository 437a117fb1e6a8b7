/**
 * CIFAR-10 in its binary distribution (cifar-10-binary.tar.gz, Krizhevsky 2009).
 */
import { UserError } from "../core/errors.js";
import { makeDataset } from "./dataset.js";
import { readDataFile } from "./files.js";
import type { Dataset } from "./types.js";

/** Bytes of one CIFAR-10 record: 1 label byte + 3 × 32 × 32 pixel bytes. */
export const CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32;
// The file names live with the data schema (their defaults), which must not import file readers.
export { CIFAR10_TEST_FILES, CIFAR10_TRAIN_FILES } from "./schema.js";
/** Class names by label. */
export const CIFAR10_CLASSES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** Options of `loadCifar10`. */
export interface Cifar10Options {
  /** "flat" gives xShape [3072] (CHW order); "image" gives [3, 32, 32]. Default "flat". */
  layout?: "flat" | "image";
  /** Dataset name; default "cifar10:<first file>[+k]". */
  name?: string;
}

/**
 * Reads CIFAR-10 binary batch files (gzipped or not) into one classification dataset, in file
 * order. Each file is a sequence of 3073-byte records: the label (0–9), then 1024 red, 1024 green
 * and 1024 blue bytes, each channel row-major (so the pixels are CHW). Pixel values are byte/255.
 * A file whose size is not a positive multiple of 3073 bytes, or a label byte > 9, throws a
 * `UserError` naming the file.
 */
export function loadCifar10(paths: readonly string[], opts: Cifar10Options = {}): Dataset {
  if (paths.length === 0) throw new UserError("cifar10: no batch files given");
  const bufs = paths.map((p) => {
    const buf = readDataFile(p, "cifar10 batch file");
    if (buf.length === 0 || buf.length % CIFAR10_RECORD_BYTES !== 0) {
      const whole = Math.floor(buf.length / CIFAR10_RECORD_BYTES);
      throw new UserError(
        `cifar10 batch file "${p}": size mismatch: ${buf.length} bytes is not a positive multiple of the ` +
          `${CIFAR10_RECORD_BYTES}-byte record (${whole} whole records + ${buf.length % CIFAR10_RECORD_BYTES} bytes; truncated?)`,
      );
    }
    return buf;
  });
  const n = bufs.reduce((s, b) => s + b.length / CIFAR10_RECORD_BYTES, 0);
  const d = CIFAR10_RECORD_BYTES - 1;
  const x = new Float64Array(n * d);
  const labels = new Int32Array(n);
  let row = 0;
  bufs.forEach((buf, f) => {
    const m = buf.length / CIFAR10_RECORD_BYTES;
    for (let r = 0; r < m; r++, row++) {
      const off = r * CIFAR10_RECORD_BYTES;
      const label = buf[off];
      if (label > 9) {
        throw new UserError(`cifar10 batch file "${paths[f]}": bad label ${label} in record ${r} (expected 0-9)`);
      }
      labels[row] = label;
      for (let j = 0; j < d; j++) x[row * d + j] = buf[off + 1 + j] / 255;
    }
  });
  const layout = opts.layout ?? "flat";
  return makeDataset({
    name: opts.name ?? `cifar10:${paths[0]}${paths.length > 1 ? `+${paths.length - 1}` : ""}`,
    xShape: layout === "image" ? [3, 32, 32] : [d],
    x,
    labels,
    numClasses: 10,
  });
}
