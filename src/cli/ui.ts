/**
 * `sgdlab ui [--store DIR] [--port P] [--host H]`: serves the dashboard over a store (opened
 * read-only) until Ctrl-C. Binds 127.0.0.1 unless --host names another address (then it warns: the
 * dashboard has no authentication). --port 0 picks a free port; the URL printed is the one to open.
 */
import { UserError } from "../core/errors.js";
import { parse } from "./args.js";

export const UI_USAGE =
  "usage: sgdlab ui [--store DIR] [--port P] [--host H]\n" +
  "  serves the dashboard of the run store DIR (default ./.sgdlab, opened read-only) at http://H:P/\n" +
  "  (default 127.0.0.1:8123; --port 0 picks a free port); the playground is at /playground/.\n" +
  "  Ctrl-C stops it. Another --host than a loopback address exposes every run to the network: no login.";

/** The port the dashboard listens on when none is given. */
export const DEFAULT_PORT = 8123;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/** Runs `sgdlab ui` until `signal` aborts or the process gets SIGINT/SIGTERM; returns the exit code. */
export async function uiCommand(
  argv: string[],
  out: (s: string) => void,
  warn: (s: string) => void,
  signal?: AbortSignal,
): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      store: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    "ui",
  );
  if (values.help) {
    out(UI_USAGE);
    return 0;
  }
  if (positionals.length) throw new UserError(`ui: unexpected argument "${positionals[0]}"; see "sgdlab ui --help"`);
  const portText = values.port ?? String(DEFAULT_PORT);
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535))
    throw new UserError(`ui: --port must be an integer from 0 to 65535, got "${portText}"`);
  const host = values.host ?? "127.0.0.1";
  if (host === "" || /[\s/]/.test(host))
    throw new UserError(`ui: --host must be an address or host name, got "${host}"`);
  const loopback = LOOPBACK.has(host);
  if (values.store === "") throw new UserError("ui: --store needs a folder");

  const { createUiServer } = await import("../ui/index.js");
  const server = await createUiServer({ store: values.store ?? ".sgdlab", loopback });
  let address: string;
  try {
    address = await server.app.listen({ port, host });
  } catch (e) {
    await server.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UserError(`ui: port ${port} on ${host} is in use; choose another with --port`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN")
      throw new UserError(`ui: cannot listen on --host ${host} (${code}): not an address of this machine`);
    if (code === "EACCES")
      throw new UserError(`ui: no permission to listen on port ${port} (EACCES); use one above 1023`);
    throw e;
  }
  if (!loopback)
    warn(
      `ui: listening on ${host}, not on a loopback address: anyone who can reach this machine can read every run ` +
        "in the store (there is no login)",
    );
  const info = server.dashboard.info();
  out(
    `sgdlab ui: store ${info.store} (${info.runs} runs, read-only) at ${address.replace("://[::]", "://localhost").replace("://0.0.0.0", "://localhost")}/  (Ctrl-C stops)`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener("SIGINT", stop);
      process.removeListener("SIGTERM", stop);
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    signal?.addEventListener("abort", stop);
    if (signal?.aborted) stop();
  });
  await server.close();
  out("sgdlab ui: stopped");
  return 0;
}
