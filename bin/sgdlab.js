#!/usr/bin/env node
// sgdlab command-line entry. `--threads N` must be known before jax-js loads (it sizes its Wasm worker
// pool at import time), so it is validated and turned into SGDLAB_THREADS here, before the CLI module
// (and with it jax-js) is imported. A malformed value is a usage error (exit 2), never a stack trace.
const argv = process.argv.slice(2);
const { parseThreads, THREADS_ENV } = await import("../dist/core/workers.js");
try {
  const i = argv.findIndex((a) => a === "--threads" || a.startsWith("--threads="));
  if (i >= 0) {
    const value = argv[i].includes("=") ? argv[i].slice(argv[i].indexOf("=") + 1) : argv[i + 1];
    if (value !== undefined) process.env[THREADS_ENV] = String(parseThreads(value, "--threads"));
  }
  const env = process.env[THREADS_ENV];
  if (env !== undefined && env !== "") parseThreads(env, THREADS_ENV);
} catch (e) {
  process.stderr.write(`sgdlab: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
const { main } = await import("../dist/cli/main.js");
process.exitCode = await main(argv);
