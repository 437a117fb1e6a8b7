// The sgdlab dashboard: a single page over `sgdlab ui`'s JSON API, routed by the URL's hash
// (#/ runs, #/run/ID, #/compare/ID,ID…, #/sweeps, #/sweep/NAME, #/reproductions, #/reproduction/ID).
// Figures come from the server as the report's Vega-Lite specs (charts.ts draws them); the server's
// change notices (server-sent events) refresh the page being looked at while runs train.
// Everything from the store is put into the page as text (never as HTML).
import type { Figure } from "../../src/report/spec.js";
import { drawFigures, redrawAll, settings, type Chart } from "./charts.js";

type Json = Record<string, unknown>;

// ——— small DOM helpers ———
type Child = Node | string | number | null | undefined | false;
function h(tag: string, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children)
    if (c !== null && c !== undefined && c !== false) el.append(typeof c === "number" ? String(c) : c);
  return el;
}
const link = (href: string, text: string, attrs: Record<string, string> = {}) => h("a", { href, ...attrs }, text);
const fmtTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
function fmtNum(v: unknown): string {
  if (typeof v !== "number") return v === undefined || v === null ? "" : String(v);
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}
const statusBadge = (s: string) => h("span", { class: `status status-${s}` }, s);
const runHref = (id: string) => `#/run/${encodeURIComponent(id)}`;

const app = document.getElementById("app") as HTMLElement;
const banner = document.getElementById("error") as HTMLElement;

async function api<T>(path: string): Promise<T> {
  const r = await fetch(path, { headers: { accept: "application/json" } });
  const body = (await r.json().catch(() => ({ error: `HTTP ${r.status}` }))) as T & { error?: string };
  if (!r.ok) throw new Error(body.error ?? `HTTP ${r.status}`);
  return body;
}

function showError(e: unknown): void {
  banner.textContent = e instanceof Error ? e.message : String(e);
  banner.hidden = false;
  document.body.dataset.error = banner.textContent;
}

// ——— live updates ———
interface StoreChange {
  runs: string[];
  sweeps: boolean;
  reproductions: boolean;
}
let onChange: ((c: StoreChange) => void) | null = null;
const live = new EventSource("/api/live");
live.addEventListener("hello", () => (document.body.dataset.live = "connected"));
live.addEventListener("change", (ev) => {
  const c = JSON.parse((ev as MessageEvent<string>).data) as StoreChange;
  document.body.dataset.changes = String(Number(document.body.dataset.changes ?? 0) + 1);
  onChange?.(c);
});
live.addEventListener("error", () => (document.body.dataset.live = "reconnecting"));

/**
 * Calls `fn` at most once per `ms` (or per twice its own last duration, if longer: a slow page of a long
 * run does not keep the server busy), the last call always landing (a trailing edge).
 */
function throttle(fn: () => Promise<void>, ms: number): () => void {
  let last = 0;
  let took = 0;
  let timer: number | undefined;
  let running = false;
  const run = async () => {
    timer = undefined;
    if (running) {
      timer = window.setTimeout(run, ms);
      return;
    }
    running = true;
    last = Date.now();
    try {
      await fn();
    } catch (e) {
      showError(e);
    } finally {
      running = false;
      took = Date.now() - last;
    }
  };
  return () => {
    if (timer !== undefined) return;
    timer = window.setTimeout(run, Math.max(0, last + Math.max(ms, 2 * took) - Date.now()));
  };
}

// ——— charts of the current page ———
let charts = new Map<string, Chart>();
function resetCharts(): void {
  for (const c of charts.values()) c.destroy();
  charts = new Map();
}

function smoothingControl(): HTMLElement {
  const input = h("input", {
    type: "range",
    min: "0",
    max: "0.99",
    step: "0.01",
    value: String(settings.smoothing),
    id: "smoothing",
  }) as HTMLInputElement;
  const shown = h("output", {}, String(settings.smoothing));
  input.addEventListener("input", () => {
    settings.smoothing = Number(input.value);
    shown.textContent = input.value;
    void redrawAll(charts);
  });
  return h(
    "div",
    { class: "controls" },
    h("label", {}, "smoothing (EMA weight) ", input, " ", shown),
    h("span", { class: "hint" }, "drag to zoom, wheel to zoom, double-click resets; hover for values"),
  );
}

function notesList(notes: readonly string[]): HTMLElement | null {
  return notes.length ? h("ul", { class: "notes" }, ...notes.map((n) => h("li", {}, n))) : null;
}

function kvTable(rows: readonly [string, Child][]): HTMLElement {
  return h("table", { class: "meta" }, ...rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v))));
}

async function renderFigures(container: HTMLElement, figures: Figure[]): Promise<void> {
  await drawFigures(container, figures, charts);
  container.dataset.figures = String(figures.length);
}

// ——— runs table ———
interface RunsRow {
  id: string;
  name: string;
  status: string;
  error: string | null;
  sweep: { id: string; name: string | null; index: number | null } | null;
  createdAt: number;
  summary: Record<string, unknown> | null;
  steps: number | null;
}
const METRIC_COLUMNS = ["train/loss", "test/loss", "train/accuracy", "test/accuracy"];
const runsState = {
  q: "",
  status: "",
  sort: "created",
  key: "",
  order: "desc",
  offset: 0,
  limit: 50,
  selected: new Set<string>(),
};

async function runsPage(): Promise<void> {
  const search = h("input", {
    type: "search",
    placeholder: "search name or id",
    value: runsState.q,
    id: "search",
  }) as HTMLInputElement;
  const status = h(
    "select",
    { id: "status-filter" },
    ...["", "running", "completed", "diverged", "interrupted", "failed"].map((s) => {
      const o = h("option", { value: s }, s || "any status") as HTMLOptionElement;
      o.selected = s === runsState.status;
      return o;
    }),
  ) as HTMLSelectElement;
  const compare = h("button", { id: "compare", type: "button" }, "Compare selected") as HTMLButtonElement;
  const table = h("table", { class: "runs", id: "runs" });
  const pager = h("div", { class: "pager" });
  app.append(h("h1", {}, "Runs"), h("div", { class: "controls" }, search, " ", status, " ", compare), table, pager);

  const load = async () => {
    const p = new URLSearchParams({
      sort: runsState.sort,
      order: runsState.order,
      offset: String(runsState.offset),
      limit: String(runsState.limit),
    });
    if (runsState.q) p.set("q", runsState.q);
    if (runsState.status) p.set("status", runsState.status);
    if (runsState.sort === "metric") p.set("key", runsState.key);
    const page = await api<{ total: number; offset: number; runs: RunsRow[] }>(`/api/runs?${p}`);
    drawTable(page.runs);
    pager.textContent = "";
    const last = Math.min(page.offset + page.runs.length, page.total);
    const prev = h("button", { type: "button" }, "‹ previous") as HTMLButtonElement;
    const next = h("button", { type: "button" }, "next ›") as HTMLButtonElement;
    prev.disabled = page.offset === 0;
    next.disabled = last >= page.total;
    prev.onclick = () => (
      (runsState.offset = Math.max(0, runsState.offset - runsState.limit)),
      void load().catch(showError)
    );
    next.onclick = () => ((runsState.offset += runsState.limit), void load().catch(showError));
    pager.append(prev, ` ${page.total ? page.offset + 1 : 0}–${last} of ${page.total} `, next);
    table.dataset.total = String(page.total);
    table.dataset.rows = String(page.runs.length);
    compare.disabled = runsState.selected.size < 2;
  };

  const header = (label: string, sort: string, key = "") => {
    const active = runsState.sort === sort && (sort !== "metric" || runsState.key === key);
    const th = h(
      "th",
      { class: "sortable", "data-sort": key || sort },
      label,
      active ? (runsState.order === "desc" ? " ▼" : " ▲") : "",
    );
    th.onclick = () => {
      if (active) runsState.order = runsState.order === "desc" ? "asc" : "desc";
      else {
        runsState.sort = sort;
        runsState.key = key;
        runsState.order = sort === "name" || sort === "sweep" ? "asc" : "desc";
      }
      runsState.offset = 0;
      void load().catch(showError);
    };
    return th;
  };

  const drawTable = (runs: RunsRow[]) => {
    table.textContent = "";
    table.append(
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", {}, ""),
          header("status", "status"),
          header("name", "name"),
          h("th", {}, "id"),
          header("sweep", "sweep"),
          header("created (UTC)", "created"),
          header("steps", "steps"),
          ...METRIC_COLUMNS.map((k) => header(k, "metric", k)),
        ),
      ),
    );
    const body = h("tbody");
    for (const r of runs) {
      const box = h("input", { type: "checkbox", "data-id": r.id }) as HTMLInputElement;
      box.checked = runsState.selected.has(r.id);
      box.onchange = () => {
        if (box.checked) runsState.selected.add(r.id);
        else runsState.selected.delete(r.id);
        compare.disabled = runsState.selected.size < 2;
      };
      body.append(
        h(
          "tr",
          { "data-id": r.id, title: r.error ?? undefined },
          h("td", {}, box),
          h("td", {}, statusBadge(r.status)),
          h("td", {}, link(runHref(r.id), r.name)),
          h("td", { class: "mono" }, r.id),
          h(
            "td",
            {},
            r.sweep
              ? link(
                  `#/sweep/${encodeURIComponent(r.sweep.name ?? r.sweep.id)}`,
                  `${r.sweep.name ?? r.sweep.id} #${r.sweep.index}`,
                )
              : "",
          ),
          h("td", { class: "mono" }, fmtTime(r.createdAt)),
          h("td", { class: "num" }, r.steps ?? ""),
          ...METRIC_COLUMNS.map((k) => h("td", { class: "num" }, fmtNum(r.summary?.[k]))),
        ),
      );
    }
    table.append(body);
  };

  let debounce: number | undefined;
  search.oninput = () => {
    window.clearTimeout(debounce);
    debounce = window.setTimeout(() => {
      runsState.q = search.value.trim();
      runsState.offset = 0;
      void load().catch(showError);
    }, 250);
  };
  status.onchange = () => {
    runsState.status = status.value;
    runsState.offset = 0;
    void load().catch(showError);
  };
  compare.onclick = () => {
    location.hash = `#/compare/${[...runsState.selected].map(encodeURIComponent).join(",")}`;
  };
  const refresh = throttle(load, 1000);
  onChange = (c) => {
    if (c.runs.length) refresh();
  };
  await load();
}

// ——— one run ———
interface RunDetail {
  run: Json & {
    id: string;
    name: string;
    status: string;
    spec: unknown;
    error: string | null;
    createdAt: number;
    updatedAt: number;
    summary: Record<string, unknown> | null;
    sweepId: string | null;
    sweepIndex: number | null;
  };
  events: { step: number | null; time: number; kind: string; message: string }[];
  eventsTotal: number;
  checkpoints: { step: number; bytes: number; createdAt: number }[];
  artifacts: { name: string; step: number; kind: string }[];
  keys: { key: string; points: number; lastStep: number }[];
}
interface RunFigures {
  status: string;
  figures: Figure[];
  notes: string[];
}

async function runPage(id: string): Promise<void> {
  const base = `/api/runs/${encodeURIComponent(id)}`;
  const head = h("div");
  const figs = h("div", { class: "figures", id: "figures" });
  const notes = h("div");
  const rest = h("div");
  app.append(head, smoothingControl(), notes, figs, rest);

  const drawDetail = (d: RunDetail) => {
    const r = d.run;
    const s = (r.spec ?? {}) as Json;
    head.textContent = "";
    head.append(
      h("h1", {}, r.name, " ", statusBadge(r.status)),
      kvTable([
        ["run", h("span", { class: "mono" }, r.id)],
        ["status", `${r.status}${r.error ? ` (${r.error})` : ""}`],
        [
          "steps",
          `${r.summary?.step ?? d.keys.find((k) => k.key === "train/batchLoss")?.lastStep ?? 0} of ${s.steps ?? "?"}`,
        ],
        ["created", `${fmtTime(r.createdAt)} UTC; last update ${fmtTime(r.updatedAt)} UTC`],
        [
          "sweep",
          r.sweepId ? link(`#/sweep/${encodeURIComponent(r.sweepId)}`, `${r.sweepId} member #${r.sweepIndex}`) : "-",
        ],
        [
          "download",
          h(
            "span",
            { class: "downloads" },
            link(`${base}/export.csv`, "metrics CSV", { download: "" }),
            " ",
            link(`${base}/export.json`, "run JSON", { download: "" }),
          ),
        ],
      ]),
    );
    rest.textContent = "";
    rest.append(
      h(
        "h2",
        {},
        `Events (${d.eventsTotal}${d.eventsTotal > d.events.length ? `, newest ${d.events.length} shown` : ""})`,
      ),
      d.events.length
        ? h(
            "table",
            { class: "list", id: "events" },
            h("tr", {}, h("th", {}, "step"), h("th", {}, "time (UTC)"), h("th", {}, "kind"), h("th", {}, "message")),
            ...d.events.map((e) =>
              h(
                "tr",
                {},
                h("td", { class: "num" }, e.step ?? ""),
                h("td", { class: "mono" }, fmtTime(e.time)),
                h("td", {}, e.kind),
                h("td", {}, e.message),
              ),
            ),
          )
        : h("p", {}, "none"),
      h("h2", {}, `Checkpoints (${d.checkpoints.length})`),
      d.checkpoints.length
        ? h(
            "table",
            { class: "list", id: "checkpoints" },
            h(
              "tr",
              {},
              h("th", {}, "step"),
              h("th", {}, "bytes"),
              h("th", {}, "created (UTC)"),
              h("th", {}, "download"),
            ),
            ...d.checkpoints.map((c) =>
              h(
                "tr",
                {},
                h("td", { class: "num" }, c.step),
                h("td", { class: "num" }, c.bytes),
                h("td", { class: "mono" }, fmtTime(c.createdAt)),
                h(
                  "td",
                  {},
                  link(`${base}/checkpoints/${c.step}/checkpoint.ckpt`, "checkpoint", { download: "" }),
                  " ",
                  link(`${base}/checkpoints/${c.step}/weights.safetensors`, "weights (safetensors)", { download: "" }),
                ),
              ),
            ),
          )
        : h("p", {}, "none"),
      h("h2", {}, `Artifacts (${d.artifacts.length})`),
      d.artifacts.length
        ? h(
            "table",
            { class: "list", id: "artifacts" },
            h("tr", {}, h("th", {}, "name"), h("th", {}, "step"), h("th", {}, "kind")),
            ...d.artifacts.map((a) =>
              h(
                "tr",
                {},
                h(
                  "td",
                  {},
                  link(`${base}/artifact?${new URLSearchParams({ name: a.name, step: String(a.step) })}`, a.name),
                ),
                h("td", { class: "num" }, a.step),
                h("td", {}, a.kind),
              ),
            ),
          )
        : h("p", {}, "none"),
      h("h2", {}, `Metric keys (${d.keys.length})`),
      h("p", { class: "keys" }, d.keys.map((k) => `${k.key} (${k.points})`).join(", ") || "none yet"),
      h("h2", {}, "Resolved spec"),
      h("pre", { id: "spec" }, JSON.stringify(r.spec, null, 2)),
    );
  };

  const load = async () => {
    const [d, f] = await Promise.all([api<RunDetail>(base), api<RunFigures>(`${base}/figures`)]);
    drawDetail(d);
    notes.textContent = "";
    const n = notesList(f.notes);
    if (n) notes.append(n);
    await renderFigures(figs, f.figures);
    document.body.dataset.status = f.status;
  };
  await load();
  const refresh = throttle(load, 1000);
  onChange = (c) => {
    if (c.runs.includes(id) || c.runs.some((r) => r.startsWith(id))) refresh();
  };
}

// ——— compare ———
interface Comparison {
  runs: { id: string; name: string; status: string }[];
  key: string;
  keys: string[];
  figure: Figure | null;
  differences: { path: string; values: (string | undefined)[] }[];
  notes: string[];
}

async function comparePage(ids: string[], key: string | null): Promise<void> {
  const figs = h("div", { class: "figures", id: "figures" });
  const top = h("div");
  const below = h("div");
  app.append(top, smoothingControl(), figs, below);
  const load = async () => {
    const p = new URLSearchParams({ ids: ids.join(",") });
    if (key) p.set("key", key);
    const c = await api<Comparison>(`/api/compare?${p}`);
    top.textContent = "";
    const select = h(
      "select",
      { id: "compare-key" },
      ...c.keys.map((k) => h("option", { value: k }, k)),
    ) as HTMLSelectElement;
    select.value = c.key;
    select.onchange = () =>
      (location.hash = `#/compare/${ids.map(encodeURIComponent).join(",")}?key=${encodeURIComponent(select.value)}`);
    top.append(
      h("h1", {}, `Compare ${c.runs.length} runs`),
      h("div", { class: "controls" }, h("label", {}, "metric ", select)),
      h(
        "ul",
        { class: "runlist" },
        ...c.runs.map((r) =>
          h("li", {}, link(runHref(r.id), r.name), " ", h("span", { class: "mono" }, r.id), " ", statusBadge(r.status)),
        ),
      ),
    );
    const n = notesList(c.notes);
    if (n) top.append(n);
    await renderFigures(figs, c.figure ? [c.figure] : []);
    below.textContent = "";
    below.append(
      h("h2", {}, `Spec differences (${c.differences.length})`),
      c.differences.length
        ? h(
            "table",
            { class: "list", id: "differences" },
            h(
              "tr",
              {},
              h("th", {}, "field"),
              ...c.runs.map((r) => h("th", {}, r.name, h("br"), h("span", { class: "mono" }, r.id))),
            ),
            ...c.differences.map((d) =>
              h(
                "tr",
                {},
                h("td", { class: "mono" }, d.path),
                ...d.values.map((v) => h("td", { class: "mono" }, v ?? "—")),
              ),
            ),
          )
        : h("p", {}, "the specs are identical"),
    );
  };
  await load();
  const refresh = throttle(load, 1000);
  onChange = (c) => {
    if (c.runs.some((r) => ids.includes(r))) refresh();
  };
}

// ——— sweeps ———
interface QueueReport {
  queue: {
    name: string;
    executor: string;
    counts: { queued: number; running: number; done: number; failed: number };
  }[];
  workers: { name: string; host: string; concurrency: number; active: string[]; executor: string }[];
  rejected: { jobId: string; reason: string; executor: string }[];
  unreachable: { executor: string; error: string }[];
}

/** The jobs and workers of the Redis queues the store's sweeps ran on (as `sgdlab sweeps`), if any. */
async function queuesSection(): Promise<void> {
  const q = await api<QueueReport>("/api/queues");
  if (!q.queue.length && !q.workers.length && !q.rejected.length && !q.unreachable.length) return;
  const row = (...cells: HTMLElement[]) => h("tr", {}, ...cells);
  app.append(
    h("h2", {}, "Queues (Redis)"),
    h(
      "table",
      { class: "list", id: "queue" },
      row(...["sweep", "queue", "queued", "running", "done", "failed"].map((t) => h("th", {}, t))),
      ...q.queue.map((x) =>
        row(
          h("td", {}, x.name),
          h("td", { class: "mono" }, x.executor),
          ...[x.counts.queued, x.counts.running, x.counts.done, x.counts.failed].map((n) =>
            h("td", { class: "num" }, n),
          ),
        ),
      ),
    ),
    h("p", { id: "workers" }, `workers alive: ${q.workers.length}`),
    ...(q.workers.length
      ? [
          h(
            "table",
            { class: "list" },
            row(...["worker", "host", "running", "queue"].map((t) => h("th", {}, t))),
            ...q.workers.map((w) =>
              row(
                h("td", { class: "mono" }, w.name),
                h("td", {}, w.host),
                h("td", { class: "num" }, `${w.active.length}/${w.concurrency}`),
                h("td", { class: "mono" }, w.executor),
              ),
            ),
          ),
        ]
      : []),
    ...(q.rejected.length ? [h("p", {}, `rejected jobs: ${q.rejected.length} (latest: ${q.rejected[0].reason})`)] : []),
    ...q.unreachable.map((u) => h("p", {}, `${u.executor}: not reachable (${u.error})`)),
  );
}

async function sweepsPage(): Promise<void> {
  const list =
    await api<{ id: string; name: string; members: number; runs: number; createdAt: number }[]>("/api/sweeps");
  app.append(
    h("h1", {}, "Sweeps"),
    list.length
      ? h(
          "table",
          { class: "list", id: "sweeps" },
          h(
            "tr",
            {},
            h("th", {}, "name"),
            h("th", {}, "members"),
            h("th", {}, "with runs"),
            h("th", {}, "created (UTC)"),
          ),
          ...list.map((s) =>
            h(
              "tr",
              {},
              h("td", {}, link(`#/sweep/${encodeURIComponent(s.name)}`, s.name)),
              h("td", { class: "num" }, s.members),
              h("td", { class: "num" }, s.runs),
              h("td", { class: "mono" }, fmtTime(s.createdAt)),
            ),
          ),
        )
      : h("p", {}, "No sweeps in this store (sgdlab sweep makes one)."),
  );
  await queuesSection();
  onChange = (c) => {
    if (c.sweeps) void route();
  };
}

interface SweepReport {
  title: string;
  meta: [string, string][];
  notes: string[];
  figures: Figure[];
  fields: string[];
  metrics: string[];
  members: { index: number; runId: string; status: string; overrides: Json; final: Record<string, number> }[];
}

async function sweepPage(name: string): Promise<void> {
  const top = h("div");
  const figs = h("div", { class: "figures", id: "figures" });
  const below = h("div");
  app.append(top, smoothingControl(), figs, below);
  let memberIds: string[] = [];
  const load = async () => {
    const s = await api<SweepReport>(`/api/sweeps/${encodeURIComponent(name)}`);
    memberIds = s.members.map((m) => m.runId);
    top.textContent = "";
    top.append(h("h1", {}, s.title), kvTable(s.meta));
    const n = notesList(s.notes);
    if (n) top.append(n);
    await renderFigures(figs, s.figures);
    below.textContent = "";
    below.append(
      h("h2", {}, `Members (${s.members.length})`),
      h(
        "table",
        { class: "list", id: "members" },
        h(
          "tr",
          {},
          h("th", {}, "#"),
          ...s.fields.map((f) => h("th", {}, f)),
          h("th", {}, "run"),
          h("th", {}, "status"),
          ...s.metrics.map((m) => h("th", {}, `final ${m}`)),
        ),
        ...s.members.map((m) =>
          h(
            "tr",
            {},
            h("td", { class: "num" }, m.index),
            ...s.fields.map((f) => h("td", { class: "mono" }, JSON.stringify(m.overrides[f]) ?? "")),
            h("td", {}, link(runHref(m.runId), m.runId)),
            h("td", {}, statusBadge(m.status)),
            ...s.metrics.map((k) => h("td", { class: "num" }, fmtNum(m.final[k]))),
          ),
        ),
      ),
    );
  };
  await load();
  const refresh = throttle(load, 2000);
  onChange = (c) => {
    if (c.sweeps || c.runs.some((r) => memberIds.includes(r))) refresh();
  };
}

// ——— reproductions ———
async function reproductionsPage(): Promise<void> {
  const list =
    await api<{ id: string; name: string; size: string; pass: boolean; createdAt: number }[]>("/api/reproductions");
  app.append(
    h("h1", {}, "Reproductions"),
    list.length
      ? h(
          "table",
          { class: "list", id: "reproductions" },
          h(
            "tr",
            {},
            h("th", {}, "name"),
            h("th", {}, "size"),
            h("th", {}, "verdict"),
            h("th", {}, "id"),
            h("th", {}, "created (UTC)"),
          ),
          ...list.map((r) =>
            h(
              "tr",
              {},
              h("td", {}, link(`#/reproduction/${encodeURIComponent(r.id)}`, r.name)),
              h("td", {}, r.size),
              h("td", {}, h("span", { class: r.pass ? "pass" : "fail" }, r.pass ? "PASS" : "FAIL")),
              h("td", { class: "mono" }, r.id),
              h("td", { class: "mono" }, fmtTime(r.createdAt)),
            ),
          ),
        )
      : h("p", {}, "No reproductions in this store (sgdlab reproduce NAME records one)."),
  );
  onChange = (c) => {
    if (c.reproductions) void route();
  };
}

interface Reproduction {
  id: string;
  name: string;
  size: string;
  pass: boolean;
  result: {
    checksClaim?: boolean;
    criteria?: { name: string; statement: string; value: number; threshold: string; pass: boolean }[];
    runs?: { member: string; runId: string; status: string }[];
    seconds?: number;
  };
  report: { title: string; subtitle?: string; meta: [string, string][]; figures: Figure[]; notes?: string[] };
}

async function reproductionPage(id: string): Promise<void> {
  const r = await api<Reproduction>(`/api/reproductions/${encodeURIComponent(id)}`);
  const figs = h("div", { class: "figures", id: "figures" });
  const criteria = r.result.criteria ?? [];
  const runs = r.result.runs ?? [];
  app.append(
    h("h1", {}, r.report.title),
    r.report.subtitle ? h("p", { class: "sub" }, r.report.subtitle) : "",
    kvTable(r.report.meta.filter(([k]) => !/^[✓✗] |^run /.test(k))),
    h("h2", {}, "Verdict", r.result.checksClaim === false ? " (smoke size: the pipeline only)" : ""),
    h(
      "table",
      { class: "list", id: "verdict" },
      h(
        "tr",
        {},
        h("th", {}, ""),
        h("th", {}, "criterion"),
        h("th", {}, "value"),
        h("th", {}, "threshold"),
        h("th", {}, "what is measured"),
      ),
      ...criteria.map((c) =>
        h(
          "tr",
          { class: c.pass ? "pass" : "fail" },
          h("td", {}, c.pass ? "✓" : "✗"),
          h("td", {}, c.name),
          h("td", { class: "num" }, fmtNum(c.value)),
          h("td", {}, c.threshold),
          h("td", {}, c.statement),
        ),
      ),
    ),
    h("h2", {}, "Runs"),
    h(
      "ul",
      { class: "runlist" },
      ...runs.map((m) => h("li", {}, `${m.member}: `, link(runHref(m.runId), m.runId), " ", statusBadge(m.status))),
    ),
    notesList(r.report.notes ?? []) ?? "",
    smoothingControl(),
    figs,
  );
  await renderFigures(figs, r.report.figures);
}

// ——— routing ———
let routing = 0;
async function route(): Promise<void> {
  const ticket = ++routing;
  onChange = null;
  resetCharts();
  app.textContent = "";
  banner.hidden = true;
  delete document.body.dataset.error;
  document.body.dataset.ready = "0";
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query ?? "");
  const page = parts[0] ?? "runs";
  document.body.dataset.page = page;
  document
    .querySelectorAll<HTMLAnchorElement>("nav a[data-nav]")
    .forEach((a) =>
      a.classList.toggle(
        "active",
        a.dataset.nav === page || (a.dataset.nav === "runs" && ["run", "compare"].includes(page)),
      ),
    );
  try {
    if (page === "runs") await runsPage();
    else if (page === "run" && parts[1]) await runPage(parts[1]);
    else if (page === "compare" && parts[1]) await comparePage(parts[1].split(","), params.get("key"));
    else if (page === "sweeps") await sweepsPage();
    else if (page === "sweep" && parts[1]) await sweepPage(parts[1]);
    else if (page === "reproductions") await reproductionsPage();
    else if (page === "reproduction" && parts[1]) await reproductionPage(parts[1]);
    else throw new Error(`no page ${location.hash}`);
  } catch (e) {
    if (ticket === routing) showError(e);
  }
  if (ticket === routing) document.body.dataset.ready = "1";
}

window.addEventListener("hashchange", () => void route());
void api<{ store: string; runs: number }>("/api/info")
  .then((i) => {
    const el = document.getElementById("store");
    if (el) el.textContent = `${i.store} · ${i.runs} runs · read-only`;
  })
  .catch(showError);
void route();
