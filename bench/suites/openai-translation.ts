import { decodeSse } from "../../src/anthropic/sse.ts";
import { translateChatSse } from "../../src/providers/openai-chat/provider.ts";
import { ChatStreamTranslator } from "../../src/providers/openai-chat/stream.ts";
import { chatChunk, openAiSse } from "../../test/helpers/fake-upstream.ts";
import { assertReachedUpstream, percentile, startFakeOpenAiUpstream, startGatewayInProcess, type BenchSection } from "../lib.ts";

// OpenAI → Anthropic stream translation: cost per chunk on a 1,000-chunk stream (SSE decode,
// JSON parse and validation, translation, encoding of every event), and the time to first token
// the gateway adds over calling the same fake upstream directly. Aims: < 50 µs per chunk, < 1 ms.

const encoder = new TextEncoder();

/** 1,000 chunks like a real answer: a text paragraph, then two parallel tool calls in fragments. */
function thousandChunks(): string[] {
  const out = [chatChunk({ role: "assistant", content: "" })];
  for (let i = 0; i < 600; i++) out.push(chatChunk({ content: ` token${i}` }));
  out.push(chatChunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "Bash", arguments: "" } }] }));
  for (let i = 0; i < 198; i++) out.push(chatChunk({ tool_calls: [{ index: 0, function: { arguments: i === 0 ? '{"command":"' : "echo x; " } }] }));
  out.push(chatChunk({ tool_calls: [{ index: 0, function: { arguments: '"}' } }] }));
  out.push(chatChunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "Read", arguments: "" } }] }));
  for (let i = 0; i < 196; i++) out.push(chatChunk({ tool_calls: [{ index: 1, function: { arguments: i === 0 ? '{"file_path":"' : "a/" } }] }));
  out.push(chatChunk({ tool_calls: [{ index: 1, function: { arguments: 'x.txt"}' } }] }));
  out.push(chatChunk({}, "tool_calls"));
  out.push(chatChunk({}, null, { choices: [], usage: { prompt_tokens: 5000, completion_tokens: 900, total_tokens: 5900 } }));
  return openAiSse(out);
}

async function* bytesOf(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

async function translateOnce(chunks: Uint8Array[]): Promise<number> {
  const translator = new ChatStreamTranslator({ provider: "openai", model: "gpt-4o" });
  let bytes = 0;
  for await (const event of translateChatSse(bytesOf(chunks), translator, "bench")) {
    bytes += `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`.length;
  }
  return bytes;
}

/** What any SSE proxy does at least: decode the frames and parse their JSON. */
async function parseOnly(chunks: Uint8Array[]): Promise<number> {
  let n = 0;
  for await (const frame of decodeSse(bytesOf(chunks))) {
    if (frame.data !== "[DONE]") n += (JSON.parse(frame.data) as { choices: unknown[] }).choices.length;
  }
  return n;
}

async function timePerRun(run: () => Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 20; i++) await run();
  const started = performance.now();
  for (let i = 0; i < runs; i++) await run();
  return (performance.now() - started) / runs;
}

/** Time from sending the request to the first byte of the first text token, as a client sees it. */
async function firstToken(url: string, init: RequestInit, marker: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, init);
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  let seen = "";
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    if (at === 0 && seen.includes(marker)) at = performance.now() - started;
  }
  if (at === 0) throw new Error(`marker ${marker} never arrived`);
  return at;
}

export default async function openAiTranslation(): Promise<BenchSection> {
  const chunks = thousandChunks().map((c) => encoder.encode(c));
  const runs = 200;
  const translateMs = await timePerRun(() => translateOnce(chunks), runs);
  const parseMs = await timePerRun(() => parseOnly(chunks), runs);
  const perChunkUs = (translateMs * 1000) / chunks.length;
  const parsePerChunkUs = (parseMs * 1000) / chunks.length;

  // A fake upstream that answers at once with a short stream, called directly and through lynkr.
  const answer = thousandChunks().slice(0, 4).join("") + thousandChunks().slice(-3).join("");
  const upstream = startFakeOpenAiUpstream(answer);
  const gateway = startGatewayInProcess({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-bench", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` });
  const direct: number[] = [];
  const through: number[] = [];
  try {
    const directInit = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-4o", stream: true, messages: [{ role: "user", content: "hi" }] }) };
    const gatewayInit = {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-opus-5-5", max_tokens: 1024, stream: true, messages: [{ role: "user", content: "hi" }] }),
    };
    for (let i = 0; i < 230; i++) {
      // Interleaved, so both see the same machine load; the first 30 warm up.
      const d = await firstToken(`${upstream.url}/v1/chat/completions`, directInit, "token0");
      const g = await firstToken(`${gateway.url}/v1/messages`, gatewayInit, "token0");
      if (i >= 30) {
        direct.push(d);
        through.push(g);
      }
    }
    assertReachedUpstream(upstream, 0, 2 * 230);
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
  const addedMedian = percentile(through, 50) - percentile(direct, 50);
  const addedP95 = percentile(through, 95) - percentile(direct, 95);

  return {
    title: "OpenAI → Anthropic translation (openai-chat adapter)",
    columns: ["measure", "value", "baseline (same run)", "ratio", "aim"],
    rows: [
      ["translation per chunk, 1,000-chunk stream (µs)", perChunkUs.toFixed(2), `${parsePerChunkUs.toFixed(2)} (SSE decode + JSON.parse only)`, (perChunkUs / parsePerChunkUs).toFixed(2), "< 50"],
      ["time to first token, median (ms)", percentile(through, 50).toFixed(3), `${percentile(direct, 50).toFixed(3)} (upstream directly)`, (percentile(through, 50) / percentile(direct, 50)).toFixed(2), ""],
      ["added time to first token, median (ms)", addedMedian.toFixed(3), "", "", "< 1"],
      ["added time to first token, p95 (ms)", addedP95.toFixed(3), "", "", ""],
    ],
    notes: [
      `per chunk: ${runs} runs of ${chunks.length} chunks (600 text deltas, 2 parallel tool calls in 396 argument fragments), each event also JSON-encoded as the gateway writes it`,
      `first token: ${through.length} interleaved requests each way to a loopback fake upstream that answers at once; time until the first text token's bytes reach the client`,
    ],
  };
}
