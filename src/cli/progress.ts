/**
 * Progress reporting for `sgdlab run`: a one-line bar (step/total, loss, accuracy, steps/s, ETA) on a
 * TTY, a line every ~10% otherwise. Writes to stderr so that `--json` output on stdout stays clean.
 */
import type { TrainReporter } from "../train/trainer.js";
import { duration, escapeControl, fmt } from "./format.js";

/** Where progress goes: stderr, or any sink with `write` (then no TTY redrawing unless `isTTY`). */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

export function progressReporter(stream: ProgressStream = process.stderr): TrainReporter {
  const tty = Boolean(stream.isTTY);
  let startStep = 0;
  let steps = 1;
  let lastDraw = 0;
  let lastDecile = -1;
  let acc: number | undefined;
  let testAcc: number | undefined;
  return {
    start(i) {
      startStep = i.startStep;
      steps = i.steps;
      stream.write(
        `run ${i.runId} (${escapeControl(i.name)}): ${i.paramCount} parameters, steps ${i.startStep}..${i.steps}\n`,
      );
    },
    eval(e) {
      acc = e.metrics["train/accuracy"];
      testAcc = e.metrics["test/accuracy"];
      if (!tty) {
        const parts = Object.entries(e.metrics).map(([k, v]) => `${k}=${fmt(v)}`);
        stream.write(`  eval @${e.step}: ${parts.join(" ")}\n`);
      }
    },
    step(s) {
      const now = Date.now();
      const eta = (s.steps - s.step) / Math.max(s.stepsPerSec, 1e-9);
      const frac = (s.step - startStep) / Math.max(1, steps - startStep);
      const text =
        `step ${s.step}/${s.steps}  loss ${fmt(s.loss)}` +
        (acc !== undefined ? `  acc ${fmt(acc)}` : "") +
        (testAcc !== undefined ? `  test ${fmt(testAcc)}` : "") +
        `  ${fmt(s.stepsPerSec)} steps/s  ETA ${duration(eta)}`;
      if (tty) {
        if (now - lastDraw < 100 && s.step < s.steps) return;
        lastDraw = now;
        const width = 24;
        const filled = Math.round(frac * width);
        stream.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}\x1b[K`);
      } else {
        const decile = Math.floor(frac * 10);
        if (decile > lastDecile) {
          lastDecile = decile;
          stream.write(`${text}\n`);
        }
      }
    },
    end(e) {
      if (tty) stream.write("\n");
      const parts = Object.entries(e.summary).map(([k, v]) => `${k}=${fmt(v)}`);
      stream.write(`${e.status}: run ${e.runId} at step ${e.step}  ${parts.join(" ")}\n`);
    },
  };
}
