import type { ChatCompletionContentPart } from "openai/resources/chat/completions";
import { InvalidRequestError } from "../../anthropic/errors.ts";
import { isKnown, type ContentBlockParam, type DocumentBlock, type ImageBlock } from "../../anthropic/schema.ts";
import { blockText } from "../content-text.ts";
import { unsupported, type ConversionTarget } from "./conversion-options.ts";

// One Anthropic user-side block → one Chat Completions content part: images as image_url (data
// URL or link), PDFs as file parts, text documents and everything else as text.

export function convertImage(block: ImageBlock, target: ConversionTarget): ChatCompletionContentPart {
  if (!target.capabilities.images) throw unsupported("an image", target);
  const source = block.source;
  if (isKnown(source, ["base64", "url"] as const)) {
    const url = source.type === "base64" ? `data:${source.media_type};base64,${source.data}` : source.url;
    return { type: "image_url", image_url: { url } };
  }
  throw new InvalidRequestError(
    `image source type ${JSON.stringify(source.type)} cannot be sent to provider ${target.provider}; send the image as base64 or a URL`,
  );
}

export function convertDocument(block: DocumentBlock, target: ConversionTarget): ChatCompletionContentPart {
  const source = block.source;
  if (isKnown(source, ["text", "base64"] as const)) {
    if (source.type === "text") return { type: "text", text: source.data };
    if (source.media_type === "application/pdf") {
      if (!target.capabilities.pdf) throw unsupported("a PDF document", target);
      const filename = block.title ? block.title : "document.pdf";
      return { type: "file", file: { filename, file_data: `data:application/pdf;base64,${source.data}` } };
    }
  }
  throw unsupported(`a document (source ${JSON.stringify(source.type)})`, target);
}

/** A user block (or a tool result's inner block) as a content part; blocks without a media form go as text. */
export function convertContentPart(block: ContentBlockParam, target: ConversionTarget): ChatCompletionContentPart {
  if (isKnown(block, ["image", "document"] as const)) {
    return block.type === "image" ? convertImage(block, target) : convertDocument(block, target);
  }
  return { type: "text", text: blockText(block) };
}
