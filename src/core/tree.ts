/**
 * Pytree math over parameter trees. Every function consumes its tree arguments (jax-js ownership);
 * pass `keep(t)` to keep one.
 */
import { np, tree, type Array, type DType, type JsTree } from "./jax.js";
import type { Key } from "./keys.js";
import { toHost, type ArrayTree } from "./own.js";

/** A parameter pytree. */
export type Params = JsTree<Array>;

type Scalar = number | Array;

function leaves(t: ArrayTree): Array[] {
  return tree.leaves(t);
}

function zipMap(a: ArrayTree, b: ArrayTree, f: (x: Array, y: Array) => Array): ArrayTree {
  const [la, def] = tree.flatten(a);
  const [lb, defB] = tree.flatten(b);
  if (la.length !== lb.length || String(def) !== String(defB)) {
    tree.dispose(a);
    tree.dispose(b);
    throw new Error(`tree structures differ: ${String(def)} vs ${String(defB)}`);
  }
  return tree.unflatten(
    def,
    la.map((x, i) => f(x, lb[i])),
  );
}

/** a + b, leafwise. */
export function treeAdd<T extends ArrayTree>(a: T, b: T): T {
  return zipMap(a, b, (x, y) => x.add(y)) as T;
}

/** a − b, leafwise. */
export function treeSub<T extends ArrayTree>(a: T, b: T): T {
  return zipMap(a, b, (x, y) => x.sub(y)) as T;
}

/** a ⊙ b, leafwise. */
export function treeMul<T extends ArrayTree>(a: T, b: T): T {
  return zipMap(a, b, (x, y) => x.mul(y)) as T;
}

/** s·a for a number or a 0-d array `s` (consumed once, whatever the number of leaves). */
export function treeScale<T extends ArrayTree>(s: Scalar, a: T): T {
  if (typeof s === "number") return tree.map((x: Array) => x.mul(s), a) as T;
  const out = tree.map((x: Array) => x.mul(s.ref), a) as T;
  s.dispose();
  return out;
}

/** α·x + y (BLAS axpy), leafwise. */
export function treeAxpy<T extends ArrayTree>(alpha: Scalar, x: T, y: T): T {
  return treeAdd(treeScale(alpha, x), y);
}

/** ⟨a, b⟩ summed over all leaves, as a 0-d array. */
export function treeDot(a: ArrayTree, b: ArrayTree): Array {
  const parts = leaves(zipMap(a, b, (x, y) => np.sum(x.mul(y))));
  return parts.reduce((acc, p) => acc.add(p));
}

/** ‖a‖², as a 0-d array. */
export function treeNormSq(a: ArrayTree): Array {
  const parts = leaves(a).map((x) => np.sum(x.ref.mul(x)));
  return parts.reduce((acc, p) => acc.add(p));
}

/** ‖a‖₂, as a 0-d array. */
export function treeNorm(a: ArrayTree): Array {
  return np.sqrt(treeNormSq(a));
}

/** Zeros with the shapes and dtypes of `a`. */
export function treeZerosLike<T extends ArrayTree>(a: T): T {
  return tree.map((x: Array) => np.zerosLike(x), a) as T;
}

/** Number of scalar entries in a tree (does not consume). */
export function treeSize(a: ArrayTree): number {
  return leaves(a).reduce((n, x) => n + x.size, 0);
}

/** Shapes, dtypes and structure of a tree: enough to rebuild it from a flat vector. */
export interface TreeSpec {
  readonly def: ReturnType<typeof tree.structure>;
  readonly shapes: number[][];
  readonly dtypes: DType[];
  readonly size: number;
}

/** The spec of `a` (does not consume). */
export function treeSpec(a: ArrayTree): TreeSpec {
  const ls = leaves(a);
  const shapes = ls.map((x) => x.shape.slice());
  return {
    def: tree.structure(a),
    shapes,
    dtypes: ls.map((x) => x.dtype),
    size: ls.reduce((n, x) => n + x.size, 0),
  };
}

/** Flattens a tree (leaf order, row-major) into one host Float64Array; consumes it. */
export async function treeToHost(a: ArrayTree): Promise<Float64Array<ArrayBuffer>> {
  const parts = await Promise.all(leaves(a).map((x) => toHost(x)));
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Rebuilds a tree with `spec`'s structure from a flat vector (inverse of `treeToHost`). */
export function treeFromHost(spec: TreeSpec, flat: ArrayLike<number>, dtype?: DType): ArrayTree {
  if (flat.length !== spec.size) throw new Error(`flat vector has ${flat.length} entries, the tree has ${spec.size}`);
  let o = 0;
  const ls = spec.shapes.map((shape, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const dt = dtype ?? spec.dtypes[i];
    const buf =
      dt === np.float64
        ? new Float64Array(n)
        : dt === np.int32
          ? new Int32Array(n)
          : dt === np.uint32
            ? new Uint32Array(n)
            : new Float32Array(n);
    // A typed source converts element by element exactly as the loop assigns, in one native call.
    if (ArrayBuffer.isView(flat)) buf.set((flat as Float64Array).subarray(o, o + n));
    else for (let j = 0; j < n; j++) buf[j] = flat[o + j];
    o += n;
    return np.array(buf, { dtype: dt }).reshape(shape);
  });
  return tree.unflatten(spec.def, ls);
}

/** A tree shaped like `spec` with i.i.d. entries from `kind`, drawn on the host from `key`. */
export function treeRandomLike(spec: TreeSpec, key: Key, kind: "normal" | "rademacher" = "normal"): ArrayTree {
  const rng = key.rng();
  const flat = new Float64Array(spec.size);
  for (let i = 0; i < flat.length; i++) flat[i] = kind === "normal" ? rng.normal() : rng.rademacher();
  return treeFromHost(spec, flat);
}

/**
 * The dotted path of every leaf of a pytree, in the order jax-js flattens it (`tree.leaves`):
 * object keys and array indices joined by ".", e.g. `layers.0.W`.
 */
export function leafNames(t: unknown, prefix = ""): string[] {
  const named = (x: unknown, p: string): unknown =>
    globalThis.Array.isArray(x)
      ? x.map((c, i) => named(c, p ? `${p}.${i}` : String(i)))
      : x && typeof x === "object" && x.constructor === Object
        ? Object.fromEntries(
            Object.entries(x as Record<string, unknown>).map(([k, v]) => [k, named(v, p ? `${p}.${k}` : k)]),
          )
        : p;
  return tree.leaves(named(t, prefix) as JsTree<string>) as string[];
}
