// The playground in a real Chromium (Debian's package, through playwright-core): the bundle from
// `npm run build:web` served by a tiny static server under /playground/ (relative URLs only), trained
// in the page, and its λmax compared with what `sgdlab run` computes for the page's own spec.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { RunStore } from "../src/store/index.js";
import { createUiServer } from "../src/ui/server.js";
import { OPTIMIZERS } from "../web/playground/state.js";
import { browserSkip, launchBrowser } from "./browser.js";
import { cli } from "./clikit.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const webRoot = join(root, "dist", "web");
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/** The newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : st.mtimeMs);
  }
  return t;
}

/**
 * Builds the bundle when `npm test`'s build has not, or when its sources (web/playground, src) changed
 * since (a single test file run while editing).
 */
function ensureBundle(): void {
  const bundle = join(webRoot, "playground", "main.js");
  const sources = Math.max(newest(join(root, "web", "playground")), newest(join(root, "src")));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sources) return;
  const r = spawnSync(process.execPath, [join(root, "scripts", "build-web.mjs"), "playground"], { encoding: "utf8" });
  assert.equal(r.status, 0, `build-web failed: ${r.stderr}`);
}

/** Serves dist/web (files only, nothing outside it) on an ephemeral local port. */
async function serve(): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    let file = resolve(webRoot, `.${path}`);
    if (path.endsWith("/")) file = join(file, "index.html");
    if (!file.startsWith(webRoot + sep) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { server, base: `http://127.0.0.1:${port}/playground/` };
}

const skip = browserSkip();

describe("playground in Chromium", { skip, timeout: 900_000 }, () => {
  let browser: Browser;
  let server: Server;
  let base: string;
  const errors: string[] = [];

  before(async () => {
    ensureBundle();
    ({ server, base } = await serve());
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  /** A fresh page at `query`, ready (first session built); page errors are collected. */
  async function open(query: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}${query}`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    return page;
  }

  const value = async (page: Page, sel: string) => Number(await page.locator(sel).first().getAttribute("data-value"));
  async function stepTimes(page: Page, n: number): Promise<void> {
    const start = await value(page, "#step-count");
    for (let i = 0; i < n; i++) await page.click("#step");
    await page.waitForSelector(`#step-count[data-value="${start + n}"]`, { timeout: 60_000 });
  }

  it("trains in the page; λmax matches sgdlab run on the page's spec", async () => {
    const page = await open("?data=moons&n=100&width=8&depth=2&act=tanh&opt=gd&lr=0.5&every=5&seed=3&backend=wasm");
    assert.equal(await page.getAttribute("body", "data-device"), "wasm");
    assert.equal(await page.getAttribute("body", "data-engine"), "worker", "training runs in a Web Worker");
    const loss0 = await value(page, "#train-loss");
    await stepTimes(page, 11);
    const loss11 = await value(page, "#train-loss");
    assert.ok(loss11 < loss0, `train loss ${loss0} → ${loss11} after 11 GD steps`);
    const pageLambda = new Map<number, number>();
    for (const step of [0, 5, 10]) pageLambda.set(step, await value(page, `tr[data-step="${step}"] td.lambda`));
    assert.equal(await value(page, `tr[data-step="10"] td.threshold`), 4, "GD's threshold 2/η at η = 0.5");

    // the CLI on the spec the page shows (steps = the page's 11)
    const spec = JSON.parse((await page.locator("#spec").textContent()) ?? "");
    assert.equal(spec.steps, 11);
    const dir = mkdtempSync(join(tmpdir(), "sgdlab-playground-"));
    writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
    const r = await cli(["run", join(dir, "spec.json"), "--store", join(dir, "store"), "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    const store = RunStore.open(join(dir, "store"), { readonly: true });
    try {
      const run = store.listRuns()[0];
      const cliLambda = store.getMetrics(run.id, { keys: ["hessian/lambdaMax"] });
      assert.deepEqual(
        cliLambda.map((p) => p.step),
        [0, 5, 10],
      );
      // Criterion fixed before looking: both are Lanczos Ritz values with relative residual ≤ tol = 1e-4
      // (the probe's default), hence within 1e-4·|λ| of an eigenvalue each; the trajectories are the
      // same float32 computation (Wasm in Chromium vs Node). A relative difference ≤ 1e-3 allows both.
      for (const p of cliLambda) {
        const mine = pageLambda.get(p.step)!;
        const rel = Math.abs(mine - p.value) / Math.abs(p.value);
        assert.ok(rel <= 1e-3, `step ${p.step}: page λmax ${mine}, CLI ${p.value} (relative difference ${rel})`);
      }
    } finally {
      store.close();
    }
    await page.close();
  });

  it("trains, pauses and resets; a settings change while training resets and trains on", async () => {
    const page = await open("?n=60&width=6&every=10&backend=wasm");
    await page.click("#train");
    await page.waitForFunction(() => Number(document.querySelector("#step-count")!.getAttribute("data-value")) >= 20);
    await page.click("#train");
    await page.waitForSelector('body[data-running="0"][data-idle="1"]');
    const paused = await value(page, "#step-count");
    await page.waitForTimeout(300);
    assert.equal(await value(page, "#step-count"), paused, "no steps while paused");
    await page.click("#reset");
    await page.waitForSelector('#step-count[data-value="0"]');
    assert.equal(await page.locator("#sharpness-log tbody tr").count(), 0);
    await page.click("#train");
    await page.waitForFunction(() => Number(document.querySelector("#step-count")!.getAttribute("data-value")) >= 5);
    await page.fill('[name="lr"]', "0.2");
    await page.press('[name="lr"]', "Enter");
    await page.waitForFunction(() => location.search.includes("lr=0.2"));
    // the new session (threshold 2/η = 10 at η = 0.2) measures at its step 0 and trains on
    await page.waitForSelector('tr[data-step="0"] td.threshold[data-value="10"]', { timeout: 60_000 });
    const thresholds = await page.$$eval("#sharpness-log td.threshold", (tds) =>
      tds.map((td) => td.getAttribute("data-value")),
    );
    assert.ok(
      thresholds.every((t) => t === "10"),
      `the old session's rows are gone: ${thresholds}`,
    );
    await page.waitForFunction(() => Number(document.querySelector("#step-count")!.getAttribute("data-value")) >= 10);
    assert.equal(await page.getAttribute("body", "data-running"), "1");
    await page.click("#train");
    await page.waitForSelector('body[data-running="0"]');
    await page.close();
  });

  it("stays responsive while the worker measures λmax; trains in the page without a worker (#noworker)", async () => {
    const page = await open("?n=1000&width=64&depth=4&every=1000&backend=wasm");
    await page.click("#step");
    // while the first (cold, compiling) measurement runs in the worker, the page answers timers promptly
    const latencies: number[] = await page.evaluate(async () => {
      const out: number[] = [];
      while (document.querySelector('tr[data-step="0"]') === null) {
        const t = performance.now();
        await new Promise((r) => setTimeout(r, 0));
        out.push(performance.now() - t);
      }
      return out;
    });
    const measureMs = await value(page, 'tr[data-step="0"] td.ms');
    const worst = Math.max(...latencies);
    assert.ok(worst < 250, `the page stalled ${worst} ms during a ${measureMs} ms measurement`);
    assert.ok(measureMs > 2 * worst, `the measurement (${measureMs} ms) was long enough to tell`);
    await page.close();

    const inPage = await open("?n=60&width=6&every=2&backend=wasm#noworker");
    assert.equal(await inPage.getAttribute("body", "data-engine"), "page");
    await stepTimes(inPage, 3);
    assert.ok((await value(inPage, 'tr[data-step="2"] td.lambda')) > 0);
    await inPage.close();
  });

  it("draws the decision boundary: both class colours over most of the canvas", async () => {
    const page = await open("?data=moons&n=100&opt=gd&lr=0.5&every=50&seed=1&backend=wasm");
    await stepTimes(page, 30);
    const counts = await page.evaluate(() => {
      const c = document.querySelector("#boundary") as HTMLCanvasElement;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let orange = 0;
      let blue = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] - d[i + 2] > 40) orange++;
        else if (d[i + 2] - d[i] > 40) blue++;
      }
      return { orange, blue, total: d.length / 4 };
    });
    assert.ok(counts.orange > 0.15 * counts.total, JSON.stringify(counts));
    assert.ok(counts.blue > 0.15 * counts.total, JSON.stringify(counts));
    await page.close();
  });

  it("restores the settings from the URL and writes changes back to it", async () => {
    const query =
      "data=spirals&n=120&noise=0.1&width=12&depth=3&act=relu&loss=ce&opt=sam&lr=0.2&batch=0&beta=0.9" +
      "&rho=0.1&p=0.1&mu=0.5&every=7&seed=5&backend=wasm";
    const page = await open(`?${query}`);
    assert.equal(new URL(page.url()).search, `?${query}`);
    for (const [name, v] of [
      ["data", "spirals"],
      ["n", "120"],
      ["width", "12"],
      ["depth", "3"],
      ["act", "relu"],
      ["opt", "sam"],
      ["lr", "0.2"],
      ["rho", "0.1"],
      ["every", "7"],
      ["seed", "5"],
    ]) {
      assert.equal(await page.inputValue(`[name="${name}"]`), v, name);
    }
    assert.equal(await page.isVisible('[name="rho"]'), true, "SAM's ρ is shown for SAM");
    assert.equal(await page.isVisible('[name="p"]'), false, "label noise p is hidden for SAM");
    await page.selectOption('[name="opt"]', "adam");
    await page.waitForFunction(() => location.search.includes("opt=adam"));
    await page.waitForSelector('body[data-ready="1"]');
    const link = page.url();
    await page.close();
    const again = await open(new URL(link).search);
    assert.equal(await again.inputValue('[name="opt"]'), "adam");
    assert.equal(await again.inputValue('[name="width"]'), "12");
    assert.equal(await again.inputValue('[name="data"]'), "spirals");
    await again.close();
  });

  it("replaces invalid URL values by their defaults, with a visible note", async () => {
    const page = await open("?lr=abc&data=rings&width=999&opt=adam");
    const notes = (await page.locator("#notes").textContent()) ?? "";
    assert.equal(await page.isVisible("#notes"), true);
    assert.match(notes, /lr: expected a number in \(0, 100\], got "abc"; using the default 0.5/);
    assert.match(
      notes,
      /data: expected one of moons, spirals, circles, xor, gaussianMixture, linearlySeparable, got "rings"/,
    );
    assert.match(notes, /width: expected an integer in \[1, 256\], got "999"/);
    assert.equal(await page.inputValue('[name="lr"]'), "0.5");
    assert.equal(await page.inputValue('[name="data"]'), "moons");
    assert.equal(await page.inputValue('[name="opt"]'), "adam", "the valid setting is kept");
    assert.match(new URL(page.url()).search, /lr=0\.5/, "the URL now holds the values in use");
    await page.close();
  });

  it("trains under sgdlab ui at /playground/ (its content security policy)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sgdlab-playground-ui-"));
    RunStore.open(dir).close();
    const ui = await createUiServer({ store: dir, webRoot });
    try {
      const address = await ui.app.listen({ port: 0, host: "127.0.0.1" });
      const page = await browser.newPage();
      page.on("pageerror", (e) => errors.push(e.message));
      const csp: string[] = [];
      page.on("console", (m) => void (/Content Security Policy/i.test(m.text()) && csp.push(m.text())));
      const res = await page.goto(`${address}/playground/?n=60&width=6&every=2&backend=wasm`);
      assert.match(res?.headers()["content-security-policy"] ?? "", /wasm-unsafe-eval/);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
      await stepTimes(page, 3);
      const lambda = await value(page, 'tr[data-step="2"] td.lambda');
      assert.ok(Number.isFinite(lambda) && lambda > 0, `λmax at step 2 is ${lambda}`);
      assert.deepEqual(csp, [], "no content-security-policy violations");
      assert.equal(await page.getAttribute("body", "data-engine"), "worker", "the policy lets the worker start");
      await page.close();
    } finally {
      await ui.close();
    }
  });

  it("trains on WebGPU where Chromium offers an adapter (SwiftShader), else falls back to Wasm with a note", async () => {
    const query = "?data=moons&n=100&width=8&depth=2&act=tanh&opt=gd&lr=0.5&every=5&seed=3";
    const wasm = await open(`${query}&backend=wasm`);
    await stepTimes(wasm, 6);
    const expected = await value(wasm, 'tr[data-step="5"] td.lambda');
    await wasm.close();
    // Chromium's software Vulkan (SwiftShader) gives headless Chromium a WebGPU adapter without a GPU
    const gpuBrowser = await launchBrowser({
      args: [
        "--enable-unsafe-webgpu",
        "--enable-features=Vulkan",
        "--use-vulkan=swiftshader",
        "--use-webgpu-adapter=swiftshader",
      ],
    });
    try {
      const page = await gpuBrowser.newPage();
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${base}${query}&backend=webgpu`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
      const adapter = await page.evaluate(async () => {
        const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
        return gpu ? (await gpu.requestAdapter()) !== null : false;
      });
      const device = await page.getAttribute("body", "data-device");
      if (!adapter) {
        assert.equal(device, "wasm");
        assert.match((await page.textContent("#notes")) ?? "", /no WebGPU adapter; using Wasm/);
      } else {
        assert.equal(device, "webgpu", (await page.textContent("#notes")) ?? "");
      }
      await stepTimes(page, 6);
      const got = await value(page, 'tr[data-step="5"] td.lambda');
      // float32 kernels of another backend: the same 1e-3 relative criterion as against the CLI
      assert.ok(Math.abs(got - expected) <= 1e-3 * expected, `${device}: λmax ${got}, Wasm ${expected}`);
      await page.close();
    } finally {
      await gpuBrowser.close();
    }
  });

  it("trains a few steps with every optimizer", async () => {
    for (const opt of OPTIMIZERS) {
      const page = await open(`?opt=${opt}&n=60&width=6&lr=0.1&batch=16&every=2&backend=wasm`);
      await stepTimes(page, 3);
      assert.notEqual(
        await page.getAttribute("#notes", "class"),
        "error",
        `${opt}: ${await page.textContent("#notes")}`,
      );
      for (const step of [0, 2]) {
        const lambda = await value(page, `tr[data-step="${step}"] td.lambda`);
        assert.ok(Number.isFinite(lambda) && lambda > 0, `${opt}: λmax at step ${step} is ${lambda}`);
      }
      await page.close();
    }
    assert.deepEqual(errors, [], "no uncaught errors in the pages");
  });
});
