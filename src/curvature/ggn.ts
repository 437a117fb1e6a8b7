/**
 * Generalized Gauss–Newton products G v = Σ_c w_c J_cᵀ H_c J_c v of a curvature objective.
 */
import {
  UserError,
  grad,
  jvp,
  keep,
  linearize,
  lit,
  np,
  release,
  vjp,
  type Array,
  type Params,
} from "../core/index.js";
import { crossEntropy } from "../losses/index.js";
import type { Loss } from "../losses/types.js";
import { chunkedOperator, type ChunkProduct, type DisposableOperator, type ProductOptions } from "./hvp.js";
import type { Objective, ObjectiveChunk } from "../losses/objective.js";

/** Options of `ggnOperator`. */
export interface GgnOperatorOptions extends ProductOptions {
  /**
   * How H_out u is computed: "closedForm" (default; CE and MSE only, autodiff for other losses) or
   * "autodiff" (forward-over-reverse on the loss as a function of the outputs, any loss).
   */
  readonly outputHessian?: "closedForm" | "autodiff";
}

type LinFn<I, O> = ((v: I) => O) & { dispose(): void };

/** u ↦ H_out u for one chunk, owning what it needs (softmax probabilities, targets). */
interface OutputHessian {
  apply(u: Array): Array;
  dispose(): void;
}

/** The MSE curvature c of H_out = c·I for each reduction of a batch of B examples with d outputs. */
function mseCurvature(reduction: string, b: number, d: number): [number, number] | null {
  // As (numerator, denominator) so the constant is exact in both precisions.
  switch (reduction) {
    case "mean":
      return [2, b * d];
    case "half_mean":
      return [1, b];
    case "half_sum":
      return [1, 1];
    case "sum":
      return [2, 1];
    default:
      return null;
  }
}

/**
 * H_out of `loss` at outputs `out` [B, k] with targets `y` (both consumed).
 *
 * - CE (mean over B of −log softmax(f_i)[y_i]): block-diagonal, (diag(p_i) − p_i p_iᵀ)/B per example,
 *   p_i = softmax(f_i); H u = (p ⊙ u − p (Σ_k p ⊙ u))/B row by row.
 * - MSE: c·I with c = 2/(B·d) ("mean"), 1/B ("half_mean"), 1 ("half_sum"), 2 ("sum").
 * - otherwise (or `autodiff`): H u = jvp(∇_f loss(·, y), [f], [u]).
 */
function outputHessian(loss: Loss, out: Array, y: Array, mode: "closedForm" | "autodiff"): OutputHessian {
  const [b, d] = out.shape;
  const mse = /^mse\((\w+)\)$/.exec(loss.name);
  const c = mse ? mseCurvature(mse[1], b, d) : null;
  if (mode === "closedForm" && loss === crossEntropy) {
    y.dispose();
    const shifted = out.ref.sub(out.max(1, { keepdims: true }));
    const e = np.exp(shifted);
    const p = e.ref.div(e.sum(1, { keepdims: true }));
    return {
      apply(u) {
        const pu = p.ref.mul(u);
        const s = pu.ref.sum(1, { keepdims: true });
        const hu = pu.sub(p.ref.mul(s));
        return hu.div(lit(b, hu));
      },
      dispose: () => p.dispose(),
    };
  }
  if (mode === "closedForm" && c !== null) {
    release([out, y]);
    const [num, den] = c;
    return {
      apply: (u) => (num === 1 ? u : u.mul(lit(num, u))).div(lit(den, u)),
      dispose() {},
    };
  }
  const lossOfOut = (f: Array): Array => loss(f, y.ref);
  return {
    apply(u) {
      const [g, hu] = jvp(grad(lossOfOut), [out.ref], [u]) as unknown as [Array, Array];
      g.dispose();
      return hu;
    },
    dispose: () => release([out, y]),
  };
}

/**
 * The generalized Gauss–Newton matrix G = Σ_c w_c J_cᵀ H_c J_c of an objective at θ as an
 * operator (Schraudolph 2002, "Fast curvature matrix-vector products for second-order gradient
 * descent", eq. 7; Martens 2014/2020, "New insights and perspectives on the natural gradient method",
 * §8.1), J_c = ∂f(θ, X_c)/∂θ the Jacobian of the model outputs and H_c = ∇²_f loss the Hessian of the
 * chunk's loss with respect to the outputs (`outputHessian`). G v = Jᵀ(H (J v)) with J v by `jvp`
 * (or a `linearize`d model, see `ProductMode`) and Jᵀ u by `vjp`. G is positive semidefinite for
 * convex losses (CE, MSE) and equals the Hessian when the model is linear in θ and the loss is MSE.
 *
 * @param theta the point (consumed: the operator owns it). @param opts.mode default "auto".
 * @param opts.maxLinearizedExamples default 8192.
 * @param opts.outputHessian default "closedForm".
 */
export function ggnOperator(obj: Objective, theta: Params, opts: GgnOperatorOptions = {}): DisposableOperator {
  const hMode = opts.outputHessian ?? "closedForm";
  if (hMode !== "closedForm" && hMode !== "autodiff") {
    release(theta);
    throw new UserError(`ggn: outputHessian must be closedForm or autodiff, got "${hMode}"`);
  }
  const apply = (c: ObjectiveChunk) => (p: Params) => obj.forward(p, c.x.ref);
  const pullback = (c: ObjectiveChunk, theta: Params): LinFn<Array, Params> => {
    const [out, back] = vjp(apply(c), [keep(theta)]) as unknown as [Array, LinFn<Array, Params[]>];
    out.dispose();
    const f = ((u: Array) => back(u)[0]) as LinFn<Array, Params>;
    f.dispose = () => back.dispose();
    return f;
  };
  const product: ChunkProduct = {
    prepare(c, p) {
      const [out, push] = linearize(apply(c), [keep(p)]) as unknown as [Array, LinFn<Params, Array>];
      const h = outputHessian(obj.loss, out, c.y.ref, hMode);
      const back = pullback(c, p);
      return {
        apply: (v) => back(h.apply(push(v))),
        dispose() {
          push.dispose();
          back.dispose();
          h.dispose();
        },
      };
    },
    direct(c, p, v) {
      const [out, jv] = jvp(apply(c), [keep(p)], [v]) as unknown as [Array, Array];
      const h = outputHessian(obj.loss, out, c.y.ref, hMode);
      const u = h.apply(jv);
      h.dispose();
      const back = pullback(c, p);
      try {
        return back(u);
      } finally {
        back.dispose();
      }
    },
  };
  return chunkedOperator(obj, theta, product, opts);
}
