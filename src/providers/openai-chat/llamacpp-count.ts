import { z } from "zod";
import { ClientAbortedError, fetchUpstream } from "../http.ts";

// llama-server counts a prompt exactly as it will run it: /apply-template renders the chat
// request with the model's own template (tools included), /tokenize counts the result with the
// model's own vocabulary. Used for count_tokens; any failure (an older server, a server without
// these endpoints) leaves the count to the local tokenizer.

const templated = z.object({ prompt: z.string() });
const tokenized = z.object({ tokens: z.array(z.unknown()) });

export interface LlamaCppCountOptions {
  /** llama-server's base URL (without /v1). */
  base: string;
  upstream: string;
  headers: Record<string, string>;
  /** Each of the two calls; counting must stay quick, so it is short. */
  timeoutMs: number;
  signal: AbortSignal;
}

/** llama-server's base from the chat URL lynkr posts to. */
export function llamaCppBase(chatUrl: string): string {
  return chatUrl.replace(/\/v1\/chat\/completions$/, "").replace(/\/chat\/completions$/, "").replace(/\/v1$/, "");
}

async function post(options: LlamaCppCountOptions, path: string, body: unknown): Promise<unknown> {
  const response = await fetchUpstream({
    upstream: options.upstream,
    url: `${options.base}${path}`,
    init: { method: "POST", headers: { "content-type": "application/json", ...options.headers }, body: JSON.stringify(body) },
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  if (!response.ok) {
    await response.body?.cancel();
    return undefined;
  }
  return response.json().catch(() => undefined);
}

/** The prompt's token count by the server itself, or undefined when it cannot say. */
export async function llamaCppPromptTokens(chatBody: { messages: unknown[]; tools?: readonly unknown[] }, options: LlamaCppCountOptions): Promise<number | undefined> {
  try {
    const template = templated.safeParse(await post(options, "/apply-template", { messages: chatBody.messages, ...(chatBody.tools ? { tools: chatBody.tools } : {}) }));
    if (!template.success) return undefined;
    const tokens = tokenized.safeParse(await post(options, "/tokenize", { content: template.data.prompt, add_special: true }));
    return tokens.success ? tokens.data.tokens.length : undefined;
  } catch (error) {
    // A client that went away is not a failure to count.
    if (error instanceof ClientAbortedError) throw error;
    return undefined;
  }
}
