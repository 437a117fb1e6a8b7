// Renders the report's figures (Vega-Lite specs built on the server by src/report/) in the page, with
// the interactions a dashboard adds on top of the same spec: zoom and pan (an interval selection
// bound to the scales; double-click resets), values on hover (vega-tooltip on the nearest point),
// log axes (the report's own `withScales`), exponential smoothing and showing or hiding series
// (train / test / averaged iterate). A live update swaps the rows of a drawn view, so zoom survives.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { Handler } from "vega-tooltip";
import { withScales, type Figure, type JsonObject } from "../../src/report/spec.js";

const tooltip = new Handler({ theme: "light" });

/** Page-wide chart settings (the smoothing slider). */
export const settings = { smoothing: 0 };

/**
 * Debiased exponential moving average of field `y` along `x` within each `by` group (as TensorBoard
 * smooths, and as the HTML report's slider does): s_t = w·s_{t−1} + (1−w)·y_t, shown as s_t / (1 − w^t).
 */
export function smoothRows(rows: JsonObject[], s: Figure["controls"]["smooth"], weight: number): JsonObject[] {
  const out = rows.map((r) => ({ ...r }));
  if (!s || !(weight > 0)) return out;
  const groups = new Map<unknown, JsonObject[]>();
  for (const r of out) {
    if (r[s.by] === undefined || typeof r[s.y] !== "number") continue;
    let g = groups.get(r[s.by]);
    if (!g) groups.set(r[s.by], (g = []));
    g.push(r);
  }
  for (const g of groups.values()) {
    g.sort((a, b) => (a[s.x] as number) - (b[s.x] as number));
    let acc = 0;
    g.forEach((r, i) => {
      acc = weight * acc + (1 - weight) * (r[s.y] as number);
      r[s.y] = acc / (1 - weight ** (i + 1));
    });
  }
  return out;
}

type Layer = JsonObject & { mark?: unknown; encoding?: JsonObject; layer?: Layer[]; params?: unknown[] };

const markType = (l: Layer) =>
  typeof l.mark === "string" ? l.mark : ((l.mark as JsonObject | undefined)?.type as string);
const quantitative = (e: unknown) => (e as JsonObject | undefined)?.type === "quantitative";

/**
 * The spec with the dashboard's interactions added: on the first unit layer with quantitative x and
 * y, a scale-bound interval selection (zoom/pan); after every line layer, a layer of points drawn
 * only when nearest to the pointer, carrying the tooltip (series, x, y). The figure's own layers,
 * encodings and data are left as they are.
 */
export function interactive(spec: JsonObject): JsonObject {
  const out = structuredClone(spec) as Layer;
  const layers: Layer[] = out.layer ? out.layer : [out];
  let zoomed = false;
  const added: Layer[] = [];
  for (const l of layers) {
    const enc = l.encoding;
    if (!enc || !quantitative(enc.x) || !quantitative(enc.y)) continue;
    if (!zoomed && !l.data) {
      l.params = [
        ...(l.params ?? []),
        { name: "zoom", select: { type: "interval", encodings: ["x", "y"] }, bind: "scales" },
      ];
      zoomed = true;
    }
    if (markType(l) === "line") {
      const x = enc.x as JsonObject;
      const y = enc.y as JsonObject;
      const color = enc.color as JsonObject | undefined;
      const hoverName = `hover${added.length}`;
      const tip: JsonObject[] = [];
      if (color?.field)
        tip.push({ field: color.field as string, type: "nominal", title: (color.title as string) ?? "series" });
      tip.push({ field: x.field as string, type: "quantitative", title: (x.title as string) ?? "x", format: ",.6~g" });
      tip.push({ field: y.field as string, type: "quantitative", title: (y.title as string) ?? "y", format: ".6~g" });
      added.push({
        name: `hover_layer${added.length}`,
        ...(l.transform ? { transform: l.transform } : {}),
        params: [{ name: hoverName, select: { type: "point", on: "pointerover", clear: "pointerout", nearest: true } }],
        mark: { type: "point", filled: true, size: 36, clip: true },
        encoding: {
          x,
          y,
          ...(color ? { color } : {}),
          opacity: { condition: { param: hoverName, empty: false, value: 1 }, value: 0 },
          tooltip: tip,
        },
      });
    }
  }
  if (added.length) {
    if (out.layer) out.layer.push(...added);
    else
      return {
        ...out,
        layer: [Object.fromEntries(Object.entries(out).filter(([k]) => !TOP.has(k))), ...added],
      } as JsonObject;
  }
  return out;
}

// top-level properties that stay outside the layer when a single-view spec becomes layered
const TOP = new Set(["$schema", "title", "width", "height", "data", "config", "params", "transform"]);

/** The series (legend entries) of a figure: the colour scale's domain of its line layer, if any. */
export function seriesNames(figure: Figure): string[] {
  const layers = ((figure.spec.layer as Layer[] | undefined) ?? [figure.spec as Layer]).filter(
    (l) => markType(l) === "line",
  );
  const color = layers[0]?.encoding?.color as JsonObject | undefined;
  const domain = (color?.scale as JsonObject | undefined)?.domain;
  return Array.isArray(domain) ? domain.map(String) : [];
}

/** What a chart shows: its scale choice and the series hidden by the user. */
interface ChartState {
  logX: boolean;
  logY: boolean;
  hidden: Set<string>;
}

/** One figure drawn into a container, with its controls; `update` swaps in a new version of the figure. */
export class Chart {
  private view: vega.View | undefined;
  private shape = "";
  private readonly state: ChartState;
  private readonly plot: HTMLElement;
  renders = 0;

  constructor(
    readonly el: HTMLElement,
    private figure: Figure,
  ) {
    const log = figure.controls.log ?? {};
    this.state = { logX: !!log.x?.initial, logY: !!log.y?.initial, hidden: new Set() };
    el.classList.add("figure");
    el.dataset.fig = figure.id;
    el.textContent = "";
    const bar = document.createElement("div");
    bar.className = "bar";
    for (const axis of ["x", "y"] as const) {
      if (!log[axis]) continue;
      bar.append(
        this.checkbox(`log ${axis}`, axis === "x" ? this.state.logX : this.state.logY, `log-${axis}`, (on) => {
          if (axis === "x") this.state.logX = on;
          else this.state.logY = on;
          void this.draw(true);
        }),
      );
    }
    const names = seriesNames(figure);
    if (names.length > 1)
      for (const name of names)
        bar.append(
          this.checkbox(name, true, "series", (on) => {
            if (on) this.state.hidden.delete(name);
            else this.state.hidden.add(name);
            void this.draw(false);
          }),
        );
    const spec = document.createElement("a");
    spec.textContent = "Vega-Lite spec";
    spec.href = "#";
    spec.addEventListener("click", (e) => {
      e.preventDefault();
      const blob = new Blob([JSON.stringify(this.figure.spec, null, 2)], { type: "application/json" });
      window.open(URL.createObjectURL(blob), "_blank");
    });
    bar.append(spec);
    this.plot = document.createElement("div");
    this.plot.className = "plot";
    el.append(bar, this.plot);
  }

  private checkbox(label: string, checked: boolean, role: string, on: (checked: boolean) => void): HTMLElement {
    const l = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = checked;
    box.dataset.role = role;
    box.addEventListener("change", () => on(box.checked));
    l.append(box, ` ${label}`);
    return l;
  }

  /** The rows to draw: the scale variant's rows, hidden series removed, smoothed. */
  private rows(spec: JsonObject): JsonObject[] {
    const values = (spec.data as { values: JsonObject[] }).values;
    const shown = values.filter((r) => typeof r.series !== "string" || !this.state.hidden.has(r.series));
    return smoothRows(shown, this.figure.controls.smooth, settings.smoothing);
  }

  private scaled(): JsonObject {
    const log = this.figure.controls.log ?? {};
    return withScales(this.figure, {
      x: log.x ? (this.state.logX ? "log" : "linear") : undefined,
      y: log.y ? (this.state.logY ? "log" : "linear") : undefined,
    });
  }

  /** Draws the figure; `rebuild` makes a new view (scales changed), else only the rows are replaced. */
  async draw(rebuild = true): Promise<void> {
    const spec = this.scaled();
    const rows = this.rows(spec);
    const shape = JSON.stringify({ ...spec, data: null });
    if (!rebuild && this.view && shape === this.shape) {
      await this.view.data("table", rows).runAsync();
    } else {
      this.view?.finalize();
      this.plot.textContent = "";
      const vl = interactive({ ...spec, data: { name: "table" } });
      const compiled = compile(vl as unknown as TopLevelSpec).spec;
      this.view = new vega.View(vega.parse(compiled), {
        renderer: "svg",
        container: this.plot,
        hover: true,
        tooltip: tooltip.call,
      });
      this.view.data("table", rows);
      await this.view.runAsync();
      this.shape = shape;
    }
    const series = new Set(rows.filter((r) => typeof r.series === "string").map((r) => r.series));
    this.el.dataset.series = String(series.size);
    this.el.dataset.points = String(rows.filter((r) => typeof r.series === "string").length);
    this.el.dataset.rows = String(rows.length);
    this.el.dataset.rendered = String(++this.renders);
  }

  /** Replaces the figure by a newer version of it (live updates) and redraws, keeping zoom when possible. */
  async update(figure: Figure): Promise<void> {
    this.figure = figure;
    await this.draw(false);
  }

  destroy(): void {
    this.view?.finalize();
    this.view = undefined;
  }
}

/**
 * Draws `figures` into `container`, reusing the charts already there by figure id (live updates keep
 * each chart's zoom, scales and hidden series); charts of figures no longer present are removed.
 */
export async function drawFigures(
  container: HTMLElement,
  figures: Figure[],
  charts: Map<string, Chart>,
): Promise<void> {
  const ids = new Set(figures.map((f) => f.id));
  for (const [id, c] of charts)
    if (!ids.has(id)) {
      c.destroy();
      c.el.remove();
      charts.delete(id);
    }
  const jobs: Promise<void>[] = [];
  let previous: HTMLElement | null = null;
  for (const f of figures) {
    let c = charts.get(f.id);
    if (c) jobs.push(c.update(f));
    else {
      const el = document.createElement("section");
      c = new Chart(el, f);
      charts.set(f.id, c);
      jobs.push(c.draw(true));
    }
    if (previous) previous.after(c.el);
    else container.prepend(c.el);
    previous = c.el;
  }
  await Promise.all(jobs);
}

/** Redraws every chart (the smoothing changed). */
export async function redrawAll(charts: Map<string, Chart>): Promise<void> {
  await Promise.all([...charts.values()].map((c) => c.draw(false)));
}
