import type { CountTokensRequest } from "../../src/anthropic/schema.ts";
import type { EncodingName } from "../../src/optimize/encodings.ts";
import { pieceCounts } from "../../src/optimize/piece-counts.ts";
import { localRequestTokens, localRequestTokensSliced, warmTokenizer } from "../../src/optimize/tokens.ts";
import { median, ms, recordedClaudeCodeRequest, type BenchSection } from "../lib.ts";

// How long one request's token count holds the event loop: counted in one go (what synchronous
// call sites do), and sliced (count_tokens, a longContext rule), where the hold is the longest gap
// between two turns of a setImmediate ticker running beside the count. Real Claude Code requests
// on a cold memo (a session's first turn) and a warm one (a later turn: same prefix, one new
// message), and 1 MB of text built to be slow to count.

const hostilePieces = ["=-+*&^%$#@!~<>?/|=-+*&^%$#@!~<>?a", "\n=", "1=", "é\n", "x ", `${"龘".repeat(32)} `, `${"😀".repeat(32)}a`];

function hostileRequest(seed: number): CountTokensRequest {
  let text = `${seed} `;
  for (let i = 0; text.length < 1_000_000; i++) text += hostilePieces[i % hostilePieces.length]!.repeat(64);
  return { model: "m", messages: [{ role: "user", content: text }] };
}

async function worstGap(work: () => Promise<unknown>): Promise<number> {
  let worst = 0;
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  running = false;
  tick();
  return worst;
}

function timed(work: () => unknown): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

export default async function tokenHolds(): Promise<BenchSection> {
  const recorded = (await recordedClaudeCodeRequest()).body as unknown as CountTokensRequest;
  const laterTurn = (i: number): CountTokensRequest => ({
    ...structuredClone(recorded),
    messages: [...recorded.messages, { role: "assistant", content: `Done step ${i}.` }, { role: "user", content: `Now step ${i + 1}, please.` }],
  });
  const rows: (string | number)[][] = [];
  for (const encoding of ["cl100k_base", "o200k_base"] as EncodingName[]) {
    warmTokenizer(encoding === "o200k_base" ? "gpt-4o" : undefined);
    const cases: [string, (i: number) => CountTokensRequest, boolean][] = [
      ["Claude Code request, first turn (memo cold)", () => structuredClone(recorded), true],
      ["Claude Code request, later turn (memo warm)", laterTurn, false],
      ["1 MB built to be slow (new text each time)", hostileRequest, true],
    ];
    for (const [name, build, cold] of cases) {
      const sync: number[] = [];
      const sliced: number[] = [];
      for (let i = 0; i < 5; i++) {
        if (cold) pieceCounts.clear();
        sync.push(timed(() => localRequestTokens(build(i), encoding)));
        if (cold) pieceCounts.clear();
        const request = build(i + 100);
        sliced.push(await worstGap(() => localRequestTokensSliced(request, encoding)));
      }
      rows.push([name, encoding, ms(median(sync), 1), ms(Math.max(...sync), 1), ms(median(sliced), 1), ms(Math.max(...sliced), 1)]);
    }
  }
  return {
    title: "Token counting: event-loop hold per request",
    columns: ["request", "encoding", "in one go, median", "in one go, worst", "sliced, median worst gap", "sliced, worst gap"],
    rows,
    notes: ["5 runs each; 'in one go' is what synchronous call sites hold; 'sliced' is count_tokens and a longContext rule."],
  };
}
