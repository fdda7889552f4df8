import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { anthropicSse, chunkedResponse, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { tempDir } from "../helpers/gateway.ts";
import { startBuiltGateway } from "./harness.ts";

// kill -9 while turns and usage are being written. "Acknowledged" = the client received the whole
// answer: a JSON body, or a stream's message_stop. The usage row (what budgets count) is written
// before that last byte (TurnOperations.charge), in WAL mode, so it survives the process dying at
// any point after; the turn record follows the answer and may be lost with it.

const answer = anthropicSse([
  { type: "message_start", message: { id: "m", type: "message", role: "assistant", model: "claude-3-opus-20240229", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "charged" } },
  { type: "content_block_stop", index: 0 },
  { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 3 } },
  { type: "message_stop" },
]);

const rounds = 100;
const workers = 6;

test(`${rounds} × kill -9 during concurrent writes: the database is intact and every acknowledged charge is there`, async () => {
  const upstream = startFakeUpstream(() => chunkedResponse(answer));
  const dir = tempDir("lynkr-crash-");
  const acknowledged: string[] = [];
  const env = { ANTHROPIC_UPSTREAM_URL: upstream.url, BUDGET_DAILY_USD: "1000" };
  try {
    for (let round = 0; round < rounds; round++) {
      const gateway = await startBuiltGateway(env, dir);
      let killed = false;
      // Killed at a random point once answers flow (the first one after a start is the slowest).
      let answered: () => void = () => {};
      const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
      const work = Array.from({ length: workers }, async (_, w) => {
        for (let i = 0; !killed; i++) {
          const stream = (w + i) % 2 === 0;
          try {
            const res = await fetch(`${gateway.url}/v1/messages`, {
              method: "POST",
              headers: { "content-type": "application/json", "x-claude-code-session-id": `s-${round}-${w}` },
              body: JSON.stringify({ model: "claude-3-opus-20240229", max_tokens: 8, stream, messages: [{ role: "user", content: `round ${round} worker ${w} turn ${i}` }] }),
            });
            const text = await res.text();
            const complete = res.status === 200 && (stream ? text.includes("event: message_stop") : text.includes('"stop_reason":"end_turn"'));
            if (complete) {
              acknowledged.push(res.headers.get("request-id") ?? "");
              answered();
            }
          } catch {
            // the process died mid-request: not acknowledged
          }
        }
      });
      await Promise.race([firstAnswer, Bun.sleep(10_000)]);
      await Bun.sleep(Math.floor(Math.random() * 60));
      process.kill(gateway.pid, "SIGKILL");
      killed = true;
      await Promise.all(work);
      await gateway.stop();

      const db = new Database(gateway.dbPath);
      try {
        expect(db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
      } finally {
        db.close();
      }
    }
    const db = new Database(`${dir}/lynkr.db`, { readonly: true });
    try {
      const charged = new Set(db.query<{ request_id: string }, []>("SELECT request_id FROM usage").all().map((r) => r.request_id));
      expect(acknowledged.length).toBeGreaterThan(rounds);
      expect(acknowledged.filter((id) => !charged.has(id))).toEqual([]);
    } finally {
      db.close();
    }
  } finally {
    await upstream.stop();
  }
}, 180_000);
