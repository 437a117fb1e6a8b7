/**
 * The playground's numerics behind a message protocol, so that they can run in a Web Worker (the page
 * stays responsive during long λmax measurements) or, where no worker starts, in the page itself. One
 * `Engine` holds the device and at most one `Session`; `handle` serves one request at a time.
 */
import { boundingBox, gridPoints, type Box } from "./charts.js";
import { initDevice, useWasm, type PageDevice } from "./device.js";
import { parseSpec, Session, type Evaluation, type Sharpness } from "./session.js";
import type { ExperimentSpecInput } from "../../src/experiments/schema.js";

/** Decision-boundary grid resolution (G × G model evaluations per frame). */
export const GRID = 64;

/** What the page asks. `id` names the session a request is for (stale ones are answered, then ignored). */
export type Request =
  | { type: "device"; backend: "auto" | PageDevice }
  | { type: "build"; id: number; spec: ExperimentSpecInput }
  | { type: "run"; id: number; mode: "step" | "slice"; sliceMs: number };

/** The state after a request, for drawing: what happened since the last frame. */
export interface Frame {
  id: number;
  step: number;
  /** [step, batch loss] of the steps taken. */
  losses: [number, number][];
  sharpness: Sharpness[];
  evaluation: Evaluation;
  /** GRID² × classes probabilities at `gridPoints(box, GRID)`. */
  probs: Float64Array;
  /** Set when the batch loss became non-finite (training stops). */
  diverged?: string;
}

export type Reply =
  | { type: "device"; device: PageDevice; note?: string }
  | {
      type: "built";
      frame: Frame;
      device: PageDevice;
      note?: string;
      box: Box;
      classes: number;
      train: { x: Float64Array; labels: Int32Array };
      test: { x: Float64Array; labels: Int32Array };
    }
  | { type: "frame"; frame: Frame }
  | { type: "error"; message: string };

export class Engine {
  #device: PageDevice = "wasm";
  #session: Session | null = null;
  #id = -1;
  #grid: Float64Array = gridPoints({ x0: -1, x1: 1, y0: -1, y1: 1 }, GRID);

  async handle(req: Request): Promise<Reply> {
    try {
      switch (req.type) {
        case "device": {
          const d = await initDevice(req.backend);
          this.#device = d.device;
          return { type: "device", ...d };
        }
        case "build":
          return await this.#build(req.id, req.spec);
        case "run":
          return { type: "frame", frame: await this.#run(req.id, req.mode, req.sliceMs) };
      }
    } catch (e) {
      return { type: "error", message: e instanceof Error ? e.message : String(e) };
    }
  }

  async #build(id: number, doc: ExperimentSpecInput): Promise<Reply> {
    this.#session?.dispose();
    this.#session = null;
    const spec = parseSpec(doc);
    let note: string | undefined;
    try {
      this.#session = new Session(spec);
      // a first evaluation on the device: where WebGPU lacks a kernel, it fails here
      await this.#session.evaluate();
    } catch (e) {
      (this.#session as Session | null)?.dispose();
      this.#session = null;
      if (this.#device !== "webgpu") throw e;
      note = `WebGPU failed (${e instanceof Error ? e.message : String(e)}); using Wasm`;
      await useWasm();
      this.#device = "wasm";
      this.#session = new Session(spec);
    }
    this.#id = id;
    const s = this.#session;
    const box = boundingBox(s.data.train.x);
    this.#grid = gridPoints(box, GRID);
    const { train, test } = s.data;
    return {
      type: "built",
      frame: await this.#frame([], []),
      device: this.#device,
      ...(note ? { note } : {}),
      box,
      classes: train.numClasses,
      train: { x: train.x, labels: train.labels! },
      test: { x: test.x, labels: test.labels! },
    };
  }

  /** One step, or steps for `sliceMs`, the trainer's way: the hessian probe when due, then the update. */
  async #run(id: number, mode: "step" | "slice", sliceMs: number): Promise<Frame> {
    const s = this.#session;
    if (s === null || id !== this.#id) throw new Error("no session to run (it was rebuilt)");
    const losses: [number, number][] = [];
    const sharpness: Sharpness[] = [];
    const t0 = performance.now();
    let diverged: string | undefined;
    do {
      if (s.sharpnessDue) sharpness.push(await s.measureSharpness());
      const t = s.step;
      const loss = await s.trainStep();
      losses.push([t, loss]);
      if (!Number.isFinite(loss)) diverged = `diverged at step ${t}: the batch loss is ${loss}`;
    } while (mode === "slice" && !diverged && performance.now() - t0 < sliceMs);
    return { ...(await this.#frame(losses, sharpness)), ...(diverged ? { diverged } : {}) };
  }

  async #frame(losses: [number, number][], sharpness: Sharpness[]): Promise<Frame> {
    const s = this.#session!;
    const evaluation = await s.evaluate();
    const probs = await s.predict(this.#grid);
    return { id: this.#id, step: s.step, losses, sharpness, evaluation, probs };
  }
}

/** Serves an `Engine` to the page that started this worker: one request at a time, in order. */
export function serveWorker(): void {
  const engine = new Engine();
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    postMessage(m: unknown): void;
  };
  let queue: Promise<void> = Promise.resolve();
  scope.onmessage = (e: MessageEvent) => {
    const { seq, req } = e.data as { seq: number; req: Request };
    queue = queue.then(async () => scope.postMessage({ seq, reply: await engine.handle(req) }));
  };
}

/** The page's side: requests answered by a worker running this bundle, or by an in-page engine. */
export interface EngineClient {
  readonly where: "worker" | "page";
  call(req: Request): Promise<Reply>;
}

/** A client over a module worker started from this very bundle (`url` = its `import.meta.url`). */
export function workerClient(url: string): EngineClient {
  const worker = new Worker(url, { type: "module" });
  const pending = new Map<number, (r: Reply) => void>();
  let seq = 0;
  let failure: string | null = null;
  worker.onmessage = (e: MessageEvent) => {
    const { seq: n, reply } = e.data as { seq: number; reply: Reply };
    pending.get(n)?.(reply);
    pending.delete(n);
  };
  worker.onerror = (e: ErrorEvent) => {
    failure = `the training worker failed: ${e.message || "could not start"}`;
    for (const resolve of pending.values()) resolve({ type: "error", message: failure });
    pending.clear();
  };
  return {
    where: "worker",
    call(req) {
      if (failure !== null) return Promise.resolve({ type: "error", message: failure });
      return new Promise((resolve) => {
        pending.set(++seq, resolve);
        worker.postMessage({ seq, req });
      });
    },
  };
}

/** A client that runs the engine in the page (no worker available). */
export function pageClient(): EngineClient {
  const engine = new Engine();
  let queue: Promise<unknown> = Promise.resolve();
  return {
    where: "page",
    call(req) {
      const r = queue.then(() => engine.handle(req));
      queue = r;
      return r;
    },
  };
}
