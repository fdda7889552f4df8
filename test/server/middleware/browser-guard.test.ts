import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { allowedHosts } from "../../../src/server/middleware/browser-guard.ts";
import { anthropicSse, chunkedResponse, jsonResponse, startFakeUpstream, type FakeUpstream } from "../../helpers/fake-upstream.ts";
import { startTestGateway } from "../../helpers/gateway.ts";
import { turnEvents } from "../../helpers/scripted-anthropic.ts";

let upstream: FakeUpstream;
let gateway: ReturnType<typeof startTestGateway>;

beforeAll(() => {
  upstream = startFakeUpstream((req) =>
    req.url.pathname.endsWith("/count_tokens")
      ? jsonResponse({ input_tokens: 8 })
      : chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "hi" }] }, "claude-x"))),
  );
  gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LYNKR_ALLOWED_ORIGINS: "https://tools.example.com" });
});
afterAll(async () => {
  await gateway.shutdown();
  upstream.stop();
});

const body = JSON.stringify({ model: "claude-x", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });

/** A raw HTTP/1.1 request, so that Host can be anything (fetch always sends the URL's). */
async function raw(request: string): Promise<{ status: number; headers: string; body: string }> {
  const port = new URL(gateway.url).port;
  let text = "";
  await new Promise<void>((resolve, reject) => {
    Bun.connect({
      hostname: "127.0.0.1",
      port: Number(port),
      socket: {
        open: (socket) => void socket.write(request),
        data: (_socket, data) => void (text += data.toString()),
        close: () => resolve(),
        error: (_socket, error) => reject(error),
      },
    }).catch(reject);
  });
  const [head = "", rest = ""] = text.split("\r\n\r\n", 2);
  return { status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body: rest };
}

function post(host: string, headers = ""): Promise<{ status: number; headers: string; body: string }> {
  return raw(
    `POST /v1/messages HTTP/1.1\r\nHost: ${host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n${headers}\r\n${body}`,
  );
}

test("POST bodies not sent as application/json: 415 in Anthropic's shape, with a request id, and no upstream call", async () => {
  const before = upstream.received.length;
  for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]) {
    const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": contentType }, body });
    expect(res.status).toBe(415);
    expect(res.headers.get("request-id")).toBeTruthy();
    expect(res.headers.get("x-should-retry")).toBe("false");
    const error = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(error.type).toBe("error");
    expect(error.error.type).toBe("invalid_request_error");
    expect(error.error.message).toContain("application/json");
  }
  expect(upstream.received.length).toBe(before);
  const charset = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "Application/JSON; charset=utf-8" }, body });
  expect(charset.status).toBe(200);
});

test("a foreign Host (DNS rebinding) is refused with 403 on every route; the bound address and loopback names answer", async () => {
  const port = new URL(gateway.url).port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "localhost", `[::1]:${port}`]) expect((await post(host)).status).toBe(200);
  const refused = await post(`attacker.example:${port}`);
  expect(refused.status).toBe(403);
  expect(refused.headers).toContain("request-id:");
  expect(JSON.parse(refused.body)).toMatchObject({ type: "error", error: { type: "permission_error" } });
  for (const path of ["/metrics/prometheus", "/health/ready", "/v1/models"]) {
    const probe = await raw(`GET ${path} HTTP/1.1\r\nHost: rebind.attacker.example\r\nconnection: close\r\n\r\n`);
    expect(probe.status).toBe(403);
  }
});

test("a browser Origin is refused unless LYNKR_ALLOWED_ORIGINS names it", async () => {
  const before = upstream.received.length;
  const send = (origin: string) => fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", origin }, body });
  const refused = await send("https://evil.example");
  expect(refused.status).toBe(403);
  const error = (await refused.json()) as { error: { type: string; message: string }; request_id: string };
  expect(error.error.type).toBe("permission_error");
  expect(error.error.message).toContain("LYNKR_ALLOWED_ORIGINS");
  expect(error.request_id).toBe(refused.headers.get("request-id") ?? "");
  expect((await send("null")).status).toBe(403);
  expect(upstream.received.length).toBe(before);
  expect((await send("https://tools.example.com")).status).toBe(200);
});

test("the official SDK (no Origin, JSON, the bound address) is let through", async () => {
  const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
  const message = await client.messages.create({ model: "claude-x", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
  expect(message.content[0]).toMatchObject({ type: "text", text: "hi" });
  const count = await client.messages.countTokens({ model: "claude-x", messages: [{ role: "user", content: "hi" }] });
  expect(count.input_tokens).toBe(8);
});

test("which hosts are checked: loopback binds and interfaces by name; a wildcard bind only with LYNKR_ALLOWED_HOSTS", () => {
  expect([...(allowedHosts({ HOST: "127.0.0.1", LYNKR_ALLOWED_HOSTS: undefined }) ?? [])]).toEqual(["localhost", "127.0.0.1", "[::1]"]);
  expect(allowedHosts({ HOST: "10.0.0.5", LYNKR_ALLOWED_HOSTS: ["lynkr.internal"] })?.has("10.0.0.5")).toBe(true);
  expect(allowedHosts({ HOST: "10.0.0.5", LYNKR_ALLOWED_HOSTS: ["lynkr.internal"] })?.has("lynkr.internal")).toBe(true);
  expect(allowedHosts({ HOST: "::1", LYNKR_ALLOWED_HOSTS: undefined })?.has("[::1]")).toBe(true);
  expect(allowedHosts({ HOST: "0.0.0.0", LYNKR_ALLOWED_HOSTS: undefined })).toBeUndefined();
  expect(allowedHosts({ HOST: "0.0.0.0", LYNKR_ALLOWED_HOSTS: ["gw.example"] })?.has("gw.example")).toBe(true);
  expect(allowedHosts({ HOST: "127.0.0.1", LYNKR_ALLOWED_HOSTS: ["*"] })).toBeUndefined();
});
