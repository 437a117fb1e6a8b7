// `sgdlab fit power-law` on small CSV files: exact recovery in text and JSON, and one-line errors.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { UserError } from "../core/errors.js";
import { fitCommand } from "./fit.js";

const dir = mkdtempSync(join(tmpdir(), "sgdlab-fit-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function run(argv: string[]): { code: number; text: string } {
  let text = "";
  const code = fitCommand(argv, (s) => (text += s));
  return { code, text };
}

// ε = 2·m^−0.3 + 0.1 at m = 100·2^k (a header, a comment, an extra column before the data).
const rows = Array.from({ length: 8 }, (_, k) => {
  const m = 100 * 2 ** k;
  return `run${k},${m},${2 * m ** -0.3 + 0.1}`;
});
const exact = file("curve.csv", ["# learning curve", "name,m,err", ...rows].join("\n"));

describe("sgdlab fit power-law", () => {
  it("prints α, β, γ with intervals, and the keys documented for --json", () => {
    const t = run(["power-law", exact, "--x", "m", "--y", "err", "--bootstrap", "50"]);
    assert.equal(t.code, 0);
    assert.match(t.text, /fitted to 8 points .* \(m = m, ε = err\)/);
    assert.match(t.text, /beta\s+-0\.3\s+\[-0\.3, -0\.3\]/);
    const j = JSON.parse(run(["power-law", exact, "--x", "1", "--y", "2", "--bootstrap", "50", "--json"]).text);
    assert.deepEqual(Object.keys(j), [
      "alpha",
      "beta",
      "gamma",
      "n",
      "bootstrap",
      "seed",
      "level",
      "failed",
      "rss",
      "betaAtBound",
      "pure",
    ]);
    assert.ok(
      Math.abs(j.alpha.value - 2) < 1e-6 && Math.abs(j.beta.value + 0.3) < 1e-8 && Math.abs(j.gamma.value - 0.1) < 1e-8,
    );
    assert.equal(j.ci, undefined);
    assert.equal(j.beta.ci.length, 2);
    assert.deepEqual([j.n, j.bootstrap, j.seed, j.level], [8, 50, 0, 0.95]);
  });

  it("turns bad input into one-line usage errors", () => {
    const bad = (argv: string[], re: RegExp) =>
      assert.throws(
        () => run(argv),
        (e: Error) => e instanceof UserError && e.exitCode === 2 && re.test(e.message),
      );
    bad(["power-law", join(dir, "missing.csv")], /cannot read .*ENOENT/);
    bad(["power-law", exact, "--x", "size"], /"size" is not a column .* \(columns: name, m, err\)/);
    bad(["power-law", exact, "--x", "0"], /line 3, column 0: "run0" is not a number/);
    bad(["power-law", file("short.csv", "m,err\n1,1\n2,0.5\n4,0.3\n")], /needs at least 4 points/);
    bad(["power-law", file("neg.csv", "m,err\n0,1\n2,0.5\n4,0.3\n8,0.2\n")], /m must be > 0/);
    bad(["power-law", exact, "--bootstrap", "1"], /--bootstrap must be an integer ≥ 2/);
    bad(["power-law"], /expected "sgdlab fit power-law FILE.csv"/);
  });
});

describe("sgdlab fit power-law RUN RUN ...", () => {
  it("fits the last metric value of stored runs against their training-set sizes (or a spec field)", async () => {
    const { RunStore } = await import("../store/index.js");
    const storeDir = join(dir, "store");
    const store = RunStore.open(storeDir);
    const ids = [100, 200, 400, 800, 1600, 3200].map((m) => {
      const r = store.createRun({ name: `n=${m}`, spec: { data: { nTrain: m } } });
      store.putArtifact(r.id, "data", 0, { train: { n: m } });
      // an earlier value and the final one: the fit reads the last
      store.appendMetrics(r.id, [
        { step: 0, key: "test/loss", value: 9 },
        { step: 10, key: "test/loss", value: 2 * m ** -0.5 + 0.1 },
      ]);
      store.finishRun(r.id, "completed");
      return r.id;
    });
    store.close();
    for (const x of [[], ["--x", "data.nTrain"]]) {
      const j = JSON.parse(run(["power-law", ...ids, ...x, "--store", storeDir, "--bootstrap", "20", "--json"]).text);
      assert.ok(Math.abs(j.beta.value + 0.5) < 1e-6, `β = ${j.beta.value}`);
      assert.ok(Math.abs(j.gamma.value - 0.1) < 1e-6, `γ = ${j.gamma.value}`);
    }
    assert.throws(() => run(["power-law", ...ids, "--y", "nope", "--store", storeDir]), {
      name: "UserError",
      message: /no finite value of metric nope/,
    });
  });
});
