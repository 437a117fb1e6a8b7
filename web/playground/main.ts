/**
 * The playground page: settings (in the URL) → an experiment spec → a `Session` training in the page
 * in short time slices (the page stays responsive), with live charts of the loss and of λmax against
 * the optimizer's stability threshold, and the decision boundary.
 */
import { boundingBox, drawBoundary, drawLineChart, gridPoints, type Box } from "./charts.js";
import { initDevice, useWasm, type PageDevice } from "./device.js";
import { parseSpec, Session, type Evaluation, type Sharpness } from "./session.js";
import { DEFAULT_NOISE, DEFAULTS, formatState, parseField, parseState, toSpec, type PlaygroundState } from "./state.js";

/** Decision-boundary grid resolution (G × G model evaluations per redraw). */
const GRID = 64;
/** Milliseconds of training per slice before the page redraws and yields. */
const SLICE_MS = 40;

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>("#settings");
const notesEl = $<HTMLDivElement>("#notes");

let state: PlaygroundState;
let device: PageDevice = "wasm";
let session: Session | null = null;
let running = false;
/** Bumped by every start and rebuild: a queued slice of an older loop or session does nothing. */
let generation = 0;
let box: Box = { x0: -1, x1: 1, y0: -1, y1: 1 };
let grid = gridPoints(box, GRID);
let probs: Float64Array | null = null;
let batchLoss: [number, number][] = [];
let evals: Evaluation[] = [];
let sharpness: Sharpness[] = [];
const pageNotes: string[] = [];

// ---- one queue: every action that touches the session runs to completion before the next ----
let queue: Promise<void> = Promise.resolve();
function enqueue(fn: () => Promise<void>): Promise<void> {
  queue = queue.then(fn).catch((e: unknown) => {
    running = false;
    showError(e);
  });
  return queue;
}

function showNotes(): void {
  notesEl.hidden = pageNotes.length === 0;
  notesEl.className = "";
  notesEl.textContent = pageNotes.join("\n");
}

function showError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  notesEl.hidden = false;
  notesEl.className = "error";
  notesEl.textContent = msg;
  updateButtons();
}

function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(digits - 1) : v.toPrecision(digits);
}

function setOutput(id: string, v: number | null, text = fmt(v)): void {
  const el = $<HTMLOutputElement>(`#${id}`);
  el.textContent = text;
  el.dataset.value = v === null ? "" : String(v);
}

// ---- settings ↔ form ↔ URL ----
function fillForm(): void {
  for (const [k, v] of Object.entries(state)) {
    const el = form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement | null;
    if (el) el.value = String(v);
  }
  $("#noise-label").textContent = state.data === "linearlySeparable" ? "margin γ" : "noise σ";
  form.querySelectorAll<HTMLLabelElement>("label[data-for]").forEach((label) => {
    const f = label.dataset.for!;
    label.hidden = f === "batch" ? state.opt === "gd" : f !== state.opt;
  });
}

function writeUrl(): void {
  history.replaceState(null, "", `${location.pathname}?${formatState(state)}${location.hash}`);
}

form.addEventListener("change", (ev) => {
  const el = ev.target as HTMLInputElement | HTMLSelectElement;
  const field = el.name as keyof PlaygroundState;
  if (!(field in DEFAULTS)) return;
  const r = parseField(field, el.value);
  if (!r.ok) {
    showError(`${r.error} (kept ${state[field]})`);
    el.value = String(state[field]);
    return;
  }
  const next = { ...state, [field]: r.value } as PlaygroundState;
  if (field === "data") next.noise = DEFAULT_NOISE[next.data];
  state = next;
  pageNotes.length = 0;
  showNotes();
  fillForm();
  writeUrl();
  const wasRunning = running;
  void enqueue(async () => {
    if (field === "backend") await selectDevice();
    await rebuild();
    if (wasRunning) start();
  });
});

// ---- session lifecycle ----
async function selectDevice(): Promise<void> {
  const d = await initDevice(state.backend);
  device = d.device;
  if (d.note) pageNotes.push(d.note);
  showNotes();
  $("#device").textContent = device === "webgpu" ? "WebGPU" : "Wasm";
  document.body.dataset.device = device;
}

async function rebuild(): Promise<void> {
  running = false;
  generation++;
  session?.dispose();
  session = null;
  batchLoss = [];
  evals = [];
  sharpness = [];
  probs = null;
  $("#sharpness-log tbody").replaceChildren();
  const spec = parseSpec(toSpec(state));
  const start = async () => {
    session = new Session(spec);
    box = boundingBox(session.data.train.x);
    grid = gridPoints(box, GRID);
    await refresh();
  };
  try {
    await start();
  } catch (e) {
    (session as Session | null)?.dispose();
    session = null;
    if (device !== "webgpu") throw e;
    // jax-js's WebGPU backend lacks something this model needs: the same session on Wasm
    pageNotes.push(`WebGPU failed (${e instanceof Error ? e.message : String(e)}); using Wasm`);
    showNotes();
    await useWasm();
    device = "wasm";
    $("#device").textContent = "Wasm";
    document.body.dataset.device = device;
    await start();
  }
  showSpec();
  updateButtons();
  document.body.dataset.ready = "1";
}

function showSpec(): void {
  const steps = Math.max(1, session?.step ?? 1);
  $("#spec").textContent = JSON.stringify(toSpec(state, steps), null, 2);
}

/** One step the trainer's way: the hessian probe when due (before the update), then the update. */
async function advance(): Promise<void> {
  const s = session!;
  if (s.sharpnessDue) {
    const m = await s.measureSharpness();
    sharpness.push(m);
    addSharpnessRow(m);
  }
  const t = s.step;
  const loss = await s.trainStep();
  batchLoss.push([t, loss]);
  if (!Number.isFinite(loss)) {
    running = false;
    pageNotes.push(`diverged at step ${t}: the batch loss is ${loss}`);
    showNotes();
  }
}

function addSharpnessRow(m: Sharpness): void {
  const tr = document.createElement("tr");
  tr.dataset.step = String(m.step);
  const cells: [string, number | null][] = [
    ["step", m.step],
    ["lambda", m.lambdaMax],
    ["threshold", m.threshold],
    ["residual", m.residual],
    ["hvps", m.hvps],
    ["ms", Math.round(m.ms)],
  ];
  for (const [cls, v] of cells) {
    const td = document.createElement("td");
    td.className = cls;
    td.dataset.value = v === null ? "" : String(v);
    td.textContent = cls === "step" || cls === "hvps" || cls === "ms" ? String(v) : fmt(v);
    tr.appendChild(td);
  }
  const body = $("#sharpness-log tbody");
  body.insertBefore(tr, body.firstChild);
}

/** Evaluation, boundary and charts at the current parameters. */
async function refresh(): Promise<void> {
  const s = session;
  if (!s) return;
  const e = await s.evaluate();
  if (evals.length === 0 || evals[evals.length - 1].step !== e.step) evals.push(e);
  probs = await s.predict(grid);
  setOutput("step-count", s.step, String(s.step));
  setOutput("train-loss", e.trainLoss);
  setOutput("test-loss", e.testLoss);
  setOutput("accuracy", e.trainAccuracy, `${fmt(100 * e.trainAccuracy, 3)}% / ${fmt(100 * e.testAccuracy, 3)}%`);
  const last = sharpness[sharpness.length - 1];
  setOutput("lambda-max", last?.lambdaMax ?? null);
  setOutput("threshold", last?.threshold ?? null);
  draw();
}

function draw(): void {
  const s = session;
  if (!s) return;
  const train = s.data.train;
  const test = s.data.test;
  drawBoundary(
    $<HTMLCanvasElement>("#boundary"),
    box,
    GRID,
    probs,
    train.numClasses,
    { x: train.x, labels: train.labels! },
    { x: test.x, labels: test.labels! },
  );
  drawLineChart(
    $<HTMLCanvasElement>("#loss-chart"),
    [
      { name: "batch loss", color: "#9ab", points: batchLoss },
      { name: "train", color: "#0877bd", points: evals.map((e) => [e.step, e.trainLoss]) },
      { name: "test", color: "#f59322", points: evals.map((e) => [e.step, e.testLoss]) },
    ],
    { title: "loss by step", logY: true },
  );
  drawLineChart(
    $<HTMLCanvasElement>("#sharpness-chart"),
    [
      { name: "λmax", color: "#c0392b", points: sharpness.map((m) => [m.step, m.lambdaMax]), markers: true },
      {
        name: "threshold (2/η for GD)",
        color: "#444",
        dash: [5, 4],
        points: sharpness.filter((m) => m.threshold !== null).map((m) => [m.step, m.threshold!]),
      },
    ],
    { title: "sharpness by step" },
  );
}

// ---- controls ----
function updateButtons(): void {
  $("#train").textContent = running ? "❚❚ pause" : "▶ train";
  document.body.dataset.running = running ? "1" : "0";
}

/** One slice of training, then a redraw; re-queues itself while running the same session. */
async function tick(gen: number): Promise<void> {
  if (!running || !session || gen !== generation) return;
  const t0 = performance.now();
  while (running && performance.now() - t0 < SLICE_MS) await advance();
  await refresh();
  showSpec();
  if (running) setTimeout(() => void enqueue(() => tick(gen)), 0);
  else updateButtons();
}

function start(): void {
  running = true;
  updateButtons();
  const gen = ++generation;
  void enqueue(() => tick(gen));
}

$("#train").addEventListener("click", () => {
  if (running) {
    running = false;
    updateButtons();
  } else start();
});
$("#step").addEventListener("click", () => {
  running = false;
  updateButtons();
  void enqueue(async () => {
    if (!session) return;
    await advance();
    await refresh();
    showSpec();
  });
});
$("#reset").addEventListener("click", () => void enqueue(rebuild));
$("#copy-link").addEventListener("click", () => {
  void navigator.clipboard?.writeText(location.href).catch(() => undefined);
  const others = pageNotes.filter((n) => !n.startsWith("link: "));
  pageNotes.splice(0, pageNotes.length, ...others, `link: ${location.href}`);
  showNotes();
});
window.addEventListener("resize", () => draw());

// ---- start ----
{
  const parsed = parseState(location.search);
  state = parsed.state;
  pageNotes.push(...parsed.notes.map((n) => `URL ${n}`));
  showNotes();
  fillForm();
  writeUrl();
  void enqueue(async () => {
    await selectDevice();
    await rebuild();
  });
}
