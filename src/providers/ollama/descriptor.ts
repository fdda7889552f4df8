import type { ProviderDescriptor } from "../descriptor.ts";
import { checkOllama } from "./health-probe.ts";
import { createOllamaProvider } from "./provider.ts";

// Ollama on its native API: no key, one address, and init asks for a model that takes tools.

const address = {
  addressVariable: "OLLAMA_ENDPOINT",
  addressForm: "Ollama's base URL, e.g. http://localhost:11434 (lynkr adds /api/chat)",
} as const;

export const ollamaDescriptor: ProviderDescriptor = {
  kind: "ollama",
  hint: "local Ollama",
  ...address,
  missing: () => [],
  questions: [
    { variable: "OLLAMA_ENDPOINT", flag: "endpoint", label: "Ollama URL" },
    { variable: "OLLAMA_MODEL", flag: "model", label: "Ollama model (one that takes tools)" },
  ],
  create: (config, name) =>
    createOllamaProvider({
      name,
      endpoint: config.OLLAMA_ENDPOINT,
      model: config.OLLAMA_MODEL,
      timeoutMs: config.OLLAMA_TIMEOUT_MS,
      keepAlive: config.OLLAMA_KEEP_ALIVE,
      numCtx: config.OLLAMA_NUM_CTX,
      settings: { provider: name, ...address, address: config.OLLAMA_ENDPOINT, keyVariable: undefined, keySource: "none" },
    }),
  check: checkOllama,
};
