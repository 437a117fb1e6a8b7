// In-process CLI runner for the input, fuzz and weights tests: `main(argv, io)` with captured output.
// SGDLAB_THREADS is pinned to 1 before the CLI loads, so that no spec re-executes this process.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

process.env.SGDLAB_THREADS = "1";
const { main } = await import("../src/cli/main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sgdlab ...argv` in this process; `signal` stops a training command like Ctrl-C. */
export async function cli(argv: string[], signal?: AbortSignal): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    out: (s) => void (stdout += s),
    err: (s) => void (stderr += s),
    signal,
  });
  return { code, stdout, stderr };
}

/** A small classification spec that trains in well under a second. */
export const tinySpec = {
  name: "tiny",
  seed: 1,
  data: { kind: "moons", nTrain: 64, nTest: 32 },
  model: { kind: "mlp", hidden: [8], activation: "tanh" },
  loss: { kind: "ce" },
  optimizer: { kind: "sgd", lr: 0.2 },
  batchSize: 16,
  steps: 30,
  evalEvery: 10,
  checkpointEvery: 10,
};

/** A fresh temporary folder holding `spec.json` (= `spec`). */
export function workdir(spec: unknown = tinySpec): string {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-inputs-"));
  writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
  return dir;
}

/** Whether `text` shows a JavaScript stack trace or an engine error leaking through. */
export function leaksInternals(text: string): boolean {
  return /\n\s+at /.test(text) || /\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/.test(text);
}
