import { z } from "zod";
import { NotFoundError } from "../../anthropic/errors.ts";
import { ClientAbortedError, fetchUpstream } from "../http.ts";
import { isPathNotFound, parseErrorBody, parsedUpstreamError, upstreamError, type UpstreamSettings } from "../upstream-error.ts";

// What an Ollama model can do, from POST /api/show: asked once per model and kept, since it
// only changes when the model is re-pulled.

export interface OllamaModelCapabilities {
  tools: boolean;
  thinking: boolean;
  vision: boolean;
  /** Named thinking levels (e.g. gpt-oss: low, medium, high); empty for on/off models. */
  thinkLevels: string[];
  contextLength: number | undefined;
}

const showSchema = z.looseObject({
  capabilities: z.array(z.string()).nullish(),
  model_info: z.record(z.string(), z.unknown()).nullish(),
  thinking: z.looseObject({ values: z.array(z.unknown()).optional() }).nullish(),
});

export function parseShow(json: unknown): OllamaModelCapabilities {
  const show = showSchema.parse(json);
  const capabilities = new Set(show.capabilities ?? []);
  const contextKey = Object.keys(show.model_info ?? {}).find((key) => key.endsWith(".context_length"));
  const contextLength = contextKey ? show.model_info?.[contextKey] : undefined;
  return {
    tools: capabilities.has("tools"),
    thinking: capabilities.has("thinking"),
    vision: capabilities.has("vision"),
    thinkLevels: (show.thinking?.values ?? []).filter((v): v is string => typeof v === "string"),
    contextLength: typeof contextLength === "number" ? contextLength : undefined,
  };
}

export interface CapabilityLookup {
  endpoint: string;
  upstream: string;
  timeoutMs: number;
  /** The settings behind the calls: a 404 on /api/show is the address's fault unless it names the model. */
  settings?: UpstreamSettings;
}

/** The shared lookup, or ClientAbortedError once this caller's own signal aborts. */
function untilAborted<T>(shared: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ClientAbortedError());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new ClientAbortedError());
    signal.addEventListener("abort", onAbort, { once: true });
    shared.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** How long a failed lookup is the answer for a model. */
const failureMemoryMs = 1_000;

export class OllamaCapabilityCache {
  private readonly known = new Map<string, Promise<OllamaModelCapabilities>>();

  constructor(private readonly lookup: CapabilityLookup) {}

  /** Callers share one lookup per model; each stops waiting when its own client goes away. */
  get(model: string, signal: AbortSignal): Promise<OllamaModelCapabilities> {
    let entry = this.known.get(model);
    if (!entry) {
      entry = this.fetch(model);
      this.known.set(model, entry);
      // A failure answers only for a moment: every call of one request (the optimize step's
      // window lookup, then the call itself) and requests at the same instant share it, and
      // Ollama may come up, or the model be pulled, a moment later.
      const failed = entry;
      failed.catch(() => {
        setTimeout(() => {
          if (this.known.get(model) === failed) this.known.delete(model);
        }, failureMemoryMs).unref();
      });
    }
    return untilAborted(entry, signal);
  }

  /** Bound by the timeout alone: no one caller's disconnect may fail the others waiting on it. */
  private async fetch(model: string): Promise<OllamaModelCapabilities> {
    const response = await fetchUpstream({
      upstream: this.lookup.upstream,
      url: `${this.lookup.endpoint}/api/show`,
      init: { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model }) },
      timeoutMs: this.lookup.timeoutMs,
    });
    if (response.status === 404) {
      const text = await response.text().catch(() => "");
      const url = `${this.lookup.endpoint}/api/show`;
      if (this.lookup.settings && isPathNotFound(parseErrorBody(text), model)) {
        throw parsedUpstreamError(response, parseErrorBody(text), this.lookup.upstream, { settings: this.lookup.settings, url, model });
      }
      throw new NotFoundError(`model ${model} is not available on ${this.lookup.upstream}; run: ollama pull ${model}`, {
        headers: { "x-should-retry": "false" },
      });
    }
    if (!response.ok) throw await upstreamError(response, this.lookup.upstream);
    return parseShow(await response.json());
  }
}
