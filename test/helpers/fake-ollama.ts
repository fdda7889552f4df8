// A loopback stand-in for an Ollama server: /api/show from a model table, /api/tags, and
// /api/chat answered with NDJSON lines the test scripts (recorded ones from ../shared/wire).

import { chunkedResponse, jsonResponse, readWire, startFakeUpstream, type FakeUpstream, type ReceivedRequest, type StreamOptions } from "./fake-upstream.ts";

export interface FakeModel {
  capabilities: string[];
  contextLength?: number;
}

export type ChatHandler = (req: ReceivedRequest) => Response | Promise<Response>;

export interface FakeOllama extends FakeUpstream {
  /** Requests made to /api/chat, in order. */
  chats(): ReceivedRequest[];
  /** Requests made to /api/show, in order. */
  shows(): ReceivedRequest[];
  /** Replaces the /api/chat answer. */
  onChat(handler: ChatHandler): void;
}

/** NDJSON lines (each with its newline), one per chunk, as Ollama writes them. */
export function ndjsonResponse(lines: string[], options: StreamOptions = {}): Response {
  return chunkedResponse(
    lines.map((line) => (line.endsWith("\n") ? line : `${line}\n`)),
    { contentType: "application/x-ndjson", ...options },
  );
}

export async function recordedNdjson(name: string): Promise<string[]> {
  return (await readWire(`upstream/ollama/${name}`)).split(/(?<=\n)/).filter((line) => line.trim() !== "");
}

export function startFakeOllama(models: Record<string, FakeModel>, chat: ChatHandler): FakeOllama {
  let handler = chat;
  const upstream = startFakeUpstream((req) => {
    const path = req.url.pathname;
    if (req.method === "GET" && path === "/") return new Response("Ollama is running");
    if (req.method === "GET" && path === "/api/tags") {
      return jsonResponse({
        models: Object.keys(models).map((name) => ({ name, model: name, modified_at: "2026-01-01T00:00:00Z", size: 1, digest: "0" })),
      });
    }
    if (req.method === "POST" && path === "/api/show") {
      const name = (req.json as { model?: string } | undefined)?.model ?? "";
      const model = models[name];
      if (!model) return jsonResponse({ error: `model '${name}' not found` }, 404);
      return jsonResponse({
        capabilities: model.capabilities,
        model_info: { "general.architecture": "qwen2", ...(model.contextLength ? { "qwen2.context_length": model.contextLength } : {}) },
        details: { family: "qwen2" },
      });
    }
    if (req.method === "POST" && path === "/api/chat") return handler(req);
    return jsonResponse({ error: "not found" }, 404);
  });
  return {
    ...upstream,
    chats: () => upstream.received.filter((r) => r.url.pathname === "/api/chat"),
    shows: () => upstream.received.filter((r) => r.url.pathname === "/api/show"),
    onChat(next) {
      handler = next;
    },
  };
}
