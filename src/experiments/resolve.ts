/**
 * Spec resolution: read a YAML/JSON file, apply `--set a.b=value` overrides, validate against
 * `ExperimentSpecSchema`, fill defaults, freeze, hash. Every failure is a `UserError` (exit code 2)
 * naming the file, the field path and what is allowed.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UserError } from "../core/errors.js";
import { hashSpec } from "../store/records.js";
import { checkMemory } from "./memory.js";
import { ExperimentSpecSchema, type ExperimentSpec } from "./schema.js";

export { canonicalJson } from "../store/records.js";

/** A validated, defaults-filled, deep-frozen spec with its content hash. */
export interface ResolvedExperiment {
  readonly spec: Readonly<ExperimentSpec>;
  /** The run store's `hashSpec`: sha256 (hex) of the canonical JSON (sorted keys) of `spec`. */
  readonly hash: string;
}

/** Reads and parses a spec file (YAML or JSON by content; JSON is YAML). */
export function readSpecFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (e as Error).message;
    throw new UserError(`cannot read spec file ${path}: ${why}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { logLevel: "error" });
  } catch (e) {
    throw new UserError(`spec file ${path} is not valid YAML/JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  checkDocument(doc, path);
  return doc;
}

/** Keys that could reach an object's prototype; refused anywhere in a spec or a `--set` path. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
/** The deepest nesting a spec may have (the schema itself is a few levels deep). */
const MAX_DEPTH = 32;

/**
 * Refuses documents no spec can be: keys that could reach a prototype (`__proto__`, `constructor`,
 * `prototype`) and nesting deeper than {@link MAX_DEPTH}, so that nothing downstream (zod, freezing,
 * hashing) sees them.
 */
function checkDocument(doc: unknown, source: string, path: string[] = []): void {
  if (doc === null || typeof doc !== "object") return;
  if (path.length >= MAX_DEPTH) {
    throw new UserError(`invalid spec ${source}: nested deeper than ${MAX_DEPTH} levels at ${path.join(".")}`);
  }
  for (const k of Object.keys(doc)) {
    if (FORBIDDEN_KEYS.has(k)) {
      throw new UserError(`invalid spec ${source}: key "${[...path, k].join(".")}" is not allowed`);
    }
    checkDocument((doc as Record<string, unknown>)[k], source, [...path, k]);
  }
}

/**
 * Applies `path=value` overrides (dotted paths; array indices as numbers) to a plain object, in place
 * on a copy. Values are parsed as YAML scalars/flow collections (`0.1`, `true`, `[64, 64]`, `tanh`).
 */
export function applyOverrides(doc: unknown, overrides: readonly string[]): unknown {
  checkDocument(doc, "spec");
  const root = structuredClone(doc ?? {}) as Record<string, unknown>;
  if (typeof root !== "object" || Array.isArray(root)) {
    if (overrides.length) throw new UserError("--set needs a spec that is a mapping (key: value) at the top level");
    return root;
  }
  for (const o of overrides) {
    const eq = o.indexOf("=");
    if (eq <= 0) throw new UserError(`--set expects path=value, got "${o}"`);
    const path = o.slice(0, eq).split(".");
    if (path.some((p) => p === "")) throw new UserError(`--set path "${o.slice(0, eq)}" has an empty component`);
    const bad = path.find((p) => FORBIDDEN_KEYS.has(p));
    if (bad !== undefined) throw new UserError(`--set ${o.slice(0, eq)}: "${bad}" is not a spec field`);
    const text = o.slice(eq + 1);
    let value: unknown;
    try {
      value = parseYaml(text, { logLevel: "error" });
    } catch (e) {
      throw new UserError(
        `--set ${o.slice(0, eq)}: the value ${JSON.stringify(text)} is not valid YAML ` +
          `(${(e as Error).message.split("\n")[0]}); quote it to pass a string, e.g. ${o.slice(0, eq)}='"…"'`,
      );
    }
    checkDocument(value, `--set ${o.slice(0, eq)}`);
    let cur: Record<string, unknown> = root;
    for (const key of path.slice(0, -1)) {
      const next = Object.hasOwn(cur, key) ? cur[key] : undefined;
      if (next === undefined || next === null) cur[key] = {};
      else if (typeof next !== "object") {
        throw new UserError(`--set ${o.slice(0, eq)}: "${key}" is a ${typeof next}, not an object`);
      }
      cur = cur[key] as Record<string, unknown>;
    }
    cur[path[path.length - 1]] = value;
  }
  return root;
}

/** Validates a parsed document and returns the frozen, hashed experiment. */
export function resolveSpec(doc: unknown, source = "spec"): ResolvedExperiment {
  checkDocument(doc, source);
  const r = ExperimentSpecSchema.safeParse(doc);
  if (!r.success) throw new UserError(formatIssues(r.error, doc, source));
  checkMemory(r.data, source);
  const spec = deepFreeze(r.data);
  return { spec, hash: hashSpec(spec) };
}

/** Reads, overrides and resolves a spec file. */
export function loadSpec(path: string, overrides: readonly string[] = []): ResolvedExperiment {
  return resolveSpec(applyOverrides(readSpecFile(path), overrides), path);
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

/** The document's value at `path`, or undefined. */
function valueAt(doc: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let d: unknown = doc;
  for (const k of path) {
    if (d === null || typeof d !== "object" || !Object.hasOwn(d, k as string))
      return { found: false, value: undefined };
    d = (d as Record<PropertyKey, unknown>)[k as never];
  }
  return { found: true, value: d };
}

/** A received value for a message: JSON, at most 60 characters. */
function shown(v: unknown): string {
  let t: string;
  try {
    t = typeof v === "number" && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    t = String(v);
  }
  return t.length > 60 ? `${t.slice(0, 57)}…` : t;
}

/** What one zod issue expected, in a few words ("a number", `"full"`, "an integer ≥ 1"). */
function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "int"
        ? "an integer"
        : `a${/^[aeiou]/.test(issue.expected) ? "n" : ""} ${issue.expected}`;
    case "invalid_value":
      return issue.values.map((v) => shown(v)).join(" | ");
    case "too_small":
      return `${issue.origin === "array" || issue.origin === "string" ? `${issue.origin} length` : "a number"} ${issue.inclusive ? "≥" : ">"} ${String(issue.minimum)}`;
    case "too_big":
      return `${issue.origin === "array" || issue.origin === "string" ? `${issue.origin} length` : "a number"} ${issue.inclusive ? "≤" : "<"} ${String(issue.maximum)}`;
    default:
      return issue.message.replace(/^Invalid (input|option): (expected )?/, "");
  }
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
    const got = valueAt(doc, base);
    let msg: string;
    if (!got.found || got.value === undefined) {
      msg = `required (${expectation(issue)})`;
    } else if (issue.code === "invalid_union" && "options" in issue && Array.isArray(issue.options)) {
      const options = (issue.options as unknown[]).filter((o) => o !== undefined && o !== null);
      msg = `expected one of ${options.map((o) => shown(o)).join(", ")}`;
    } else if (issue.code === "invalid_union" && issue.errors.length) {
      const alternatives = [...new Set(issue.errors.map((branch) => (branch[0] ? expectation(branch[0]) : "?")))];
      msg = `expected ${alternatives.join(" or ")}`;
    } else if (issue.code === "custom") {
      msg = issue.message;
    } else {
      msg = `expected ${expectation(issue)}`;
    }
    if (got.found && got.value !== undefined) msg += `, got ${shown(got.value)}`;
    return `  ${pathString(base)}: ${msg}`;
  });
  return `invalid spec ${source}:\n${lines.join("\n")}`;
}
