import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { startTestGateway } from "./gateway.ts";

type RunningTestGateway = ReturnType<typeof startTestGateway>;

// Loopback servers that stand in for providers in tests. They record what they received and
// answer with whatever the test scripts, including real recorded bodies from test/fixtures/wire (copied from ../shared/wire).

export interface ReceivedRequest {
  method: string;
  url: URL;
  headers: Headers;
  text: string;
  json: unknown;
}

export interface FakeUpstream {
  url: string;
  port: number;
  received: ReceivedRequest[];
  stop(): Promise<void>;
}

export type FakeHandler = (req: ReceivedRequest, raw: Request) => Response | Promise<Response>;

export function startFakeUpstream(handler: FakeHandler): FakeUpstream {
  const received: ReceivedRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(raw) {
      const text = await raw.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      const req = { method: raw.method, url: new URL(raw.url), headers: raw.headers, text, json };
      received.push(req);
      return handler(req, raw);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port ?? 0,
    received,
    stop: () => server.stop(true),
  };
}

// Recorded traffic (real Claude Code requests, real provider answers), kept in the repository so
// a fresh clone tests against the same bytes; see test/fixtures/wire/upstream/README.md for sources.
export const wireDir = new URL("../fixtures/wire/", import.meta.url).pathname;

export function readWire(path: string): Promise<string> {
  return Bun.file(`${wireDir}${path}`).text();
}

export interface StreamOptions {
  contentType?: string;
  /** Delay before each chunk, in ms. */
  delayMs?: number;
  /** Close the connection abruptly after this many chunks (an upstream dying mid-stream). */
  dieAfter?: number;
  /** Called when the client of this stream goes away. */
  onCancel?: () => void;
  status?: number;
  headers?: Record<string, string>;
}

/** A response that sends `chunks` one by one, like a real upstream producing tokens. */
export function chunkedResponse(chunks: (string | Uint8Array)[], options: StreamOptions = {}): Response {
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (options.delayMs) await Bun.sleep(options.delayMs);
      if (options.dieAfter !== undefined && i >= options.dieAfter) {
        controller.error(new Error("upstream died"));
        return;
      }
      const chunk = chunks[i++];
      if (chunk === undefined) {
        controller.close();
        return;
      }
      controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    },
    cancel() {
      options.onCancel?.();
    },
  });
  return new Response(body, {
    status: options.status ?? 200,
    headers: { "content-type": options.contentType ?? "text/event-stream; charset=utf-8", ...options.headers },
  });
}

/** Splits an SSE body into its events (each with its blank line), to send one event per chunk. */
export function sseEvents(body: string): string[] {
  return body
    .split(/(?<=\n\n)/)
    .filter((part) => part.trim() !== "");
}

export type AnthropicEvent = { type: string; [k: string]: unknown };

export function anthropicSse(events: AnthropicEvent[]): string[] {
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
}

/** A recorded Anthropic stream kept as one event's JSON per line (`upstream/anthropic/*.chunks.txt`). */
export async function recordedAnthropicEvents(name: string): Promise<AnthropicEvent[]> {
  const lines = (await readWire(`upstream/anthropic/${name}`)).split("\n").filter((line) => line.trim() !== "");
  return lines.map((line) => JSON.parse(line) as AnthropicEvent);
}

/**
 * One chat.completion.chunk as OpenAI streams it: a single choice carrying `delta` (and its
 * finish reason); `fields` overrides the rest, e.g. `{ choices: [], usage }` for the usage chunk.
 */
export function chatChunk(
  delta: ChatCompletionChunk.Choice.Delta,
  finish: ChatCompletionChunk.Choice["finish_reason"] = null,
  fields: Partial<ChatCompletionChunk> = {},
): ChatCompletionChunk {
  return {
    id: "chatcmpl-fake",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-4o-2024-08-06",
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    ...fields,
  };
}

/** OpenAI's SSE frames for `chunks`, ended by `data: [DONE]` unless `done` is false. */
export function openAiSse(chunks: ChatCompletionChunk[], { done = true }: { done?: boolean } = {}): string[] {
  const frames = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`);
  return done ? [...frames, "data: [DONE]\n\n"] : frames;
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/**
 * A test's usual frame: a fake Anthropic-wire upstream answering with `handler`, a gateway in
 * front of it with `env`, both stopped afterwards whatever happens.
 */
export async function throughFakeUpstream<T>(
  handler: FakeHandler,
  env: Record<string, string>,
  body: (ctx: { upstream: FakeUpstream; gateway: RunningTestGateway }) => Promise<T>,
): Promise<T> {
  const upstream = startFakeUpstream(handler);
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ...env });
  try {
    return await body({ upstream, gateway });
  } finally {
    await gateway.shutdown();
    await upstream.stop();
  }
}
