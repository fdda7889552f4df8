import { z } from "zod";
import { readCapped } from "../tools/read-capped.ts";

// Who answers on an address: nothing, some other program, or a lynkr (which version, which
// configuration). An open port is not enough to reuse a gateway: `lynkr wrap` would hand
// Claude Code to whatever listens there.

const readySchema = z.object({
  service: z.literal("lynkr"),
  version: z.string(),
  config: z.string(),
  status: z.string(),
});

export type GatewayIdentity =
  | { kind: "none"; detail: string }
  | { kind: "other"; detail: string }
  | { kind: "lynkr"; version: string; fingerprint: string; ready: boolean };

export async function identify(baseUrl: string, timeoutMs: number): Promise<GatewayIdentity> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  } catch (error) {
    return { kind: "none", detail: error instanceof Error ? error.message : String(error) };
  }
  // Whatever listens there may answer without end: read no more than a readiness answer needs.
  const answer = await readCapped(response, 64 * 1024).catch(() => ({ bytes: new Uint8Array() }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(answer.bytes));
  } catch {
    return { kind: "other", detail: `HTTP ${response.status}, not lynkr's readiness answer` };
  }
  const identity = readySchema.safeParse(parsed);
  if (!identity.success) return { kind: "other", detail: `HTTP ${response.status}, not lynkr's readiness answer` };
  return { kind: "lynkr", version: identity.data.version, fingerprint: identity.data.config, ready: response.status === 200 };
}
