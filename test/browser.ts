// One way to find and launch a real Chromium for the browser tests (dashboard, playground, report):
// Debian's `chromium` package, driven by playwright-core. Browsers cannot be downloaded at run time
// here, so nothing is fetched: a missing binary skips the tests with a reason, unless
// SGDLAB_REQUIRE_BROWSER=1 (set by .ci/run, which installs the package), where it fails them.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Where Debian, Ubuntu and others install Chromium (or Chrome); `SGDLAB_CHROMIUM` comes first. */
const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/lib/chromium/chromium",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

let found: string | null | undefined;

/** The path of a Chromium executable that answers `--version`, or null when there is none. */
export function chromiumPath(): string | null {
  if (found !== undefined) return found;
  const env = process.env.SGDLAB_CHROMIUM;
  found = null;
  for (const bin of env ? [env, ...CANDIDATES] : CANDIDATES) {
    if (!existsSync(bin)) continue;
    if (spawnSync(bin, ["--version"], { stdio: "ignore", timeout: 30_000 }).status === 0) {
      found = bin;
      break;
    }
  }
  return found;
}

/** Whether a missing browser must fail the tests (CI) rather than skip them. */
export function browserRequired(): boolean {
  return process.env.SGDLAB_REQUIRE_BROWSER === "1";
}

/**
 * The `skip` option of a browser test: a reason when no Chromium exists and none is required, else
 * false (the test then runs, and fails at {@link launchBrowser} if the browser is missing).
 */
export function browserSkip(): string | false {
  return chromiumPath() === null && !browserRequired()
    ? "no chromium binary (apt-get install chromium, or set SGDLAB_CHROMIUM)"
    : false;
}

/** Flags for a quiet, private, offline-friendly headless Chromium. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches headless Chromium with {@link CHROMIUM_ARGS}. Playwright gives every launch a fresh,
 * temporary profile folder (user-data-dir) and removes it on close. Throws when no Chromium exists
 * (a required browser that is missing fails the test that asked for it).
 */
export async function launchBrowser(opts: { args?: string[] } = {}): Promise<Browser> {
  const exe = chromiumPath();
  if (exe === null) throw new Error("no chromium binary (apt-get install chromium, or set SGDLAB_CHROMIUM)");
  return chromium.launch({
    executablePath: exe,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    timeout: 60_000,
  });
}
