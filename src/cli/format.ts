/** Plain-text table and number formatting for the CLI. */

/** A number in at most ~6 significant digits; NaN/Inf spelled out. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return "";
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Inf" : "-Inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(3);
  return x.toPrecision(5).replace(/\.?0+$/, "");
}

/** Left-aligned text columns separated by two spaces. */
export function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(w[i]))
      .join("  ")
      .trimEnd();
  return [line(header), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

/** Seconds as "1h02m", "3m05s" or "12s". */
export function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.round(s)}s`;
}

/**
 * Control characters that could drive a terminal (C0 except newline, DEL, C1 — e.g. ESC and CSI —,
 * line/paragraph separators, bidirectional overrides and isolates).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from user data made safe to print: every control character except newline becomes `\uXXXX`.
 * Valid inside JSON strings too (JSON already escapes C0; this escapes the rest the same way).
 */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
