import { randomBytes } from "node:crypto";

/**
 * A short run id that sorts by creation second: `YYYYMMDD-HHMMSS-xxxx` (UTC time, 4 random hex digits),
 * e.g. `20261126-231500-ab12`. Runs started in the same second are told apart by the suffix
 * (the store retries on the rare collision).
 */
export function newRunId(now: number = Date.now()): string {
  const d = new Date(now);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const date = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  const time = `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  return `${date}-${time}-${randomBytes(2).toString("hex")}`;
}

/**
 * Whether a process with this pid exists on this host (`process.kill(pid, 0)`: ESRCH means gone,
 * EPERM means alive but owned by someone else).
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
