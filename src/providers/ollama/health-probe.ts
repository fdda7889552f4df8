import { z } from "zod";
import { fail, pass, type CheckResult } from "../check-result.ts";
import type { ProviderUnderTest } from "../descriptor.ts";
import { reason } from "../health-probe.ts";
import { probe } from "../probe.ts";
import { parseShow } from "./capabilities.ts";

// Ollama's health probe: the server, the model pulled, whether the model takes tools, and
// whether the context window fits Claude Code's prompts. A wrong OLLAMA_ENDPOINT path already
// fails at /api/tags, so /api/chat is never called (it would generate).

const tagsSchema = z.looseObject({ models: z.array(z.looseObject({ name: z.string() })) });

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function checkOllama(target: ProviderUnderTest, timeoutMs: number): Promise<CheckResult[]> {
  const { OLLAMA_ENDPOINT: endpoint, OLLAMA_MODEL: model } = target.config;
  const id = `provider:${target.name}`;
  const title = `provider ${target.name}`;
  const tags = await probe(`${endpoint}/api/tags`, { method: "GET" }, timeoutMs);
  if (!tags.ok) return [fail(id, title, tags.error, `start Ollama (ollama serve) or set OLLAMA_ENDPOINT to where it runs`)];
  const parsed = tags.status === 200 ? tagsSchema.safeParse(safeJson(tags.body)) : undefined;
  if (!parsed?.success) {
    return [fail(id, title, `${endpoint}/api/tags answered ${reason(tags)}, not Ollama's model list`, "check OLLAMA_ENDPOINT: it should be Ollama's base URL, e.g. http://localhost:11434")];
  }
  const names = parsed.data.models.map((m) => m.name);
  const results = [pass(id, title, `${endpoint} reachable, ${names.length} model${names.length === 1 ? "" : "s"} pulled`)];
  const pulled = names.includes(model) || (!model.includes(":") && names.includes(`${model}:latest`));
  const modelId = `ollama-model:${target.name}`;
  if (!pulled) {
    results.push(fail(modelId, `ollama model ${model}`, `not pulled on ${endpoint}`, `ollama pull ${model}`));
    return results;
  }
  const show = await probe(`${endpoint}/api/show`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model }) }, timeoutMs);
  if (!show.ok || show.status !== 200) {
    results.push(fail(modelId, `ollama model ${model}`, show.ok ? `/api/show answered ${reason(show)}` : show.error, `ollama pull ${model}`));
    return results;
  }
  const caps = parseShow(safeJson(show.body));
  results.push(
    caps.tools
      ? pass(modelId, `ollama model ${model}`, `pulled, takes tools${caps.thinking ? " and thinking" : ""}${caps.contextLength ? `, ${caps.contextLength}-token context` : ""}`)
      : fail(modelId, `ollama model ${model}`, "pulled, but cannot call tools (Claude Code needs them)", "use a model with the tools capability, e.g. OLLAMA_MODEL=qwen2.5-coder:7b (ollama pull qwen2.5-coder:7b)"),
  );
  results.push(checkOllamaContext(target, caps.contextLength));
  return results;
}

/** Claude Code's first request is ~12k tokens; a smaller window is silently cut by Ollama. */
const claudeCodeContext = 16_384;

function checkOllamaContext(target: ProviderUnderTest, modelContext: number | undefined): CheckResult {
  const numCtx = target.config.OLLAMA_NUM_CTX;
  const id = `ollama-context:${target.name}`;
  const title = "ollama context";
  const suggested = Math.min(32_768, modelContext ?? 32_768);
  if (numCtx === 0) {
    // Ollama may run with OLLAMA_CONTEXT_LENGTH large enough; lynkr cannot see it, so it advises.
    return pass(id, title, `Ollama's own window (OLLAMA_NUM_CTX unset); unless Ollama runs with OLLAMA_CONTEXT_LENGTH >= ${claudeCodeContext}, set OLLAMA_NUM_CTX=${suggested}: a smaller window silently cuts Claude Code's 12k+ token prompts`);
  }
  if (modelContext !== undefined && numCtx > modelContext) {
    return fail(id, title, `OLLAMA_NUM_CTX=${numCtx} is more than the model's ${modelContext}`, `set OLLAMA_NUM_CTX=${modelContext}`);
  }
  if (numCtx < claudeCodeContext) {
    return fail(id, title, `OLLAMA_NUM_CTX=${numCtx} is too small for Claude Code's prompts (12k+ tokens)`, `set OLLAMA_NUM_CTX=${suggested}`);
  }
  return pass(id, title, `num_ctx ${numCtx}${modelContext ? ` of the model's ${modelContext}` : ""}`);
}
