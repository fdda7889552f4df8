import { afterAll, beforeAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { FakeUpstream } from "../helpers/fake-upstream.ts";
import { refusedUrl } from "../helpers/ports.ts";
import { anthropicErrorProblem, openAiEnv, startBuiltGateway, startFakeOpenAi, whileProbing, type BuiltGateway } from "./harness.ts";

// Issue 14's findings, each attacked against the built binary as a hostile client or web page
// would, with /health/live polled throughout where a stall is the harm.

let upstream: FakeUpstream;
let gateway: BuiltGateway;

beforeAll(async () => {
  upstream = await startFakeOpenAi();
  gateway = await startBuiltGateway({ ...openAiEnv(upstream), PROMPT_CACHE_ENABLED: "true" });
});
afterAll(async () => {
  expect(await gateway.stop()).toBe(0);
  await upstream.stop();
});

const ask = (content: string) => JSON.stringify({ model: "claude-x", max_tokens: 16, messages: [{ role: "user", content }] });
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

async function expectAnthropicError(res: Response, status: number, type: string): Promise<void> {
  const text = await res.text();
  expect(res.status).toBe(status);
  expect(anthropicErrorProblem(res.status, res.headers, text)).toBeUndefined();
  expect((JSON.parse(text) as { error: { type: string } }).error.type).toBe(type);
}

test("finding 1: counting 20,000 '=' (count_tokens and a routed request) never stalls /health/live", async () => {
  const { result, live } = await whileProbing(gateway.url, async () => {
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post("/v1/messages/count_tokens", ask("=".repeat(20_000)));
      expect(res.status).toBe(200);
      counts.push(((await res.json()) as { input_tokens: number }).input_tokens);
      expect((await post("/v1/messages", ask("=".repeat(20_000)))).status).toBe(200);
    }
    return counts;
  });
  for (const count of result) {
    expect(count).toBeGreaterThan(20_000 / 40);
    expect(count).toBeLessThan(20_000);
  }
  expect(live.failures).toBe(0);
  // Generous: the stall was 28.6 s.
  expect(live.worstMs).toBeLessThan(500);
});

test("finding 2: a page's text/plain POST is 415 and a foreign Origin 403, before any upstream call", async () => {
  const before = upstream.received.length;
  await expectAnthropicError(await post("/v1/messages", ask("hi"), { "content-type": "text/plain" }), 415, "invalid_request_error");
  await expectAnthropicError(await post("/v1/messages", ask("hi"), { origin: "https://evil.example" }), 403, "permission_error");
  expect(upstream.received.length).toBe(before);
});

test("finding 2: a DNS-rebinding Host is 403, /metrics included", async () => {
  const { hostname, port } = new URL(gateway.url);
  for (const path of ["/v1/messages", "/metrics/prometheus"]) {
    const method = path === "/v1/messages" ? "POST" : "GET";
    const body = method === "POST" ? ask("hi") : "";
    let answer = "";
    await new Promise<void>((resolve, reject) => {
      Bun.connect({
        hostname,
        port: Number(port),
        socket: {
          open: (socket) =>
            void socket.write(
              `${method} ${path} HTTP/1.1\r\nHost: rebound.attacker.example:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
            ),
          data: (_socket, data) => void (answer += data.toString()),
          close: () => resolve(),
          error: (_socket, error) => reject(error),
        },
      }).catch(reject);
    });
    expect(answer.split(" ")[1]).toBe("403");
    expect(answer).toContain('"permission_error"');
  }
});

test("finding 3: 50,000-deep tool schemas and 200,000-deep tool input are 400, and the breaker never opens", async () => {
  const deepSchema = `{"model":"claude-x","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}]}`;
  const deepInput = `{"model":"claude-x","max_tokens":16,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"t","input":${"[".repeat(200_000)}${"]".repeat(200_000)}}]}]}`;
  for (let i = 0; i < 6; i++) await expectAnthropicError(await post("/v1/messages", i % 2 ? deepInput : deepSchema), 400, "invalid_request_error");
  expect((await post("/v1/messages", ask("still served?"))).status).toBe(200);
  const circuits = (await (await fetch(`${gateway.url}/metrics/circuit-breakers`)).json()) as unknown;
  expect(JSON.stringify(circuits)).not.toContain('"open"');
});

test("finding 4: a second credential is not served the first one's cached answer", async () => {
  const before = upstream.received.length;
  const body = ask("cache scope probe");
  for (const key of ["sk-ant-first-1111", "sk-ant-first-1111", "sk-ant-other-2222"]) {
    const res = await post("/v1/messages", body, { "x-api-key": key });
    await res.text();
    await Bun.sleep(50);
  }
  // The first key's repeat is a hit; the other key's request goes upstream.
  expect(upstream.received.length - before).toBe(2);
});

test("finding 8: the database and its -wal and -shm are 0600", () => {
  for (const file of [gateway.dbPath, `${gateway.dbPath}-wal`, `${gateway.dbPath}-shm`]) expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(join(gateway.dbPath, "..")).mode & 0o077).toBe(0);
});

test("finding 8: with keys set, /health/ready?deep=true tells a caller without one neither providers nor errors", async () => {
  const keyed = await startBuiltGateway({ ...openAiEnv(upstream), OPENAI_ENDPOINT: refusedUrl(), LYNKR_API_KEYS: "ops:fault-suite-key-5150", HEALTH_DEEP_CACHE_MS: "0" });
  try {
    const anonymous = await (await fetch(`${keyed.url}/health/ready?deep=true`)).text();
    expect(anonymous).toContain('"providers":"none reachable"');
    for (const leak of ["openai", "refused", "ECONNREFUSED", "127.0.0.1"]) expect(anonymous).not.toContain(leak);
    const withKey = await (await fetch(`${keyed.url}/health/ready?deep=true`, { headers: { "x-api-key": "fault-suite-key-5150" } })).text();
    expect(withKey).toContain('"name":"openai"');
  } finally {
    expect(await keyed.stop()).toBe(0);
  }
});
