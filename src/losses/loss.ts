/**
 * Helper that turns a function into a `Loss` (a callable with properties).
 */
import type { Array } from "../core/index.js";
import type { Loss, TargetKind } from "./types.js";

/** Attaches `name`, `targetKind` and `perExampleMean` to `fn` (a function's own `name` is read-only). */
export function makeLoss(
  fn: (out: Array, y: Array) => Array,
  props: { name: string; targetKind: TargetKind; perExampleMean: boolean },
): Loss {
  return Object.defineProperties(fn, {
    name: { value: props.name, enumerable: true },
    targetKind: { value: props.targetKind, enumerable: true },
    perExampleMean: { value: props.perExampleMean, enumerable: true },
  }) as Loss;
}
