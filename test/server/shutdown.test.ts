import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { turnEvents } from "../helpers/scripted-anthropic.ts";
import { anthropicSse, chunkedResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { spawnLynkrInTempDir } from "../helpers/lynkr-process.ts";
import { startTestGateway } from "../helpers/gateway.ts";

let upstream: FakeUpstream;

beforeAll(() => {
  upstream = startFakeUpstream((req) => {
    const slow = JSON.stringify(req.json).includes("slowly");
    const events = anthropicSse(turnEvents({ blocks: [{ type: "text", text: "a long answer" }] }, "claude-x"));
    // A slow stream: each event 150 ms after the last.
    return chunkedResponse(events, slow ? { delayMs: 150 } : {});
  });
});
afterAll(() => upstream.stop());

const ask = (content: string) =>
  JSON.stringify({ model: "claude-x", max_tokens: 64, stream: true, messages: [{ role: "user", content }] });

function integrity(path: string): string {
  const db = new Database(path);
  try {
    return db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check ?? "";
  } finally {
    db.close();
  }
}

test("SIGTERM during a stream: ready turns 503, the stream completes, the database closes cleanly, exit 0", async () => {
  const lynkr = await spawnLynkrInTempDir({ ANTHROPIC_UPSTREAM_URL: upstream.url, GRACEFUL_SHUTDOWN_TIMEOUT: "10000" });
  const res = await fetch(`${lynkr.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: ask("answer slowly") });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let streamed = decoder.decode((await reader.read()).value);

  const exited = lynkr.stop();
  // Draining: new connections are refused, or (on a kept-alive one) readiness says 503.
  await Bun.sleep(50);
  const ready = await fetch(`${lynkr.url}/health/ready`).then((r) => r.status, () => "refused");
  expect([503, "refused"]).toContain(ready);

  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    streamed += decoder.decode(value);
  }
  expect(streamed).toContain("event: message_stop");
  expect(streamed).not.toContain("event: error");
  expect(await exited).toBe(0);
  expect(lynkr.output()).toContain("SIGTERM received");
  expect(lynkr.output()).toContain("stopped cleanly");

  const dbPath = join(lynkr.dir, "lynkr.db");
  expect(integrity(dbPath)).toBe("ok");
  const db = new Database(dbPath, { readonly: true });
  expect(db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM turns WHERE status = 200").get()?.n).toBe(1);
  db.close();
});

test("a stream longer than GRACEFUL_SHUTDOWN_TIMEOUT is cut at the timeout and the process still exits 0", async () => {
  const lynkr = await spawnLynkrInTempDir({ ANTHROPIC_UPSTREAM_URL: upstream.url, GRACEFUL_SHUTDOWN_TIMEOUT: "200" });
  const res = await fetch(`${lynkr.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: ask("answer slowly") });
  const started = Date.now();
  const exited = lynkr.stop();
  await res.text().catch(() => "");
  expect(await exited).toBe(0);
  expect(Date.now() - started).toBeLessThan(3000);
  expect(lynkr.output()).toContain("stopped after the shutdown timeout");
  expect(integrity(join(lynkr.dir, "lynkr.db"))).toBe("ok");
});

test("kill -9 in the middle of writes leaves a database that opens and passes integrity_check", async () => {
  const lynkr = await spawnLynkrInTempDir({ ANTHROPIC_UPSTREAM_URL: upstream.url, PROMPT_CACHE_ENABLED: "true" });
  let stop = false;
  const load = Array.from({ length: 8 }, async (_, worker) => {
    for (let i = 0; !stop; i++) {
      await fetch(`${lynkr.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: ask(`w${worker} r${i}`) })
        .then((r) => r.text())
        .catch(() => {});
    }
  });
  await Bun.sleep(400);
  process.kill(lynkr.pid, "SIGKILL");
  await lynkr.stop();
  stop = true;
  await Promise.all(load);

  const dbPath = join(lynkr.dir, "lynkr.db");
  expect(integrity(dbPath)).toBe("ok");
  const db = new Database(dbPath, { readonly: true });
  // Writes were happening: turns, usage and cache entries are there.
  expect(db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM turns").get()?.n).toBeGreaterThan(5);
  expect(db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM usage").get()?.n).toBeGreaterThan(5);
  db.close();
});

test("a request that throws before it is routed is no longer in flight: shutdown drains at once", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, GRACEFUL_SHUTDOWN_TIMEOUT: "20000" });
  const { router } = gateway.gateway;
  router.route = () => {
    throw new Error("a routing step failed");
  };
  const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: ask("hello") });
  expect(res.status).toBe(500);
  expect(((await res.json()) as { type: string }).type).toBe("error");
  expect(gateway.gateway.lifecycle.active).toBe(0);
  // Leaked, the count kept shutdown waiting its whole GRACEFUL_SHUTDOWN_TIMEOUT and reporting a timeout.
  expect(await gateway.shutdown()).toEqual({ drained: true });
});

