import type { CountTokensRequest } from "../anthropic/schema.ts";
import { countRequestTokensSliced } from "../optimize/tokens.ts";
import type { CallContext, Provider } from "../providers/types.ts";

/**
 * The upstream's own count where it has one; otherwise a local estimate in the model's own
 * tokenizer, calibrated by its upstream's reports (src/optimize/tokens.ts), marked as such.
 */
export async function countTokens(provider: Provider, request: CountTokensRequest, ctx: CallContext): Promise<{ count: { input_tokens: number }; estimated: boolean }> {
  const upstream = provider.countTokens ? await provider.countTokens(request, ctx) : undefined;
  if (upstream) return { count: upstream, estimated: false };
  const model = (await provider.modelLimits?.(request, ctx).catch(() => undefined))?.model;
  return { count: { input_tokens: await countRequestTokensSliced(request, model) }, estimated: true };
}
