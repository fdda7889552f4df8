import { AnthropicError } from "../anthropic/errors.ts";
import { fetchUpstream } from "./http.ts";

// One small HTTP call to an upstream, with a short timeout; failures come back as text.

export type ProbeResult = { ok: true; status: number; body: string } | { ok: false; error: string };

export async function probe(url: string, init: RequestInit, timeoutMs: number): Promise<ProbeResult> {
  try {
    const response = await fetchUpstream({
      upstream: new URL(url).origin,
      url,
      init,
      timeoutMs,
      signal: new AbortController().signal,
    });
    return { ok: true, status: response.status, body: await response.text() };
  } catch (error) {
    return { ok: false, error: error instanceof AnthropicError ? error.message : String(error) };
  }
}
