/**
 * Convolutional network with convolutions computed as im2col + one matmul (jax-js 0.1.25's
 * `lax.conv` is about 20× slower).
 */
import { check, lit, np, type Array, type Params } from "../core/index.js";
import { activate } from "./activations.js";
import {
  checkBatch,
  constArray,
  denseParamCount,
  denseStack,
  initDenseLayers,
  initStd,
  normalArray,
  type DenseParams,
} from "./layers.js";
import type { CnnConfig } from "./schema.js";
import type { Model } from "./types.js";

/** CNN parameters: conv kernels W [k, k, C_in, C_out] (HWIO) with b [C_out], then the dense head. */
export interface CnnParams {
  conv: DenseParams[];
  dense: DenseParams[];
}

/**
 * 2-D convolution (cross-correlation, as in deep-learning libraries), channels last, stride s:
 * y[b, i, j, o] = Σ_{p,q,c} x̃[b, s·i + p, s·j + q, c]·w[p, q, c, o], with x̃ = x zero-padded by
 * ⌊(k−1)/2⌋ before and ⌈(k−1)/2⌉ after each spatial axis for "same" (output ⌈H/s⌉ × ⌈W/s⌉, as
 * PyTorch's `padding=(k−1)/2` for odd k) and unpadded for "valid" (output ⌊(H−k)/s⌋+1 × ⌊(W−k)/s⌋+1).
 * x [B, H, W, C], w [k, k, C, O] → [B, H', W', O]. `stride` defaults to 1.
 *
 * im2col: the k² shifted windows are stacked into patches [B·H'·W', k²·C] (index (p·k + q)·C + c,
 * matching w's row-major layout) and multiplied by w reshaped to [k²·C, O]. A stride s > 1 takes
 * each window's every s-th row and column (slice, reshape to [.., H', s, ..] and index 0: jax-js has
 * no strided slice). Consumes x and w.
 */
export function conv2dNhwc(x: Array, w: Array, padding: "same" | "valid", stride = 1): Array {
  const [k, k2, c, o] = w.shape;
  if (k !== k2 || x.ndim !== 4 || x.shape[3] !== c || !Number.isInteger(stride) || stride < 1) {
    const msg = `conv2dNhwc: kernel [${w.shape.join(", ")}] with stride ${stride} does not fit input [${x.shape.join(", ")}]`;
    x.dispose();
    w.dispose();
    throw new Error(msg);
  }
  const s = stride;
  const [h, wd] = [x.shape[1], x.shape[2]];
  const [lo, hi] = padding === "same" ? [Math.floor((k - 1) / 2), k - 1 - Math.floor((k - 1) / 2)] : [0, 0];
  const ho = Math.floor((h + lo + hi - k) / s) + 1;
  const wo = Math.floor((wd + lo + hi - k) / s) + 1;
  if (ho < 1 || wo < 1) {
    const msg = `conv2dNhwc: a ${k}×${k} "${padding}" kernel does not fit the ${h}×${wd} input`;
    x.dispose();
    w.dispose();
    throw new Error(msg);
  }
  // Window (p, q) reads rows p .. p + s·ho − 1: pad the end so that the reshape below fits (the
  // extra rows fall on discarded positions s·i + r, r ≥ 1).
  const [extraH, extraW] = [Math.max(0, k - 1 + s * ho - (h + lo + hi)), Math.max(0, k - 1 + s * wo - (wd + lo + hi))];
  let xp = x;
  if (lo + hi + extraH + extraW > 0) {
    xp = np.pad(x, [
      [0, 0],
      [lo, hi + extraH],
      [lo, hi + extraW],
      [0, 0],
    ]);
  }
  const b = xp.shape[0];
  const windows: Array[] = [];
  for (let p = 0; p < k; p++) {
    for (let q = 0; q < k; q++) {
      const win = xp.ref.slice([], [p, p + s * ho], [q, q + s * wo], []);
      windows.push(s === 1 ? win : win.reshape([b, ho, s, wo, s, c]).slice([], [], 0, [], 0, []));
    }
  }
  xp.dispose();
  const patches = (windows.length === 1 ? windows[0] : np.stack(windows, 3)).reshape([b * ho * wo, k * k * c]);
  return np.matmul(patches, w.reshape([k * k * c, o])).reshape([b, ho, wo, o]);
}

/**
 * 2×2 pooling with stride 2 over the spatial axes of x [B, H, W, C] (consumed), dropping an odd last
 * row/column: max, or the mean of the four entries ("avg"). Output [B, ⌊H/2⌋, ⌊W/2⌋, C].
 */
export function pool2x2(x: Array, kind: "max" | "avg"): Array {
  const [b, h, w, c] = x.shape;
  const h2 = Math.floor(h / 2);
  const w2 = Math.floor(w / 2);
  const even = h % 2 === 0 && w % 2 === 0 ? x : x.slice([], [0, 2 * h2], [0, 2 * w2], []);
  const blocks = even.reshape([b, h2, 2, w2, 2, c]);
  if (kind === "max") return blocks.max([2, 4]);
  const s = blocks.sum([2, 4]);
  return s.mul(lit(0.25, s));
}

/** Spatial size after each conv layer (with its pooling), or a UserError for impossible geometry. */
function geometry(config: CnnConfig, inputShape: readonly number[]): { hw: [number, number][]; flat: number } {
  check(
    inputShape.length === 3,
    `model.kind "cnn" needs image inputs [C, H, W]; the data has inputs [${inputShape.join(", ")}]`,
  );
  let [h, w] = [inputShape[1], inputShape[2]];
  const k = config.kernelSize;
  const hw: [number, number][] = [];
  config.channels.forEach((_, i) => {
    if (config.padding === "valid") {
      check(
        h >= k && w >= k,
        `model.kernelSize ${k} with padding "valid" does not fit the ${h}×${w} input of conv layer ${i}`,
      );
      [h, w] = [h - k + 1, w - k + 1];
    }
    if (config.pooling !== "none") {
      check(
        h >= 2 && w >= 2,
        `model.pooling: the ${h}×${w} output of conv layer ${i} is too small to pool 2×2 ` +
          `(use fewer of model.channels, padding "same", or pooling "none")`,
      );
      [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
    }
    hw.push([h, w]);
  });
  return { hw, flat: h * w * config.channels[config.channels.length - 1] };
}

/**
 * A CNN on inputs [B, C, H, W]: for each conv layer l, h ← pool(σ(conv(h, W_l) + b_l)) (stride 1,
 * `padding`, 2×2 `pooling`), then flatten (channels-last order) and a dense head
 * hidden… → outputDim with σ between its layers. Convolutions run as im2col + matmul
 * (`conv2dNhwc`). Init: W ~ N(0, std²) by `config.init` with fan_in = k²·C_in, fan_out = k²·C_out;
 * biases zero. Throws a UserError for non-image inputs or geometry that pooling cannot fit.
 */
export function cnn(config: CnnConfig, inputShape: readonly number[], outputDim: number): Model<CnnConfig> {
  const { flat } = geometry(config, inputShape);
  const k = config.kernelSize;
  const chans = [inputShape[0], ...config.channels];
  const headDims = [flat, ...config.hidden, outputDim];
  return {
    config,
    inputShape,
    outputDim,
    init(key, dtype) {
      const conv: DenseParams[] = [];
      for (let i = 0; i + 1 < chans.length; i++) {
        const [ci, co] = [chans[i], chans[i + 1]];
        const std = initStd(config.init, k * k * ci, k * k * co, config.initScale);
        const layer: DenseParams = { W: normalArray(key.fold(`conv/${i}/W`), [k, k, ci, co], std, dtype) };
        if (config.bias) layer.b = constArray([co], 0, dtype);
        conv.push(layer);
      }
      const dense = initDenseLayers(key.fold("head"), headDims, {
        scheme: config.init,
        initScale: config.initScale,
        bias: config.bias,
        dtype,
      });
      return { conv, dense } satisfies CnnParams as unknown as Params;
    },
    apply(params, x) {
      checkBatch(params, x, inputShape, "cnn");
      const { conv, dense } = params as unknown as CnnParams;
      const b = x.shape[0];
      let h = x.reshape([b, ...inputShape]).transpose([0, 2, 3, 1]);
      for (const layer of conv) {
        h = conv2dNhwc(h, layer.W, config.padding);
        if (layer.b) h = h.add(layer.b);
        h = activate(config.activation, h);
        if (config.pooling !== "none") h = pool2x2(h, config.pooling);
      }
      return denseStack(h.reshape([b, flat]), dense, config.activation);
    },
    paramCount() {
      let n = 0;
      for (let i = 0; i + 1 < chans.length; i++)
        n += k * k * chans[i] * chans[i + 1] + (config.bias ? chans[i + 1] : 0);
      return n + denseParamCount(headDims, config.bias);
    },
  };
}
