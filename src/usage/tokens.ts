import type { Message, MessagesRequest } from "../anthropic/schema.ts";
import { countedText, countRequestTokens, countTextTokens } from "../optimize/tokens.ts";
import type { TokenCounts } from "./prices.ts";

export interface TurnUsage extends TokenCounts {
  /** True when the upstream reported no usage and some counts are a local js-tiktoken estimate. */
  estimated: boolean;
}

function outputText(message: Message): string {
  return message.content.map((block) => countedText(block).text).join("");
}

/**
 * The upstream's usage where it gave one; where it gave none (no usage at all, or zero input
 * tokens, which no real request has), a local estimate, marked as such.
 */
export function turnUsage(request: MessagesRequest, response: Message | undefined): TurnUsage {
  const usage = response?.usage;
  let input = usage?.input_tokens ?? 0;
  let output = usage?.output_tokens ?? 0;
  const cacheRead = usage?.cache_read_input_tokens ?? 0;
  const cacheCreation = usage?.cache_creation_input_tokens ?? 0;
  let estimated = false;
  if (input + cacheRead + cacheCreation === 0) {
    input = countRequestTokens(request);
    estimated = true;
  }
  if (output === 0 && response && response.content.length > 0) {
    output = countTextTokens(outputText(response));
    estimated = output > 0 || estimated;
  }
  return { input_tokens: input, output_tokens: output, cache_read_input_tokens: cacheRead, cache_creation_input_tokens: cacheCreation, estimated };
}
