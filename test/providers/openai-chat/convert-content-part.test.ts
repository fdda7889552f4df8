import { expect, test } from "bun:test";
import { InvalidRequestError } from "../../../src/anthropic/errors.ts";
import { isKnownBlock } from "../../../src/anthropic/schema.ts";
import { convertContentPart } from "../../../src/providers/openai-chat/convert-content-part.ts";
import { CapabilityTable } from "../../../src/providers/models/capabilities.ts";
import { freshRequest } from "../recorded.ts";

// One user block → one content part: images, PDFs, text documents, and text for the rest.

const target = { provider: "openai", model: "gpt-5", capabilities: new CapabilityTable({}).for("gpt-5") };
const textOnly = { ...target, model: "text-model", capabilities: { ...target.capabilities, images: false, pdf: false } };

test("Claude Code's text blocks become text parts, unchanged", async () => {
  const request = await freshRequest();
  const first = request.messages[0]?.content;
  if (!Array.isArray(first)) throw new Error("the recorded first message has blocks");
  for (const block of first) {
    if (!isKnownBlock(block) || block.type !== "text") throw new Error("the recorded first message is text blocks");
    expect(convertContentPart(block, target)).toEqual({ type: "text", text: block.text });
  }
});

test("images: base64 as a data URL, a URL as itself; other sources and text-only models are refused", () => {
  expect(convertContentPart({ type: "image", source: { type: "base64", media_type: "image/png", data: "AAA" } }, target)).toEqual({
    type: "image_url",
    image_url: { url: "data:image/png;base64,AAA" },
  });
  expect(convertContentPart({ type: "image", source: { type: "url", url: "https://x/a.png" } }, target)).toEqual({ type: "image_url", image_url: { url: "https://x/a.png" } });
  expect(() => convertContentPart({ type: "image", source: { type: "file", file_id: "f" } }, target)).toThrow('image source type "file" cannot be sent to provider openai');
  expect(() => convertContentPart({ type: "image", source: { type: "url", url: "https://x" } }, textOnly)).toThrow(InvalidRequestError);
});

test("documents: text as text, a PDF as a file part where the model reads PDFs", () => {
  expect(convertContentPart({ type: "document", source: { type: "text", media_type: "text/plain", data: "notes" } }, target)).toEqual({ type: "text", text: "notes" });
  expect(convertContentPart({ type: "document", title: "spec.pdf", source: { type: "base64", media_type: "application/pdf", data: "JVBER" } }, target)).toEqual({
    type: "file",
    file: { filename: "spec.pdf", file_data: "data:application/pdf;base64,JVBER" },
  });
  expect(() => convertContentPart({ type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBER" } }, textOnly)).toThrow("a PDF document cannot be sent to model text-model");
  expect(() => convertContentPart({ type: "document", source: { type: "content", content: [] } }, target)).toThrow('a document (source "content")');
});

test("blocks without a media form go as text: tool_reference by name, anything else as its JSON", () => {
  expect(convertContentPart({ type: "tool_reference", tool_name: "WebFetch" }, target)).toEqual({ type: "text", text: "[tool loaded: WebFetch]" });
  expect(convertContentPart({ type: "search_result", title: "t" }, target)).toEqual({ type: "text", text: '{"type":"search_result","title":"t"}' });
});
