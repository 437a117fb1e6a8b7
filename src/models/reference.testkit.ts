/**
 * Naive float64 host implementations of every model (plain loops, JS Math), written independently of
 * the jax-js code: the reference that tests compare forward passes against and take finite
 * differences of. Only *.test.ts files import this module.
 */
import { tree, type Array, type Params } from "../core/index.js";
import { toHost } from "../core/index.js";
import { hostConvSame, hostLayerNorm, HostNormPass, type HostBnState } from "./norm.testkit.js";
import type { Activation, ModelConfig } from "./schema.js";
import type { Model } from "./types.js";

/** A host tensor: row-major data and its shape (a class, so jax-js trees treat it as a leaf). */
export class HostT {
  constructor(
    readonly data: Float64Array,
    readonly shape: number[],
  ) {}
}

/** A parameter tree with host tensors as leaves. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostTree = any;

/** Reads a device parameter tree to host tensors (consumes it). */
export async function hostParams(params: Params): Promise<HostTree> {
  const [leaves, def] = tree.flatten(params) as [Array[], ReturnType<typeof tree.structure>];
  const shapes = leaves.map((l) => l.shape.slice());
  const data = await Promise.all(leaves.map((l) => toHost(l)));
  return tree.unflatten(
    def,
    data.map((d, i) => new HostT(d, shapes[i])),
  );
}

/** A host tree with `spec`'s structure viewing the flat vector `theta` (no copy). */
export function hostFromFlat(
  spec: { def: ReturnType<typeof tree.structure>; shapes: number[][] },
  theta: Float64Array,
): HostTree {
  let o = 0;
  const leaves = spec.shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = new HostT(theta.subarray(o, o + n), shape);
    o += n;
    return t;
  });
  return tree.unflatten(spec.def, leaves);
}

/** σ(z) for one scalar. */
export function hostAct(act: Activation, z: number): number {
  switch (act) {
    case "identity":
      return z;
    case "tanh":
      return Math.tanh(z);
    case "relu":
      return Math.max(z, 0);
    case "softplus":
      return z > 30 ? z : Math.log(1 + Math.exp(z));
    case "elu":
      return z > 0 ? z : Math.exp(z) - 1;
    case "gelu":
      return 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));
  }
}

/** y = m·(x W) + b for x [B, din], W [din, dout]. */
function hostDense(x: Float64Array, bsz: number, W: HostT, b: HostT | undefined, m = 1): Float64Array {
  const [din, dout] = W.shape;
  const y = new Float64Array(bsz * dout);
  for (let r = 0; r < bsz; r++) {
    for (let o = 0; o < dout; o++) {
      let s = 0;
      for (let i = 0; i < din; i++) s += x[r * din + i] * W.data[i * dout + o];
      y[r * dout + o] = m * s + (b ? b.data[o] : 0);
    }
  }
  return y;
}

function mapAct(act: Activation, v: Float64Array): Float64Array {
  return v.map((z) => hostAct(act, z));
}

/**
 * Naive convolution, stride 1, channels last: x [B, H, W, C], w [k, k, C, O] (HWIO), zero padding
 * ⌊(k−1)/2⌋ before and the rest after for "same". Returns y [B, H', W', O] and its spatial size.
 */
export function hostConv(
  x: Float64Array,
  [bsz, h, w, c]: number[],
  kernel: HostT,
  padding: "same" | "valid",
): { y: Float64Array; shape: number[] } {
  const [k, , , o] = kernel.shape;
  const lo = padding === "same" ? Math.floor((k - 1) / 2) : 0;
  const ho = padding === "same" ? h : h - k + 1;
  const wo = padding === "same" ? w : w - k + 1;
  const y = new Float64Array(bsz * ho * wo * o);
  for (let b = 0; b < bsz; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let oc = 0; oc < o; oc++) {
          let s = 0;
          for (let p = 0; p < k; p++)
            for (let q = 0; q < k; q++) {
              const ii = i + p - lo;
              const jj = j + q - lo;
              if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
              for (let ci = 0; ci < c; ci++)
                s += x[((b * h + ii) * w + jj) * c + ci] * kernel.data[((p * k + q) * c + ci) * o + oc];
            }
          y[((b * ho + i) * wo + j) * o + oc] = s;
        }
  return { y, shape: [bsz, ho, wo, o] };
}

/** 2×2 stride-2 pooling of x [B, H, W, C] (odd last row/column dropped). */
export function hostPool(
  x: Float64Array,
  [bsz, h, w, c]: number[],
  kind: "max" | "avg",
): { y: Float64Array; shape: number[] } {
  const [h2, w2] = [Math.floor(h / 2), Math.floor(w / 2)];
  const y = new Float64Array(bsz * h2 * w2 * c);
  for (let b = 0; b < bsz; b++)
    for (let i = 0; i < h2; i++)
      for (let j = 0; j < w2; j++)
        for (let ci = 0; ci < c; ci++) {
          const v = [0, 1, 2, 3].map((t) => x[((b * h + 2 * i + (t >> 1)) * w + 2 * j + (t & 1)) * c + ci]);
          y[((b * h2 + i) * w2 + j) * c + ci] = kind === "max" ? Math.max(...v) : (v[0] + v[1] + v[2] + v[3]) / 4;
        }
  return { y, shape: [bsz, h2, w2, c] };
}

/** The batch-norm options of a model config (momentum, ε, ghost batch), for `HostNormPass`. */
function bnOptions(config: ModelConfig): { momentum: number; eps: number; ghost: number | null } {
  if (config.kind === "resnet" || config.kind === "scaleInvariantMlp")
    return { momentum: config.momentum, eps: config.eps, ghost: config.ghostBatch };
  return { momentum: 0.1, eps: 1e-5, ghost: null };
}

/**
 * Outputs [B, outputDim] of `model` at host params `p` for inputs x (B rows of prod(inputShape)),
 * as `model.apply`: batch statistics with `train`, else running statistics from `state` (models
 * with batch norm only).
 */
export function hostForward(
  model: Model,
  p: HostTree,
  x: Float64Array,
  bsz: number,
  opts: { train?: boolean; state?: HostBnState[] } = {},
): Float64Array {
  const mode = opts.train ? "batch" : "eval";
  return hostForwardPass(
    model,
    p,
    x,
    bsz,
    new HostNormPass(mode, opts.state ?? null, bnOptions(model.config as ModelConfig)),
  );
}

/** As `model.applyTrain`: outputs with batch statistics and the updated running statistics. */
export function hostForwardTrain(
  model: Model,
  p: HostTree,
  x: Float64Array,
  bsz: number,
  state: HostBnState[],
): { y: Float64Array; state: HostBnState[] } {
  const pass = new HostNormPass("update", state, bnOptions(model.config as ModelConfig));
  const y = hostForwardPass(model, p, x, bsz, pass);
  return { y, state: pass.next };
}

/** NCHW → NHWC for B images [C, H, W]. */
function toNhwc(x: Float64Array, bsz: number, [c, hh, ww]: readonly number[]): Float64Array {
  const h = new Float64Array(x.length);
  for (let b = 0; b < bsz; b++)
    for (let ci = 0; ci < c; ci++)
      for (let i = 0; i < hh; i++)
        for (let j = 0; j < ww; j++) h[((b * hh + i) * ww + j) * c + ci] = x[((b * c + ci) * hh + i) * ww + j];
  return h;
}

type HostAffineT = { gamma: HostT; beta: HostT } | undefined;
const aff = (a: HostAffineT) => (a ? { gamma: a.gamma.data, beta: a.beta.data } : undefined);

function hostForwardPass(model: Model, p: HostTree, x: Float64Array, bsz: number, pass: HostNormPass): Float64Array {
  const config = model.config as ModelConfig;
  switch (config.kind) {
    case "linear":
      return hostDense(x, bsz, p.W, p.b);
    case "diagonalLinear": {
      const w = new HostT(
        p.u.data.map((u: number, i: number) => u * u - p.v.data[i] * p.v.data[i]),
        p.u.shape,
      );
      return hostDense(x, bsz, w, undefined);
    }
    case "mlp": {
      let h = x;
      p.layers.forEach((l: { W: HostT; b?: HostT }, i: number) => {
        const m = config.parametrization === "ntk" ? config.initScale / Math.sqrt(l.W.shape[0]) : 1;
        h = hostDense(h, bsz, l.W, l.b, m);
        if (i === p.layers.length - 1) return;
        const width = l.W.shape[1];
        if (config.norm === "batch") h = pass.bn(h, bsz, 1, width, aff(p.norms[i]));
        if (config.norm === "layer") h = hostLayerNorm(h, bsz, width, 1e-5, aff(p.norms[i]));
        h = mapAct(config.activation, h);
      });
      return h;
    }
    case "scaleInvariantMlp": {
      let h = x;
      for (const l of p.layers as { W: HostT }[]) {
        const width = l.W.shape[1];
        h = hostDense(h, bsz, l.W, undefined);
        if (config.norm === "layer") h = hostLayerNorm(h, bsz, width, config.eps);
        else if (config.norm === "batch") h = pass.bn(h, bsz, 1, width);
        else h = new HostNormPass("batch", null, bnOptions(config)).bn(h, bsz, 1, width);
        h = mapAct(config.activation, h);
      }
      const m = p.layers[p.layers.length - 1].W.shape[1];
      const k = model.outputDim;
      let head: HostT;
      let scale = config.headScale;
      if (p.head) {
        head = p.head.W;
        scale /= Math.sqrt(head.data.reduce((s: number, v: number) => s + v * v, 0));
      } else {
        const n = Math.max(m, k);
        const q = new Float64Array(m * k);
        for (let j = 0; j < m; j++)
          for (let o = 0; o < k; o++)
            q[j * k + o] = Math.sqrt((o === 0 ? 1 : 2) / n) * Math.cos((Math.PI * (2 * j + 1) * o) / (2 * n));
        head = new HostT(q, [m, k]);
      }
      return hostDense(h, bsz, head, undefined, scale);
    }
    case "resnet":
      return hostResnet(model, config, p, x, bsz, pass);
    case "twoLayer": {
      const m = config.width;
      const h = mapAct(config.activation, hostDense(x, bsz, p.W, p.b));
      const k = model.outputDim;
      const a =
        p.a ??
        new HostT(
          Float64Array.from({ length: m * k }, (_, i) => (Math.floor(i / k) % 2 === 0 ? 1 : -1)),
          [m, k],
        );
      const s = config.scaling === "meanField" ? 1 / m : 1 / Math.sqrt(m);
      return hostDense(h, bsz, a, p.c, s);
    }
    case "cnn": {
      const [c, hh, ww] = model.inputShape;
      let h: Float64Array = toNhwc(x, bsz, model.inputShape);
      let shape = [bsz, hh, ww, c];
      for (const l of p.conv as { W: HostT; b?: HostT }[]) {
        const r = hostConv(h, shape, l.W, config.padding);
        const o = r.shape[3];
        h = r.y.map((v, i) => hostAct(config.activation, v + (l.b ? l.b.data[i % o] : 0)));
        shape = r.shape;
        if (config.pooling !== "none") ({ y: h, shape } = hostPool(h, shape, config.pooling));
      }
      let z: Float64Array = h;
      p.dense.forEach((l: { W: HostT; b?: HostT }, i: number) => {
        z = hostDense(z, bsz, l.W, l.b);
        if (i < p.dense.length - 1) z = mapAct(config.activation, z);
      });
      return z;
    }
  }
}

/** The CIFAR ResNet of resnet.ts, by loops: conv → norm → σ blocks with option A/B shortcuts. */
function hostResnet(
  model: Model,
  config: Extract<ModelConfig, { kind: "resnet" }>,
  p: HostTree,
  x: Float64Array,
  bsz: number,
  pass: HostNormPass,
): Float64Array {
  const act = (v: Float64Array) => mapAct(config.activation, v);
  // conv (with bias if any) then the configured norm, on a channels-last tensor of `shape`.
  const convNorm = (
    h: Float64Array,
    shape: number[],
    conv: { W: HostT; b?: HostT },
    stride: number,
    norm: HostAffineT,
  ) => {
    const [k, , , o] = conv.W.shape;
    const r = hostConvSame(h, shape, conv.W.data, k, o, stride);
    let y = conv.b ? r.y.map((v, i) => v + (conv.b as HostT).data[i % o]) : r.y;
    const positions = r.shape[1] * r.shape[2];
    if (config.norm === "batch") y = pass.bn(y, bsz, positions, o, aff(norm));
    if (config.norm === "layer") y = hostLayerNorm(y, bsz, o, config.eps, aff(norm));
    return { y, shape: r.shape };
  };
  const stem = convNorm(
    toNhwc(x, bsz, model.inputShape),
    [bsz, model.inputShape[1], model.inputShape[2], model.inputShape[0]],
    p.stem,
    1,
    p.stemNorm,
  );
  let h = act(stem.y);
  let shape = stem.shape;
  p.stages.forEach((stage: HostTree[], s: number) =>
    stage.forEach((blk: HostTree, j: number) => {
      const stride = s > 0 && j === 0 ? 2 : 1;
      const r1 = convNorm(h, shape, blk.conv1, stride, blk.norm1);
      const r2 = convNorm(act(r1.y), r1.shape, blk.conv2, 1, blk.norm2);
      const [, ho, wo, co] = r2.shape;
      const ci = shape[3];
      let sc: Float64Array;
      if (blk.shortcut) sc = convNorm(h, shape, blk.shortcut.conv, stride, blk.shortcut.norm).y;
      else {
        // Option A: x[:, ::stride, ::stride] with zero channels appended.
        sc = new Float64Array(bsz * ho * wo * co);
        for (let b = 0; b < bsz; b++)
          for (let i = 0; i < ho; i++)
            for (let jj = 0; jj < wo; jj++)
              for (let c = 0; c < ci; c++)
                sc[((b * ho + i) * wo + jj) * co + c] =
                  h[((b * shape[1] + stride * i) * shape[2] + stride * jj) * ci + c];
      }
      h = act(r2.y.map((v, i) => v + sc[i]));
      shape = r2.shape;
    }),
  );
  const [, hh, ww, c] = shape;
  const pooled = new Float64Array(bsz * c);
  for (let b = 0; b < bsz; b++)
    for (let i = 0; i < hh * ww; i++)
      for (let ch = 0; ch < c; ch++) pooled[b * c + ch] += h[(b * hh * ww + i) * c + ch] / (hh * ww);
  return hostDense(pooled, bsz, p.head.W, p.head.b);
}
