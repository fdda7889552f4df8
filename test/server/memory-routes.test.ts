import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestGateway } from "../helpers/gateway.ts";

// /v1/memory: what `lynkr memory` does, over HTTP, behind the client keys.

const key = "memory-test-key-1234";
let gateway: ReturnType<typeof startTestGateway>;

beforeAll(() => {
  gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: "http://127.0.0.1:9", LYNKR_API_KEYS: `dev:${key}` });
});
afterAll(() => gateway.shutdown());

const call = (path: string, init: RequestInit = {}, withKey = true) =>
  fetch(`${gateway.url}${path}`, { ...init, headers: { ...(withKey ? { "x-api-key": key } : {}), "content-type": "application/json", ...init.headers } });

test("without a key nothing is shown", async () => {
  const res = await call("/v1/memory", {}, false);
  expect(res.status).toBe(401);
});

test("add, list, search, export, forget and import round-trip", async () => {
  const added = await call("/v1/memory", { method: "POST", body: JSON.stringify({ text: "We always use pnpm, never npm", project: "/work/a" }) });
  expect(added.status).toBe(201);
  const { outcome } = (await added.json()) as { outcome: { kind: string; id: number } };
  expect(outcome.kind).toBe("stored");
  await call("/v1/memory", { method: "POST", body: JSON.stringify({ text: "Answer in British English", global: true }) });

  const listed = (await (await call("/v1/memory?project=/work/a")).json()) as { data: { text: string }[] };
  expect(listed.data.map((m) => m.text)).toEqual(["We always use pnpm, never npm"]);
  const found = (await (await call("/v1/memory/search?q=npm%20install&project=/work/a")).json()) as { data: { text: string; score: number }[] };
  expect(found.data.map((m) => m.text)).toEqual(["We always use pnpm, never npm"]);
  expect(await (await call("/v1/memory/search?q=npm&project=/work/b")).json()).toEqual({ data: [] });

  const exported = await (await call("/v1/memory/export")).text();
  expect(exported.trim().split("\n")).toHaveLength(2);
  expect((await call(`/v1/memory/${outcome.id}`, { method: "DELETE" })).status).toBe(200);
  expect((await call(`/v1/memory/${outcome.id}`, { method: "DELETE" })).status).toBe(404);
  const imported = await call("/v1/memory/import", { method: "POST", body: exported.split("\n")[0] });
  expect(await imported.json()).toEqual({ imported: 1 });
  const metrics = await (await call("/metrics/prometheus")).text();
  expect(metrics).toContain('lynkr_memory_events_total{event="stored"} 2');
  expect(metrics).toContain('lynkr_memory_events_total{event="forgotten"} 1');
});

test("bad input is refused in Anthropic's error shape", async () => {
  const cases: [string, RequestInit][] = [
    ["/v1/memory", { method: "POST", body: JSON.stringify({ text: "x", project: "relative/dir" }) }],
    ["/v1/memory", { method: "POST", body: JSON.stringify({ text: "x" }) }],
    ["/v1/memory", { method: "POST", body: JSON.stringify({ text: "x".repeat(3000), global: true }) }],
    ["/v1/memory/abc", { method: "DELETE" }],
    ["/v1/memory/search", {}],
    ["/v1/memory/import", { method: "POST", body: '{"scope":"global","text":"x"}\nnot json' }],
  ];
  for (const [path, init] of cases) {
    const res = await call(path, init);
    expect({ path, status: res.status }).toEqual({ path, status: 400 });
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("invalid_request_error");
  }
});
