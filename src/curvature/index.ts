/**
 * Curvature: the linear-operator contract and the host-side float64 algorithms that run on any
 * operator (Lanczos, power iteration, Hutchinson/Hutch++, stochastic Lanczos quadrature, symmetric
 * eigensolvers), and the jax-js operators (exact HVPs, GGN, preconditioned), gradient statistics and
 * mini-batch sharpness.
 */
export * from "./operator.js";
export * from "./tridiagonal.js";
export * from "./lanczos.js";
export * from "./power.js";
export * from "./trace.js";
export * from "./density.js";
export * from "./analyze.js";
export * from "./hvp.js";
export * from "./ggn.js";
export * from "./precond.js";
export * from "./gradients.js";
export * from "./minibatch.js";
