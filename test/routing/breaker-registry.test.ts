import { expect, test } from "bun:test";
import { BreakerRegistry, credentialHash, type BreakerChange } from "../../src/routing/breaker-registry.ts";
import type { CircuitBus, CircuitEvent } from "../../src/shared-state/ports.ts";

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

test("a credential's remembered hash is its sha256's first 16 hex digits, the same after the memo has started again", () => {
  const sha = new Bun.CryptoHasher("sha256").update("sk-ant-carol").digest("hex").slice(0, 16);
  expect(credentialHash("sk-ant-carol")).toBe(sha);
  expect(credentialHash("sk-ant-carol")).toBe(sha);
  for (let i = 0; i < 3000; i++) credentialHash(`made-up-${i}`);
  expect(credentialHash("sk-ant-carol")).toBe(sha);
  expect(credentialHash("sk-ant-carol2")).not.toBe(sha);
});

test("made-up credentials cannot grow the breakers without bound: closed ones go first", () => {
  const registry = new BreakerRegistry({ failureThreshold: 1, successThreshold: 1, timeoutMs: 60_000 }, () => {});
  registry.get("anthropic", "key-open").failure();
  for (let i = 0; i < 3000; i++) registry.get("anthropic", `key-${i}`);
  const credentials = registry.list([]);
  expect(credentials.length).toBe(1024);
  expect(credentials).toContainEqual(expect.objectContaining({ credential: credentialHash("key-open"), state: "open" }));
});

test("with a circuit bus, provider openings and closings go out, and what other replicas publish is taken without echo", () => {
  const published: CircuitEvent[] = [];
  let deliver: (event: CircuitEvent) => void = () => {};
  const bus: CircuitBus = { publish: (event) => published.push(event), subscribe: (listener) => (deliver = listener) };
  const changes: BreakerChange[] = [];
  const registry = new BreakerRegistry({ failureThreshold: 2, successThreshold: 1, timeoutMs: 60_000 }, (change) => changes.push(change), bus);

  // Another replica's opening: this one opens too, with the same timeout, and publishes nothing back.
  const openedElsewhere = Date.now() - 10_000;
  deliver({ provider: "anthropic", state: "open", at: openedElsewhere });
  const breaker = registry.get("anthropic");
  expect(breaker.state).toBe("open");
  expect(breaker.openedSince).toBe(openedElsewhere);
  expect(breaker.retryInMs).toBeLessThanOrEqual(50_000);
  expect(published).toEqual([]);
  expect(changes).toEqual([{ provider: "anthropic", from: "closed", to: "open" }]);
  deliver({ provider: "anthropic", state: "closed", at: Date.now() });
  expect(breaker.state).toBe("closed");
  expect(published).toEqual([]);

  // Its own opening goes out; a credential's breaker stays its own.
  breaker.failure();
  breaker.failure();
  expect(published).toEqual([{ provider: "anthropic", state: "open", at: breaker.openedSince ?? 0 }]);
  const own = registry.get("anthropic", "sk-ant-client-credential");
  own.failure();
  own.failure();
  expect(published.length).toBe(1);
});
