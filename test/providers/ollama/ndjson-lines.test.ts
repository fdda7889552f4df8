import { expect, test } from "bun:test";
import { ndjsonLines } from "../../../src/providers/ollama/ndjson-lines.ts";
import { readWire } from "../../helpers/fake-upstream.ts";
import { splitAtRandomBytes } from "../openai-chat/replay.ts";

async function collect(pieces: Uint8Array[]): Promise<string[]> {
  async function* body() {
    yield* pieces;
  }
  const out: string[] = [];
  for await (const line of ndjsonLines(body())) out.push(line);
  return out;
}

test.each(["ollama/chat-stream-text.ndjson", "ollama/chat-stream-thinking-cloud.ndjson", "ollama/generate-stream-midstream-error.docs-example.ndjson"])(
  "%s: the same lines however the bytes are split (multi-byte characters included)",
  async (path) => {
    const text = await readWire(`upstream/${path}`);
    const expected = text.split("\n").map((l) => l.trim()).filter(Boolean);
    expect(await collect([new TextEncoder().encode(text)])).toEqual(expected);
    for (const seed of [1, 7, 42]) expect(await collect(splitAtRandomBytes(text, seed, 40))).toEqual(expected);
  },
);

test("a last line without its newline still counts (Ollama's error body has none)", async () => {
  const text = await readWire("upstream/ollama/error-400-model-does-not-support-tools.json");
  expect(await collect([new TextEncoder().encode(text)])).toEqual([text.trim()]);
});
