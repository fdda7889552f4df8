import { afterAll, beforeAll, expect, test } from "bun:test";
import { llamaCppBase, llamaCppPromptTokens } from "../../../src/providers/openai-chat/llamacpp-count.ts";
import { jsonResponse, startFakeUpstream, type FakeUpstream } from "../../helpers/fake-upstream.ts";

// llama-server's own count: the chat request rendered by its template, then tokenized.

let server: FakeUpstream;
let mode: "ok" | "no-endpoints" | "garbage" = "ok";

beforeAll(() => {
  server = startFakeUpstream((req) => {
    if (mode === "no-endpoints") return jsonResponse({ error: { code: 404, message: "File Not Found" } }, 404);
    if (mode === "garbage") return new Response("<html>", { headers: { "content-type": "text/html" } });
    if (req.url.pathname === "/apply-template") {
      const body = req.json as { messages: { content: string }[] };
      return jsonResponse({ prompt: `<|im_start|>${body.messages.map((m) => m.content).join("<|im_sep|>")}` });
    }
    if (req.url.pathname === "/tokenize") {
      const content = (req.json as { content: string }).content;
      return jsonResponse({ tokens: content.split(" ").map((_, i) => i) });
    }
    return jsonResponse({}, 404);
  });
});
afterAll(() => server.stop());

const options = () => ({ base: server.url, upstream: "llamacpp", headers: { authorization: "Bearer k" }, timeoutMs: 2_000, signal: new AbortController().signal });
const body = { messages: [{ role: "user", content: "count these four words" }], tools: [{ type: "function", function: { name: "Bash", parameters: {} } }] };

test("renders with the server's template (tools included), then counts with its tokenizer", async () => {
  mode = "ok";
  const before = server.received.length;
  expect(await llamaCppPromptTokens(body, options())).toBe(4);
  const [template, tokenize] = server.received.slice(before);
  expect(template?.url.pathname).toBe("/apply-template");
  expect(template?.json).toEqual({ messages: body.messages, tools: body.tools });
  expect(template?.headers.get("authorization")).toBe("Bearer k");
  expect(tokenize?.url.pathname).toBe("/tokenize");
  expect(tokenize?.json).toEqual({ content: "<|im_start|>count these four words", add_special: true });
});

test("a server without the endpoints, or with odd answers, leaves counting to lynkr", async () => {
  for (const m of ["no-endpoints", "garbage"] as const) {
    mode = m;
    expect(await llamaCppPromptTokens(body, options())).toBeUndefined();
  }
  expect(await llamaCppPromptTokens(body, { ...options(), base: "http://127.0.0.1:1" })).toBeUndefined();
});

test("the base URL from any chat URL form lynkr posts to", () => {
  expect(llamaCppBase("http://h:8080/v1/chat/completions")).toBe("http://h:8080");
  expect(llamaCppBase("http://h:8080/chat/completions")).toBe("http://h:8080");
  expect(llamaCppBase("http://h:8080/v1")).toBe("http://h:8080");
});
