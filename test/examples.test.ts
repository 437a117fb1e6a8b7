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
    // 20 steps: long enough to catch hyperparameters that diverge early (egr.yaml once diverged at
    // step 5); the claims of each header comment are checked by the reproduction it belongs to
    it(`${file} validates and runs 20 steps without diverging`, async () => {
      const exp = loadSpec(join(DIR, file), ["steps=20", "evalEvery=10", "checkpointEvery=0"]);
      const store = tempStore();
      const r = await runExperiment(exp, { store });
      assert.equal(r.status, "completed");
      assert.equal(r.step, 20);
      store.close();
    });
  }
});
