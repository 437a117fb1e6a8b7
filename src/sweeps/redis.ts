/**
 * What the coordinator and the workers of a sweep on Redis share: the connection (`redis://` and
 * `rediss://` URLs, password and database included), the BullMQ queue's name and options, the job
 * payload and its validation, and the "shelf" where run bundles travel (progress checkpoints and
 * results, in Redis or in a shared folder).
 *
 * Why BullMQ on Redis: a small, well-kept job queue with exactly the guarantees a sweep needs and
 * nothing to operate but one `redis-server` — job ids (so enqueueing is idempotent), locks renewed
 * by a live worker and a stalled-job check that hands a dead worker's job to another one, bounded
 * attempts with exponential backoff, an `UnrecoverableError` for inputs that must not be retried,
 * and state that survives a Redis restart with persistence (AOF) on. Nothing here schedules.
 */
import { readFileSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Redis, type RedisOptions } from "ioredis";
import { z } from "zod";
import { UserError } from "../core/errors.js";
import type { ResolvedExperiment } from "../experiments/resolve.js";
import { writeFileAtomic, type SweepMember, type SweepRecord } from "../store/index.js";
import { memberExperiment } from "./plan.js";

/** A parsed `redis://` / `rediss://` URL. */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL with its password masked, for messages and listings. */
  display: string;
  /** The URL without its password (what a sweep remembers; the password comes from the environment). */
  bare: string;
}

/**
 * Parses `redis[s]://[[user]:password@]host[:port][/db]` (port 6379, database 0 by default).
 * `rediss://` connects with TLS (Node's CA list, plus the PEM file named by `SGDLAB_REDIS_CA`).
 * A password may also come from `SGDLAB_REDIS_PASSWORD`, so that it need not appear on command
 * lines. Anything else is a `UserError` naming `flag`.
 */
export function parseRedisUrl(text: string, flag = "--executor"): RedisTarget {
  const expect = `${flag} expects redis://HOST:PORT[/DB] or rediss://… (TLS)`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UserError(`${expect}, got "${text}"`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new UserError(`${expect}, got "${text}"`);
  if (!u.hostname) throw new UserError(`${flag}: the URL has no host: "${text}"`);
  const port = u.port === "" ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : /^\d+$/.test(dbText) ? Number(dbText) : NaN;
  if (!Number.isSafeInteger(db) || db > 15) {
    throw new UserError(`${flag}: the database must be an integer from 0 to 15, got "${dbText}"`);
  }
  if (u.search || u.hash) throw new UserError(`${flag}: the URL takes no query or fragment: "${text}"`);
  const password = u.password ? decodeURIComponent(u.password) : process.env.SGDLAB_REDIS_PASSWORD || undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const tls = u.protocol === "rediss:";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const who = username ? `${username}${password ? ":***" : ""}@` : password ? ":***@" : "";
  const bare = `${u.protocol}//${username ? `${encodeURIComponent(username)}@` : ""}${u.host}/${db}`;
  return { host, port, db, username, password, tls, display: `${u.protocol}//${who}${u.host}/${db}`, bare };
}

/**
 * ioredis options for `t`. `follow` connections (workers, a coordinator following its sweep) retry
 * forever, so that a Redis restart is waited out; others (a status listing) give up after a few
 * seconds with a clear error.
 */
export function redisOptions(t: RedisTarget, mode: "follow" | "once" = "follow"): RedisOptions {
  const ca = process.env.SGDLAB_REDIS_CA;
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    username: t.username,
    password: t.password,
    ...(t.tls ? { tls: { servername: t.host, ...(ca ? { ca: readFileSync(ca) } : {}) } } : {}),
    connectTimeout: 5000,
    ...(mode === "follow"
      ? { maxRetriesPerRequest: null, retryStrategy: (n: number) => Math.min(100 * n, 2000) }
      : { maxRetriesPerRequest: 1, retryStrategy: (n: number) => (n > 3 ? null : 300), enableOfflineQueue: true }),
  };
}

/** A connected client; "once" clients that cannot connect give a `UserError` naming the URL. */
export async function connect(t: RedisTarget, mode: "follow" | "once" = "follow"): Promise<Redis> {
  const r = new Redis({ ...redisOptions(t, mode), lazyConnect: true });
  let last: Error | undefined;
  r.on("error", (e: Error) => (last = e));
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    r.disconnect();
    const why = (last ?? (e as Error)).message;
    throw new UserError(`cannot reach Redis at ${t.display}: ${why}`, 1);
  }
  return r;
}

/** BullMQ's key prefix and the queue every sgdlab worker serves. */
export const PREFIX = "sgdlab";
export const QUEUE = "members";
/** Redis keys of sgdlab's own (non-BullMQ) data. */
export const keys = {
  shelf: (jobId: string) => `${PREFIX}:shelf:${jobId}`,
  worker: (name: string) => `${PREFIX}:workers:${name}`,
  workers: `${PREFIX}:workers:*`,
  rejected: `${PREFIX}:rejected`,
};
/** Seconds a worker's heartbeat key lives; it is refreshed every third of that. */
export const WORKER_TTL_S = 15;

/** The BullMQ job id of member `index` of sweep `sweepId` (BullMQ ids may not contain ":"). */
export function jobIdOf(sweepId: string, index: number): string {
  return `${sweepId}-${index}`;
}

/** The job payload format. */
export const PAYLOAD_FORMAT = "sgdlab-member/1";

const word = z.string().regex(/^[\w.-]+$/, "expected letters, digits, '.', '_' or '-'");
const payloadSchema = z
  .object({
    format: z.literal(PAYLOAD_FORMAT),
    sweep: z
      .object({
        id: word,
        name: z.string().regex(/^[^\s/]+$/, "expected a sweep name without spaces or '/'"),
        spec: z.unknown(),
        grid: z.unknown(),
        createdAt: z.number().int(),
      })
      .strict(),
    member: z
      .object({
        index: z.number().int().nonnegative(),
        overrides: z.record(z.string(), z.unknown()),
        specHash: z.string().regex(/^[0-9a-f]{64}$/, "expected a sha256 in hex"),
      })
      .strict(),
    threads: z.number().int().min(1).max(64),
    codeVersion: z.string(),
  })
  .strict();

/** What a job carries: everything a machine without the coordinator's store needs to run one member. */
export type MemberPayload = z.infer<typeof payloadSchema>;

/** The payload of member `index` of `sweep` (as the coordinator enqueues it). */
export function memberPayload(sweep: SweepRecord, index: number, threads: number, codeVersion: string): MemberPayload {
  const m = sweep.members.find((x) => x.index === index) as SweepMember;
  return {
    format: PAYLOAD_FORMAT,
    sweep: { id: sweep.id, name: sweep.name, spec: sweep.spec, grid: sweep.grid, createdAt: sweep.createdAt },
    member: { index: m.index, overrides: m.overrides, specHash: m.specHash },
    threads,
    codeVersion,
  };
}

/**
 * Validates a job before anything runs: the payload's shape, its job id, and the member's spec
 * through the same zod spec schema as `sgdlab run` (`memberExperiment`), whose hash must equal the
 * one the coordinator recorded (so a worker whose sgdlab resolves the spec differently refuses it
 * rather than produce other numbers). Throws a `UserError` saying what is wrong.
 */
export function checkPayload(
  jobId: string | undefined,
  data: unknown,
): { payload: MemberPayload; exp: ResolvedExperiment } {
  const r = payloadSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(`job ${jobId}: not an sgdlab member payload: ${i.path.join(".") || "(top)"}: ${i.message}`);
  }
  const p = r.data;
  if (jobId !== jobIdOf(p.sweep.id, p.member.index)) {
    throw new UserError(`job ${jobId}: its id is not ${jobIdOf(p.sweep.id, p.member.index)} (sweep id - member index)`);
  }
  const exp = memberExperiment(p.sweep.spec, p.sweep.name, p.member.index, p.member.overrides);
  if (exp.hash !== p.member.specHash) {
    throw new UserError(
      `job ${jobId}: the member's spec resolves to hash ${exp.hash.slice(0, 12)} here, not ` +
        `${p.member.specHash.slice(0, 12)} as on the coordinator (sgdlab ${p.codeVersion} there; another version here?)`,
    );
  }
  return { payload: p, exp };
}

/**
 * Where run bundles travel between machines, per job: `progress` (the run up to its latest
 * checkpoint, which a worker taking the job over resumes from) and `result:<runId>` (the run as it
 * ended), plus `last` (the run id of the newest result). Bundles live in the Redis hash
 * `sgdlab:shelf:<jobId>`, or — with `dir`, a folder every machine mounts at the same path — as files
 * there with the hash holding their paths (for models too large to pass through Redis).
 */
export class BundleShelf {
  constructor(
    private readonly redis: Redis,
    private readonly dir?: string,
  ) {}

  async put(jobId: string, slot: string, bytes: Uint8Array, extra: Record<string, string> = {}): Promise<void> {
    let value: Buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.dir !== undefined) {
      const file = resolve(join(this.dir, jobId, `${slot.replace(/:/g, "-")}.bundle`));
      writeFileAtomic(file, bytes);
      value = Buffer.from(`file:${file}`);
    }
    await this.redis.hset(keys.shelf(jobId), { [slot]: value, ...extra });
  }

  /** The bundle bytes in `slot`, or null. A referenced file that is gone is a `UserError`. */
  async get(jobId: string, slot: string): Promise<Buffer | null> {
    const v = await this.redis.hgetBuffer(keys.shelf(jobId), slot);
    if (v === null) return null;
    if (v.subarray(0, 5).toString() === "file:") {
      const file = v.subarray(5).toString();
      try {
        return readFileSync(file);
      } catch (e) {
        throw new UserError(
          `bundle ${slot} of job ${jobId} is in ${file}, which cannot be read here (${(e as Error).message}); mount the --artifacts folder at the same path`,
          1,
        );
      }
    }
    return v;
  }

  async field(jobId: string, name: string): Promise<string | null> {
    return this.redis.hget(keys.shelf(jobId), name);
  }

  /** Forgets everything of a job (before it is enqueued again with `--retry-failed`). */
  async drop(jobId: string): Promise<void> {
    const all = await this.redis.hgetall(keys.shelf(jobId));
    for (const v of Object.values(all)) {
      // only bundle files of this job (a path written into Redis by someone else is not ours to delete)
      const file = v.startsWith("file:") ? v.slice(5) : "";
      if (file.endsWith(".bundle") && basename(dirname(file)) === jobId) rmSync(file, { force: true });
    }
    await this.redis.del(keys.shelf(jobId));
  }
}
