/**
 * Axis labels with units for the metric keys sgdlab writes (`probe/quantity`), and the name of an
 * optimizer's stability threshold. Plain strings; unknown keys get their quantity name.
 */

/** What the run's loss is, for the loss axis unit: `{kind: "ce"}` or `{kind: "mse", reduction}`. */
export interface LossInfo {
  kind: string;
  reduction?: string;
}

/** The loss axis label: "loss (nats)" for cross-entropy, the squared-error form for MSE. */
export function lossLabel(loss?: LossInfo): string {
  if (loss?.kind === "ce") return "loss (nats)";
  if (loss?.kind === "mse") {
    const form: Record<string, string> = {
      mean: "mean squared error",
      half_mean: "½ · squared error per example",
      half_sum: "½ · summed squared error",
      sum: "summed squared error",
    };
    return `loss (${form[loss.reduction ?? "half_mean"] ?? "squared error"})`;
  }
  return "loss";
}

const QUANTITY: Record<string, string> = {
  accuracy: "accuracy (fraction correct)",
  "hessian/lambdaMax": "λ (Hessian eigenvalue)",
  "hessian/threshold": "λ (Hessian eigenvalue)",
  "hessian/precondLambdaMax": "λ of P⁻¹H (preconditioned Hessian eigenvalue)",
  "hessian/eosRatio": "λmax / threshold (ratio)",
  "hessian/precondEosRatio": "λmax(P⁻¹H) / threshold (ratio)",
  "hessian/trace": "tr H (sum of Hessian eigenvalues)",
  "hessian/residual": "relative Ritz residual",
  "hessian/hvps": "Hessian-vector products (count)",
  "hessian/densityHvps": "Hessian-vector products (count)",
  "grad/norm": "‖∇L‖ (gradient norm)",
  "grad/normSq": "‖∇L‖² (squared gradient norm)",
  "grad/meanNormSq": "mean ‖∇ℓᵢ‖² (squared gradient norm)",
  "grad/traceCov": "tr Σ (gradient covariance trace)",
  "grad/noiseScale": "B_simple (examples)",
  "weights/norm": "‖θ‖₂ (parameter norm)",
  "weights/distFromInit": "‖θ − θ₀‖₂ (distance from init)",
  "optim/lr": "η (learning rate)",
  "optim/batchSize": "batch size (examples)",
  "optim/noiseScale": "η / B (noise scale)",
  "time/stepsPerSec": "throughput (steps/s)",
};

/**
 * The y-axis label of a metric key (without an `avg/` prefix). Train/test/gap keys are labelled by
 * their quantity (`train/loss` → the loss label); unknown keys by their last segment.
 */
export function metricLabel(key: string, loss?: LossInfo): string {
  const split = /^(train|test|gap)\/(.+)$/.exec(key);
  if (split) {
    const q = split[2];
    if (q === "loss" || q === "batchLoss") return lossLabel(loss);
    return QUANTITY[q] ?? q;
  }
  if (/^hessian\/lambda(\d+|Min\d*)$/.test(key)) return "λ (Hessian eigenvalue)";
  return QUANTITY[key] ?? key.split("/").slice(-1)[0];
}

/** A human title for a metric key: `hessian/lambdaMax` → "λmax", else the key itself. */
export function metricTitle(key: string): string {
  const m = /^hessian\/lambda(\d+)$/.exec(key);
  if (m) return `λ${m[1]}`;
  const n = /^hessian\/lambdaMin(\d*)$/.exec(key);
  if (n) return n[1] ? `λmin,${n[1]}` : "λmin";
  const named: Record<string, string> = {
    "hessian/lambdaMax": "λmax",
    "hessian/precondLambdaMax": "λmax(P⁻¹H)",
    "hessian/eosRatio": "λmax / threshold",
    "hessian/precondEosRatio": "λmax(P⁻¹H) / threshold",
    "hessian/trace": "Hessian trace",
  };
  return named[key] ?? key;
}

/** What an optimizer config looks like to the threshold label (fields as in the experiment spec). */
export interface OptimizerInfo {
  kind: string;
  momentum?: number;
  nesterov?: boolean;
  b1?: number;
}

/**
 * The formula of the optimizer's linear-stability threshold on the raw Hessian: 2/η (GD),
 * (2+2β)/η (heavy ball), (2+2β)/((1+2β)η) (Nesterov); "threshold" when sgdlab knows none.
 */
export function thresholdLabel(opt?: OptimizerInfo): string {
  if (opt?.kind === "sgd") {
    if (!opt.momentum) return "2/η";
    return opt.nesterov ? "(2+2β)/((1+2β)η)" : "(2+2β)/η";
  }
  return "threshold";
}

/**
 * The formula of the preconditioned threshold (Cohen et al. 2022, §3): (2+2β₁)/((1−β₁)η) for
 * Adam/AdamW, 2/η for RMSProp without momentum.
 */
export function precondThresholdLabel(opt?: OptimizerInfo): string {
  if (opt?.kind === "adam" || opt?.kind === "adamw") return "(2+2β₁)/((1−β₁)η)";
  if (opt?.kind === "rmsprop") return "2/η";
  return "threshold";
}
