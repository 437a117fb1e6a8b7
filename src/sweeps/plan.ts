import { createHash } from "node:crypto";
import { UserError } from "../core/errors.js";
import {
  applyOverrides,
  canonicalJson,
  readSpecFile,
  resolveSpec,
  type ResolvedExperiment,
} from "../experiments/resolve.js";
import type { RunStore, SweepMember, SweepRecord } from "../store/index.js";
import { expandGrid, overrideArgs, type Axis, type Overrides } from "./grid.js";

/** A validated sweep, ready to be recorded and run. */
export interface SweepPlan {
  name: string;
  /** The base spec document (spec file + `--set`), before member overrides. */
  base: unknown;
  grid: { grid: Axis[]; zip: Axis[] };
  members: SweepMember[];
}

/** What {@link planSweep} takes: the spec file, `--set`, `--grid`, `--zip` and an optional `--name`. */
export interface SweepRequest {
  spec: string;
  set?: readonly string[];
  grid?: readonly Axis[];
  zip?: readonly Axis[];
  name?: string;
}

/**
 * The spec of member `overrides` of a sweep whose base document is `base`: the overrides applied with
 * the `--set` machinery, the run named `<sweep>/<index>`, validated (a `UserError` naming the member).
 */
export function memberExperiment(
  base: unknown,
  sweepName: string,
  index: number,
  overrides: Overrides,
): ResolvedExperiment {
  const args = [...overrideArgs(overrides), `name=${JSON.stringify(`${sweepName}/${index}`)}`];
  const what = `sweep ${sweepName} member ${index} (${describeOverrides(overrides) || "no overrides"})`;
  return resolveSpec(applyOverrides(base, args), what);
}

/** `path=value, ...` of a member's overrides. */
export function describeOverrides(o: Overrides): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
}

/**
 * Reads the spec, expands the grid and validates every member (nothing is written): any invalid
 * member is a `UserError`. The default name is `<spec name>-<8 hex digits of the sweep's hash>`, so
 * that the same command names the same sweep.
 */
export function planSweep(req: SweepRequest): SweepPlan {
  const grid = [...(req.grid ?? [])];
  const zip = [...(req.zip ?? [])];
  const base = applyOverrides(readSpecFile(req.spec), req.set ?? []);
  const overrides = expandGrid(grid, zip);
  const baseName = (base as { name?: unknown })?.name;
  const hash = createHash("sha256").update(canonicalJson({ base, grid, zip })).digest("hex").slice(0, 8);
  const name = req.name ?? `${typeof baseName === "string" && baseName ? baseName : "sweep"}-${hash}`;
  if (name === "" || /[\s/]/.test(name))
    throw new UserError(`sweep: --name must be non-empty, without spaces or "/", got "${name}"`);
  const members = overrides.map((o, index) => ({
    index,
    overrides: o,
    specHash: memberExperiment(base, name, index, o).hash,
  }));
  return { name, base, grid: { grid, zip }, members };
}

/**
 * Records the sweep of `plan` (or finds it, when re-invoked): a sweep of the same name must have
 * the same members (same spec hashes), else a `UserError` asks for another `--name`.
 */
export function recordSweep(store: RunStore, plan: SweepPlan): { sweep: SweepRecord; created: boolean } {
  const r = store.sweeps.ensure({ name: plan.name, spec: plan.base, grid: plan.grid, members: plan.members });
  if (!r.created) {
    const same =
      r.sweep.members.length === plan.members.length &&
      r.sweep.members.every((m, i) => m.specHash === plan.members[i].specHash);
    if (!same) {
      throw new UserError(
        `sweep ${plan.name} already exists in store ${store.dir} with other members; ` +
          `give this one another --name (or the same spec and grid to resume it)`,
      );
    }
  }
  return r;
}
