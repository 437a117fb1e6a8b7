/**
 * The playground page: settings (in the URL) → an experiment spec → an `Engine` training it in a Web
 * Worker (in the page where no worker starts) in short time slices, with live charts of the loss and
 * of λmax against the optimizer's stability threshold, and the decision boundary.
 */
import { drawBoundary, drawLineChart, type Box } from "./charts.js";
import type { PageDevice } from "./device.js";
import { GRID, pageClient, workerClient, type EngineClient, type Frame, type Reply, type Request } from "./engine.js";
import type { Evaluation, Sharpness } from "./session.js";
import { DEFAULT_NOISE, DEFAULTS, formatState, parseField, parseState, toSpec, type PlaygroundState } from "./state.js";

/** Milliseconds of training per slice before the page redraws. */
const SLICE_MS = 40;

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

/** What the page draws of the current session. */
interface View {
  id: number;
  box: Box;
  classes: number;
  train: { x: Float64Array; labels: Int32Array };
  test: { x: Float64Array; labels: Int32Array };
  step: number;
  probs: Float64Array | null;
  batchLoss: [number, number][];
  evals: Evaluation[];
  sharpness: Sharpness[];
}

/** Starts the page; `bundleUrl` (this bundle's `import.meta.url`) starts the training worker. */
export function startPage(bundleUrl: string): void {
  const form = $<HTMLFormElement>("#settings");
  const notesEl = $<HTMLDivElement>("#notes");

  let state: PlaygroundState;
  let client: EngineClient;
  let device: PageDevice = "wasm";
  let view: View | null = null;
  let running = false;
  /** Bumped by every start and rebuild: a queued slice of an older loop or session does nothing. */
  let generation = 0;
  const pageNotes: string[] = [];

  // ---- one queue: every action that talks to the engine runs to completion before the next ----
  let queue: Promise<void> = Promise.resolve();
  let pending = 0;
  function enqueue(fn: () => Promise<void>): Promise<void> {
    pending++;
    document.body.dataset.idle = "0";
    queue = queue
      .then(fn)
      .catch((e: unknown) => {
        running = false;
        showError(e);
      })
      .finally(() => {
        // idle: nothing queued or in flight (a paused loop has delivered its last slice)
        if (--pending === 0) document.body.dataset.idle = "1";
      });
    return queue;
  }

  async function call<T extends Reply["type"]>(req: Request, want: T): Promise<Extract<Reply, { type: T }>> {
    const r = await client.call(req);
    if (r.type === "error") throw new Error(r.message);
    if (r.type !== want) throw new Error(`engine: expected a ${want} reply, got ${r.type}`);
    return r as Extract<Reply, { type: T }>;
  }

  function showNotes(): void {
    notesEl.hidden = pageNotes.length === 0;
    notesEl.className = "";
    notesEl.textContent = pageNotes.join("\n");
  }

  function showError(e: unknown): void {
    notesEl.hidden = false;
    notesEl.className = "error";
    notesEl.textContent = e instanceof Error ? e.message : String(e);
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

  // ---- engine and session ----
  function showDevice(): void {
    $("#device").textContent =
      `${device === "webgpu" ? "WebGPU" : "Wasm"}${client.where === "worker" ? ", in a Web Worker" : ""}`;
    document.body.dataset.device = device;
    document.body.dataset.engine = client.where;
  }

  async function selectDevice(): Promise<void> {
    const d = await call({ type: "device", backend: state.backend }, "device");
    device = d.device;
    if (d.note) pageNotes.push(d.note);
    showNotes();
    showDevice();
  }

  async function rebuild(): Promise<void> {
    running = false;
    const id = ++generation;
    const r = await call({ type: "build", id, spec: toSpec(state) }, "built");
    device = r.device;
    if (r.note) {
      pageNotes.push(r.note);
      showNotes();
    }
    showDevice();
    view = {
      id,
      box: r.box,
      classes: r.classes,
      train: r.train,
      test: r.test,
      step: 0,
      probs: null,
      batchLoss: [],
      evals: [],
      sharpness: [],
    };
    $("#sharpness-log tbody").replaceChildren();
    apply(r.frame);
    updateButtons();
    document.body.dataset.ready = "1";
  }

  function showSpec(): void {
    $("#spec").textContent = JSON.stringify(toSpec(state, Math.max(1, view?.step ?? 1)), null, 2);
  }

  /** Takes a frame from the engine into the view, the readouts and the charts. */
  function apply(f: Frame): void {
    const v = view;
    if (v === null || f.id !== v.id) return;
    v.step = f.step;
    v.probs = f.probs;
    v.batchLoss.push(...f.losses);
    for (const m of f.sharpness) {
      v.sharpness.push(m);
      addSharpnessRow(m);
    }
    const e = f.evaluation;
    if (v.evals.length === 0 || v.evals[v.evals.length - 1].step !== e.step) v.evals.push(e);
    if (f.diverged) {
      running = false;
      pageNotes.push(f.diverged);
      showNotes();
    }
    setOutput("step-count", f.step, String(f.step));
    setOutput("train-loss", e.trainLoss);
    setOutput("test-loss", e.testLoss);
    setOutput("accuracy", e.trainAccuracy, `${fmt(100 * e.trainAccuracy, 3)}% / ${fmt(100 * e.testAccuracy, 3)}%`);
    const last = v.sharpness[v.sharpness.length - 1];
    setOutput("lambda-max", last?.lambdaMax ?? null);
    setOutput("threshold", last?.threshold ?? null);
    showSpec();
    draw();
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

  function draw(): void {
    const v = view;
    if (v === null) return;
    drawBoundary($<HTMLCanvasElement>("#boundary"), v.box, GRID, v.probs, v.classes, v.train, v.test);
    drawLineChart(
      $<HTMLCanvasElement>("#loss-chart"),
      [
        { name: "batch loss", color: "#9ab", points: v.batchLoss },
        { name: "train", color: "#0877bd", points: v.evals.map((e) => [e.step, e.trainLoss]) },
        { name: "test", color: "#f59322", points: v.evals.map((e) => [e.step, e.testLoss]) },
      ],
      { title: "loss by step", logY: true },
    );
    drawLineChart(
      $<HTMLCanvasElement>("#sharpness-chart"),
      [
        { name: "λmax", color: "#c0392b", points: v.sharpness.map((m) => [m.step, m.lambdaMax]), markers: true },
        {
          name: "threshold (2/η for GD)",
          color: "#444",
          dash: [5, 4],
          points: v.sharpness.filter((m) => m.threshold !== null).map((m) => [m.step, m.threshold!]),
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
    if (!running || view === null || gen !== generation) return;
    apply((await call({ type: "run", id: view.id, mode: "slice", sliceMs: SLICE_MS }, "frame")).frame);
    if (running && gen === generation) setTimeout(() => void enqueue(() => tick(gen)), 0);
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
      if (view === null) return;
      apply((await call({ type: "run", id: view.id, mode: "step", sliceMs: 0 }, "frame")).frame);
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

  // ---- start: the settings from the URL, the engine in a worker (in the page if none starts) ----
  const parsed = parseState(location.search);
  state = parsed.state;
  pageNotes.push(...parsed.notes.map((n) => `URL ${n}`));
  showNotes();
  fillForm();
  writeUrl();
  const inPage = new URLSearchParams(location.hash.slice(1)).has("noworker") || typeof Worker === "undefined";
  client = inPage ? pageClient() : workerClient(bundleUrl);
  void enqueue(async () => {
    try {
      await selectDevice();
    } catch (e) {
      if (client.where !== "worker") throw e;
      pageNotes.push(`${e instanceof Error ? e.message : String(e)}; training in the page instead`);
      client = pageClient();
      await selectDevice();
    }
    await rebuild();
  });
}
