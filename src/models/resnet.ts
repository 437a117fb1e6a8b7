/**
 * A small CIFAR-style residual network (He, Zhang, Ren & Sun 2016, §4.2) with batch, layer or no
 * normalisation; convolutions as im2col + matmul (`conv2dNhwc`).
 */
import { check, lit, np, release, type Array, type FloatDtype, type Key, type Params } from "../core/index.js";
import { activate } from "./activations.js";
import { conv2dNhwc } from "./cnn.js";
import { checkBatch, constArray, dense, initStd, normalArray, type DenseParams } from "./layers.js";
import {
  checkBatchWithState,
  initAffine,
  initBatchNormState,
  layerNorm,
  NormPass,
  type AffineParams,
  type BatchNormOptions,
  type BatchNormState,
} from "./norm.js";
import type { ResnetConfig } from "./schema.js";
import type { Model, ModelState } from "./types.js";

/** A convolution W [k, k, C_in, C_out] (HWIO), with a bias [C_out] only when `norm` is "none". */
type Conv = DenseParams;

/** One basic block: conv–norm–σ–conv–norm, plus the shortcut, then σ. */
export interface ResnetBlockParams {
  conv1: Conv;
  norm1?: AffineParams;
  conv2: Conv;
  norm2?: AffineParams;
  /** Option B only, where the block changes shape: a 1×1 conv with stride 2 and its norm. */
  shortcut?: { conv: Conv; norm?: AffineParams };
}

/**
 * ResNet parameters: the stem conv (3×3, C → w) and its norm, `stages[s][j]` the j-th block of stage
 * s, and the dense head [4w, outputDim]. Norm parameters (γ, β) exist for "batch" and "layer".
 */
export interface ResnetParams {
  stem: Conv;
  stemNorm?: AffineParams;
  stages: ResnetBlockParams[][];
  head: DenseParams;
}

/** Geometry of one block: channels in/out, stride, and whether its shortcut changes shape. */
interface BlockSpec {
  cin: number;
  cout: number;
  stride: number;
  reshapes: boolean;
}

/** x[:, ::s, ::s, :] for x [B, H, W, C] (consumes x). */
function subsample(x: Array, s: number): Array {
  if (s === 1) return x;
  const [b, h, w, c] = x.shape;
  const [ho, wo] = [Math.ceil(h / s), Math.ceil(w / s)];
  const padded =
    ho * s === h && wo * s === w
      ? x
      : np.pad(x, [
          [0, 0],
          [0, ho * s - h],
          [0, wo * s - w],
          [0, 0],
        ]);
  return padded.reshape([b, ho, s, wo, s, c]).slice([], [], 0, [], 0, []);
}

/**
 * The CIFAR ResNet of He et al. (2016, §4.2) on inputs [B, C, H, W] (transposed to channels-last):
 *
 *   h = σ(N(conv₃ₓ₃(x)))                                    stem, C → w channels
 *   3 stages s = 0, 1, 2 of `depth` basic blocks with w·2^s channels, the first block of stages 1
 *   and 2 with stride 2:  h ← σ(N(conv₃ₓ₃(σ(N(conv₃ₓ₃(h, stride))))) + shortcut(h))
 *   out = mean_{H,W}(h) W_head + b_head                     global average pooling, linear head
 *
 * N is batch norm (`norm` "batch": γ, β, running statistics with `momentum`, `eps`, `ghostBatch`;
 * see `batchNormTrain`), layer norm over (H, W, C) with per-channel γ, β ("layer"), or the identity
 * with a conv bias instead ("none"). The shortcut is the identity where the shape is unchanged;
 * where it changes, option A (`shortcut` "identity": x[:, ::2, ::2] with zero channels appended) or
 * option B ("projection": N(conv₁ₓ₁(x, stride 2))). "same" padding ⌊(k−1)/2⌋ on each side (as
 * PyTorch's padding=1), so a stride-2 stage maps H to ⌈H/2⌉.
 *
 * Init: convs and head W ~ N(0, std²) by `init` (fan_in = k²·C_in, as Kaiming-normal for "he"),
 * biases 0, γ = 1, β = 0; running mean 0, variance 1. With "batch" the model is stateful: the state
 * is the list of every batch-norm layer's {mean, var} in forward order (stem; per block norm1, norm2,
 * then the projection's norm).
 */
export function resnet(config: ResnetConfig, inputShape: readonly number[], outputDim: number): Model<ResnetConfig> {
  check(
    inputShape.length === 3,
    `model.kind "resnet" needs image inputs [C, H, W]; the data has inputs [${inputShape.join(", ")}]`,
  );
  check(
    config.ghostBatch === null || config.norm === "batch",
    `model.ghostBatch needs model.norm "batch" (got "${config.norm}")`,
  );
  const [c0, h0, w0] = inputShape;
  const w = config.width;
  const norm = config.norm;
  const bn: BatchNormOptions = { momentum: config.momentum, eps: config.eps, ghostBatch: config.ghostBatch };
  const blocks: BlockSpec[][] = [0, 1, 2].map((s) => {
    const stage: BlockSpec[] = [];
    for (let j = 0; j < config.depth; j++) {
      const cin = j === 0 ? (s === 0 ? w : w << (s - 1)) : w << s;
      const stride = j === 0 && s > 0 ? 2 : 1;
      stage.push({ cin, cout: w << s, stride, reshapes: stride !== 1 || cin !== w << s });
    }
    return stage;
  });
  const projection = config.shortcut === "projection";
  const convBias = norm === "none";

  const initConv = (key: Key, k: number, cin: number, cout: number, dtype: FloatDtype): Conv => {
    const std = initStd(config.init, k * k * cin, k * k * cout, config.initScale);
    const conv: Conv = { W: normalArray(key.fold("W"), [k, k, cin, cout], std, dtype) };
    if (convBias) conv.b = constArray([cout], 0, dtype);
    return conv;
  };
  const affine = (c: number, dtype: FloatDtype): AffineParams | undefined =>
    norm === "none" ? undefined : initAffine(c, dtype);

  const normalize = (h: Array, a: AffineParams | undefined, pass: NormPass | null): Array => {
    if (norm === "batch") return (pass as NormPass).batchNorm(h, a ?? null);
    if (norm === "layer") return layerNorm(h, a ?? null, config.eps);
    return h;
  };
  const convAdd = (h: Array, conv: Conv, stride: number): Array => {
    const y = conv2dNhwc(h, conv.W, "same", stride);
    return conv.b ? y.add(conv.b) : y;
  };

  const forward = (params: Params, x: Array, pass: NormPass | null): Array => {
    const p = params as unknown as ResnetParams;
    const b = x.shape[0];
    let h = x.reshape([b, c0, h0, w0]).transpose([0, 2, 3, 1]);
    h = activate(config.activation, normalize(convAdd(h, p.stem, 1), p.stemNorm, pass));
    p.stages.forEach((stage, s) =>
      stage.forEach((blk, j) => {
        const spec = blocks[s][j];
        let y = normalize(convAdd(h.ref, blk.conv1, spec.stride), blk.norm1, pass);
        y = normalize(convAdd(activate(config.activation, y), blk.conv2, 1), blk.norm2, pass);
        let sc: Array;
        if (blk.shortcut) sc = normalize(convAdd(h, blk.shortcut.conv, spec.stride), blk.shortcut.norm, pass);
        else if (!spec.reshapes) sc = h;
        else {
          sc = np.pad(subsample(h, spec.stride), [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, spec.cout - spec.cin],
          ]);
        }
        h = activate(config.activation, y.add(sc));
      }),
    );
    const [, hh, ww] = h.shape;
    const pooled = h.sum([1, 2]);
    return dense(pooled.div(lit(hh * ww, pooled)), p.head);
  };

  const model: Model<ResnetConfig> = {
    config,
    inputShape,
    outputDim,
    init(key, dtype) {
      const p: ResnetParams = {
        stem: initConv(key.fold("stem"), 3, c0, w, dtype),
        stages: blocks.map((stage, s) =>
          stage.map((spec, j) => {
            const k = key.fold(`stages/${s}/${j}`);
            const n1 = affine(spec.cout, dtype);
            const conv2 = initConv(k.fold("conv2"), 3, spec.cout, spec.cout, dtype);
            const n2 = affine(spec.cout, dtype);
            const blk: ResnetBlockParams = {
              conv1: initConv(k.fold("conv1"), 3, spec.cin, spec.cout, dtype),
              ...(n1 && { norm1: n1 }),
              conv2,
              ...(n2 && { norm2: n2 }),
            };
            if (projection && spec.reshapes) {
              const ns = affine(spec.cout, dtype);
              blk.shortcut = {
                conv: initConv(k.fold("shortcut"), 1, spec.cin, spec.cout, dtype),
                ...(ns && { norm: ns }),
              };
            }
            return blk;
          }),
        ),
        head: {
          W: normalArray(
            key.fold("head/W"),
            [4 * w, outputDim],
            initStd(config.init, 4 * w, outputDim, config.initScale),
            dtype,
          ),
          b: constArray([outputDim], 0, dtype),
        },
      };
      const stemNorm = affine(w, dtype);
      if (stemNorm) p.stemNorm = stemNorm;
      return p as unknown as Params;
    },
    apply(params, x, opts) {
      checkBatch(params, x, inputShape, "resnet");
      if (norm !== "batch") return forward(params, x, null);
      const pass = NormPass.forApply("resnet", opts, bn, () => release([params, x]));
      const out = forward(params, x, pass);
      pass.finish();
      return out;
    },
    paramCount() {
      const perNorm = (c: number): number => (norm === "none" ? c : 2 * c);
      let n = 9 * c0 * w + perNorm(w) + 4 * w * outputDim + outputDim;
      for (const spec of blocks.flat()) {
        n += 9 * spec.cin * spec.cout + 9 * spec.cout * spec.cout + 2 * perNorm(spec.cout);
        if (projection && spec.reshapes) n += spec.cin * spec.cout + perNorm(spec.cout);
      }
      return n;
    },
  };
  if (norm !== "batch") return model;
  return {
    ...model,
    initState(dtype) {
      const states: BatchNormState[] = [initBatchNormState(w, dtype)];
      for (const spec of blocks.flat()) {
        states.push(initBatchNormState(spec.cout, dtype), initBatchNormState(spec.cout, dtype));
        if (projection && spec.reshapes) states.push(initBatchNormState(spec.cout, dtype));
      }
      return states as unknown as ModelState;
    },
    applyTrain(params, state, x) {
      checkBatchWithState(params, state, x, inputShape, "resnet");
      const pass = NormPass.forTrain(state, bn);
      const out = forward(params, x, pass);
      return [out, pass.finish() as ModelState];
    },
  };
}
