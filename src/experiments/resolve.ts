/**
 * Spec resolution: read a YAML/JSON file, apply `--set a.b=value` overrides, validate against
 * `ExperimentSpecSchema`, fill defaults, freeze, hash. Every failure is a `UserError` (exit code 2)
 * naming the file, the field path and what is allowed.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UserError } from "../core/errors.js";
import { ExperimentSpecSchema, type ExperimentSpec } from "./schema.js";

/** A validated, defaults-filled, deep-frozen spec with its content hash. */
export interface ResolvedExperiment {
  readonly spec: Readonly<ExperimentSpec>;
  /** sha256 of the canonical JSON (sorted keys) of `spec`, hex, first 16 characters. */
  readonly hash: string;
}

/** Reads and parses a spec file (YAML or JSON by content; JSON is YAML). */
export function readSpecFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read spec file ${path}: ${code === "ENOENT" ? "no such file" : String(e)}`);
  }
  try {
    return parseYaml(text);
  } catch (e) {
    throw new UserError(`spec file ${path} is not valid YAML/JSON: ${(e as Error).message.split("\n")[0]}`);
  }
}

/**
 * Applies `path=value` overrides (dotted paths; array indices as numbers) to a plain object, in place
 * on a copy. Values are parsed as YAML scalars/flow collections (`0.1`, `true`, `[64, 64]`, `tanh`).
 */
export function applyOverrides(doc: unknown, overrides: readonly string[]): unknown {
  const root = structuredClone(doc ?? {}) as Record<string, unknown>;
  for (const o of overrides) {
    const eq = o.indexOf("=");
    if (eq <= 0) throw new UserError(`--set expects path=value, got "${o}"`);
    const path = o.slice(0, eq).split(".");
    if (path.some((p) => p === "")) throw new UserError(`--set path "${o.slice(0, eq)}" has an empty component`);
    let value: unknown;
    try {
      value = parseYaml(o.slice(eq + 1));
    } catch {
      value = o.slice(eq + 1);
    }
    let cur: Record<string, unknown> = root;
    for (const key of path.slice(0, -1)) {
      const next = cur[key];
      if (next === undefined || next === null) cur[key] = {};
      else if (typeof next !== "object") {
        throw new UserError(`--set ${o}: "${key}" is a ${typeof next}, not an object`);
      }
      cur = cur[key] as Record<string, unknown>;
    }
    cur[path[path.length - 1]] = value;
  }
  return root;
}

/** Validates a parsed document and returns the frozen, hashed experiment. */
export function resolveSpec(doc: unknown, source = "spec"): ResolvedExperiment {
  const r = ExperimentSpecSchema.safeParse(doc);
  if (!r.success) throw new UserError(formatIssues(r.error, doc, source));
  const spec = deepFreeze(r.data);
  return { spec, hash: specHash(spec) };
}

/** Reads, overrides and resolves a spec file. */
export function loadSpec(path: string, overrides: readonly string[] = []): ResolvedExperiment {
  return resolveSpec(applyOverrides(readSpecFile(path), overrides), path);
}

/** Canonical JSON: object keys sorted at every level. */
export function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Content hash of a resolved spec. */
export function specHash(spec: unknown): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex").slice(0, 16);
}

function deepFreeze<T>(x: T): T {
  if (x && typeof x === "object") {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

function pathString(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** The keys a strict object schema at `path` allows, given the document (for discriminated unions). */
function allowedKeys(schema: z.ZodType, doc: unknown, path: readonly PropertyKey[]): string[] | null {
  let s: z.ZodType = schema;
  let d: unknown = doc;
  for (let i = 0; ; i++) {
    s = unwrap(s, d);
    if (i === path.length) break;
    const key = path[i];
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(key)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else return null;
    if (!s) return null;
    d = d && typeof d === "object" ? (d as Record<PropertyKey, unknown>)[key as never] : undefined;
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : null;
}

function unwrap(s: z.ZodType, d: unknown): z.ZodType {
  for (let guard = 0; guard < 20; guard++) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodDiscriminatedUnion) {
      const disc = (s as unknown as { _zod: { def: { discriminator: string } } })._zod.def.discriminator;
      const kind = d && typeof d === "object" ? (d as Record<string, unknown>)[disc] : undefined;
      const match = (s.options as z.ZodType[]).find(
        (o) => o instanceof z.ZodObject && (o.shape as Record<string, z.ZodType>)[disc]?.safeParse(kind).success,
      );
      if (!match) return s;
      s = match;
    } else return s;
  }
  return s;
}

function formatIssues(err: z.ZodError, doc: unknown, source: string): string {
  const lines = err.issues.map((issue) => {
    const base = issue.path;
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeys(ExperimentSpecSchema, doc, base);
      return issue.keys
        .map((k) => {
          const p = pathString([...base, k]);
          return `  ${p}: unknown key${allowed ? `; allowed here: ${allowed.join(", ")}` : ""}`;
        })
        .join("\n");
    }
    let msg = issue.message;
    if (issue.code === "invalid_union" && "options" in issue) {
      msg = `expected one of ${(issue.options as unknown[]).map((o) => JSON.stringify(o)).join(", ")}`;
    } else if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
      msg = `required (${issue.message.replace("Invalid input: ", "")})`;
    }
    return `  ${pathString(base)}: ${msg}`;
  });
  return `invalid spec ${source}:\n${lines.join("\n")}`;
}
