/**
 * Input adversarial robustness: FGSM and PGD attacks on the inputs of a fixed subset of the test set,
 * under L∞ or L2 budgets, and the robust accuracy and loss they leave.
 */
import {
  check,
  grad,
  hostArray,
  keep,
  np,
  release,
  toScalar,
  type Array,
  type FloatDtype,
  type Key,
  type Params,
} from "../core/index.js";
import { createObjective } from "../losses/objective.js";
import { accuracy } from "../losses/accuracy.js";
import type { Loss } from "../losses/types.js";
import type { Model } from "../models/types.js";
import type { Probe } from "./probe.js";
import type { ProbeConfig } from "./schema.js";

/** The threat model's norm: ‖δ‖∞ ≤ ε or ‖δ‖₂ ≤ ε (per example). */
export type AttackNorm = "linf" | "l2";

/** Options of `attack`. */
export interface AttackOptions {
  readonly method: "fgsm" | "pgd";
  readonly norm: AttackNorm;
  /** Radius ε of the ball around each clean input. */
  readonly eps: number;
  /** PGD: number of ascent steps (default 10). */
  readonly steps?: number;
  /** PGD: step size α (default 2.5ε/steps, Madry et al.'s choice, so the walk can cross the ball). */
  readonly stepSize?: number;
  /** PGD: start at a uniform random point of the ball (needs `key`); default false. */
  readonly randomStart?: boolean;
  readonly key?: Key;
  /** Valid input range [lo, hi]: every iterate is also clipped to it (e.g. [0, 1] for pixels). */
  readonly clip?: readonly [number, number];
}

/**
 * An adversarial version of the batch x [B, ...] with labels y for the model at θ, maximizing
 * the (mean) loss L(f(θ, x'), y) over x' with ‖x' − x_i‖ ≤ ε per example:
 *
 * - FGSM (Goodfellow, Shlens & Szegedy, ICLR 2015, eq. 3): x' = x + ε sign(∇ₓL) for L∞; the L2
 *   analogue steps along the normalized gradient, x' = x + ε ∇ₓL/‖∇ₓL‖₂.
 * - PGD (Madry, Makelov, Schmidt, Tsipras & Vladu, ICLR 2018, eq. 2 and §2.1): from x₀ = x (or a
 *   uniform random point of the ball), x_{k+1} = Π_{B(x,ε)}(x_k + α sign(∇ₓL(x_k))) for L∞,
 *   x_{k+1} = Π_{B(x,ε)}(x_k + α ∇ₓL/‖∇ₓL‖₂) for L2; Π clips δ to [−ε, ε] (L∞) or rescales it by
 *   min(1, ε/‖δ‖₂) (L2), then clips x to the input range if one is given. Returns the last iterate.
 *
 * The gradient is with respect to the input x, not θ; the model runs in eval mode (batch-norm models
 * are refused by the probe). Per-example directions do not depend on the 1/B of the mean loss.
 * Consumes params, x and y; returns x' in x's shape.
 */
export function attack(model: Model, loss: Loss, params: Params, x: Array, y: Array, opts: AttackOptions): Array {
  const shape = x.shape;
  const b = shape[0];
  const d = x.size / b;
  const x0 = x.reshape([b, d]);
  const lossAt = (xx: Array): Array => loss(model.apply(keep(params), xx.reshape(shape), { train: false }), y.ref);
  const inputGrad = grad(lossAt);
  const direction = (g: Array): Array => {
    if (opts.norm === "linf") return np.sign(g);
    const norm = np.sqrt(g.ref.mul(g.ref).sum(1, { keepdims: true }));
    return g.div(np.maximum(norm, 1e-30));
  };
  const project = (xk: Array): Array => {
    let delta = xk.sub(x0.ref);
    if (opts.norm === "linf") delta = np.clip(delta, -opts.eps, opts.eps);
    else {
      const norm = np.sqrt(delta.ref.mul(delta.ref).sum(1, { keepdims: true }));
      delta = delta.mul(np.minimum(np.reciprocal(np.maximum(norm, 1e-30)).mul(opts.eps), 1));
    }
    const out = x0.ref.add(delta);
    return opts.clip ? np.clip(out, opts.clip[0], opts.clip[1]) : out;
  };
  try {
    if (opts.method === "fgsm") {
      const step = direction(inputGrad(x0.ref)).mul(opts.eps);
      return project(x0.ref.add(step)).reshape(shape);
    }
    const steps = opts.steps ?? 10;
    const alpha = opts.stepSize ?? (2.5 * opts.eps) / steps;
    let xk = x0.ref;
    if (opts.randomStart) {
      check(opts.key !== undefined, "attack: a random start needs a key", 1);
      const dtype: FloatDtype = x0.dtype === np.float64 ? "float64" : "float32";
      const start = np.array(hostArray(dtype, ballSample(opts.key, b, d, opts.norm, opts.eps)), { dtype: x0.dtype });
      xk = project(xk.add(start.reshape([b, d])));
    }
    for (let k = 0; k < steps; k++) {
      const step = direction(inputGrad(xk.ref)).mul(alpha);
      xk = project(xk.add(step));
    }
    return xk.reshape(shape);
  } finally {
    release([params, x0, y]);
  }
}

/** B uniform points of the d-dimensional ball of radius ε (rows of a B·d array), from `key`. */
function ballSample(key: Key, b: number, d: number, norm: AttackNorm, eps: number): Float64Array {
  const rng = key.rng();
  const out = new Float64Array(b * d);
  for (let i = 0; i < b; i++) {
    if (norm === "linf") {
      for (let j = 0; j < d; j++) out[i * d + j] = eps * (2 * rng.uniform() - 1);
      continue;
    }
    // A uniform direction scaled by ε·u^{1/d} is uniform in the L2 ball.
    let ss = 0;
    for (let j = 0; j < d; j++) {
      const z = rng.normal();
      out[i * d + j] = z;
      ss += z * z;
    }
    const r = (eps * Math.pow(rng.uniform(), 1 / d)) / Math.sqrt(ss || 1);
    for (let j = 0; j < d; j++) out[i * d + j] *= r;
  }
  return out;
}

/** The metric key segment of an attack: "fgsm" / "pgd" for L∞, "fgsm-l2" / "pgd-l2" for L2. */
export function attackName(method: "fgsm" | "pgd", norm: AttackNorm): string {
  return norm === "linf" ? method : `${method}-${norm}`;
}

/**
 * Robust accuracy and loss on `n` test examples (the fixed subset `subset:n` of the test set, drawn
 * from the run's root key by the objective's subset rule; all of them when n ≥ the test size), the
 * model in eval mode: `adversarial/clean/accuracy` and `…/loss`, and for each configured attack
 * (FGSM, PGD), norm and ε, `adversarial/<attack>/<ε>/accuracy` and `…/loss`, where <attack> is
 * "fgsm" or "pgd" for L∞ and "fgsm-l2" or "pgd-l2" for L2 (`attackName`). PGD's random start draws
 * from this probe's key at the step. Batch-norm models are refused (the probe context has no running
 * statistics). Goodfellow et al. 2015 (FGSM, eq. 3); Madry et al. 2018 (PGD, eq. 2, §2.1).
 */
export function adversarialProbe(cfg: Extract<ProbeConfig, { kind: "adversarial" }>): Probe {
  return {
    name: "adversarial",
    every: cfg.every,
    async measure(ctx) {
      check(
        typeof ctx.model.applyTrain !== "function",
        "adversarial probe: batch-norm models need their running statistics for eval mode, which probes cannot see yet",
      );
      check(ctx.data.test.task === "classification", "adversarial probe: needs a classification dataset");
      const obj = createObjective({ model: ctx.model, loss: ctx.loss }, ctx.data.test, `subset:${cfg.n}`, {
        dtype: ctx.dtype,
        chunkSize: ctx.chunkSize,
        rootKey: ctx.rootKey,
      });
      const totals = new Map<string, { loss: number; correct: number }>();
      const add = async (name: string, c: { y: Array; n: number; weight: number }, xs: Array): Promise<void> => {
        const out = ctx.model.apply(keep(ctx.params), xs, { train: false });
        const [l, a] = await Promise.all([toScalar(ctx.loss(out.ref, c.y.ref)), toScalar(accuracy(out, c.y.ref))]);
        const t = totals.get(name) ?? { loss: 0, correct: 0 };
        t.loss += c.weight * l;
        t.correct += Math.round(a * c.n);
        totals.set(name, t);
      };
      try {
        const chunks = obj.chunks;
        for (const [ci, c] of chunks.entries()) {
          await add("clean", c, c.x.ref);
          for (const norm of cfg.norms) {
            for (const eps of cfg.epsilons) {
              for (const method of cfg.attacks) {
                const xs = attack(ctx.model, ctx.loss, keep(ctx.params), c.x.ref, c.y.ref, {
                  method,
                  norm,
                  eps,
                  steps: cfg.steps,
                  stepSize: cfg.stepRatio === undefined ? undefined : cfg.stepRatio * eps,
                  randomStart: cfg.randomStart,
                  key: ctx.key.fold(`${norm}/${eps}/${ci}`),
                  clip: cfg.clip,
                });
                await add(`${attackName(method, norm)}/${eps}`, c, xs);
              }
            }
          }
        }
        const n = obj.description.n;
        const m: Record<string, number> = {};
        for (const [name, t] of totals) {
          m[`adversarial/${name}/accuracy`] = t.correct / n;
          m[`adversarial/${name}/loss`] = t.loss;
        }
        return m;
      } finally {
        obj.dispose();
      }
    },
  };
}
