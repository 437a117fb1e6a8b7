import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { measuresCommand } from "./measures.js";

describe("sgdlab measures", () => {
  it("--from-json prints one object keyed by measure name", async () => {
    const lines: string[] = [];
    const code = await measuresCommand(
      ["--from-json", "test/fixtures/reference/tanh_ce_10-16-3.json", "--json", "--sigma-draws", "2"],
      (s) => lines.push(s),
    );
    assert.equal(code, 0);
    const m = JSON.parse(lines.join("\n")) as Record<string, { value: number; equation: unknown; vacuous?: boolean }>;
    for (const k of ["params", "prod-of-spec", "sum-of-fro", "param-norm", "path-norm", "pacbayes-flatness"]) {
      assert.equal(typeof m[k].value, "number", k);
      assert.ok(m[k].equation !== undefined, k);
    }
    assert.equal(m["params"].value, 10 * 16 + 16 + 16 * 3 + 3);
    assert.equal(typeof m["pacbayes-bound"].vacuous, "boolean");
    assert.equal(m["frob-distance"], undefined, "an external model has no initialization");
  });

  it("refuses two subjects", async () => {
    await assert.rejects(
      measuresCommand(["r1", "--model", "m.json"], () => {}),
      /exactly one of/,
    );
  });
});
