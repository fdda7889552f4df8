import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import { Redactor } from "../../src/observability/redact.ts";
import { tempDir } from "../helpers/gateway.ts";

const key = "sk-ant-api03-configured-key-5512";

/** Redaction as it was before lines without a credential's shape skipped the shape scans: the oracle. */
function fullRedaction(text: string): string {
  let out = text.replaceAll(key, "[REDACTED]");
  for (const shape of [
    /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
    /\bsk-[A-Za-z0-9_-]{8,}/g,
    /("(?:x-api-key|api[-_]?key|authorization|password|secret|token)"\s*:\s*")[^"]*(")/gi,
  ]) {
    out = out.replace(shape, (_m, before?: string, after?: string) => (typeof before === "string" ? `${before}[REDACTED]${typeof after === "string" ? after : ""}` : "[REDACTED]"));
  }
  return out;
}

test("lines with and without a credential's shape are redacted as by every scan", () => {
  const dir = tempDir();
  const redactor = new Redactor(loadConfig({ env: { HOME: dir, ANTHROPIC_UPSTREAM_API_KEY: key }, cwd: dir }));
  const pieces = [
    "POST /v1/messages 200",
    key,
    "Bearer abcdefgh12345678",
    "BEARER   zzzzzzzzzzzzzzzz",
    "bearer short",
    "sk-proj-1234567890abcdef",
    "SK-upper-1234567890",
    '"Authorization": "Basic dXNlcjpwYXNz"',
    '"x-api-key":"k"',
    '"API_KEY" : "secret-value"',
    '"token":"t0k3n"',
    '{"request_id":"req_1","status":200,"client":"ip:127.0.0.1"}',
    "route=\"default: MODEL_PROVIDER=openai\"",
    "[REDACTED]",
  ];
  let seed = 3;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n);
  };
  for (let n = 0; n < 3000; n++) {
    const line = Array.from({ length: 1 + random(4) }, () => pieces[random(pieces.length)]).join(random(2) === 0 ? " " : "");
    expect(redactor.redact(line)).toBe(fullRedaction(line));
  }
  expect(redactor.redact(`upstream said ${key} with Bearer abcdefgh12345678`)).toBe("upstream said [REDACTED] with Bearer [REDACTED]");
});
