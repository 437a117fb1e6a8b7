/**
 * A run's report end to end: a store holding the fixture run (metrics and density artifacts), the
 * report built from it, the files written, the page's offline self-containment, the page's own data
 * path rendered by vega in Node, the CLI's errors, and (where a `chromium` binary exists) the page
 * opened in a headless browser without network.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as vega from "vega";
import { UserError } from "../core/errors.js";
import { RunStore } from "../store/index.js";
import { reportCommand } from "../cli/report.js";
import { assertSvg, FIXTURE_SPEC, fixtureDensities, fixtureMetrics } from "./fixtures.testkit.js";
import { runReport, writeReport } from "./runReport.js";
import { browserSkip, chromiumPath } from "../../test/browser.js";

function fixtureStore(): { dir: string; runId: string } {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-report-"));
  const store = RunStore.open(dir);
  try {
    const run = store.createRun({ name: "fixture", spec: FIXTURE_SPEC, seed: 0, backend: "wasm", dtype: "float32" });
    store.appendMetrics(run.id, fixtureMetrics());
    for (const d of fixtureDensities())
      store.putArtifact(run.id, "hessian/density", d.step, { nodes: [[0]], weights: [[1]], ...d });
    store.finishRun(run.id, "completed", { summary: { step: 200 } });
    return { dir, runId: run.id };
  } finally {
    store.close();
  }
}

const fx = fixtureStore();
const outDir = mkdtempSync(join(tmpdir(), "sgdlab-report-out-"));

test("runReport reads the run into figures: metrics grouped, then the spectral density", () => {
  const store = RunStore.open(fx.dir, { readonly: true });
  try {
    const r = runReport(store, fx.runId.slice(0, 12));
    assert.deepEqual(
      r.figures.map((f) => f.id),
      [
        "loss",
        "accuracy",
        "sharpness",
        "precond-sharpness",
        "eos-ratio",
        "eigenvalues",
        "hessian-trace",
        "grad-norm",
        "spectral-density",
      ],
    );
    assert.deepEqual(
      r.meta.find(([k]) => k === "optimizer"),
      ["optimizer", "sgd (lr=0.1, momentum=0)"],
    );
    const only = runReport(store, fx.runId, { densitySteps: [100] });
    const rows = (only.figures.at(-1)!.spec.data as { values: { step: number }[] }).values;
    assert.deepEqual([...new Set(rows.map((x) => x.step))], [100]);
    assert.throws(
      () => runReport(store, fx.runId, { densitySteps: [7] }),
      /no hessian\/density at step 7 \(stored at steps 0, 100, 200\)/,
    );
    assert.throws(
      () => runReport(store, "nope"),
      (e) => e instanceof UserError && e.exitCode === 2,
    );
  } finally {
    store.close();
  }
});

test("writeReport writes a self-contained page, an SVG and a spec per figure, and figures.json", async () => {
  const store = RunStore.open(fx.dir, { readonly: true });
  const report = runReport(store, fx.runId);
  store.close();
  const w = await writeReport(report, join(outDir, "nested", "dir"));
  assert.equal(w.svgs.length, report.figures.length);
  report.figures.forEach((f, i) => {
    assertSvg(readFileSync(w.svgs[i], "utf8"), f.title);
    assert.deepEqual(JSON.parse(readFileSync(w.specs[i], "utf8")), f.spec);
  });
  assert.deepEqual(JSON.parse(readFileSync(w.figuresJson, "utf8")), JSON.parse(JSON.stringify(report.figures)));

  const html = readFileSync(w.html, "utf8");
  // offline: nothing is loaded from elsewhere (no external scripts, styles, images, fonts or imports)
  assert.doesNotMatch(html, /<script[^>]*\ssrc=/i);
  assert.doesNotMatch(html, /<link\b/i);
  assert.doesNotMatch(html, /<img[^>]*src="(https?:)?\/\//i);
  assert.doesNotMatch(html, /@import|url\(\s*["']?(https?:)?\/\//i);
  assert.ok(html.includes("vega.View"), "the vega runtime is inlined");
  assert.ok(html.length < 2_000_000, `page is ${html.length} bytes`);
  const json = /<script type="application\/json" id="sgdlab-report">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(json);
  const page = JSON.parse(json[1]) as {
    figures: { id: string; title: string; rows: object[]; vega: Record<string, vega.Spec> }[];
  };
  assert.deepEqual(
    page.figures.map((f) => f.id),
    report.figures.map((f) => f.id),
  );
  // the page's own data path, as its script runs it: compiled spec + rows injected into "table"
  for (const f of page.figures) {
    for (const [variant, spec] of Object.entries(f.vega)) {
      for (const d of spec.data ?? []) assert.ok(!("url" in d), `${f.id} ${variant}: data ${d.name} has a url`);
      const view = new vega.View(vega.parse(spec), { renderer: "none" });
      view.data("table", structuredClone(f.rows));
      const svg = await view.toSVG();
      view.finalize();
      assertSvg(svg, f.title);
    }
  }
  const loss = page.figures.find((f) => f.id === "loss")!;
  assert.deepEqual(Object.keys(loss.vega).sort(), ["linear|linear", "linear|log", "log|linear", "log|log"]);
});

test("sgdlab report: unknown run, unwritable --out and bad options are usage errors (exit 2)", async () => {
  const lines: string[] = [];
  const out = (s: string) => lines.push(s);
  const rejects = (argv: string[], re: RegExp) =>
    assert.rejects(reportCommand(argv, out), (e) => e instanceof UserError && e.exitCode === 2 && re.test(e.message));
  await rejects(["nope", "--store", fx.dir], /no run nope/);
  const file = join(outDir, "a-file");
  writeFileSync(file, "");
  await rejects([fx.runId, "--store", fx.dir, "--out", join(file, "sub")], /cannot create report folder/);
  await rejects([fx.runId, "--store", fx.dir, "--out", file], /cannot create report folder .*not a directory/);
  await rejects([fx.runId, "--store", fx.dir, "--density-steps", "x"], /--density-steps/);
  await rejects([fx.runId, "--store", fx.dir, "--bogus"], /Unknown option/);
  await rejects(["--store", fx.dir], /expected one run id/);
  assert.equal(await reportCommand([fx.runId, "--store", fx.dir, "--out", join(outDir, "cli"), "--json"], out), 0);
  const printed = JSON.parse(lines.at(-1)!) as { runId: string; html: string; figures: { svg: string }[] };
  assert.equal(printed.runId, fx.runId);
  assert.ok(existsSync(printed.html) && printed.figures.every((f) => existsSync(f.svg)));
});

test("sgdlab report through main: exit code 2 and one line on stderr for an unknown run", async () => {
  const { main } = await import("../cli/main.js");
  const write = process.stderr.write;
  let err = "";
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    assert.equal(await main(["report", "nope", "--store", fx.dir]), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.match(err, /^sgdlab: no run nope in store .*\n$/);
});

const chromium = chromiumPath;

test(
  "the page renders every figure in a headless browser with no network",
  {
    // CI (.ci/run) installs Debian's chromium and sets SGDLAB_REQUIRE_BROWSER=1, so there a missing
    // browser fails this test instead of skipping it (test/browser.ts, shared by the browser tests)
    skip: browserSkip(),
    timeout: 120_000,
  },
  async () => {
    assert.ok(chromium() !== null, "no chromium binary (apt-get install chromium)");
    const store = RunStore.open(fx.dir, { readonly: true });
    const report = runReport(store, fx.runId);
    store.close();
    const w = await writeReport(report, join(outDir, "browser"));
    const args = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${join(outDir, "chromium-profile")}`,
      "--virtual-time-budget=20000",
      "--dump-dom",
    ];
    // a private network namespace (root only) proves that nothing is fetched; else file:// alone
    const isolated = spawnSync("unshare", ["-n", "true"]).status === 0;
    const cmd = isolated ? ["unshare", "-n", chromium()!] : [chromium()!];
    const r = spawnSync(cmd[0], [...cmd.slice(1), ...args, `file://${w.html}`], { encoding: "utf8", timeout: 100_000 });
    const body = /<body[^>]*>/.exec(r.stdout)?.[0] ?? r.stderr.slice(-2000);
    assert.match(body, new RegExp(`data-rendered="${report.figures.length}"`));
    assert.equal((r.stdout.match(/<svg/g) ?? []).length, report.figures.length);
  },
);
