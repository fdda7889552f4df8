import { expect, test } from "bun:test";
import { BreakerRegistry, credentialHash } from "../../src/routing/breaker-registry.ts";

test("pass-through credentials get breakers of their own, named by a hash, never the credential", () => {
  const changes: unknown[] = [];
  const registry = new BreakerRegistry({ failureThreshold: 1, successThreshold: 1, timeoutMs: 60_000 }, (c) => changes.push(c));
  registry.get("anthropic", "sk-ant-alice").failure();
  expect(registry.get("anthropic", "sk-ant-alice").state).toBe("open");
  expect(registry.get("anthropic", "sk-ant-bob").state).toBe("closed");
  expect(registry.get("anthropic").state).toBe("closed");
  const alice = credentialHash("sk-ant-alice");
  expect(alice).toMatch(/^[0-9a-f]{16}$/);
  expect(changes).toEqual([{ provider: "anthropic", credential: alice, from: "closed", to: "open" }]);
  const listed = registry.list(["anthropic"]);
  expect(listed).toEqual([
    { provider: "anthropic", state: "closed", retry_in_ms: 0 },
    { provider: "anthropic", credential: alice, state: "open", retry_in_ms: expect.any(Number) },
    { provider: "anthropic", credential: credentialHash("sk-ant-bob"), state: "closed", retry_in_ms: 0 },
  ]);
  expect(JSON.stringify(listed)).not.toContain("sk-ant");
});

test("made-up credentials cannot grow the breakers without bound: closed ones go first", () => {
  const registry = new BreakerRegistry({ failureThreshold: 1, successThreshold: 1, timeoutMs: 60_000 }, () => {});
  registry.get("anthropic", "key-open").failure();
  for (let i = 0; i < 3000; i++) registry.get("anthropic", `key-${i}`);
  const credentials = registry.list([]);
  expect(credentials.length).toBe(1024);
  expect(credentials).toContainEqual(expect.objectContaining({ credential: credentialHash("key-open"), state: "open" }));
});
