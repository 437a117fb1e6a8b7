// `sgdlab ui` over HTTP without a browser: the JSON API on a store with real trained runs, validation
// of every parameter (400 naming it), 404s, path traversal refused, content types of downloads, the
// Host check, server-side downsampling, change notices for runs written by another connection, and
// the command's flags (one-line errors, exit 2).
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cli, leaksInternals, tinySpec, workdir } from "./clikit.js";
import { RunStore } from "../src/store/index.js";
import { createUiServer, downsampledMetrics, specDifferences, type UiServer } from "../src/ui/index.js";
import { main } from "../src/cli/main.js";

const dir = workdir({ ...tinySpec, steps: 30, evalEvery: 10, checkpointEvery: 10 });
const storeDir = join(dir, "store");
const web = mkdtempSync(join(tmpdir(), "sgdlab-ui-web-"));
let server: UiServer;
let base = "";
let runA = "";
let runB = "";
let longRun = "";

/** A raw GET (no URL normalization by the client), with the headers given. */
function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: "GET", headers, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers["content-type"] ?? ""),
          headers: res.headers,
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}
const json = async (path: string) => {
  const r = await get(path);
  return { status: r.status, body: JSON.parse(r.body.toString()) as Record<string, unknown> & { error?: string } };
};

before(async () => {
  for (const args of [[], ["--set", "optimizer.lr=0.5", "--set", "name=tiny-fast"]]) {
    const r = await cli(["run", join(dir, "spec.json"), "--store", storeDir, "--quiet", ...args]);
    assert.equal(r.code, 0, r.stderr);
  }
  const w = RunStore.open(storeDir);
  [runB, runA] = w.listRuns().map((r) => r.id);
  // a long series (written straight through the store API) for downsampling: 20 000 steps with a
  // NaN stretch, a spike and a dip
  const long = w.createRun({ name: "long", spec: { name: "long", steps: 20000 } });
  longRun = long.id;
  const pts = [];
  for (let s = 0; s < 20000; s++) {
    let v = Math.sin(s / 500);
    if (s === 7777) v = 50;
    if (s === 12345) v = -40;
    if (s >= 15000 && s < 15010) v = NaN;
    pts.push({ step: s, key: "train/batchLoss", value: v });
  }
  w.appendMetrics(long.id, pts);
  w.putArtifact(long.id, "notes/json", 3, { a: 1, b: [1, 2] });
  w.putArtifact(long.id, "raw/bytes", 4, new Uint8Array([1, 2, 3]));
  w.finishRun(long.id, "completed", { summary: { step: 19999, "train/loss": 0.5, "test/loss": NaN } });
  w.close();

  mkdirSync(join(web, "dashboard"));
  writeFileSync(join(web, "dashboard", "index.html"), "<!DOCTYPE html><title>t</title>");
  writeFileSync(join(web, "dashboard", "main.js"), "export {};");
  server = await createUiServer({ store: storeDir, webRoot: web, pollMs: 50 });
  base = (await server.app.listen({ port: 0, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");
});
after(async () => {
  await server?.close();
});

test("the runs table pages, sorts, searches and filters in the store", async () => {
  const all = await json("/api/runs");
  assert.equal(all.status, 200);
  assert.equal(all.body.total, 3);
  const runs = all.body.runs as {
    id: string;
    name: string;
    status: string;
    steps: number;
    summary: Record<string, number>;
  }[];
  assert.deepEqual(
    runs.map((r) => r.name),
    ["long", "tiny-fast", "tiny"],
  );
  assert.equal(runs[1].steps, 30);
  assert.equal(runs[0].summary["test/loss"], "NaN"); // non-finite values survive as in export --format json
  assert.equal(typeof runs[1].summary["test/accuracy"], "number");
  const byName = await json("/api/runs?sort=name&order=asc&limit=2&offset=1");
  assert.deepEqual(
    (byName.body.runs as { name: string }[]).map((r) => r.name),
    ["tiny", "tiny-fast"],
  );
  assert.equal(byName.body.total, 3);
  const search = await json("/api/runs?q=fast");
  assert.deepEqual(
    (search.body.runs as { id: string }[]).map((r) => r.id),
    [runB],
  );
  // LIKE wildcards in the search text are literal
  assert.equal((await json("/api/runs?q=%25")).body.total, 0);
  const byLoss = await json(`/api/runs?sort=metric&key=${encodeURIComponent("train/loss")}&order=asc`);
  const losses = (byLoss.body.runs as { summary: Record<string, number> }[]).map((r) => r.summary["train/loss"]);
  assert.deepEqual(
    losses,
    [...losses].sort((a, b) => a - b),
  );
  assert.equal((await json("/api/runs?status=completed")).body.total, 3);
  assert.equal((await json("/api/runs?status=running")).body.total, 0);
});

test("a run's details, figures (the report's), exports and downloads come with their content types", async () => {
  const d = await json(`/api/runs/${runA}`);
  assert.equal(d.status, 200);
  const detail = d.body as {
    run: { id: string; spec: { optimizer: { lr: number } } };
    checkpoints: { step: number; bytes: number; path: string }[];
    keys: { key: string; points: number }[];
  };
  assert.equal(detail.run.id, runA);
  assert.equal(detail.run.spec.optimizer.lr, 0.2);
  assert.deepEqual(
    detail.checkpoints.map((c) => c.step),
    [10, 20, 30],
  );

  const f = await json(`/api/runs/${runA}/figures`);
  const figs = f.body.figures as { id: string; spec: { data: { values: { series?: string }[] } } }[];
  assert.ok(figs.some((x) => x.id === "loss"));
  // nothing downsampled in a 30-step run: every stored batch-loss point is drawn
  const loss = figs.find((x) => x.id === "loss")!;
  const batch = loss.spec.data.values.filter((r) => r.series === "train (mini-batch)").length;
  assert.equal(batch, detail.keys.find((k) => k.key === "train/batchLoss")!.points);

  const csv = await get(`/api/runs/${runA}/export.csv`);
  assert.equal(csv.status, 200);
  assert.equal(csv.type, "text/csv; charset=utf-8");
  assert.match(String(csv.headers["content-disposition"]), new RegExp(`attachment; filename="${runA}.csv"`));
  assert.match(csv.body.toString(), /^step,/);
  const js = await get(`/api/runs/${runA}/export.json`);
  assert.equal(js.type, "application/json; charset=utf-8");
  assert.equal((JSON.parse(js.body.toString()) as { run: { id: string } }).run.id, runA);

  const ck = await get(`/api/runs/${runA}/checkpoints/20/checkpoint.ckpt`);
  assert.equal(ck.status, 200);
  assert.equal(ck.type, "application/octet-stream");
  const rec = RunStore.open(storeDir, { readonly: true });
  const file = join(storeDir, rec.getCheckpoint(runA, 20)!.path);
  rec.close();
  assert.deepEqual(ck.body, readFileSync(file));

  const st = await get(`/api/runs/${runA}/checkpoints/30/weights.safetensors`);
  assert.equal(st.status, 200);
  assert.equal(st.type, "application/octet-stream");
  const headerLen = Number(st.body.readBigUInt64LE(0));
  const header = JSON.parse(st.body.subarray(8, 8 + headerLen).toString()) as Record<string, { shape: number[] }>;
  assert.deepEqual(header["layers.0.W"].shape, [2, 8]);

  const a1 = await get(`/api/runs/${longRun}/artifact?name=notes%2Fjson`);
  assert.equal(a1.type, "application/json; charset=utf-8");
  assert.deepEqual(JSON.parse(a1.body.toString()), { a: 1, b: [1, 2] });
  const a2 = await get(`/api/runs/${longRun}/artifact?name=raw%2Fbytes&step=4`);
  assert.equal(a2.type, "application/octet-stream");
  assert.deepEqual([...a2.body], [1, 2, 3]);
  for (const r of [csv, js, ck, st, a1, a2]) assert.equal(r.headers["x-content-type-options"], "nosniff");
});

test("long series are downsampled on the server: min and max per bucket, first, last and NaN kept", async () => {
  const f = await json(`/api/runs/${longRun}/figures?points=200`);
  const series = f.body.series as { key: string; stored: number; sent: number }[];
  const s = series.find((x) => x.key === "train/batchLoss")!;
  assert.equal(s.stored, 20000);
  assert.ok(s.sent <= 200 + 2 + 100, `sent ${s.sent}`);
  assert.match((f.body.notes as string[]).join(" "), /train\/batchLoss \d+ of 20000 points/);

  const { dashboard } = server;
  const d = downsampledMetrics(dashboard.db, longRun, 200);
  const pts = d.points.filter((p) => p.key === "train/batchLoss");
  const steps = pts.map((p) => p.step);
  assert.deepEqual(
    steps,
    [...steps].sort((a, b) => a - b),
  );
  assert.equal(steps[0], 0);
  assert.equal(steps.at(-1), 19999);
  assert.ok(
    pts.some((p) => p.step === 7777 && p.value === 50),
    "the spike",
  );
  assert.ok(
    pts.some((p) => p.step === 12345 && p.value === -40),
    "the dip",
  );
  assert.ok(
    pts.some((p) => Number.isNaN(p.value) && p.step >= 15000 && p.step < 15010),
    "a NaN marker",
  );
  // each bucket's extremes: the max of every 200-step window is within the kept points' envelope
  const width = Math.ceil(20000 / 100);
  for (let b = 0; b < 100; b++) {
    const inBucket = pts.filter((p) => Math.floor(p.step / width) === b && p.finite).map((p) => p.value);
    const truth: number[] = [];
    for (let t = b * width; t < (b + 1) * width && t < 20000; t++)
      if (!(t >= 15000 && t < 15010)) truth.push(t === 7777 ? 50 : t === 12345 ? -40 : Math.sin(t / 500));
    assert.ok(Math.abs(Math.max(...inBucket) - Math.max(...truth)) < 1e-6, `bucket ${b} max`);
    assert.ok(Math.abs(Math.min(...inBucket) - Math.min(...truth)) < 1e-6, `bucket ${b} min`);
  }
  // a short series is sent whole
  const whole = downsampledMetrics(dashboard.db, runA, 200);
  const stored = RunStore.open(storeDir, { readonly: true });
  assert.equal(whole.points.length, stored.getMetrics(runA).length);
  stored.close();
});

test("compare overlays one metric of several runs and lists the spec fields that differ", async () => {
  const c = await json(`/api/compare?ids=${runA},${runB}`);
  assert.equal(c.status, 200);
  assert.equal(c.body.key, "train/loss");
  const fig = c.body.figure as { spec: { data: { values: { series: string }[] } } };
  assert.deepEqual(new Set(fig.spec.data.values.map((r) => r.series)), new Set(["tiny", "tiny-fast"]));
  assert.deepEqual(c.body.differences, [
    { path: "name", values: ['"tiny"', '"tiny-fast"'] },
    { path: "optimizer.lr", values: ["0.2", "0.5"] },
  ]);
  assert.deepEqual(specDifferences([{ a: { b: 1 } }, { a: { b: 1, c: [2] } }]), [
    { path: "a.c", values: [undefined, "[2]"] },
  ]);
  const missing = await json(`/api/compare?ids=${runA},${longRun}&key=test%2Faccuracy`);
  assert.equal(missing.status, 400);
  assert.match(missing.body.error!, /has no metric test\/accuracy/);
});

test("a store whose sweeps never ran on Redis has no queues to show (bullmq is not even loaded)", async () => {
  const q = await json("/api/queues");
  assert.equal(q.status, 200);
  assert.deepEqual(q.body, { queue: [], workers: [], rejected: [], unreachable: [] });
});

test("every parameter is validated: 400 naming it, 404 for what does not exist, traversal refused", async () => {
  const cases: [string, number, RegExp][] = [
    ["/api/runs/..%2F..%2Fetc%2Fpasswd", 400, /params\/id/],
    ["/api/runs/nope", 404, /no run nope/],
    [`/api/runs/${runA}/checkpoints/abc/checkpoint.ckpt`, 400, /params\/step must be integer/],
    [`/api/runs/${runA}/checkpoints/-1/checkpoint.ckpt`, 400, /params\/step/],
    [`/api/runs/${runA}/checkpoints/7/checkpoint.ckpt`, 404, /has no checkpoint at step 7/],
    [`/api/runs/${runA}/figures?points=1`, 400, /querystring\/points/],
    ["/api/runs?limit=100000", 400, /querystring\/limit/],
    ["/api/runs?status=zombie", 400, /querystring\/status/],
    ["/api/runs?sort=metric", 400, /sort=metric needs key/],
    ["/api/runs?sort=id;DROP", 400, /querystring\/sort/],
    [`/api/runs/${runA}/artifact?name=..%2F..%2Fetc`, 400, /querystring\/name/],
    [`/api/runs/${runA}/artifact?name=nothing`, 404, /has no artifact nothing/],
    ["/api/compare?ids=a,,b", 400, /querystring\/ids/],
    ["/api/sweeps/nope", 404, /no sweep "nope"/],
    ["/api/reproductions/nope", 404, /no reproduction nope/],
    ["/api/nothing", 404, /no API route/],
  ];
  for (const [path, status, message] of cases) {
    const raw = await get(path);
    assert.equal(raw.type, "application/json; charset=utf-8", path);
    const r = { status: raw.status, body: JSON.parse(raw.body.toString()) as { error?: string } };
    assert.equal(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error ?? "", message, path);
    assert.ok(!leaksInternals(r.body.error ?? ""), path);
  }
  for (const path of [
    "/../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "/dashboard/../../x",
  ]) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(r.body.toString(), /root:/);
  }
  const page = await get("/");
  assert.equal(page.status, 200);
  assert.equal(page.type, "text/html; charset=utf-8");
  assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);
  assert.equal((await get("/main.js")).type, "text/javascript; charset=utf-8");
  const pg = await get("/playground/");
  assert.equal(pg.status, 404);
  assert.match(pg.body.toString(), /npm run build:web/);
  // DNS rebinding: a loopback server answers only for loopback host names
  assert.equal((await get("/api/info", { host: "evil.example:80" })).status, 403);
  assert.equal((await get("/api/info", { host: "localhost:1234" })).status, 200);
});

test("a run written by another connection is announced on /api/live and listed", async () => {
  const events: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const req = request(`${base}/api/live`, (res) => {
      assert.equal(res.headers["content-type"], "text/event-stream; charset=utf-8");
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        events.push(chunk);
        if (events.join("").includes("event: change")) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on("error", (e) => (events.join("").includes("event: change") ? resolve() : reject(e)));
    req.end();
  });
  await new Promise((r) => setTimeout(r, 200));
  const w = RunStore.open(storeDir);
  const fresh = w.createRun({ name: "fresh", spec: null });
  w.close();
  await done;
  const change = /event: change\ndata: (.*)\n/.exec(events.join(""))![1];
  assert.ok((JSON.parse(change) as { runs: string[] }).runs.includes(fresh.id));
  const listed = await json("/api/runs?q=fresh");
  assert.equal((listed.body.runs as { id: string; status: string }[])[0].id, fresh.id);
});

test("sgdlab ui: bad flags and a missing store are one-line errors (exit 2); it serves and stops on abort", async () => {
  for (const [args, message] of [
    [["--port", "abc"], /^sgdlab: ui: --port must be an integer from 0 to 65535, got "abc"\n$/],
    [["--port", "70000"], /--port must be an integer from 0 to 65535/],
    [["--store", join(dir, "absent")], /^sgdlab: no run store in .*absent/],
    [["extra"], /unexpected argument "extra"/],
    [["--bogus"], /^sgdlab: ui: Unknown option '--bogus'/],
    [["--host", ""], /--host must be an address/],
  ] as [string[], RegExp][]) {
    const r = await cli(["ui", "--store", storeDir, ...args]);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.split("\n").length, 2, r.stderr);
  }
  // serve on a free port, then stop as Ctrl-C would
  const stop = new AbortController();
  let out = "";
  let err = "";
  let url = "";
  const started = new Promise<void>((resolve) => {
    void main(["ui", "--store", storeDir, "--port", "0", "--host", "0.0.0.0"], {
      out: (s) => {
        out += s;
        const m = /at (http:\/\/\S+?)\/ /.exec(out);
        if (m) {
          url = m[1];
          resolve();
        }
      },
      err: (s) => void (err += s),
      signal: stop.signal,
    }).then((code) => (out += `exit ${code}`));
  });
  await started;
  assert.match(err, /warning: ui: listening on 0\.0\.0\.0, not on a loopback address/);
  const port = new URL(url).port;
  // the port is taken now: a second server says so in one line
  const busy = await cli(["ui", "--store", storeDir, "--port", port, "--host", "0.0.0.0"]);
  assert.equal(busy.code, 2);
  assert.match(busy.stderr, new RegExp(`port ${port} on 0.0.0.0 is in use`));
  const info = await fetch(`http://127.0.0.1:${port}/api/info`, { headers: { host: "anything.example" } });
  assert.equal(info.status, 200); // not loopback-only: any Host is answered
  stop.abort();
  for (let i = 0; i < 100 && !out.includes("exit"); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(out, /sgdlab ui: stopped\nexit 0/);
});
