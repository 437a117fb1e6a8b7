import assert from "node:assert/strict";
import { test } from "node:test";
import { detectSpikes } from "./bnWeightDecayPeriodicity.js";

const curve = (values: number[]) => values.map((value, step) => ({ step, value }));

test("detectSpikes: a rise ≥ 10× the minimum since the last spike (and ≥ 0.05) opens a spike; ÷10 of the peak closes it", () => {
  // the initial descent is no spike; 0.001 → 2 is one; a rise to 0.004 (4× the minimum) is none; 0.002 → 0.04 is
  // ≥ 10× but under the 0.05 floor; an unfinished spike at the end has end NaN
  const s = detectSpikes(curve([3, 1, 0.1, 0.001, 2, 5, 0.4, 0.002, 0.004, 0.002, 0.04, 0.001, 1]));
  assert.deepEqual(
    s.map((x) => [x.start, x.end, x.peak, x.peakStep]),
    [
      [4, 6, 5, 5],
      [12, NaN, 1, 12],
    ],
  );
  assert.deepEqual(detectSpikes(curve([2, 1, 0.5, 0.25])), []);
});
