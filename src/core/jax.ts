/**
 * The one entry point to jax-js in sgdlab: importing jax-js through this module guarantees that the
 * Node 20 shims load first. Everything else imports `np`, `grad`, ... from here (lint-enforced).
 */
import "./shims.js";

export {
  numpy as np,
  grad,
  valueAndGrad,
  jvp,
  vjp,
  linearize,
  jit,
  vmap,
  hessian,
  random,
  tree,
  nn,
  lax,
  init,
  defaultDevice,
  devices,
  devicePut,
  blockUntilReady,
  profiler,
} from "@jax-js/jax";
export type { Array, DType, Device, JsTree, OwnedFunction } from "@jax-js/jax";
