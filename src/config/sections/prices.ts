import { z } from "zod";

// Price overrides in the routing file (LYNKR_CONFIG): US dollars per million tokens.

export const priceSchema = z.strictObject({
  input: z.number().min(0),
  output: z.number().min(0),
  /** Prompt-cache reads; defaults to the input price. */
  cacheRead: z.number().min(0).optional(),
  /** Prompt-cache writes; defaults to the input price. */
  cacheWrite: z.number().min(0).optional(),
});
export type Price = z.infer<typeof priceSchema>;

export const priceTableSchema = z.record(z.string().min(1), priceSchema);
export type PriceTable = z.infer<typeof priceTableSchema>;
