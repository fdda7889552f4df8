import { expect, test } from "bun:test";
import { readWire, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { anthropicErrorProblem, eachBounded, openAiEnv, seededRandom, startBuiltGateway, startFakeOpenAi, whileProbing } from "./harness.ts";
import { Mutator } from "./mutate.ts";

// Ten thousand hostile variations of a real Claude Code request against the built binary, with a
// fake OpenAI upstream that never fails: every one is answered (2xx) or refused (4xx in
// Anthropic's shape); none crashes the gateway, gets a 5xx, or stalls /health/live.

// FUZZ_REQUESTS runs fewer while working on the suite; CI runs all of them.
const requests = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const concurrency = 4;

test(`${requests} mutated Claude Code requests: 0 crashes, 0 5xx, 0 non-Anthropic errors, live never stalls`, async () => {
  const upstream: FakeUpstream = await startFakeOpenAi();
  const gateway = await startBuiltGateway(openAiEnv(upstream));
  try {
    const recorded = JSON.parse(await readWire("claude-code-2.1.328-request.json")) as { headers: Record<string, string>; body: unknown };
    const mutator = new Mutator(recorded.body as ConstructorParameters<typeof Mutator>[0], seededRandom(14));
    // The CLI's own headers; the body's length and the connection are fetch's to set.
    const { "content-length": _length, connection: _connection, "accept-encoding": _encoding, ...headers } = recorded.headers;
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    const attacks = (function* () {
      for (let i = 0; i < requests; i++) yield mutator.next();
    })();
    const { live } = await whileProbing(gateway.url, () =>
      eachBounded(attacks, concurrency, async (attack, i) => {
        let res: Response;
        let text: string;
        try {
          res = await fetch(`${gateway.url}${attack.path}?beta=true`, {
            method: "POST",
            headers: { ...headers, "x-api-key": "dummy" },
            body: attack.body,
          });
          text = await res.text();
        } catch (error) {
          problems.push(`#${i} (${attack.what}): no answer: ${String(error)}`);
          return;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500 || res.status < 200 || (res.status >= 300 && res.status < 400)) {
          problems.push(`#${i} (${attack.what}): ${res.status} ${text.slice(0, 300)}`);
        } else if (res.status >= 400) {
          const problem = anthropicErrorProblem(res.status, res.headers, text);
          if (problem) problems.push(`#${i} (${attack.what}): ${problem}`);
        } else if (res.headers.get("content-type")?.startsWith("text/event-stream") && /^event: error$/m.test(text)) {
          problems.push(`#${i} (${attack.what}): error event in a 200 stream: ${text.slice(-300)}`);
        }
      }),
    );
    const summary = { statuses: Object.fromEntries(statuses), live };
    console.log(`fuzz: ${JSON.stringify(summary)}`);
    expect(problems.slice(0, 10)).toEqual([]);
    // Both kinds of answer happened: the mutations neither all broke nor all missed the schema.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(requests / 20);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThan(0);
    // Still alive and answering: no crash along the way.
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    expect(live.failures).toBe(0);
    expect(live.probes).toBeGreaterThan(5);
    // The tokenizer's stall was 28 s. 500 ms is the bound; on a machine shared by several test
    // runs (load 10 on 2 cores) a probe now and then waits for a core whatever the gateway does
    // (600 ms seen with the gateway's own work under 50 ms a request), so all but 1% of the
    // probes must meet it and the slowest may take three times as long: one stall over 1.5 s, or
    // slow answers on more than 1% of the probes, still fails.
    expect(live.p99Ms).toBeLessThan(500);
    expect(live.worstMs).toBeLessThan(1_500);
  } finally {
    expect(await gateway.stop()).toBe(0);
    await upstream.stop();
  }
}, 150_000);
