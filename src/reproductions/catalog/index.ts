/**
 * The catalog of reproductions, in the order `sgdlab reproduce --list` shows them.
 */
import type { Reproduction } from "../types.js";
import { edgeOfStability, progressiveSharpening, unstableConvergence } from "./edgeOfStability.js";
import { randomLabels } from "./randomLabels.js";

export const CATALOG: readonly Reproduction[] = [
  edgeOfStability,
  progressiveSharpening,
  unstableConvergence,
  randomLabels,
];

/** The reproduction named `name`, or undefined. */
export function findReproduction(name: string): Reproduction | undefined {
  return CATALOG.find((r) => r.name === name);
}
