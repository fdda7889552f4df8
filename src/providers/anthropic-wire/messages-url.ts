// Where the Messages API lives for a configured base URL. Users paste what their provider's
// page shows: the base URL the Anthropic SDK takes (…/anthropic), one ending in /v1, or the full
// …/v1/messages. All of them mean the same endpoint.

export function anthropicMessagesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, "");
  if (/\/v1\/messages$/.test(base)) return base;
  if (/\/v1$/.test(base)) return `${base}/messages`;
  return `${base}/v1/messages`;
}

/**
 * Azure AI Foundry serves Claude under /anthropic on the resource's host; a bare resource URL
 * (https://NAME.services.ai.azure.com) is taken to mean that path.
 */
export function azureAnthropicMessagesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.hostname.endsWith(".services.ai.azure.com") && (url.pathname === "/" || url.pathname === "")) {
    return `${url.origin}/anthropic/v1/messages`;
  }
  return anthropicMessagesUrl(endpoint);
}
