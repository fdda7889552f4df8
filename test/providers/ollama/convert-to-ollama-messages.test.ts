import { expect, test } from "bun:test";
import { convertToOllamaMessages } from "../../../src/providers/ollama/convert-to-ollama-messages.ts";
import { freshRequest, sessionRequest } from "../recorded.ts";

// Claude Code's recorded requests → Ollama /api/chat messages.

test("the fresh request: billing block dropped, the first user turn as one string, the system message kept in place", async () => {
  const out = convertToOllamaMessages(await freshRequest());
  expect(out.map((m) => m.role)).toEqual(["system", "user", "system"]);
  expect(out[0]?.content).not.toContain("x-anthropic-billing-header");
  expect(out[2]?.content).toContain("# Environment");
});

test("the session: tool results name their tool (Ollama has no call ids), calls carry arguments as objects, thinking goes back", async () => {
  const request = await sessionRequest();
  const out = convertToOllamaMessages(request);
  const calls = out.flatMap((m) => m.tool_calls ?? []);
  expect(calls.map((c) => c.function.name)).toEqual(["Bash", "Read", "Read", "Edit", "Edit", "Bash", "Write"]);
  expect(typeof calls[0]?.function.arguments).toBe("object");
  expect(out.filter((m) => m.role === "tool").map((m) => m.tool_name)).toEqual(["Bash", "Read", "Read", "Edit", "Edit", "Bash", "Write"]);
  expect(out.some((m) => m.role === "assistant" && (m.thinking ?? "").length > 0)).toBe(true);
  // Byte-stable: converting twice gives the same bytes.
  expect(JSON.stringify(convertToOllamaMessages(request))).toBe(JSON.stringify(out));
});

test("images go as base64 in `images`; a URL image or a non-text document is refused, not retried", () => {
  const request = (content: unknown[]) => ({ model: "m", max_tokens: 1, messages: [{ role: "user" as const, content: content as never }] });
  expect(convertToOllamaMessages(request([{ type: "text", text: "what is this?" }, { type: "image", source: { type: "base64", media_type: "image/png", data: "AAA" } }]))).toEqual([
    { role: "user", content: "what is this?", images: ["AAA"] },
  ]);
  expect(() => convertToOllamaMessages(request([{ type: "image", source: { type: "url", url: "https://x" } }]))).toThrow("takes base64 images only");
  expect(() => convertToOllamaMessages(request([{ type: "document", source: { type: "base64", media_type: "application/pdf", data: "J" } }]))).toThrow("only text documents can");
  expect(convertToOllamaMessages(request([{ type: "tool_result", tool_use_id: "t", content: [{ type: "tool_reference", tool_name: "WebFetch" }] }]))).toEqual([
    { role: "tool", content: "[tool loaded: WebFetch]" },
  ]);
});
