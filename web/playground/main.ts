/**
 * The playground bundle's entry. In the page it starts the page (`page.ts`), which starts this same
 * bundle again as a module Web Worker; there it serves the training engine (`engine.ts`). One bundle,
 * so `scripts/build-web.mjs` builds it like any app and any static host serves it.
 */
import { serveWorker } from "./engine.js";
import { startPage } from "./page.js";

if (typeof document === "undefined") serveWorker();
else startPage(import.meta.url);
