/**
 * Sharp minima can generalize (Dinh, Pascanu, Bengio & Bengio, "Sharp minima can generalize for deep
 * nets", ICML 2017, §4, Theorem 3 / the α-scale transformation T_α): for a ReLU network the map
 * (W₁, b₁, W₂) ↦ (αW₁, αb₁, W₂/α) leaves the function unchanged (relu(αz) = α·relu(z) for α > 0) but
 * changes the Hessian, so λmax — a flatness measure — is not invariant to reparametrization.
 */
import { Key, keep, leafNames, release, toHost, treeFromHost, treeSpec, type Params } from "../../core/index.js";
import { analyzeHessian } from "../../curvature/analyze.js";
import { createLoss, makeBatch } from "../../losses/index.js";
import { alphaScale } from "../../models/reparametrize.js";
import { mnistData } from "../specs.js";
import { trainingObjective } from "../posthoc.js";
import type { Reproduction, Size } from "../types.js";

const ALPHA = 10;

function plan(size: Size): { steps: number; hidden: number[] } {
  if (size === "smoke") return { steps: 10, hidden: [8, 8] };
  if (size === "small") return { steps: 600, hidden: [100, 100] };
  return { steps: 5000, hidden: [512, 512] };
}

export const sharpMinimaReparametrization: Reproduction = {
  name: "sharp-minima-reparametrization",
  title: "Sharpness is not reparametrization-invariant: rescaling ReLU layers changes λmax, not the function",
  source: "Dinh, Pascanu, Bengio & Bengio, ICML 2017, §4 (α-scale transformation)",
  claim:
    "For a trained ReLU MLP, scaling the first layer by α = 10 and the second by 1/α changes no output by more than " +
    "1e-5 (relative) but changes λmax of the training loss by at least 10×.",
  criteria: [
    {
      name: "outputChange",
      statement: "max |f'(x) − f(x)| / max |f(x)| over the training inputs (float64)",
      max: 1e-5,
    },
    { name: "lambdaMaxChange", statement: "max(λ'/λ, λ/λ') for λmax before (λ) and after (λ') rescaling", min: 10 },
  ],
  async execute(ctx) {
    const p = plan(ctx.size);
    const r = await ctx.run("relu-mlp", {
      seed: 0,
      data: mnistData(ctx.size),
      model: { kind: "mlp", hidden: p.hidden, activation: "relu" },
      loss: { kind: "ce" },
      optimizer: { kind: "adam", lr: 1e-3 },
      batchSize: 64,
      steps: p.steps,
      evalEvery: Math.max(1, Math.floor(p.steps / 5)),
    });
    const t = await ctx.trained(r);
    // T_α (models/reparametrize.ts): layers.0.{W,b} × α, layers.1.W ÷ α (ReLU is positively homogeneous)
    const template = t.params("float64");
    const spec = treeSpec(template);
    const names = leafNames(template);
    release(template);
    const sizes = spec.shapes.map((s) => s.reduce((a, b) => a * b, 1));
    const scaled = alphaScale(t.spec.model, names, sizes, t.flat, { alpha: ALPHA }).flat;
    const before = treeFromHost(spec, t.flat) as Params;
    const after = treeFromHost(spec, scaled) as Params;
    const { x } = makeBatch(t.data, null, createLoss(t.loss), "float64");
    const f0 = await toHost(t.model.apply(keep(before), x.ref));
    const f1 = await toHost(t.model.apply(keep(after), x));
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < f0.length; i++) {
      diff = Math.max(diff, Math.abs(f1[i] - f0[i]));
      scale = Math.max(scale, Math.abs(f0[i]));
    }
    const obj = trainingObjective({ ...t, dtype: "float64" });
    const lam = async (q: Params) =>
      (await analyzeHessian(obj, q, { top: 1, bottom: 0, tol: 1e-6, trace: "none", key: Key.fromSeed(0) }))
        .topEigenvalues[0];
    let l0: number, l1: number;
    try {
      l0 = await lam(before);
      l1 = await lam(after);
    } finally {
      obj.dispose();
    }
    return {
      values: { outputChange: diff / scale, lambdaMaxChange: Math.max(l1 / l0, l0 / l1) },
      figures: [],
      notes: [
        `α = ${ALPHA}: λmax ${l0.toPrecision(5)} before, ${l1.toPrecision(5)} after; max output change ${diff.toExponential(2)}`,
      ],
    };
  },
};
