/**
 * Command-line parsing shared by every command: node:util's parseArgs with usage errors (exit 2)
 * and the options every data-printing command accepts.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "../core/errors.js";
import { parseThreads } from "../core/workers.js";

/** Options every data-printing command accepts. */
export const common = {
  store: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  threads: { type: "string" },
} as const;

/** Parses `argv` with node:util's parseArgs, turning its errors into usage errors (exit 2). */
export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  command: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    const threads = (r.values as { threads?: unknown }).threads;
    if (typeof threads === "string") parseThreads(threads, "--threads");
    return r;
  } catch (e) {
    if (e instanceof UserError) throw e;
    // node's messages can span lines ("… is ambiguous.\nDid you forget …"): keep the first, and say
    // how to pass a value starting with "-"
    const first = (e as Error).message.split("\n")[0];
    const hint = /ambiguous/.test(first) ? ' (write --flag=-value for a value starting with "-")' : "";
    throw new UserError(`${command}: ${first}${hint}; see "sgdlab ${command} --help"`);
  }
}
