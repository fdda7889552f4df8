import { z } from "zod";
import { httpUrl, int, text } from "../fields.ts";

// A local (or remote) Ollama server, spoken to on its native /api/chat.

const keepAliveError = 'expected a duration such as "5m", "1h", "30s", "0" (unload at once) or "-1" (keep loaded)';

export const ollamaEnv = {
  /** Base URL of the Ollama server; lynkr calls {base}/api/chat, /api/show and /api/tags. */
  OLLAMA_ENDPOINT: httpUrl().optional().transform((v) => v ?? "http://localhost:11434"),
  OLLAMA_MODEL: text().optional().transform((v) => v ?? "qwen2.5-coder:7b"),
  /** Covers the model's load time on the first request as well as each gap between chunks. */
  OLLAMA_TIMEOUT_MS: int(120_000, 1),
  /**
   * How long Ollama keeps the model, and with it the conversation's KV cache, in memory after a
   * request (its `keep_alive`). Ollama's own 5 minutes is shorter than a developer's pause
   * between turns; after it the next turn reloads the model and re-reads the whole prompt.
   */
  OLLAMA_KEEP_ALIVE: z
    .string()
    .trim()
    .regex(/^(-?\d+|\d+(\.\d+)?(ms|s|m|h))$/, { error: keepAliveError })
    .optional()
    .transform((v) => v ?? "30m"),
  /**
   * Context window asked of Ollama (`options.num_ctx`). Ollama otherwise uses its own default,
   * often 4096 tokens, and silently cuts longer prompts; Claude Code's first request is ~12k.
   */
  OLLAMA_NUM_CTX: int(0, 0),
};
