/**
 * Vega-Lite → Vega → SVG in Node, without a browser: vega-lite compiles the spec, vega's `View` runs
 * the dataflow headless (`renderer: "none"`) and serializes the scenegraph with `toSVG()`.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { VegaLiteSpec } from "./spec.js";

/** The Vega spec that vega-lite compiles a figure spec to (throws on an invalid spec). */
export function compileToVega(spec: VegaLiteSpec): vega.Spec {
  return compile(spec as unknown as TopLevelSpec).spec;
}

/**
 * Renders a Vega-Lite spec to standalone SVG text (`<svg …>…</svg>`). The spec is not modified (vega
 * tags and rewrites the data rows it ingests, so it renders a copy).
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const view = new vega.View(vega.parse(compileToVega(structuredClone(spec))), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
