/**
 * Numeric CSV files: one example per line, the feature columns plus a label column
 * (classification) or target columns (regression).
 */
import { UserError } from "../core/errors.js";
import { makeDataset } from "./dataset.js";
import { readDataFile } from "./files.js";
import type { Dataset } from "./types.js";

/** A column by header name, or by 0-based index (negative counts from the end: −1 is the last). */
export type CsvColumn = string | number;

/** Options of `loadCsv`. Give exactly one of `label` and `targets`. */
export interface CsvOptions {
  /** Whether the first line is a header; default: it is iff one of its cells is not a number. */
  header?: boolean;
  /** The class-label column (classification); labels must be integers >= 0. */
  label?: CsvColumn;
  /** The target columns (regression), in order. */
  targets?: readonly CsvColumn[];
  /** Cell separator (default ","). */
  delimiter?: string;
  /** Number of classes (classification); default max(label) + 1. */
  numClasses?: number;
  /** Dataset name; default "csv:<file>". */
  name?: string;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

function parseNumber(cell: string): number | null {
  if (NUMBER.test(cell)) return Number(cell);
  if (SPECIAL.test(cell)) {
    const neg = cell.startsWith("-");
    return /nan/i.test(cell) ? NaN : neg ? -Infinity : Infinity;
  }
  return null;
}

function splitLine(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((c) => {
    const t = c.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
  });
}

/**
 * Reads a numeric CSV file (UTF-8, optional BOM, blank lines skipped, cells trimmed, surrounding
 * double quotes removed; no quoted delimiters) into a dataset whose inputs are the columns other
 * than the label/target ones, in file order (xShape [#features]). A non-numeric cell throws a
 * `UserError` naming the file, line (1-based) and column (1-based, and its header name); so do
 * ragged lines, unknown columns and non-integer labels.
 */
export function loadCsv(path: string, opts: CsvOptions): Dataset {
  const delimiter = opts.delimiter ?? ",";
  const where = `csv file "${path}"`;
  if ((opts.label === undefined) === (opts.targets === undefined)) {
    throw new UserError(`${where}: give exactly one of label (classification) and targets (regression)`);
  }
  if (opts.targets !== undefined && opts.targets.length === 0) throw new UserError(`${where}: targets is empty`);
  const text = readDataFile(path, "csv file")
    .toString("utf8")
    .replace(/^\uFEFF/, "");
  const lines: { no: number; cells: string[] }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() !== "") lines.push({ no: i + 1, cells: splitLine(line, delimiter) });
  });
  if (lines.length === 0) throw new UserError(`${where}: the file is empty`);
  const width = lines[0].cells.length;
  const header = opts.header ?? lines[0].cells.some((c) => parseNumber(c) === null);
  const names = header ? lines[0].cells : null;
  const rows = header ? lines.slice(1) : lines;
  if (rows.length === 0) throw new UserError(`${where}: no data rows`);

  const resolve = (c: CsvColumn, what: string): number => {
    if (typeof c === "string") {
      if (names === null) throw new UserError(`${where}: ${what} "${c}" names a column, but the file has no header`);
      const j = names.indexOf(c);
      if (j < 0) throw new UserError(`${where}: ${what} "${c}" is not a column (columns: ${names.join(", ")})`);
      return j;
    }
    const j = c < 0 ? width + c : c;
    if (!Number.isInteger(c) || j < 0 || j >= width) {
      throw new UserError(`${where}: ${what} column index ${c} out of range for ${width} columns`);
    }
    return j;
  };
  const outCols =
    opts.label !== undefined ? [resolve(opts.label, "label")] : opts.targets!.map((c) => resolve(c, "target"));
  if (new Set(outCols).size !== outCols.length) throw new UserError(`${where}: a target column is named twice`);
  const featCols = [...Array(width).keys()].filter((j) => !outCols.includes(j));
  if (featCols.length === 0) throw new UserError(`${where}: no feature columns left besides the label/targets`);

  const n = rows.length;
  const colName = (j: number) => `column ${j + 1}${names !== null ? ` ("${names[j]}")` : ""}`;
  const values = new Float64Array(n * width);
  rows.forEach(({ no, cells }, i) => {
    if (cells.length !== width)
      throw new UserError(`${where}, line ${no}: expected ${width} cells, found ${cells.length}`);
    for (let j = 0; j < width; j++) {
      const v = parseNumber(cells[j]);
      if (v === null) {
        throw new UserError(`${where}, line ${no}, ${colName(j)}: ${JSON.stringify(cells[j])} is not a number`);
      }
      values[i * width + j] = v;
    }
  });
  const x = new Float64Array(n * featCols.length);
  for (let i = 0; i < n; i++) featCols.forEach((j, k) => (x[i * featCols.length + k] = values[i * width + j]));
  const name = opts.name ?? `csv:${path}`;
  const xShape = [featCols.length];
  if (opts.targets !== undefined) {
    const k = outCols.length;
    const targets = new Float64Array(n * k);
    for (let i = 0; i < n; i++) outCols.forEach((j, o) => (targets[i * k + o] = values[i * width + j]));
    return makeDataset({ name, xShape, x, targets, targetDim: k });
  }
  const lj = outCols[0];
  const labels = new Int32Array(n);
  let max = -1;
  for (let i = 0; i < n; i++) {
    const v = values[i * width + lj];
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** 31) {
      throw new UserError(`${where}, line ${rows[i].no}, ${colName(lj)}: label ${v} is not a non-negative integer`);
    }
    labels[i] = v;
    max = Math.max(max, v);
  }
  const numClasses = opts.numClasses ?? max + 1;
  if (max >= numClasses) throw new UserError(`${where}: label ${max} >= numClasses ${numClasses}`);
  return makeDataset({ name, xShape, x, labels, numClasses });
}
