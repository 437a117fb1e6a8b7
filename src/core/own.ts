/**
 * Ownership helpers: the one place that wraps jax-js's `.ref` / `dispose` and host reads.
 *
 * jax-js rules: every operation consumes its array arguments; `x.ref` adds a reference so `x` can be
 * used again. Host reads go through the async helpers here: with Wasm workers, synchronous reads
 * throw while work is in flight.
 */
import { np, tree, type Array, type JsTree } from "./jax.js";

/** Any pytree of jax-js arrays (plain objects and arrays as nodes). */
export type ArrayTree = JsTree<Array>;

/** Adds a reference to every leaf of `t` and returns it (use when `t` is needed again). */
export function keep<T extends ArrayTree>(t: T): T {
  return tree.ref(t);
}

/** Releases every leaf of `t` (null/undefined allowed). */
export function release(t: ArrayTree | null | undefined): void {
  tree.dispose(t);
}

/** Reads an array to the host as float64 and consumes it. */
export async function toHost(x: Array): Promise<Float64Array<ArrayBuffer>> {
  const d = await x.data();
  return Float64Array.from(d as ArrayLike<number>);
}

/** Reads a scalar (any shape of size 1) to the host and consumes it. */
export async function toScalar(x: Array): Promise<number> {
  const d = await x.data();
  return Number(d[0]);
}

/** Reads a pytree of scalars to the host, consuming it, preserving its structure as numbers. */
export async function toScalars<K extends string>(xs: Record<K, Array>): Promise<Record<K, number>> {
  const keys = Object.keys(xs) as K[];
  const vals = await Promise.all(keys.map((k) => toScalar(xs[k])));
  return Object.fromEntries(keys.map((k, i) => [k, vals[i]])) as Record<K, number>;
}

/** Waits until every leaf of `t` is computed (does not consume). Bounds the pending-work graph. */
export async function settle(t: ArrayTree): Promise<void> {
  await Promise.all(tree.leaves(t).map((x) => x.blockUntilReady()));
}

/**
 * An owner of long-lived arrays (datasets, trainer state). `dispose()` releases all of them; calling
 * it twice is harmless.
 */
export class Owner {
  #held: ArrayTree[] = [];
  #disposed = false;
  /** Takes ownership of `t` and returns it. */
  hold<T extends ArrayTree>(t: T): T {
    this.#held.push(t);
    return t;
  }
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const t of this.#held) release(t);
    this.#held = [];
  }
}

/**
 * A 0-d constant with `like`'s dtype (does not consume `like`). Use inside `jit` instead of a bare
 * JS number: jax-js 0.1.25 rounds float64 literals to float32 under `jit`
 * (`jit((x) => x.mul(0.1))(float64 [1])` gives 0.10000000149011612; see test/jaxjs-defects.test.ts).
 */
export function lit(value: number, like: Array): Array {
  return np.full([], value, { dtype: like.dtype });
}
