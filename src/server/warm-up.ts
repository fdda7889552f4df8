import { countTokensRequestSchema, messagesRequestSchema } from "../anthropic/schema.ts";

// zod compiles each object schema the first time it parses one: the first Claude Code request
// paid ~5-15 ms for it before anything else (issue 12's cold start to the first answer). Parsing
// one request of the same shape right after listening, while the first client is still
// connecting, moves that cost out of the first answer.

/** A request shaped as Claude Code's: system blocks, tools, text, thinking, tool use and results. */
export const warmUpRequest = {
  model: "claude-sonnet-4-5",
  max_tokens: 32000,
  stream: true,
  system: [{ type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } }],
  tools: [{ name: "Read", description: "Reads a file.", input_schema: { type: "object", properties: { file_path: { type: "string" } }, required: ["file_path"] } }],
  tool_choice: { type: "auto" },
  thinking: { type: "enabled", budget_tokens: 1024 },
  metadata: { user_id: "user_warm-up" },
  messages: [
    { role: "user", content: [{ type: "text", text: "Read the file.", cache_control: { type: "ephemeral" } }] },
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "It wants the file.", signature: "sig" },
        { type: "text", text: "Reading it." },
        { type: "tool_use", id: "toolu_1", name: "Read", input: { file_path: "a.ts" } },
      ],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "export {};" }] }] },
    { role: "user", content: "Thanks." },
  ],
};

/** Parses `warmUpRequest` with the request schemas; true when it passed (it always should). */
export function warmRequestSchemas(): boolean {
  const messages = messagesRequestSchema.safeParse(warmUpRequest).success;
  const counting = countTokensRequestSchema.safeParse(warmUpRequest).success;
  return messages && counting;
}
