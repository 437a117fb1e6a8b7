import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSpec } from "../src/experiments/resolve.js";
import { runExperiment } from "../src/train/trainer.js";
import { tempStore } from "./helpers.js";

const DIR = join(import.meta.dirname, "..", "examples");

describe("examples/", () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".yaml"))) {
    it(`${file} validates and runs (2 steps)`, async () => {
      const exp = loadSpec(join(DIR, file), ["steps=2", "evalEvery=2", "checkpointEvery=0"]);
      const store = tempStore();
      const r = await runExperiment(exp, { store });
      assert.equal(r.status, "completed");
      assert.equal(r.step, 2);
      store.close();
    });
  }
});
