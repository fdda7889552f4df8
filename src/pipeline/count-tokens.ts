import { countTokensRequestSchema } from "../anthropic/schema.ts";
import type { Gateway } from "../gateway.ts";
import { countRequestTokens } from "../optimize/tokens.ts";
import { callContext } from "./call-context.ts";
import { readJsonBody } from "./read-body.ts";

/** The upstream's own count where it has one; otherwise a local cl100k estimate, marked as such. */
export async function handleCountTokens(gw: Gateway, req: Request, requestId: string): Promise<Response> {
  const { body: request, text: clientBody } = await readJsonBody(req, countTokensRequestSchema, gw.config.MAX_REQUEST_BODY_BYTES);
  const provider = gw.router.primary;
  const upstream = provider.countTokens ? await provider.countTokens(request, callContext(req, requestId, { clientBody })) : undefined;
  const headers = { "content-type": "application/json", "request-id": requestId };
  if (upstream) return new Response(JSON.stringify(upstream), { headers });
  const count = { input_tokens: countRequestTokens(request) };
  return new Response(JSON.stringify(count), { headers: { ...headers, "x-lynkr-token-count": "estimated" } });
}
