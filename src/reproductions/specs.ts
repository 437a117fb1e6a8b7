/**
 * Spec builders shared by the catalog: full-batch gradient descent on MNIST digits with a tanh MLP
 * and MSE on one-hot targets (the setting of Cohen et al. 2021, §3 and App. on MNIST-style data), at
 * each reproduction size. `smoke` swaps MNIST for a tiny Gaussian mixture so that it runs in seconds.
 */
import type { Size } from "./types.js";

/** The data section per size (MNIST: a class-balanced subset of the npm package's 10,000 digits). */
export function mnistData(size: Size, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (size === "smoke") return { kind: "gaussianMixture", nTrain: 100, nTest: 100, classes: 4, dim: 10, ...extra };
  const n = size === "small" ? 500 : 5000;
  return {
    kind: "mnist",
    nTrain: n === 500 ? 2000 : 8000,
    nTest: 1000,
    balancedSubset: n,
    normalize: "center",
    ...extra,
  };
}

/** Hidden widths per size. */
export function widths(size: Size): number[] {
  return size === "smoke" ? [16, 16] : size === "small" ? [100, 100] : [200, 200];
}

/**
 * Full-batch GD with step `lr` on the size's data, tanh MLP (`initScale` multiplies the default
 * initialization), ½-mean MSE, λmax tracked every `every` steps by warm-started Lanczos.
 */
export function gdSpec(
  size: Size,
  o: { lr: number; steps: number; every: number; initScale?: number; seed?: number },
): Record<string, unknown> {
  return {
    seed: o.seed ?? 0,
    data: mnistData(size),
    model: { kind: "mlp", hidden: widths(size), activation: "tanh", initScale: o.initScale ?? 1 },
    loss: { kind: "mse", reduction: "half_mean" },
    optimizer: { kind: "sgd", lr: o.lr },
    batchSize: "full",
    steps: o.steps,
    evalEvery: Math.max(1, Math.floor(o.steps / 10)),
    checkpointEvery: 0,
    probes: [{ kind: "hessian", every: o.every, topK: 1, tol: 1e-3 }],
  };
}
