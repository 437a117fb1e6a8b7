// Builds the browser apps under web/: every folder `web/<app>/` with a `main.ts` is bundled by esbuild
// (ESM, browser platform, minified, with a source map) into `dist/web/<app>/main.js`, and the folder's
// static files (HTML, CSS, images) are copied beside it. `sgdlab ui` serves `dist/web/<app>/`; any
// static host can serve it too. Everything the pages need is in the bundle (no CDN).
// Usage: node scripts/build-web.mjs [app ...]   (default: every app)
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const webDir = join(root, "web");
const outRoot = join(root, "dist", "web");
const STATIC = /\.(html|css|svg|png|ico|json|txt)$/;

const wanted = process.argv.slice(2);
const apps = existsSync(webDir)
  ? readdirSync(webDir).filter((d) => statSync(join(webDir, d)).isDirectory() && existsSync(join(webDir, d, "main.ts")))
  : [];
for (const w of wanted) if (!apps.includes(w)) throw new Error(`build-web: no app web/${w}/main.ts`);

for (const app of wanted.length ? wanted : apps) {
  const src = join(webDir, app);
  const out = join(outRoot, app);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  await build({
    entryPoints: [join(src, "main.ts")],
    outfile: join(out, "main.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: true,
    legalComments: "linked",
    logLevel: "warning",
  });
  for (const f of readdirSync(src)) if (STATIC.test(f)) copyFileSync(join(src, f), join(out, f));
  console.log(`build-web: dist/web/${app} (${Math.round(performance.now() - t0)} ms)`);
}
