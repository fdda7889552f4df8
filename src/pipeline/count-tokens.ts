import type { CountTokensRequest } from "../anthropic/schema.ts";
import { countRequestTokens } from "../optimize/tokens.ts";
import type { CallContext, Provider } from "../providers/types.ts";

/** The upstream's own count where it has one; otherwise a local cl100k estimate, marked as such. */
export async function countTokens(provider: Provider, request: CountTokensRequest, ctx: CallContext): Promise<{ count: { input_tokens: number }; estimated: boolean }> {
  const upstream = provider.countTokens ? await provider.countTokens(request, ctx) : undefined;
  if (upstream) return { count: upstream, estimated: false };
  return { count: { input_tokens: countRequestTokens(request) }, estimated: true };
}
