import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * The version of the code that produced a run: `<package version>+g<12 hex of the git commit>` when the
 * package sits in a git checkout, else the package version alone (e.g. `0.1.0+g715a9ab1c2d3`).
 * Reads `.git/HEAD` (and loose or packed refs, worktrees included) without spawning git; uncommitted
 * changes are not detected. Cached per process.
 */
export function codeVersion(): string {
  cached ??= computeCodeVersion(dirname(fileURLToPath(import.meta.url)));
  return cached;
}

/** {@link codeVersion} from a starting folder (walks up to the sgdlab package.json); exported for tests. */
export function computeCodeVersion(startDir: string): string {
  const root = findPackageRoot(startDir);
  if (root === undefined) return "unknown";
  const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: string }).version;
  const commit = gitCommit(root);
  const v = version ?? "unknown";
  return commit === undefined ? v : `${v}+g${commit.slice(0, 12)}`;
}

function findPackageRoot(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const pj = join(d, "package.json");
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name === "sgdlab") return d;
      } catch {
        // not ours; keep walking
      }
    }
    if (dirname(d) === d) return undefined;
  }
}

/** The commit checked out in `root`'s git repository, or undefined when there is none or it is unreadable. */
export function gitCommit(root: string): string | undefined {
  try {
    let gitDir = join(root, ".git");
    if (!existsSync(gitDir)) return undefined;
    if (statSync(gitDir).isFile()) {
      // worktree or submodule: ".git" is a file "gitdir: <path>"
      const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(gitDir, "utf8"));
      if (!m) return undefined;
      gitDir = resolve(root, m[1].trim());
    }
    const head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    if (/^[0-9a-f]{40,64}$/.test(head)) return head;
    const ref = /^ref:\s*(.+)$/.exec(head)?.[1].trim();
    if (ref === undefined) return undefined;
    const commonFile = join(gitDir, "commondir");
    const common = existsSync(commonFile) ? resolve(gitDir, readFileSync(commonFile, "utf8").trim()) : gitDir;
    for (const d of [gitDir, common]) {
      const loose = join(d, ref);
      if (existsSync(loose)) return readFileSync(loose, "utf8").trim();
    }
    const packed = join(common, "packed-refs");
    if (!existsSync(packed)) return undefined;
    for (const line of readFileSync(packed, "utf8").split("\n")) {
      const [sha, name] = line.trim().split(" ");
      if (name === ref && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
    }
    return undefined;
  } catch {
    return undefined;
  }
}
