// The dashboard in a real Chromium (playwright-core, Debian's chromium): `sgdlab ui` (the built CLI)
// on a temporary store seeded by the CLI with real runs, a sweep and a reproduction. Every page is
// opened; charts must render with as many series and points as the API sent (the report's specs);
// the runs table sorts, searches and selects runs to compare; a run started from the CLI appears in
// the table without a reload and its page updates while it trains; traversal requests are refused.
// Needs `npm run build` (bin/sgdlab.js runs dist/). Skipped with a reason when chromium is missing,
// unless SGDLAB_REQUIRE_BROWSER=1 (CI), where it fails.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { browserSkip, launchBrowser } from "./browser.js";
import { tinySpec } from "./clikit.js";

const root = join(import.meta.dirname, "..");
const bin = join(root, "bin", "sgdlab.js");
const skip = browserSkip();
const dir = mkdtempSync(join(tmpdir(), "sgdlab-ui-browser-"));
const store = join(dir, "store");
const spec = join(dir, "spec.json");
const curvatureSpec = join(dir, "curvature.json");
const env = { ...process.env, SGDLAB_THREADS: "1" };
/** Full-batch GD with every curvature instrument a run page draws: λmax vs 2/η, top-3 and bottom
 * eigenvalues, trace, spectral density, weight histograms (landscapes are added by the CLI). */
const CURVATURE = {
  ...tinySpec,
  name: "curvature",
  batchSize: "full",
  optimizer: { kind: "sgd", lr: 0.5 },
  steps: 40,
  probes: [
    { kind: "hessian", every: 10, topK: 3, bottomK: 1, traceProbes: 4, density: { probes: 1, steps: 20 } },
    { kind: "weightDynamics", every: 10, range: [-2, 2], bins: 20 },
  ],
};
let server: ChildProcess | undefined;
let browser: Browser | undefined;
let url = "";

function sgdlab(args: string[]): string {
  const r = spawnSync(process.execPath, [bin, ...args, "--store", store], { encoding: "utf8", env, timeout: 120_000 });
  assert.equal(r.status, 0, `sgdlab ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
function sgdlabAsync(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [bin, ...args, "--store", store], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d));
    c.stderr.on("data", (d: Buffer) => (err += d));
    c.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`sgdlab ${args.join(" ")}: ${err}`))));
  });
}
async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${url}${path}`);
  assert.equal(r.status, 200, path);
  return (await r.json()) as T;
}
/** Requests a page made to anything but the dashboard's own origin (the page must work offline). */
const external: string[] = [];
let requests = 0;
const watched = new WeakSet<Page>();
async function open(page: Page, hash: string): Promise<void> {
  if (!watched.has(page)) {
    watched.add(page);
    page.on("request", (r) => {
      requests++;
      if (!/^(data|blob):/.test(r.url()) && !r.url().startsWith(`${url}/`)) external.push(r.url());
    });
  }
  await page.goto(`${url}/${hash}`);
  await page.waitForSelector("body[data-ready='1']", { timeout: 60_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.error ?? ""), "", `page ${hash}`);
}

interface ApiFigure {
  id: string;
  spec: { data: { values: Record<string, unknown>[] } };
}
/** What a chart should show of an API figure: distinct series and rows carrying a series. */
function expected(f: ApiFigure): { series: number; points: number; rows: number } {
  const rows = f.spec.data.values;
  const withSeries = rows.filter((r) => typeof r.series === "string");
  return { series: new Set(withSeries.map((r) => r.series)).size, points: withSeries.length, rows: rows.length };
}
/** Checks every drawn chart against the figures the API sent for the page. */
async function checkCharts(page: Page, figures: ApiFigure[]): Promise<void> {
  assert.ok(figures.length > 0);
  const drawn = await page.$$eval("section.figure", (els) =>
    els.map((e) => ({
      id: (e as HTMLElement).dataset.fig,
      series: Number((e as HTMLElement).dataset.series),
      points: Number((e as HTMLElement).dataset.points),
      rows: Number((e as HTMLElement).dataset.rows),
      rendered: Number((e as HTMLElement).dataset.rendered),
      lines: e.querySelectorAll("svg .mark-line path").length,
      marks: e.querySelectorAll("svg .role-mark path").length,
    })),
  );
  assert.deepEqual(
    drawn.map((d) => d.id),
    figures.map((f) => f.id),
  );
  for (const f of figures) {
    const d = drawn.find((x) => x.id === f.id)!;
    const want = expected(f);
    assert.ok(d.rendered >= 1, `${f.id} rendered`);
    assert.equal(d.rows, want.rows, `${f.id} rows`);
    assert.equal(d.series, want.series, `${f.id} series`);
    assert.equal(d.points, want.points, `${f.id} points`);
    // one line per series (plus rule-free figures); line figures draw every series they hold
    if (want.series > 0) assert.equal(d.lines, want.series, `${f.id} line marks`);
    else assert.ok(d.marks > 0, `${f.id} draws marks`);
  }
}

before(async () => {
  if (skip) return;
  assert.ok(
    existsSync(join(root, "dist", "cli", "main.js")) &&
      existsSync(join(root, "dist", "web", "dashboard", "index.html")),
    "the browser tests run the built CLI and page: npm run build first",
  );
  writeFileSync(spec, JSON.stringify({ ...tinySpec, steps: 40 }));
  sgdlab(["run", spec, "--quiet"]);
  sgdlab(["run", spec, "--quiet", "--set", "optimizer.lr=0.5", "--set", "name=tiny-fast"]);
  writeFileSync(curvatureSpec, JSON.stringify(CURVATURE));
  await Promise.all([
    sgdlabAsync(["sweep", spec, "--grid", "optimizer.lr=[0.1,0.3]", "--name", "lrs", "--parallel", "1"]),
    sgdlabAsync(["reproduce", "progressive-sharpening", "--size", "smoke", "--out", join(dir, "rep")]),
    (async () => {
      const id = /completed (\S+)/.exec(await sgdlabAsync(["run", curvatureSpec, "--quiet"]))![1];
      for (const [mode, points] of [
        ["random1d", "9"],
        ["random2d", "7"],
      ])
        await sgdlabAsync(["landscape", id, "--directions", mode, "--points", points, "--out", join(dir, mode)]);
    })(),
  ]);
  server = spawn(process.execPath, [bin, "ui", "--store", store, "--port", "0"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server!.stdout!.on("data", (d: Buffer) => {
      out += d;
      const m = /at (http:\/\/\S+?)\/ /.exec(out);
      if (m) resolve(m[1]);
    });
    server!.on("exit", (code) => reject(new Error(`sgdlab ui exited (${code}): ${out}`)));
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.on("exit", r));
    server.kill("SIGINT");
    await exited;
  }
});

const opts = { skip, timeout: 240_000 };

test("the runs table lists, sorts, searches and selects runs to compare", opts, async () => {
  const page = await browser!.newPage();
  await open(page, "#/");
  const total = (await api<{ total: number }>("/api/runs")).total;
  assert.equal(total, 6); // two runs, two sweep members, one reproduction member, the curvature run
  assert.equal(await page.locator("#runs tbody tr").count(), total);
  await page.click("th[data-sort='name']");
  await page.waitForFunction(() => document.querySelector("#runs th[data-sort='name']")?.textContent?.includes("▲"));
  const names = await page.$$eval("#runs tbody tr td:nth-child(3)", (tds) => tds.map((t) => t.textContent ?? ""));
  assert.deepEqual(names, [...names].sort());
  await page.fill("#search", "fast");
  await page.waitForFunction(() => document.querySelector("#runs")?.getAttribute("data-total") === "1");
  assert.equal(await page.locator("#runs tbody tr").count(), 1);
  await page.fill("#search", "tiny");
  await page.waitForFunction(() => document.querySelector("#runs")?.getAttribute("data-total") === "2");
  for (const box of await page.locator("#runs tbody input[type=checkbox]").all()) await box.check();
  await page.click("#compare");
  await page.waitForSelector("body[data-page='compare'][data-ready='1']");
  const fig = await page.waitForSelector("section.figure[data-rendered='1']");
  assert.equal(await fig.getAttribute("data-series"), "2");
  await page.close();
});

test("the run page draws every figure of the report, with controls, events, spec and downloads", opts, async () => {
  const page = await browser!.newPage();
  const { runs } = await api<{ runs: { id: string; name: string }[] }>("/api/runs?q=tiny-fast");
  const id = runs[0].id;
  await open(page, `#/run/${id}`);
  const figs = await api<{ figures: ApiFigure[] }>(`/api/runs/${id}/figures`);
  await checkCharts(page, figs.figures);
  assert.match((await page.textContent("#spec")) ?? "", /"lr": 0.5/);
  assert.equal(await page.locator("#checkpoints tr").count(), 1 + 4); // header + steps 10, 20, 30, 40
  const csv = await page.request.get(`${url}/api/runs/${id}/export.csv`);
  assert.equal(csv.headers()["content-type"], "text/csv; charset=utf-8");

  // hide a series: the chart redraws without it; log y: a new view
  const loss = page.locator("section.figure[data-fig='loss']");
  const before = Number(await loss.getAttribute("data-series"));
  await loss.locator("input[data-role='series']").first().uncheck();
  await page.waitForFunction(
    (n) => document.querySelector("section.figure[data-fig='loss']")?.getAttribute("data-series") === String(n),
    before - 1,
  );
  const r0 = Number(await loss.getAttribute("data-rendered"));
  await loss.locator("input[data-role='log-y']").click();
  await page.waitForFunction(
    (n) => Number(document.querySelector("section.figure[data-fig='loss']")?.getAttribute("data-rendered")) > n,
    r0,
  );
  // smoothing redraws the smoothable charts
  await page.fill("#smoothing", "0.9");
  await page.waitForFunction(
    (n) => Number(document.querySelector("section.figure[data-fig='loss']")?.getAttribute("data-rendered")) > n + 1,
    r0,
  );
  // hover shows values (vega-tooltip) near a point of the chart
  const box = (await loss.locator("svg").first().boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
  await page.waitForSelector("#vg-tooltip-element.visible", { timeout: 10_000 });
  assert.match((await page.textContent("#vg-tooltip-element")) ?? "", /step/);
  await page.close();
});

test("a run with curvature probes and landscapes draws every instrument", opts, async () => {
  const page = await browser!.newPage();
  const { runs } = await api<{ runs: { id: string }[] }>("/api/runs?q=curvature");
  await open(page, `#/run/${runs[0].id}`);
  const figs = await api<{ figures: ApiFigure[] }>(`/api/runs/${runs[0].id}/figures`);
  for (const id of [
    "sharpness",
    "eigenvalues",
    "hessian-trace",
    "spectral-density",
    "weight-histograms",
    "landscape-random1d-loss",
    "landscape-random2d-loss",
  ])
    assert.ok(
      figs.figures.some((f) => f.id === id),
      `${id} in ${figs.figures.map((f) => f.id).join(", ")}`,
    );
  await checkCharts(page, figs.figures);
  // λmax with its threshold 2/η = 4 on one chart; λmax, λ2, λ3 and λmin traced
  assert.equal(await page.getAttribute("section.figure[data-fig='sharpness']", "data-series"), "2");
  assert.equal(await page.getAttribute("section.figure[data-fig='eigenvalues']", "data-series"), "4");
  await page.close();
});

test("compare, sweep and reproduction pages render what the API sends", opts, async () => {
  const page = await browser!.newPage();
  const { runs } = await api<{ runs: { id: string }[] }>("/api/runs?q=tiny");
  const ids = runs.map((r) => r.id).join(",");
  await open(page, `#/compare/${ids}`);
  const cmp = await api<{ figure: ApiFigure; differences: { path: string }[] }>(`/api/compare?ids=${ids}`);
  await checkCharts(page, [cmp.figure]);
  const fields = await page.$$eval("#differences tr td:first-child", (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(
    fields,
    cmp.differences.map((d) => d.path),
  );
  assert.ok(fields.includes("optimizer.lr"));

  await open(page, "#/sweeps");
  await page.click("#sweeps a");
  await page.waitForSelector("body[data-page='sweep'][data-ready='1']");
  const sweep = await api<{ figures: ApiFigure[]; members: unknown[] }>("/api/sweeps/lrs");
  await checkCharts(page, sweep.figures);
  assert.equal(await page.locator("#members tr").count(), 1 + sweep.members.length);

  await open(page, "#/reproductions");
  await page.click("#reproductions a");
  await page.waitForSelector("body[data-page='reproduction'][data-ready='1']");
  const repId = decodeURIComponent(new URL(page.url()).hash.split("/")[2]);
  const rep = await api<{ result: { criteria: unknown[] }; report: { figures: ApiFigure[] } }>(
    `/api/reproductions/${repId}`,
  );
  assert.equal(await page.locator("#verdict tr").count(), 1 + rep.result.criteria.length);
  await checkCharts(page, rep.report.figures);
  await page.close();
});

test("path traversal and bad ids are refused", opts, async () => {
  const page = await browser!.newPage();
  for (const path of [
    "/..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/playground/..%2f..%2fpackage.json",
  ]) {
    const r = await page.request.get(`${url}${path}`);
    assert.equal(r.status(), 404, path);
    assert.doesNotMatch(await r.text(), /root:|"name": "sgdlab"/);
  }
  const bad = await page.request.get(`${url}/api/runs/..%2f..%2fetc`);
  assert.equal(bad.status(), 400);
  await page.close();
});

test("a run started from the CLI appears without a reload, and its page updates while it trains", opts, async () => {
  const page = await browser!.newPage();
  await open(page, "#/");
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  const child = spawn(
    process.execPath,
    [
      bin,
      "run",
      spec,
      "--quiet",
      "--store",
      store,
      "--set",
      "name=live-run",
      "--set",
      "steps=1000000",
      "--set",
      "evalEvery=100",
    ],
    { env, stdio: "ignore" },
  );
  try {
    const row = await page.waitForSelector("#runs tr:has-text('live-run')", { timeout: 60_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, "no reload");
    assert.equal(await row.$eval(".status", (e) => e.textContent), "running");
    await row.$eval("a", (a) => (a as HTMLAnchorElement).click());
    await page.waitForSelector("body[data-page='run'][data-ready='1']");
    const loss = await page.waitForSelector("section.figure[data-fig='loss']", { timeout: 30_000 });
    const p0 = Number(await loss.getAttribute("data-points"));
    await page.waitForFunction(
      (n) => Number(document.querySelector("section.figure[data-fig='loss']")?.getAttribute("data-points")) > n,
      p0,
      { timeout: 30_000 },
    );
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, "no reload");
    assert.equal(await page.evaluate(() => document.body.dataset.status), "running");
  } finally {
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGINT");
    await exited;
  }
  await page.close();
});

test("no page fetched anything from another origin (vega and the page are bundled)", opts, () => {
  assert.ok(requests > 20, `${requests} requests observed`);
  assert.deepEqual(external, []);
});
