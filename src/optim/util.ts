/**
 * Internal helpers of optim/: leafwise maps over several trees and the dtype of a parameter tree.
 * Not part of the public surface.
 */
import { np, tree, type Array, type DType } from "../core/index.js";
import type { ArrayTree } from "../core/index.js";

/**
 * `f` applied leafwise to trees of one structure; consumes every tree (each leaf is handed to `f`,
 * which must consume it). Throws, releasing all inputs, if the structures differ.
 */
export function mapLeaves<T extends ArrayTree>(f: (...xs: Array[]) => Array, first: T, ...rest: ArrayTree[]): T {
  const def = String(tree.structure(first));
  for (const r of rest) {
    if (String(tree.structure(r)) !== def) {
      tree.dispose(first);
      for (const t of rest) tree.dispose(t);
      throw new Error(`optimizer trees differ in structure: ${def} vs ${String(tree.structure(r))}`);
    }
  }
  return tree.map(f, first, ...(rest as T[])) as T;
}

/** The dtype of the first leaf of `t` (float32 for an empty tree); does not consume `t`. */
export function treeDtype(t: ArrayTree): DType {
  const ls = tree.leaves(t);
  return ls.length > 0 ? ls[0].dtype : np.float32;
}
