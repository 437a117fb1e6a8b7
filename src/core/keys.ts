/**
 * Deterministic randomness. One root seed; every consumer (data order, init, label noise, probe
 * vectors, ...) derives its own key from (seed, purpose, step), so adding a consumer never changes
 * another's stream (DESIGN.md, "Randomness").
 *
 * Keys are 64-bit values held as two uint32 words. Host streams use xoshiro128** seeded by
 * SplitMix32 from the key; device streams use the key as a jax-js threefry key.
 */
import { np, type Array } from "./jax.js";

/** FNV-1a over the UTF-16 code units of `s`, 32 bits. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** One round of the murmur3 finalizer, a 32-bit bijective mixer. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** An immutable 64-bit random key. */
export class Key {
  constructor(
    readonly hi: number,
    readonly lo: number,
  ) {}

  /** A key from a root seed (a non-negative integer below 2^53). */
  static fromSeed(seed: number): Key {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    return new Key(mix32(hi ^ 0x9e3779b9), mix32((seed >>> 0) ^ 0x7f4a7c15));
  }

  /** The child key for a purpose name or index. Different inputs give independent-looking keys. */
  fold(data: string | number): Key {
    const d = typeof data === "string" ? fnv1a(data) : mix32((data >>> 0) ^ Math.floor(data / 2 ** 32));
    const hi = mix32(this.hi ^ mix32(d + 0x632be59b));
    const lo = mix32(this.lo ^ mix32(hi ^ d ^ 0x85157af5));
    return new Key(hi, lo);
  }

  /** A host random stream from this key. */
  rng(): Rng {
    return new Rng(this);
  }

  /** This key as a jax-js PRNG key array (uint32[2]). The caller owns it. */
  toArray(): Array {
    return np.array(new Uint32Array([this.hi, this.lo]), { dtype: np.uint32 });
  }

  toString(): string {
    return `${this.hi.toString(16).padStart(8, "0")}${this.lo.toString(16).padStart(8, "0")}`;
  }
}

/** The key for (seed, purpose, step): `Key.fromSeed(seed).fold(purpose).fold(step)`. */
export function deriveKey(seed: number, purpose: string, step = 0): Key {
  return Key.fromSeed(seed).fold(purpose).fold(step);
}

/** xoshiro128** (Blackman & Vigna 2018) host stream; deterministic across platforms. */
export class Rng {
  #s = new Uint32Array(4);
  #spare: number | null = null;

  constructor(key: Key) {
    let z = (key.hi ^ mix32(key.lo)) >>> 0;
    for (let i = 0; i < 4; i++) {
      // SplitMix32-style seeding.
      z = (z + 0x9e3779b9) >>> 0;
      this.#s[i] = mix32(z ^ (i === 1 ? key.lo : 0));
    }
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.#s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!(n >= 1 && n <= 2 ** 32)) throw new Error(`int(n) needs 1 <= n <= 2^32, got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal (Marsaglia polar method). */
  normal(): number {
    if (this.#spare !== null) {
      const v = this.#spare;
      this.#spare = null;
      return v;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.#spare = v * f;
        return u * f;
      }
    }
  }

  /** ±1 with equal probability. */
  rademacher(): number {
    return this.nextU32() & 1 ? 1 : -1;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** `n` standard normals as a Float64Array. */
  normals(n: number, scale = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = scale * this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
