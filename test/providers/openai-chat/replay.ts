import { readdirSync } from "node:fs";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { readWire, wireDir } from "../../helpers/fake-upstream.ts";

// Recorded OpenAI-style upstream traffic (../shared/wire/upstream) as fake upstreams replay it.

export const recordingFolders = ["openai-chat", "azure-openai", "openrouter", "llamacpp", "deepseek-or-reasoning"] as const;

export function recordings(folder: string): string[] {
  return readdirSync(`${wireDir}upstream/${folder}`).sort();
}

export function isStream(file: string): boolean {
  return file.endsWith(".sse") || file.endsWith(".chunks.txt");
}

/** The SSE body a server sent: `.sse` as recorded; `.chunks.txt` re-framed as the README says. */
export async function sseBody(path: string): Promise<string> {
  const text = await readWire(`upstream/${path}`);
  if (path.endsWith(".sse")) return text;
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  return `${lines.map((line) => `data: ${line}\n\n`).join("")}data: [DONE]\n\n`;
}

/** The chunks of a recording, by the simplest reading (for oracles, not for the code under test). */
export async function recordedChunks(path: string): Promise<ChatCompletionChunk[]> {
  const body = await sseBody(path);
  const chunks: ChatCompletionChunk[] = [];
  for (const line of body.split("\n")) {
    if (!line.startsWith("data: ")) continue;
    const data = line.slice(6);
    if (data === "[DONE]") continue;
    try {
      chunks.push(JSON.parse(data) as ChatCompletionChunk);
    } catch {
      // A capture cut inside a chunk; the oracle only needs the whole ones.
    }
  }
  return chunks;
}

type ReasoningDelta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null; reasoning?: string | null };

/** Text and reasoning concatenated from the chunks' deltas. */
export function concatenated(chunks: ChatCompletionChunk[]): { text: string; reasoning: string } {
  let text = "";
  let reasoning = "";
  for (const chunk of chunks) {
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta as ReasoningDelta | undefined;
      if (typeof delta?.content === "string") text += delta.content;
      reasoning += delta?.reasoning_content ?? delta?.reasoning ?? "";
    }
  }
  return { text, reasoning };
}

/** Splits a body at `pieces - 1` pseudo-random byte offsets (seeded), to test reassembly. */
export function splitAtRandomBytes(body: string, seed: number, pieces: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(body);
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const cuts = new Set<number>();
  while (cuts.size < Math.min(pieces - 1, bytes.length - 1)) cuts.add(1 + Math.floor(next() * (bytes.length - 1)));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...sorted, bytes.length]) {
    out.push(bytes.slice(start, cut));
    start = cut;
  }
  return out;
}

/** A streaming response that sends the given byte pieces one by one. */
export function bytesResponse(pieces: Uint8Array[], status = 200, contentType = "text/event-stream"): Response {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[i++];
      if (piece === undefined) controller.close();
      else controller.enqueue(piece);
    },
  });
  return new Response(body, { status, headers: { "content-type": contentType } });
}

/** Anthropic ids are random per answer: replaced so that two runs compare byte for byte. */
export function normaliseIds(sse: string): string {
  return sse.replace(/msg_01[1-9A-HJ-NP-Za-km-z]{22}/g, "msg_ID").replace(/toolu_01[1-9A-HJ-NP-Za-km-z]{22}/g, "toolu_ID");
}
