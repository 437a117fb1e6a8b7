/**
 * Loss configurations (zod), discriminated on `kind`, and the factory `createLoss`.
 */
import { z } from "zod";
import { UserError } from "../core/index.js";
import { crossEntropy } from "./crossEntropy.js";
import { mse } from "./mse.js";
import type { Loss } from "./types.js";

/** `{kind: "ce"}` (softmax cross-entropy on labels) or `{kind: "mse", reduction = "half_mean"}`. */
export const LossConfigSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("ce") }),
  z.strictObject({
    kind: z.literal("mse"),
    /** mean = Σ(f−y)²/(N·d), half_mean = ½Σ(f−y)²/N, half_sum = ½Σ(f−y)², sum = Σ(f−y)². */
    reduction: z.enum(["mean", "half_mean", "half_sum", "sum"]).default("half_mean"),
  }),
]);
/** A validated loss configuration with defaults filled in. */
export type LossConfig = z.output<typeof LossConfigSchema>;
/** A loss configuration as written by a user. */
export type LossConfigInput = z.input<typeof LossConfigSchema>;

/** The loss described by `config` (validated; UserError naming the field otherwise). */
export function createLoss(config: LossConfigInput | LossConfig): Loss {
  const parsed = LossConfigSchema.safeParse(config);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  loss.${i.path.map(String).join(".") || "(root)"}: ${i.message}`);
    throw new UserError(`invalid loss config:\n${lines.join("\n")}`);
  }
  const c = parsed.data;
  return c.kind === "ce" ? crossEntropy : mse(c.reduction);
}
