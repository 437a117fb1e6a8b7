/**
 * `sgdlab ui`'s HTTP server (fastify): the JSON API over a read-only store (see dashboard.ts), live
 * change notices as server-sent events, downloads with their content types, the dashboard page at `/`
 * and the playground at `/playground/` (both built by `npm run build:web` into dist/web/).
 *
 * Security: every path and query parameter is checked against a JSON schema before a handler runs
 * (ids and names by pattern, steps as bounded integers; a failure answers 400 naming the parameter);
 * no SQL is built from request text; files are served from a fixed table (staticFiles.ts) or, for
 * checkpoints, from paths the store recorded and that are checked to lie in its `checkpoints/`
 * folder. On a loopback address the `Host` header must name a loopback host (a page of another
 * site cannot reach the server through DNS rebinding). Every answer says `nosniff`; pages carry a
 * content security policy that allows only this origin (vega compiles its expressions with
 * `Function`, hence `'unsafe-eval'`).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { createReadStream } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../core/errors.js";
import { RUN_STATUSES, type RunStatus } from "../store/index.js";
import { Dashboard } from "./dashboard.js";
import { DEFAULT_MAX_POINTS, MAX_POINTS_LIMIT } from "./downsample.js";
import { StoreWatcher } from "./live.js";
import { SORT_COLUMNS, type SortColumn } from "./runsTable.js";
import { StaticApp } from "./staticFiles.js";

/** Options of {@link createUiServer}. */
export interface UiServerOptions {
  /** The store folder (must exist). */
  store: string;
  /** The folder holding the built apps `dashboard/` and `playground/` (default: dist/web). */
  webRoot?: string;
  /** How often the store is polled for changes, ms (default 500). */
  pollMs?: number;
  /** Whether the server will listen on a loopback address (then the Host header is checked); default true. */
  loopback?: boolean;
}

/** Runs shown per page of the runs table when none is asked for, and the most a page may hold. */
export const PAGE_SIZE = 50;
export const PAGE_LIMIT = 500;

const RUN_ID = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$" } as const;
const STEP = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const POINTS = { type: "integer", minimum: 4, maximum: MAX_POINTS_LIMIT, default: DEFAULT_MAX_POINTS } as const;
const METRIC_KEY = { type: "string", pattern: "^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$" } as const;
// a sweep name is a bound SQL value only; refuse control characters and path separators anyway
const SWEEP_NAME = { type: "string", pattern: "^[^\\u0000-\\u001f/\\\\]{1,200}$" } as const;
const ARTIFACT_NAME = { type: "string", pattern: "^(?!.*\\.\\.)[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$" } as const;

const CSP =
  "default-src 'self'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; " +
  "frame-ancestors 'none'; form-action 'self'";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The hostname part of a Host header (`[::1]:8080` → `[::1]`, `localhost:80` → `localhost`). */
function hostOf(header: string | undefined): string {
  if (!header) return "";
  const h = header.toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  return h.split(":")[0];
}

/** The default location of the built apps: dist/web beside this module's folder (dist/ui/). */
export function defaultWebRoot(): string {
  return fileURLToPath(new URL("../web", import.meta.url));
}

/** Why a request failed, as HTTP: 404 for things that do not exist, 400 for other user errors. */
function statusOf(e: UserError): number {
  return /^(no (run|sweep|reproduction)\b|run \S+ has no )|has no (checkpoint|artifact)/.test(e.message) ? 404 : 400;
}

const attachment = (name: string) => `attachment; filename="${name}"`;

/** A UI server with its store, not yet listening. `close()` stops live streams and closes the store. */
export interface UiServer {
  app: FastifyInstance;
  dashboard: Dashboard;
  watcher: StoreWatcher;
  close(): Promise<void>;
}

/** Builds the server over the store in `opts.store` (opened read-only; a missing store is a `UserError`). */
export async function createUiServer(opts: UiServerOptions): Promise<UiServer> {
  const dashboard = Dashboard.open(opts.store);
  const watcher = new StoreWatcher(dashboard.db, opts.pollMs ?? 500);
  const webRoot = opts.webRoot ?? defaultWebRoot();
  const dashboardApp = StaticApp.load(join(webRoot, "dashboard"));
  let playground = StaticApp.load(join(webRoot, "playground"));
  const streams = new Set<ServerResponse>();
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    ajv: { customOptions: { allErrors: false } },
  });

  // NaN and ±Infinity (a diverged run's final loss) travel as the strings "NaN", "Infinity",
  // "-Infinity", as in `sgdlab export --format json` (JSON itself would turn them into null)
  app.setReplySerializer((payload) =>
    JSON.stringify(payload, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)),
  );
  app.addHook("onRequest", async (req, reply) => {
    if ((opts.loopback ?? true) && !LOOPBACK_HOSTS.has(hostOf(req.headers.host))) {
      await reply
        .code(403)
        .type("text/plain; charset=utf-8")
        .send(`sgdlab ui answers only requests for localhost (Host: ${req.headers.host ?? "none"})`);
    }
  });
  app.addHook("onSend", async (_req, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
    reply.header("content-security-policy", CSP);
    if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
    return payload;
  });
  app.setErrorHandler(
    (err: Error & { validation?: unknown; validationContext?: string; statusCode?: number }, req, reply) => {
      if (err.validation) {
        return reply.code(400).send({ error: `invalid ${err.validationContext ?? "request"}: ${err.message}` });
      }
      if (err instanceof UserError) return reply.code(statusOf(err)).send({ error: err.message.split("\n")[0] });
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
        return reply.code(err.statusCode).send({ error: err.message });
      process.stderr.write(`sgdlab ui: ${req.method} ${req.url}: ${err.stack ?? err.message}\n`);
      return reply.code(500).send({ error: "internal error (see the server's terminal)" });
    },
  );
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith("/api/")) return reply.code(404).send({ error: `no API route ${req.method} ${req.url}` });
    return reply.code(404).type("text/plain; charset=utf-8").send(`not found: ${req.url}`);
  });

  // ——— JSON API ———
  app.get("/api/info", async () => ({
    ...dashboard.info(),
    readonly: true,
    maxPoints: DEFAULT_MAX_POINTS,
    pageSize: PAGE_SIZE,
    playground: playground !== null,
  }));

  app.get(
    "/api/runs",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            q: { type: "string", maxLength: 200 },
            status: { type: "string", enum: [...RUN_STATUSES] },
            sweep: SWEEP_NAME,
            sort: { type: "string", enum: [...SORT_COLUMNS], default: "created" },
            key: METRIC_KEY,
            order: { type: "string", enum: ["asc", "desc"], default: "desc" },
            offset: { type: "integer", minimum: 0, maximum: 1e9, default: 0 },
            limit: { type: "integer", minimum: 1, maximum: PAGE_LIMIT, default: PAGE_SIZE },
          },
        },
      },
    },
    async (req) => {
      const q = req.query as {
        q?: string;
        status?: RunStatus;
        sweep?: string;
        sort: SortColumn;
        key?: string;
        order: "asc" | "desc";
        offset: number;
        limit: number;
      };
      if (q.sort === "metric" && !q.key) throw new UserError("sort=metric needs key=<metric key>, e.g. test/accuracy");
      return dashboard.runs({
        search: q.q,
        status: q.status,
        sweep: q.sweep,
        sort: q.sort,
        metricKey: q.key,
        descending: q.order === "desc",
        offset: q.offset,
        limit: q.limit,
      });
    },
  );

  const idParams = { type: "object", properties: { id: RUN_ID }, required: ["id"] } as const;
  const stepParams = { type: "object", properties: { id: RUN_ID, step: STEP }, required: ["id", "step"] } as const;

  app.get("/api/runs/:id", { schema: { params: idParams } }, async (req) => {
    return dashboard.run((req.params as { id: string }).id);
  });

  app.get(
    "/api/runs/:id/figures",
    {
      schema: {
        params: idParams,
        querystring: { type: "object", properties: { points: POINTS } },
      },
    },
    async (req) => dashboard.runFigures((req.params as { id: string }).id, (req.query as { points: number }).points),
  );

  app.get("/api/runs/:id/export.csv", { schema: { params: idParams } }, async (req, reply) => {
    const { runId, text } = dashboard.exportText((req.params as { id: string }).id, "csv");
    return reply
      .type("text/csv; charset=utf-8")
      .header("content-disposition", attachment(`${runId}.csv`))
      .send(text);
  });
  app.get("/api/runs/:id/export.json", { schema: { params: idParams } }, async (req, reply) => {
    const { runId, text } = dashboard.exportText((req.params as { id: string }).id, "json");
    return reply
      .type("application/json; charset=utf-8")
      .header("content-disposition", attachment(`${runId}.json`))
      .send(text);
  });

  app.get("/api/runs/:id/checkpoints/:step/checkpoint.ckpt", { schema: { params: stepParams } }, async (req, reply) => {
    const p = req.params as { id: string; step: number };
    const f = dashboard.checkpointFile(p.id, p.step);
    return reply
      .type("application/octet-stream")
      .header("content-length", f.bytes)
      .header("content-disposition", attachment(`${f.runId}-step-${p.step}.ckpt`))
      .send(createReadStream(f.path));
  });
  app.get(
    "/api/runs/:id/checkpoints/:step/weights.safetensors",
    { schema: { params: stepParams } },
    async (req, reply) => {
      const p = req.params as { id: string; step: number };
      const w = await dashboard.weights(p.id, p.step);
      return reply
        .type("application/octet-stream")
        .header("content-disposition", attachment(`${w.runId}-step-${p.step}.safetensors`))
        .send(w.bytes);
    },
  );

  app.get(
    "/api/runs/:id/artifact",
    {
      schema: {
        params: idParams,
        querystring: { type: "object", properties: { name: ARTIFACT_NAME, step: STEP }, required: ["name"] },
      },
    },
    async (req, reply) => {
      const q = req.query as { name: string; step?: number };
      const a = dashboard.artifact((req.params as { id: string }).id, q.name, q.step);
      const file = `${a.runId}-${q.name.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
      if (a.kind === "blob")
        return reply
          .type("application/octet-stream")
          .header("content-disposition", attachment(`${file}.bin`))
          .send(Buffer.from(a.value as Uint8Array));
      return reply
        .type("application/json; charset=utf-8")
        .send(
          JSON.stringify(a.value, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)),
        );
    },
  );

  app.get(
    "/api/compare",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            ids: {
              type: "string",
              pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(,[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,19}$",
            },
            key: METRIC_KEY,
            points: POINTS,
          },
          required: ["ids"],
        },
      },
    },
    async (req) => {
      const q = req.query as { ids: string; key?: string; points: number };
      return dashboard.compare([...new Set(q.ids.split(","))], q.key, q.points);
    },
  );

  app.get("/api/sweeps", async () => dashboard.sweeps());
  app.get(
    "/api/sweeps/:name",
    { schema: { params: { type: "object", properties: { name: SWEEP_NAME }, required: ["name"] } } },
    async (req) => dashboard.sweep((req.params as { name: string }).name),
  );
  // the jobs and workers of the Redis queues the store's sweeps ran on (as `sgdlab sweeps`; the
  // password, never stored, comes from SGDLAB_REDIS_PASSWORD); bullmq is loaded only when there are any
  app.get("/api/queues", async () => {
    const urls = dashboard.executors();
    if (urls.length === 0) return { queue: [], workers: [], rejected: [], unreachable: [] };
    const { queueReport, queueViews } = await import("../sweeps/redisExecutor.js");
    return queueReport(await queueViews(urls));
  });
  app.get("/api/reproductions", async () => dashboard.reproductions());
  app.get("/api/reproductions/:id", { schema: { params: idParams } }, async (req) =>
    dashboard.reproduction((req.params as { id: string }).id),
  );

  // ——— live change notices (server-sent events) ———
  app.get("/api/live", (req: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-content-type-options": "nosniff",
    });
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ time: Date.now() })}\n\n`);
    const off = watcher.subscribe((c) => res.write(`event: change\ndata: ${JSON.stringify(c)}\n\n`));
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    ping.unref();
    streams.add(res);
    req.raw.on("close", () => {
      off();
      clearInterval(ping);
      streams.delete(res);
    });
  });

  // ——— the apps ———
  const page = (which: StaticApp | null, rel: string, reply: FastifyReply, missing: string) => {
    if (which === null) return reply.code(404).type("text/plain; charset=utf-8").send(missing);
    const f = which.get(rel);
    if (f === null) return reply.code(404).type("text/plain; charset=utf-8").send(`not found: ${rel}`);
    return reply.type(f.type).header("cache-control", "no-cache").send(f.body);
  };
  const noDashboard = `the dashboard is not built (no ${join(webRoot, "dashboard", "index.html")}): run npm run build`;
  const noPlayground = `the playground is not built (no ${join(webRoot, "playground", "index.html")}): run npm run build:web`;
  app.get("/", (_req, reply) => page(dashboardApp, "", reply, noDashboard));
  app.get("/playground", (_req, reply) => reply.redirect("/playground/", 301));
  app.get("/playground/*", (req, reply) => {
    playground ??= StaticApp.load(join(webRoot, "playground"));
    return page(playground, (req.params as { "*": string })["*"], reply, noPlayground);
  });
  app.get("/*", (req, reply) => {
    const rel = (req.params as { "*": string })["*"];
    if (rel.startsWith("api/")) return reply.code(404).send({ error: `no API route GET /${rel}` });
    return page(dashboardApp, rel, reply, noDashboard);
  });

  return {
    app,
    dashboard,
    watcher,
    async close() {
      watcher.stop();
      for (const s of streams) s.end();
      await app.close();
      dashboard.close();
    },
  };
}
