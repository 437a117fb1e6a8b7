/**
 * Naive float64 host references for the normalisation layers and strided convolution (plain loops,
 * written independently of norm.ts and cnn.ts). Data is channels-last: an array of `rows` examples,
 * each of `positions` spatial positions × `channels` values. Only test code imports this module.
 */

/** Running statistics of one batch-norm layer on the host. */
export interface HostBnState {
  mean: Float64Array;
  var: Float64Array;
}

/** Statistics of one (ghost) batch: per-channel mean and biased variance, and the count per channel. */
export interface HostChunkStats {
  mean: Float64Array;
  var: Float64Array;
  n: number;
}

/** Affine parameters γ, β per channel (absent: γ = 1, β = 0). */
export interface HostAffine {
  gamma: ArrayLike<number>;
  beta: ArrayLike<number>;
}

/**
 * Batch norm with batch statistics: rows split into consecutive ghost batches of `ghost` rows (the
 * last one shorter; null: one batch), each standardised per channel with its own mean and biased
 * variance, then y·γ + β. Returns y and each ghost batch's statistics.
 */
export function hostBatchNormTrain(
  x: ArrayLike<number>,
  rows: number,
  positions: number,
  channels: number,
  opts: { eps: number; ghost: number | null; affine?: HostAffine },
): { y: Float64Array; stats: HostChunkStats[] } {
  const y = new Float64Array(x.length);
  const stats: HostChunkStats[] = [];
  const g = opts.ghost ?? rows;
  for (let start = 0; start < rows; start += g) {
    const end = Math.min(rows, start + g);
    const n = (end - start) * positions;
    const mean = new Float64Array(channels);
    const vr = new Float64Array(channels);
    for (let c = 0; c < channels; c++) {
      let s = 0;
      for (let r = start; r < end; r++) for (let p = 0; p < positions; p++) s += x[(r * positions + p) * channels + c];
      mean[c] = s / n;
      let ss = 0;
      for (let r = start; r < end; r++)
        for (let p = 0; p < positions; p++) ss += (x[(r * positions + p) * channels + c] - mean[c]) ** 2;
      vr[c] = ss / n;
      for (let r = start; r < end; r++)
        for (let p = 0; p < positions; p++) {
          const i = (r * positions + p) * channels + c;
          const z = (x[i] - mean[c]) / Math.sqrt(vr[c] + opts.eps);
          y[i] = opts.affine ? z * opts.affine.gamma[c] + opts.affine.beta[c] : z;
        }
    }
    stats.push({ mean, var: vr, n });
  }
  return { y, stats };
}

/** Batch norm with running statistics: (x − r_μ)/√(r_σ² + ε)·γ + β per channel (last axis). */
export function hostBatchNormEval(
  x: ArrayLike<number>,
  channels: number,
  state: HostBnState,
  eps: number,
  affine?: HostAffine,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    const z = (x[i] - state.mean[c]) / Math.sqrt(state.var[c] + eps);
    y[i] = affine ? z * affine.gamma[c] + affine.beta[c] : z;
  }
  return y;
}

/** The momentum recursion r ← (1 − m)r + m·s over the chunks in order (unbiased variance). */
export function hostRunningUpdate(state: HostBnState, stats: HostChunkStats[], momentum: number): HostBnState {
  const mean = Float64Array.from(state.mean);
  const vr = Float64Array.from(state.var);
  for (const s of stats)
    for (let c = 0; c < mean.length; c++) {
      mean[c] = (1 - momentum) * mean[c] + momentum * s.mean[c];
      vr[c] = (1 - momentum) * vr[c] + momentum * ((s.var[c] * s.n) / (s.n - 1));
    }
  return { mean, var: vr };
}

/** Layer norm: each row standardised over its positions × channels values, then γ, β per channel. */
export function hostLayerNorm(
  x: ArrayLike<number>,
  rows: number,
  channels: number,
  eps: number,
  affine?: HostAffine,
): Float64Array {
  const per = x.length / rows;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < per; i++) s += x[r * per + i];
    const mean = s / per;
    let ss = 0;
    for (let i = 0; i < per; i++) ss += (x[r * per + i] - mean) ** 2;
    const sd = Math.sqrt(ss / per + eps);
    for (let i = 0; i < per; i++) {
      const c = i % channels;
      const z = (x[r * per + i] - mean) / sd;
      y[r * per + i] = affine ? z * affine.gamma[c] + affine.beta[c] : z;
    }
  }
  return y;
}

/**
 * Convolution with stride s and "same" zero padding ⌊(k−1)/2⌋ before (as PyTorch's padding=(k−1)/2):
 * x [B, H, W, C], w [k, k, C, O] row-major; output ⌊(H − 1)/s⌋ + 1 = ⌈H/s⌉ per spatial axis.
 */
export function hostConvSame(
  x: ArrayLike<number>,
  [bsz, h, w, c]: number[],
  kernel: ArrayLike<number>,
  k: number,
  o: number,
  stride: number,
): { y: Float64Array; shape: number[] } {
  const lo = Math.floor((k - 1) / 2);
  const ho = Math.ceil(h / stride);
  const wo = Math.ceil(w / stride);
  const y = new Float64Array(bsz * ho * wo * o);
  for (let b = 0; b < bsz; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let oc = 0; oc < o; oc++) {
          let s = 0;
          for (let p = 0; p < k; p++)
            for (let q = 0; q < k; q++) {
              const ii = stride * i + p - lo;
              const jj = stride * j + q - lo;
              if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
              for (let ci = 0; ci < c; ci++)
                s += x[((b * h + ii) * w + jj) * c + ci] * kernel[((p * k + q) * c + ci) * o + oc];
            }
          y[((b * ho + i) * wo + j) * o + oc] = s;
        }
  return { y, shape: [bsz, ho, wo, o] };
}

/** Host counterpart of `NormPass`: batch-norm layers called in order, in one mode. */
export class HostNormPass {
  readonly next: HostBnState[] = [];
  #i = 0;
  constructor(
    readonly mode: "eval" | "batch" | "update",
    readonly state: HostBnState[] | null,
    readonly opts: { momentum: number; eps: number; ghost: number | null },
  ) {}

  /** Batch norm of channels-last x with `rows` examples of `positions` positions. */
  bn(x: ArrayLike<number>, rows: number, positions: number, channels: number, affine?: HostAffine): Float64Array {
    const i = this.#i++;
    if (this.mode === "eval")
      return hostBatchNormEval(x, channels, (this.state as HostBnState[])[i], this.opts.eps, affine);
    const { y, stats } = hostBatchNormTrain(x, rows, positions, channels, { ...this.opts, affine });
    if (this.mode === "update")
      this.next.push(hostRunningUpdate((this.state as HostBnState[])[i], stats, this.opts.momentum));
    return y;
  }
}
