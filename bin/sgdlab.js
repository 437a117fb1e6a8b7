#!/usr/bin/env node
// sgdlab command-line entry. `--threads N` must be known before jax-js loads (it sizes its Wasm worker
// pool at import time), so it is turned into SGDLAB_THREADS here, before the CLI module is imported.
const argv = process.argv.slice(2);
const i = argv.findIndex((a) => a === "--threads" || a.startsWith("--threads="));
if (i >= 0) {
  const value = argv[i].includes("=") ? argv[i].split("=")[1] : argv[i + 1];
  if (value !== undefined) process.env.SGDLAB_THREADS = value;
}
const { main } = await import("../dist/cli/main.js");
process.exitCode = await main(argv);
