import type { CallContext, ModelInfo, Provider } from "../providers/types.ts";

export interface ModelList {
  data: (ModelInfo & { type: "model" })[];
  has_more: false;
  first_id: string | null;
  last_id: string | null;
}

/** `GET /v1/models` in Anthropic's list shape, over every configured provider. */
export async function listModels(providers: readonly Provider[], ctx: CallContext): Promise<ModelList> {
  const seen = new Set<string>();
  const data: (ModelInfo & { type: "model" })[] = [];
  for (const provider of providers) {
    for (const model of await provider.listModels(ctx)) {
      if (seen.has(model.id)) continue;
      seen.add(model.id);
      data.push({ ...model, type: "model" });
    }
  }
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
