import type { CapabilityOverride } from "../../config/sections/openai-family.ts";

// What a model can take, so that translation never sends what its backend would reject:
// Claude Code asks for max_tokens 128000, sends tools, images and PDFs, and can grow a prompt
// past the model's window. Figures are the vendors' published limits for well-known models;
// MODEL_CAPABILITIES adds or replaces entries for anything else.

export interface ModelCapabilities {
  /** Prompt + output tokens the model can hold; undefined when unknown (no local check). */
  context_window: number | undefined;
  max_output_tokens: number;
  tools: boolean;
  images: boolean;
  /** PDF documents as file parts. */
  pdf: boolean;
  /** Takes a reasoning effort (and, on OpenAI, max_completion_tokens instead of max_tokens). */
  reasoning: boolean;
  /**
   * Wants its own reasoning back on assistant turns as `reasoning_content` (DeepSeek's thinking
   * mode answers 400 "Missing reasoning_content field" after a tool call without it).
   */
  reasoning_history: boolean;
  /** Honours Anthropic's cache_control breakpoints when OpenRouter passes them on (Claude, Gemini). */
  cache_control: boolean;
}

/** For a model nobody described: trust the backend, but never ask for Claude Code's 128k output. */
const unknownModelCapabilities: ModelCapabilities = {
  context_window: undefined,
  max_output_tokens: 8192,
  tools: true,
  images: true,
  pdf: false,
  reasoning: false,
  reasoning_history: false,
  cache_control: false,
};

const chat = (context_window: number, max_output_tokens: number, extra: Partial<ModelCapabilities> = {}): ModelCapabilities => ({
  context_window,
  max_output_tokens,
  tools: true,
  images: false,
  pdf: false,
  reasoning: false,
  reasoning_history: false,
  cache_control: false,
  ...extra,
});
const vision = { images: true };
const cached = { cache_control: true };
const openAiVision = { images: true, pdf: true };
const reasoning = { reasoning: true };

// Keys are matched as prefixes of the normalised model name (longest key wins).
const builtIn: Record<string, ModelCapabilities> = {
  "gpt-3.5-turbo": chat(16_385, 4_096),
  "gpt-4-turbo": chat(128_000, 4_096, openAiVision),
  "gpt-4o": chat(128_000, 16_384, openAiVision),
  "gpt-4.1": chat(1_047_576, 32_768, openAiVision),
  "gpt-5": chat(400_000, 128_000, { ...openAiVision, ...reasoning }),
  "gpt-oss": chat(131_072, 32_768, reasoning),
  o1: chat(200_000, 100_000, { ...openAiVision, ...reasoning }),
  o3: chat(200_000, 100_000, { ...openAiVision, ...reasoning }),
  "o3-mini": chat(200_000, 100_000, reasoning),
  "o4-mini": chat(200_000, 100_000, { ...openAiVision, ...reasoning }),
  claude: chat(200_000, 64_000, { ...vision, pdf: true, ...cached }),
  "deepseek-chat": chat(128_000, 8_192),
  "deepseek-reasoner": chat(128_000, 64_000, { ...reasoning, reasoning_history: true }),
  "deepseek-v4": chat(1_000_000, 384_000, { ...reasoning, reasoning_history: true }),
  "deepseek-r1": chat(128_000, 32_768, reasoning),
  "deepseek-v3": chat(128_000, 8_192),
  "gemini-2": chat(1_048_576, 65_536, { ...vision, pdf: true, ...cached }),
  "gemini-1.5": chat(1_048_576, 8_192, { ...vision, pdf: true, ...cached }),
  "grok-3": chat(131_072, 16_384),
  "grok-4": chat(256_000, 64_000, { ...vision, ...reasoning }),
  "kimi-k2": chat(131_072, 16_384),
  "llama-3": chat(128_000, 8_192),
  "llama-4": chat(1_000_000, 16_384, vision),
  "mistral-large": chat(128_000, 8_192),
  "mistral-small": chat(128_000, 8_192, vision),
  "magistral": chat(128_000, 40_000),
  "qwen3-coder": chat(262_144, 65_536),
  qwen3: chat(131_072, 32_768),
  "qwen2.5": chat(131_072, 8_192),
  "glm-4": chat(128_000, 96_000, reasoning),
  "minimax-m2": chat(204_800, 131_072, reasoning),
};

/** "openai/gpt-4o-mini", "databricks-claude-sonnet-4-5", "Qwen3-Coder-30B.gguf" → comparable names. */
function normaliseModelName(model: string): string {
  let name = model.toLowerCase().trim();
  name = name.slice(name.lastIndexOf("/") + 1);
  if (name.startsWith("databricks-")) name = name.slice("databricks-".length);
  return name;
}

function longestPrefix<T>(table: Record<string, T>, name: string): T | undefined {
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (name.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

export class CapabilityTable {
  private readonly prefixOverrides: Record<string, CapabilityOverride>;

  constructor(private readonly overrides: Record<string, CapabilityOverride> = {}) {
    this.prefixOverrides = Object.fromEntries(
      Object.entries(overrides)
        .filter(([key]) => key.endsWith("*"))
        .map(([key, value]) => [key.slice(0, -1), value]),
    );
  }

  /**
   * The model's capabilities: built-in figures, then the override for its exact (or normalised)
   * name, else for the longest `prefix*` key that matches.
   */
  for(model: string): ModelCapabilities {
    const name = normaliseModelName(model);
    const base = longestPrefix(builtIn, name) ?? unknownModelCapabilities;
    const override =
      this.overrides[model.toLowerCase()] ??
      this.overrides[name] ??
      longestPrefix(this.prefixOverrides, model.toLowerCase()) ??
      longestPrefix(this.prefixOverrides, name) ??
      {};
    return { ...base, ...override };
  }
}
