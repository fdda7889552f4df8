import type { Usage } from "../../anthropic/schema.ts";

/** The counts of Ollama's final (done) object → Anthropic usage; Ollama reports no cache reads. */
export function convertUsage(done: { prompt_eval_count?: number | null; eval_count?: number | null }): Usage {
  return { input_tokens: done.prompt_eval_count ?? 0, output_tokens: done.eval_count ?? 0 };
}
