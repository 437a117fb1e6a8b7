import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "../core/errors.js";

/** Parses `argv` with node:util's parseArgs, turning its errors into usage errors (exit 2). */
export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T, command: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UserError(`${command}: ${(e as Error).message}\nrun "sgdlab ${command} --help" for usage`);
  }
}

/** Options every data-printing command accepts. */
export const common = {
  store: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  threads: { type: "string" },
} as const;
