/**
 * The built browser apps (dist/web/<app>/) as a fixed table of files: the folder is listed once, and a
 * request is answered only when its path is a key of that table, so no request path ever reaches the
 * file system (no traversal, no symlink escapes, no directory listings).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";

/** Content types of the files the apps ship. */
export const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
  ".woff2": "font/woff2",
};

/** One app's files: URL path below the app's mount point (`index.html`, `main.js`, …) → absolute file. */
export class StaticApp {
  private constructor(
    readonly root: string,
    private readonly files: Map<string, string>,
  ) {}

  /** Lists `root` (recursively, regular files with a known type), or returns null when it does not exist. */
  static load(root: string): StaticApp | null {
    if (!existsSync(root) || !statSync(root).isDirectory()) return null;
    const files = new Map<string, string>();
    const walk = (dir: string, prefix: string) => {
      for (const name of readdirSync(dir)) {
        const abs = join(dir, name);
        const st = statSync(abs);
        if (st.isDirectory()) walk(abs, `${prefix}${name}/`);
        else if (st.isFile() && CONTENT_TYPES[extname(name)]) files.set(`${prefix}${name}`, abs);
      }
    };
    walk(root, "");
    return files.has("index.html") ? new StaticApp(root, files) : null;
  }

  /** The file at URL path `rel` (empty: index.html): its bytes and content type, or null. */
  get(rel: string): { body: Buffer; type: string } | null {
    const file = this.files.get(rel === "" ? "index.html" : rel);
    if (file === undefined) return null;
    return { body: readFileSync(file), type: CONTENT_TYPES[extname(file)] };
  }
}
