/**
 * Curvature: the linear-operator contract and the host-side float64 algorithms that run on any
 * operator (Lanczos, power iteration, Hutchinson/Hutch++, stochastic Lanczos quadrature, symmetric
 * eigensolvers).
 */
export * from "./operator.js";
export * from "./tridiagonal.js";
export * from "./lanczos.js";
export * from "./power.js";
export * from "./trace.js";
export * from "./density.js";
