/**
 * `sgdlab stability SPEC --replace K [--pairs M]`: coupled runs on S and S⁽ⁱ⁾ (train/coupled.ts),
 * the empirical uniform-stability estimate with its spread and the Hardt–Recht–Singer bounds beside it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../core/errors.js";
import { common, parse } from "./args.js";
import { loadSpec } from "../experiments/resolve.js";
import { coupledStability, hrsBounds } from "../train/coupled.js";
import { fmt, table } from "./format.js";

export const STABILITY_USAGE = `usage: sgdlab stability SPEC --replace K [--pairs M] [--every S] [--set path=value ...] [--out DIR] [--json]

Trains SPEC on its training set S and, for M choices (default 3) of K replaced examples, on S⁽ⁱ⁾
(replacements from the held-out split), with the same initialization, batch order and keys.
Prints ‖θ_t − θ'_t‖ over time (every S steps, default steps/50), the stability estimate
mean over pairs of max_z |ℓ(θ_T; z) − ℓ(θ'_T; z)| on the other held-out points (± standard error),
and the Hardt–Recht–Singer bounds (convex Thm 3.8, non-convex Thm 3.12) with L and β measured.
  --out DIR   writes DIR/distance.csv (step, mean, pair columns) and DIR/stability.json
  --json      {"n","replace","heldOut","steps","meanDistance","pairs":[{replaced,distance,maxLossDiff,
              meanLossDiff}],"stability":{mean,stderr,min,max},"sumLr","c","maxLr","lipschitz",
              "smoothness","bounds":{kind,convex,nonConvex},"seconds"}`;

function intFlag(v: string | undefined, flag: string, dflt: number | undefined, min = 0): number | undefined {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new UserError(`stability: ${flag} must be an integer ≥ ${min}, got "${v}"`);
  return Number(v);
}

/** Runs `sgdlab stability`; returns the exit code. */
export async function stabilityCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      replace: { type: "string" },
      pairs: { type: "string" },
      every: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
      out: { type: "string" },
    },
    "stability",
  );
  if (values.help) {
    out(STABILITY_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`stability: expected one spec file\n${STABILITY_USAGE}`);
  if (values.replace === undefined) throw new UserError(`stability: --replace K is required\n${STABILITY_USAGE}`);
  const { spec } = loadSpec(positionals[0], values.set);
  const r = await coupledStability(spec, {
    replace: intFlag(values.replace, "--replace", 1)!,
    pairs: intFlag(values.pairs, "--pairs", 3, 1)!,
    every: intFlag(values.every, "--every", undefined, 1),
  });
  const m = spec.model as { kind: string; hidden?: number[] };
  const convexModel = m.kind === "linear" || (m.kind === "mlp" && (m.hidden ?? []).length === 0);
  const bounds = hrsBounds(r, convexModel);
  const result = { ...r, bounds };
  if (values.out !== undefined) {
    mkdirSync(values.out, { recursive: true });
    const head = ["step", "mean", ...r.pairs.map((_, j) => `pair${j}`)].join(",");
    const rows = r.steps.map((s, i) => [s, r.meanDistance[i], ...r.pairs.map((p) => p.distance[i])].join(","));
    writeFileSync(join(values.out, "distance.csv"), `${head}\n${rows.join("\n")}\n`);
    writeFileSync(join(values.out, "stability.json"), JSON.stringify(result, null, 2));
  }
  if (values.json) {
    out(JSON.stringify(result));
    return 0;
  }
  const every = Math.max(1, Math.ceil(r.steps.length / 12));
  const shown = r.steps.map((s, i) => ({ s, i })).filter(({ i }) => i % every === 0 || i === r.steps.length - 1);
  out(
    `${spec.name}: n = ${r.n}, ${r.replace} example(s) replaced, ${r.pairs.length} pairs, ${r.heldOut} held-out points, ${fmt(r.seconds)} s\n\n` +
      table(
        ["step", "mean ‖θ−θ'‖", ...r.pairs.map((_, j) => `pair ${j}`)],
        shown.map(({ s, i }) => [String(s), fmt(r.meanDistance[i]), ...r.pairs.map((p) => fmt(p.distance[i]))]),
      ),
  );
  const st = r.stability;
  const lines = [
    "",
    `stability estimate  max_z |ℓ(θ_T;z) − ℓ(θ'_T;z)|: ${fmt(st.mean)} ± ${fmt(st.stderr)} (min ${fmt(st.min)}, max ${fmt(st.max)} over pairs)`,
    `constants           L = ${fmt(r.lipschitz)} (max per-example ‖∇ℓ‖ at θ₀, θ_T), β = ${fmt(r.smoothness)} (max λmax at θ₀, θ_T); Σα_t = ${fmt(r.sumLr)}, c = ${fmt(r.c)}`,
  ];
  if (bounds.convex) {
    const c = bounds.convex;
    lines.push(
      `HRS convex (Thm 3.8) ${fmt(c.lossBound)} on the loss, ${fmt(c.distanceBound)} on ‖θ_T − θ'_T‖ — ${c.applies ? "applies" : "does not apply"}: ${c.why}`,
    );
  }
  if (bounds.nonConvex) {
    lines.push(`HRS non-convex (Thm 3.12) ${fmt(bounds.nonConvex.lossBound)} — ${bounds.nonConvex.why}`);
  }
  lines.push("(L and β are lower estimates of the suprema the theorems need; bounds are × K for K replacements)");
  out(lines.join("\n"));
  return 0;
}
