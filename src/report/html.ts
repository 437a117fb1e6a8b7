/**
 * The self-contained report page: one HTML file that opens offline from disk. It inlines the Vega
 * runtime (`vega/build/vega.min.js`, ~0.5 MB; vega-lite is not needed in the page because every spec
 * is compiled to Vega here, in Node), each figure's data once, and its compiled Vega spec for each
 * scale variant (linear/log per axis: vega cannot switch a scale's type through a signal). A small
 * inline script re-renders a figure when a log toggle or the smoothing slider changes.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { compileToVega } from "./render.js";
import { withScales, type Figure, type Json, type JsonObject } from "./spec.js";

/** What a page shows: a title, a subtitle, key–value facts, figures, and free-text notes. */
export interface Report {
  title: string;
  subtitle?: string;
  /** Facts shown in a table under the title (run id, status, optimizer, …). */
  meta: [string, string][];
  figures: Figure[];
  /** Lines shown under the facts (e.g. what was left out and why). */
  notes?: string[];
}

let runtime: string | undefined;

/** The Vega browser bundle (UMD, defines `vega`), read once from node_modules. */
export function vegaRuntime(): string {
  if (runtime === undefined) {
    const entry = createRequire(import.meta.url).resolve("vega");
    runtime = readFileSync(join(dirname(entry), "vega.min.js"), "utf8");
  }
  return runtime;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** JSON safe inside a `<script>` element (no `</script`, no `<!--`). */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");

/** Inline JavaScript made safe inside a `<script>` element. */
const scriptJs = (code: string) => code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");

/** The page's data for one figure: rows once, and a compiled Vega spec per scale variant. */
function pageFigure(f: Figure): JsonObject {
  const xs = f.controls.log?.x ? ["linear", "log"] : ["linear"];
  const ys = f.controls.log?.y ? ["linear", "log"] : ["linear"];
  const vega: JsonObject = {};
  for (const x of xs)
    for (const y of ys) {
      const spec = withScales(f, {
        x: f.controls.log?.x ? (x as "linear" | "log") : undefined,
        y: f.controls.log?.y ? (y as "linear" | "log") : undefined,
      });
      vega[`${x}|${y}`] = compileToVega({ ...spec, data: { name: "table" } }) as unknown as Json;
    }
  const rows = (f.spec.data as { values: JsonObject[] }).values;
  return { id: f.id, title: f.title, controls: f.controls as unknown as Json, rows, vega };
}

/** Renders the page. `svgHref(id)` names the sibling SVG file of a figure (for the no-script fallback). */
export function reportHtml(report: Report, svgHref: (id: string) => string = (id) => `${id}.svg`): string {
  const figures = report.figures.map(pageFigure);
  const smoothable = report.figures.some((f) => f.controls.smooth);
  const meta = report.meta.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("");
  const notes = (report.notes ?? []).map((n) => `<li>${esc(n)}</li>`).join("");
  const toc = report.figures.map((f) => `<li><a href="#fig-${f.id}">${esc(f.title)}</a></li>`).join("");
  const sections = report.figures
    .map((f) => {
      const toggles = (["x", "y"] as const)
        .filter((ax) => f.controls.log?.[ax])
        .map(
          (ax) =>
            `<label><input type="checkbox" data-fig="${f.id}" data-axis="${ax}"${f.controls.log?.[ax]?.initial ? " checked" : ""}> log ${ax}</label>`,
        )
        .join(" ");
      return `<section class="fig" id="fig-${f.id}">
<div class="bar">${toggles} <a href="${esc(svgHref(f.id))}">SVG</a> <a href="${esc(f.id)}.vl.json">Vega-Lite spec</a></div>
<div class="plot" id="plot-${f.id}"><noscript><img src="${esc(svgHref(f.id))}" alt="${esc(f.title)}"></noscript></div>
</section>`;
    })
    .join("\n");
  const smoothing = smoothable
    ? `<div class="controls"><label>smoothing (EMA weight) <input id="smoothing" type="range" min="0" max="0.99" step="0.01" value="0"> <output id="smoothing-value">0</output></label></div>`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sgdlab report">
<title>${esc(report.title)}</title>
<style>
body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}p.sub{color:#555;margin:0 0 12px}
table.meta{border-collapse:collapse;font-size:13px;margin:8px 0}table.meta th{text-align:left;padding:2px 12px 2px 0;color:#555;font-weight:normal}
table.meta td{font-family:ui-monospace,Menlo,monospace}
.controls{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid #eee;z-index:1;font-size:13px}
section.fig{margin:20px 0 28px}.bar{font-size:12px;color:#555;margin-bottom:4px}.bar a{margin-left:10px;color:#4e79a7}
.bar label{margin-right:10px}.plot{min-height:120px}ul.toc{font-size:13px;columns:2}
</style>
</head>
<body>
<h1>${esc(report.title)}</h1>
${report.subtitle ? `<p class="sub">${esc(report.subtitle)}</p>` : ""}
<table class="meta">${meta}</table>
${notes ? `<ul class="notes">${notes}</ul>` : ""}
<ul class="toc">${toc}</ul>
${smoothing}
${sections}
<script>${scriptJs(vegaRuntime())}</script>
<script type="application/json" id="sgdlab-report">${scriptJson({ figures })}</script>
<script>${scriptJs(PAGE_SCRIPT)}</script>
</body>
</html>
`;
}

/**
 * The page's behaviour: for each figure pick the compiled spec of the current scale variant, hide
 * rows a log axis cannot show, smooth with a debiased EMA (as TensorBoard does: s_t = w·s_{t−1} +
 * (1−w)·y_t, divided by 1 − w^t) within each series, and render with vega's SVG renderer.
 */
export const PAGE_SCRIPT = `(function () {
  "use strict";
  var report = JSON.parse(document.getElementById("sgdlab-report").textContent);
  var slider = document.getElementById("smoothing");
  var shown = document.getElementById("smoothing-value");
  var weight = 0;
  function smooth(rows, s) {
    var out = rows.map(function (r) { return Object.assign({}, r); });
    if (!s || !(weight > 0)) return out;
    var groups = {};
    out.forEach(function (r) {
      if (r[s.by] === undefined || typeof r[s.y] !== "number") return;
      (groups[r[s.by]] = groups[r[s.by]] || []).push(r);
    });
    Object.keys(groups).forEach(function (k) {
      var g = groups[k].sort(function (a, b) { return a[s.x] - b[s.x]; });
      var acc = 0, n = 0;
      g.forEach(function (r) {
        n += 1;
        acc = weight * acc + (1 - weight) * r[s.y];
        r[s.y] = acc / (1 - Math.pow(weight, n));
      });
    });
    return out;
  }
  function positive(rows, fields) {
    return rows.filter(function (r) {
      return fields.every(function (f) { return typeof r[f] !== "number" || r[f] > 0; });
    });
  }
  function draw(f) {
    var log = f.controls.log || {};
    var key = (f.state.x ? "log" : "linear") + "|" + (f.state.y ? "log" : "linear");
    var fields = [];
    if (f.state.x) fields = fields.concat(log.x.fields);
    if (f.state.y) fields = fields.concat(log.y.fields);
    var el = document.getElementById("plot-" + f.id);
    if (f.view) f.view.finalize();
    el.textContent = "";
    var view = new vega.View(vega.parse(f.vega[key]), { renderer: "svg", container: el, hover: true });
    view.data("table", positive(smooth(f.rows, f.controls.smooth), fields));
    f.view = view;
    return view.runAsync().then(function () { el.setAttribute("data-rendered", key); });
  }
  report.figures.forEach(function (f) {
    var log = f.controls.log || {};
    f.state = { x: !!(log.x && log.x.initial), y: !!(log.y && log.y.initial) };
  });
  document.querySelectorAll("input[data-fig]").forEach(function (box) {
    box.addEventListener("change", function () {
      var f = report.figures.find(function (g) { return g.id === box.getAttribute("data-fig"); });
      f.state[box.getAttribute("data-axis")] = box.checked;
      draw(f);
    });
  });
  if (slider) {
    slider.addEventListener("input", function () {
      weight = Number(slider.value);
      shown.textContent = slider.value;
      report.figures.forEach(function (f) { if (f.controls.smooth) draw(f); });
    });
  }
  Promise.all(report.figures.map(function (f) {
    try { return draw(f); } catch (e) { return Promise.reject(e); }
  })).then(function () {
    document.body.setAttribute("data-rendered", String(report.figures.length));
  }, function (e) {
    document.body.setAttribute("data-error", String(e && e.message || e));
  });
})();
`;
