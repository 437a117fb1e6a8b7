import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";

// Thread count is fixed when jax-js loads, so each configuration runs in its own process.
const CHILD = join(import.meta.dirname, "threads.child.ts");

type Result = {
  threads: number;
  worker: string;
  pool: { spawned: number; kernels: number[]; routines: number };
  metrics: [string, number][];
};

function runWith(threads: number): Result {
  const r = spawnSync(process.execPath, ["--import", "tsx", CHILD], {
    encoding: "utf8",
    // the Wasm kernels on both sides: with 1 thread, OpenBLAS would otherwise take the products
    env: { ...process.env, SGDLAB_THREADS: String(threads), SGDLAB_BLAS: "off" },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Result;
}

describe("Wasm worker threads", () => {
  it("2 worker threads give bit-identical metrics to 1 thread", () => {
    const one = runWith(1);
    const two = runWith(2);
    assert.equal(one.threads, 1);
    assert.equal(two.threads, 2);
    assert.equal(one.worker, "undefined", "no worker pool with 1 thread");
    assert.equal(two.worker, "function", "the Worker shim is installed with 2 threads");
    // the pool really ran: jax-js started one worker per thread and split kernels across both
    assert.deepEqual(one.pool, { spawned: 0, kernels: [], routines: 0 });
    assert.equal(two.pool.spawned, 2, "two workers started");
    assert.equal(two.pool.kernels.length, 2);
    for (const [i, k] of two.pool.kernels.entries()) assert.ok(k >= 30, `worker ${i} ran ${k} kernels (≥ 1 per step)`);
    assert.ok(one.metrics.length > 50);
    assert.deepEqual(two.metrics, one.metrics);
  });

  it("rejects a malformed SGDLAB_THREADS with a clear message", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", CHILD], {
      encoding: "utf8",
      env: { ...process.env, SGDLAB_THREADS: "two" },
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /SGDLAB_THREADS must be an integer/);
  });
});
