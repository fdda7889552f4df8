import { countTokensRequestSchema } from "../anthropic/schema.ts";
import type { Gateway } from "../gateway.ts";
import { countRequestTokensSliced } from "../optimize/tokens.ts";
import { callContext } from "./call-context.ts";
import { readJsonBody } from "./read-body.ts";

/**
 * The upstream's own count where it has one; otherwise a local estimate in the model's own
 * tokenizer, calibrated by its upstream's reports (src/optimize/tokens.ts), marked as such.
 */
export async function handleCountTokens(gw: Gateway, req: Request, requestId: string): Promise<Response> {
  const { body: request, text: clientBody } = await readJsonBody(req, countTokensRequestSchema, gw.config.MAX_REQUEST_BODY_BYTES);
  const provider = gw.router.primary;
  const ctx = callContext(req, requestId, { clientBody });
  const upstream = provider.countTokens ? await provider.countTokens(request, ctx) : undefined;
  const headers = { "content-type": "application/json", "request-id": requestId };
  if (upstream) return new Response(JSON.stringify(upstream), { headers });
  const model = (await provider.modelLimits?.(request, ctx).catch(() => undefined))?.model;
  const count = { input_tokens: await countRequestTokensSliced(request, model) };
  return new Response(JSON.stringify(count), { headers: { ...headers, "x-lynkr-token-count": "estimated" } });
}
