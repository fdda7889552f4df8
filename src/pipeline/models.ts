import type { Gateway } from "../gateway.ts";
import type { ModelInfo } from "../providers/types.ts";
import { callContext } from "./call-context.ts";

/** `GET /v1/models` in Anthropic's list shape, over every configured provider. */
export async function handleModels(gw: Gateway, req: Request, requestId: string): Promise<Response> {
  const ctx = callContext(req, requestId);
  const seen = new Set<string>();
  const data: (ModelInfo & { type: "model" })[] = [];
  for (const provider of gw.router.providers) {
    for (const model of await provider.listModels(ctx)) {
      if (seen.has(model.id)) continue;
      seen.add(model.id);
      data.push({ ...model, type: "model" });
    }
  }
  const body = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json", "request-id": requestId } });
}
