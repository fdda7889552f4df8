import { fail, pass, type CheckResult } from "./check-result.ts";
import type { ProviderDescriptor, ProviderUnderTest } from "./descriptor.ts";
import { probe, type ProbeResult } from "./probe.ts";
import { isPathNotFound, parseErrorBody } from "./upstream-error.ts";

// The health probe of the HTTP providers: one cheap authenticated GET (a model list, a key
// lookup, a health endpoint) for reachability and the key, then an empty POST to the very URL
// requests go to, so that an address missing its path fails here and not on the first turn.

export interface HealthCall {
  /** The cheap authenticated GET. */
  url: string;
  headers: Record<string, string>;
  /** The URL generations are posted to, and its headers; an empty body gets a 400, never a generation. */
  requestUrl: string;
  requestHeaders: Record<string, string>;
}

export function reason(result: Extract<ProbeResult, { ok: true }>): string {
  const message = parseErrorBody(result.body).message;
  return `HTTP ${result.status}${message ? `: ${message.slice(0, 160)}` : ""}`;
}

/** The request path's own check: a 404 that names no model means the address lacks its path. */
async function checkRequestPath(
  call: HealthCall,
  descriptor: ProviderDescriptor,
  target: ProviderUnderTest,
  timeoutMs: number,
): Promise<CheckResult | undefined> {
  const result = await probe(call.requestUrl, { method: "POST", headers: { "content-type": "application/json", ...call.requestHeaders }, body: "{}" }, timeoutMs);
  if (!result.ok || result.status !== 404 || !isPathNotFound(parseErrorBody(result.body), undefined)) return undefined;
  const variable = descriptor.addressVariable;
  return fail(
    `provider:${target.name}`,
    `provider ${target.name}`,
    `${variable}=${String(target.config[variable] ?? "")} answered 404 for POST ${call.requestUrl}, where every request goes`,
    `set ${variable} to ${descriptor.addressForm}`,
  );
}

export async function checkHttpProvider(
  call: HealthCall,
  descriptor: ProviderDescriptor,
  target: ProviderUnderTest,
  timeoutMs: number,
): Promise<CheckResult> {
  const id = `provider:${target.name}`;
  const title = `provider ${target.name}`;
  const urlVariable = descriptor.addressVariable;
  const keyVariable = descriptor.keyVariable !== undefined && target.config[descriptor.keyVariable] !== undefined ? descriptor.keyVariable : undefined;
  const result = await probe(call.url, { method: "GET", headers: call.headers }, timeoutMs);
  if (!result.ok) return fail(id, title, result.error, `check ${urlVariable} and that the host is reachable from here`);
  const origin = new URL(call.url).origin;
  if (result.status === 401 || result.status === 403) {
    if (!keyVariable) {
      // No key of lynkr's own: Anthropic-wire upstreams take the client's; others need none to be reachable.
      return (await checkRequestPath(call, descriptor, target, timeoutMs)) ?? pass(id, title, `${origin} reachable; no key configured, so clients' own credentials are passed on`);
    }
    return fail(id, title, `${origin} rejected the key (${reason(result)})`, `set a valid ${keyVariable}`);
  }
  if (target.kind === "llamacpp" && result.status === 503) {
    return fail(id, title, `${origin} is up but still loading its model (${reason(result)})`, "wait for llama-server to finish loading, then run lynkr doctor again");
  }
  if (result.status >= 500) return fail(id, title, `${origin} answered ${reason(result)}`, `the upstream is failing; check its status, or ${urlVariable}`);
  if (result.status === 404 && target.kind !== "anthropic") {
    return fail(id, title, `${origin} has no ${new URL(call.url).pathname} (${reason(result)})`, `check ${urlVariable}: it does not look like a ${target.kind} endpoint`);
  }
  const wrongPath = await checkRequestPath(call, descriptor, target, timeoutMs);
  if (wrongPath) return wrongPath;
  const accepted = keyVariable ? ", key accepted" : "";
  return pass(id, title, `${origin} reachable${result.status < 300 ? accepted : ` (HTTP ${result.status})`}`);
}
