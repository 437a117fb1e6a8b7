/**
 * Label corruption for random-label memorization experiments (Zhang, Bengio, Hardt, Recht &
 * Vinyals, "Understanding deep learning requires rethinking generalization", ICLR 2017, §2).
 */
import { UserError } from "../core/errors.js";
import type { Key } from "../core/keys.js";
import { withFields } from "./dataset.js";
import type { Dataset } from "./types.js";

/** What `corruptLabels` did. */
export interface CorruptionRecord {
  /** The fraction p asked for. */
  fraction: number;
  /** The m = round(p·n) distinct example indices that were relabelled, ascending. */
  indices: Int32Array;
  /** Their labels before, aligned with `indices`. */
  originalLabels: Int32Array;
  /** Their labels after, aligned with `indices`. */
  newLabels: Int32Array;
  /** How many of the m relabelled examples actually got a different label (≈ m·(1 − 1/C)). */
  changedCount: number;
}

/**
 * Relabels a fraction p of the examples, as Zhang et al. (2017) "partially corrupted labels": exactly
 * m = round(p·n) (half rounds up) distinct examples, chosen uniformly by `key.fold("indices")`, get a
 * label drawn uniformly from the C classes by `key.fold("labels")`. As in Zhang et al., the new label
 * may coincide with the original one, so only about m·(1 − 1/C) labels actually change
 * (`changedCount`); p = 1 gives fully random labels. Classification datasets only; p in [0, 1].
 */
export function corruptLabels(ds: Dataset, p: number, key: Key): { dataset: Dataset; record: CorruptionRecord } {
  if (ds.labels === null) throw new UserError(`labelNoise needs a classification dataset; ${ds.name} is regression`);
  if (!(p >= 0 && p <= 1)) throw new UserError(`labelNoise must be a fraction in [0, 1], got ${p}`);
  const m = Math.round(p * ds.n);
  const indices = key.fold("indices").rng().permutation(ds.n).subarray(0, m).sort();
  const rng = key.fold("labels").rng();
  const labels = Int32Array.from(ds.labels);
  const originalLabels = new Int32Array(m);
  const newLabels = new Int32Array(m);
  let changedCount = 0;
  for (let k = 0; k < m; k++) {
    const i = indices[k];
    originalLabels[k] = labels[i];
    newLabels[k] = rng.int(ds.numClasses);
    if (newLabels[k] !== labels[i]) changedCount++;
    labels[i] = newLabels[k];
  }
  const dataset = m === 0 ? ds : withFields(ds, { labels, name: `${ds.name}[labelNoise ${p}]` });
  return {
    dataset,
    record: { fraction: p, indices: Int32Array.from(indices), originalLabels, newLabels, changedCount },
  };
}
