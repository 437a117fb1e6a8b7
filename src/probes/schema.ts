/**
 * Probe configurations. A probe measures something every `every` steps and writes metric points
 * `probe/quantity`. The foundation ships the generic gradient-norm probe; the curvature issue adds
 * Hessian probes to this union.
 */
import { z } from "zod";

/** Which loss a measurement differentiates (the objective contract of DESIGN.md). */
export const ObjectiveConfigSchema = z.union([
  z.literal("full"),
  z.literal("batch"),
  z.string().regex(/^subset:[1-9][0-9]*$/, 'expected "full", "batch" or "subset:N"'),
]);

export const ProbeConfigSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("gradNorm"),
    every: z.number().int().positive().default(10),
    objective: ObjectiveConfigSchema.default("full"),
  }),
  z.strictObject({
    kind: z.literal("weightNorm"),
    every: z.number().int().positive().default(10),
  }),
]);

export type ProbeConfig = z.output<typeof ProbeConfigSchema>;
