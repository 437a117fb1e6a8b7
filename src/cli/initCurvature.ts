/**
 * `sgdlab init-curvature SPEC --draws N [--keep-flattest]`: λmax, trace and ‖∇L‖ at initialization
 * over N seeds (experiments/initCurvature.ts), and a spec with the flattest draw's seed.
 */
import { writeFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { UserError } from "../core/errors.js";
import { common, parse } from "./args.js";
import { initCurvature } from "../experiments/initCurvature.js";
import { loadSpec } from "../experiments/resolve.js";
import { fmt, table } from "./format.js";

export const INIT_CURVATURE_USAGE = `usage: sgdlab init-curvature SPEC --draws N [--probes P] [--keep-flattest [--out FILE]] [--set path=value ...] [--json]

For seeds seed, seed+1, …, seed+N−1 of SPEC: λmax (Lanczos), tr H (Hutchinson with P Rademacher
probes, default 64, ± standard error) and ‖∇L‖ of the training loss at the run's initialization.
  --keep-flattest  writes SPEC with the seed of the lowest-λmax draw to FILE (default
                   <spec name>.flattest.json) and prints the equivalent --set seed=S
  --json           {"draws":[{seed,loss,lambdaMax,trace,traceStderr,gradNorm}],"flattest":{seed,…},
                   "written": FILE or null, "seconds"}`;

/** Runs `sgdlab init-curvature`; returns the exit code. */
export async function initCurvatureCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      draws: { type: "string" },
      probes: { type: "string" },
      "keep-flattest": { type: "boolean", default: false },
      out: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
    },
    "init-curvature",
  );
  if (values.help) {
    out(INIT_CURVATURE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`init-curvature: expected one spec file\n${INIT_CURVATURE_USAGE}`);
  const int = (v: string | undefined, flag: string, d: number) => {
    if (v === undefined) return d;
    if (!/^\d+$/.test(v) || Number(v) < 1)
      throw new UserError(`init-curvature: ${flag} must be an integer ≥ 1, got "${v}"`);
    return Number(v);
  };
  if (values.draws === undefined) throw new UserError(`init-curvature: --draws N is required`);
  const { spec } = loadSpec(positionals[0], values.set);
  const r = await initCurvature(spec, {
    draws: int(values.draws, "--draws", 1),
    traceProbes: int(values.probes, "--probes", 64),
  });
  const best = r.draws[r.flattest];
  let written: string | null = null;
  if (values["keep-flattest"]) {
    written = values.out ?? `${basename(positionals[0], extname(positionals[0]))}.flattest.json`;
    writeFileSync(written, `${JSON.stringify({ ...spec, seed: best.seed }, null, 2)}\n`);
  }
  if (values.json) {
    out(JSON.stringify({ draws: r.draws, flattest: best, written, seconds: r.seconds }));
    return 0;
  }
  const lam = r.draws.map((d) => d.lambdaMax);
  const mean = lam.reduce((a, b) => a + b, 0) / lam.length;
  const sd = Math.sqrt(lam.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, lam.length - 1));
  out(
    `${spec.name}: curvature at initialization over ${r.draws.length} draws (${fmt(r.seconds)} s)\n\n` +
      table(
        ["seed", "loss", "λmax", "trace ± se", "‖∇L‖"],
        r.draws.map((d) => [
          String(d.seed) + (d === best ? " *" : ""),
          fmt(d.loss),
          fmt(d.lambdaMax),
          `${fmt(d.trace)} ± ${fmt(d.traceStderr)}`,
          fmt(d.gradNorm),
        ]),
      ) +
      `\nλmax over draws: mean ${fmt(mean)}, sd ${fmt(sd)}, min ${fmt(Math.min(...lam))}, max ${fmt(Math.max(...lam))}` +
      `\nflattest (*): seed ${best.seed} — run it with --set seed=${best.seed}` +
      (written ? `\nwrote ${written}` : ""),
  );
  return 0;
}
