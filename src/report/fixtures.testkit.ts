/**
 * A tiny deterministic "run" for the report's golden tests: metric points shaped like the trainer's
 * and the Hessian probe's (closed-form curves, no randomness, no jax-js), density artifacts, and data
 * for the generic builders. Also a snapshot matcher and an SVG well-formedness check.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MetricValue } from "./metrics.js";

/** Steps 0, 10, …, 200: evaluation every 10 steps; the Hessian probe every 20. */
export const STEPS = Array.from({ length: 21 }, (_, i) => i * 10);

/** The spec fields a report reads (a GD run with MSE, η = 0.1 so 2/η = 20). */
export const FIXTURE_SPEC = {
  name: "fixture",
  steps: 200,
  loss: { kind: "mse", reduction: "half_mean" },
  optimizer: { kind: "sgd", lr: 0.1, momentum: 0 },
};

/** Metric points: losses and accuracies (raw and averaged iterate), sharpness, eigenvalues, trace. */
export function fixtureMetrics(): MetricValue[] {
  const out: MetricValue[] = [];
  const put = (step: number, key: string, value: number) => out.push({ step, key, value });
  for (const s of STEPS) {
    const train = 2 * Math.exp(-s / 40) + 0.01;
    const test = train + 0.3 * (1 - Math.exp(-s / 60));
    put(s, "train/loss", train);
    put(s, "test/loss", test);
    put(s, "gap/loss", test - train);
    const accTrain = 1 - 0.8 * Math.exp(-s / 50);
    const accTest = 1 - 0.8 * Math.exp(-s / 80) - 0.05;
    put(s, "train/accuracy", accTrain);
    put(s, "test/accuracy", accTest);
    put(s, "gap/accuracy", accTrain - accTest);
    put(s, "avg/train/loss", train * 0.9);
    put(s, "avg/test/loss", test * 0.95);
    put(s, "grad/norm", s === 100 ? NaN : 3 * Math.exp(-s / 70));
    if (s % 20 === 0) {
      const lmax = 20 * (1 - Math.exp(-s / 50)) + 5 + (s > 100 ? Math.sin(s / 10) : 0);
      put(s, "hessian/lambdaMax", lmax);
      put(s, "hessian/lambda2", 0.6 * lmax);
      put(s, "hessian/lambda3", 0.4 * lmax);
      put(s, "hessian/lambdaMin", -0.5 + s / 1000);
      put(s, "hessian/threshold", 20);
      put(s, "hessian/eosRatio", lmax / 20);
      put(s, "hessian/trace", 10 * lmax);
      put(s, "hessian/traceStderr", 0.05 * 10 * lmax);
      if (s > 0) {
        put(s, "hessian/precondLambdaMax", 300 + s);
        put(s, "hessian/precondThreshold", 380);
      }
    }
  }
  return out;
}

/** SLQ-like densities at steps 0, 100, 200 on a 41-point grid (two Gaussian bumps). */
export function fixtureDensities(): { step: number; grid: number[]; density: number[]; sigma: number }[] {
  return [0, 100, 200].map((step) => {
    const grid = Array.from({ length: 41 }, (_, i) => -2 + i * 0.75);
    const top = 5 + step / 10;
    const density = grid.map(
      (t) => (0.9 * Math.exp(-((t - 0) ** 2) / 2) + 0.1 * Math.exp(-((t - top) ** 2) / 2)) / Math.sqrt(2 * Math.PI),
    );
    return { step, grid, density, sigma: 1 };
  });
}

const SNAPSHOTS = join(dirname(fileURLToPath(import.meta.url)), "__snapshots__");

/** Numbers equal to 1e-12 relative (or 1e-300 absolute); everything else exactly. */
function close(actual: unknown, expected: unknown, path: string): void {
  if (typeof actual === "number" && typeof expected === "number") {
    const ok = actual === expected || Math.abs(actual - expected) <= 1e-12 * Math.max(Math.abs(expected), 1e-288);
    assert.ok(ok, `${path}: ${actual} differs from the snapshot's ${expected}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => close(actual[i], e, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === "object") {
    assert.ok(actual !== null && typeof actual === "object" && !Array.isArray(actual), `${path}: expected an object`);
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    assert.deepEqual(Object.keys(a).sort(), Object.keys(e).sort(), `${path}: keys`);
    for (const k of Object.keys(e)) close(a[k], e[k], `${path}.${k}`);
    return;
  }
  assert.equal(actual, expected, path);
}

/**
 * Compares `value` (JSON) with the snapshot `__snapshots__/<name>.json`, numbers to 1e-12 relative.
 * `UPDATE_SNAPSHOTS=1 node --import tsx --test src/report/*.test.ts` rewrites the snapshots (review
 * the diff and format them with prettier before committing); a missing snapshot fails unless
 * UPDATE_SNAPSHOTS=1.
 */
export function matchSnapshot(name: string, value: unknown): void {
  const file = join(SNAPSHOTS, `${name}.json`);
  const text = JSON.stringify(value, null, 2) + "\n";
  if (process.env.UPDATE_SNAPSHOTS === "1") {
    mkdirSync(SNAPSHOTS, { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `no snapshot ${file}; run with UPDATE_SNAPSHOTS=1 to write it`);
  close(JSON.parse(text), JSON.parse(readFileSync(file, "utf8")), name);
}

/**
 * Asserts that `svg` is one well-formed `<svg>` element (every tag closed in order, attributes
 * quoted) and that it contains `text` (XML-escaped) in a `<text>` element.
 */
export function assertSvg(svg: string, text: string): void {
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith("</svg>"), "SVG must end with </svg>");
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else stack.push(name);
  }
  assert.equal(stack.length, 0, `unclosed tags: ${stack.join(", ")}`);
  const tags = svg.match(/<[^>]*>/g) ?? [];
  const parsed = svg.match(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g) ?? [];
  assert.equal(parsed.length, tags.length, "every tag has quoted attributes");
  const escaped = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  assert.ok(svg.includes(`>${escaped}</text>`), `SVG has no <text> "${text}"`);
}
