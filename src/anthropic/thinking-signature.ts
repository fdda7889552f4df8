// Thinking that did not come from Anthropic (OpenAI reasoning, Ollama `thinking`, llama.cpp
// `reasoning_content`) carries a signature lynkr makes itself, so that it can be recognised
// and stripped before the history reaches an Anthropic-wire upstream, which would reject it.

const prefix = "lynkr-thinking.";

export function lynkrThinkingSignature(provider: string): string {
  return `${prefix}${Buffer.from(provider).toString("base64url")}`;
}

export function isLynkrThinkingSignature(signature: unknown): boolean {
  return typeof signature === "string" && signature.startsWith(prefix);
}
