import { parse as parseYaml } from "yaml";
import { UserError } from "../core/errors.js";

/** One swept field: a dotted spec path (as `--set` takes it) and the values it takes, in order. */
export interface Axis {
  path: string;
  values: unknown[];
}

/** A member's overrides: spec path → value, in the order the axes were given. */
export type Overrides = Record<string, unknown>;

/**
 * Parses `path=[v1, v2, ...]` (a `--grid` or `--zip` argument) into an {@link Axis}. The list is a
 * YAML flow sequence, so values are typed as `--set` types them (`0.1`, `true`, `tanh`, `[64, 64]`).
 * A missing `=`, an empty path or an empty or non-list value is a `UserError` naming `flag`.
 */
export function parseAxis(text: string, flag: string): Axis {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UserError(`${flag} expects path=[v1,v2,...], got "${text}"`);
  const path = text.slice(0, eq);
  if (path.split(".").some((p) => p === "")) throw new UserError(`${flag} path "${path}" has an empty component`);
  let values: unknown;
  try {
    values = parseYaml(text.slice(eq + 1), { logLevel: "error" });
  } catch (e) {
    throw new UserError(`${flag} ${path}: the list is not valid YAML (${(e as Error).message.split("\n")[0]})`);
  }
  if (!Array.isArray(values) || values.length === 0) {
    throw new UserError(`${flag} ${path}: expected a non-empty list like ${path}=[1,2,3], got "${text.slice(eq + 1)}"`);
  }
  return { path, values };
}

/**
 * The members of a sweep: the cartesian product of the `grid` axes (the first axis varies slowest),
 * times the `zip` axes advanced together (one more axis, varying fastest). The zip lists must all
 * have the same length, and no path may appear twice. With no axes at all there is one member with
 * no overrides.
 */
export function expandGrid(grid: readonly Axis[], zip: readonly Axis[] = []): Overrides[] {
  const seen = new Set<string>();
  for (const a of [...grid, ...zip]) {
    if (seen.has(a.path)) throw new UserError(`sweep: ${a.path} is swept twice (in --grid or --zip)`);
    seen.add(a.path);
  }
  const axes: Overrides[][] = grid.map((a) => a.values.map((v) => ({ [a.path]: v })));
  if (zip.length) {
    const n = zip[0].values.length;
    const bad = zip.find((a) => a.values.length !== n);
    if (bad) {
      throw new UserError(
        `sweep: --zip lists must have equal lengths; ${zip.map((a) => `${a.path} has ${a.values.length}`).join(", ")}`,
      );
    }
    axes.push(Array.from({ length: n }, (_, i) => Object.fromEntries(zip.map((a) => [a.path, a.values[i]]))));
  }
  let members: Overrides[] = [{}];
  for (const axis of axes) members = members.flatMap((m) => axis.map((o) => ({ ...m, ...o })));
  return members;
}

/** Overrides as `--set` arguments (`path=<value as JSON>`, which YAML reads back as the same value). */
export function overrideArgs(o: Overrides): string[] {
  return Object.entries(o).map(([path, v]) => `${path}=${JSON.stringify(v)}`);
}
