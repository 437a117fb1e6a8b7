import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { wasmHeapBytes } from "../src/core/index.js";
import { runExperiment } from "../src/train/trainer.js";
import { smallExperiment, tempStore } from "./helpers.js";

describe("memory", () => {
  it("2000 training steps with evaluation, probes and checkpoints keep the Wasm heap flat", async () => {
    const store = tempStore();
    const samples: number[] = [];
    const exp = smallExperiment(["steps=2000", "evalEvery=100", "checkpointEvery=500"], {
      probes: [
        { kind: "gradNorm", every: 50 },
        { kind: "weightNorm", every: 50 },
      ],
    });
    const r = await runExperiment(exp, {
      store,
      reporter: { step: ({ step }) => void (step % 250 === 0 && samples.push(wasmHeapBytes())) },
    });
    assert.equal(r.status, "completed");
    assert.equal(samples.length, 8);
    // A leak of even one 16x3 parameter matrix per step would add ~400 kB over 1750 steps; the heap
    // grows in 64 KiB pages, so allow one page of slack after warm-up.
    const growth = samples[samples.length - 1] - samples[0];
    assert.ok(growth <= 65536, `Wasm heap grew by ${growth} bytes: ${samples.join(", ")}`);
    assert.ok(samples[0] > 0, "the heap is being measured");
    store.close();
  });
});
