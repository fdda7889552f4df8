import type { Upstream } from "../config/self-loop.ts";
import { anthropicWireOptions, isAnthropicApi } from "../providers/anthropic-wire/configured.ts";
import type { RoutingFile } from "../config/routing-file.ts";
import { pass, warn, type CheckResult } from "./types.ts";

// Where credentials go. A key is sent only to the address it was configured with, and a client's
// own Anthropic credential only to api.anthropic.com unless the operator opted in; this says
// where that leaves an upstream without a credential, and where an opt-in sends one.

export function checkCredentials(upstreams: Upstream[], file: RoutingFile | undefined): CheckResult[] {
  const results: CheckResult[] = [];
  for (const upstream of upstreams) {
    if (upstream.kind !== "anthropic") continue;
    const options = anthropicWireOptions("anthropic", upstream.config, upstream.name);
    const { origin } = new URL(options.messagesUrl);
    if (options.apiKey || isAnthropicApi(options.messagesUrl)) continue;
    const title = `credentials ${upstream.name}`;
    if (options.forwardClientCredentials) {
      results.push(warn(`credentials:${upstream.name}`, title, `clients' own Anthropic credentials are forwarded to ${origin} (ANTHROPIC_FORWARD_CLIENT_CREDENTIALS=true)`, `keep it only if ${origin} is meant to receive your users' Anthropic keys; otherwise set ANTHROPIC_UPSTREAM_API_KEY`));
    } else {
      results.push(warn(`credentials:${upstream.name}`, title, `no key for ${origin}, and clients' Anthropic credentials are not forwarded there (it is not api.anthropic.com)`, "set ANTHROPIC_UPSTREAM_API_KEY, or ANTHROPIC_FORWARD_CLIENT_CREDENTIALS=true if that host is meant to receive clients' keys"));
    }
  }
  for (const [name, instance] of file?.instances ?? []) {
    if (instance.withheld.length === 0) continue;
    results.push(
      warn(
        `credentials:${name}`,
        `credentials ${name}`,
        `${instance.withheld.join(", ")} from the environment not sent: this instance has an address of its own`,
        `set the key ${name} needs under providers.${name} in the routing file, if it needs one`,
      ),
    );
  }
  if (results.length === 0) results.push(pass("credentials", "credentials", "each key goes only to the address it was configured for"));
  return results;
}
