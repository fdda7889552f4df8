import type { ChatCompletionFunctionTool, ChatCompletionToolChoiceOption } from "openai/resources/chat/completions";
import { InvalidRequestError } from "../../anthropic/errors.ts";
import type { MessagesRequest, Tool } from "../../anthropic/schema.ts";
import { functionTool } from "../tool-schema.ts";
import type { ConversionTarget } from "./conversion-options.ts";
import type { ToolSetCache } from "./tool-set-cache.ts";

// Anthropic tools and tool_choice → Chat Completions tools, tool_choice and parallel_tool_calls.
// A model without tools gets none, unless the request cannot do without them.

export interface PreparedTools {
  tools?: readonly ChatCompletionFunctionTool[];
  tool_choice?: ChatCompletionToolChoiceOption;
  parallel_tool_calls?: boolean;
}

function convertTool(tool: Tool, target: ConversionTarget): ChatCompletionFunctionTool {
  if (tool.type !== undefined && tool.type !== "custom") {
    throw new InvalidRequestError(
      `tool ${JSON.stringify(tool.name)} is Anthropic's built-in tool type ${JSON.stringify(tool.type)}, which provider ${target.provider} cannot run; define it as a custom tool with an input_schema`,
    );
  }
  return functionTool(tool);
}

export function convertToolChoice(choice: MessagesRequest["tool_choice"]): ChatCompletionToolChoiceOption | undefined {
  switch (choice?.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      return { type: "function", function: { name: String(choice.name) } };
    default:
      return undefined;
  }
}

/** Whether the request cannot be answered without tools: it forces one, or its history has tool calls. */
function needsTools(request: MessagesRequest): boolean {
  if (request.tool_choice?.type === "any" || request.tool_choice?.type === "tool") return true;
  return request.messages.some((m) => Array.isArray(m.content) && m.content.some((b) => b.type === "tool_use" || b.type === "tool_result"));
}

/** `toolSets`: tool sets converted before, reused when the request's tools equal one. */
export function prepareTools(request: MessagesRequest, target: ConversionTarget, toolSets?: ToolSetCache): PreparedTools {
  if (!request.tools || request.tools.length === 0) return {};
  if (!target.capabilities.tools) {
    if (!needsTools(request)) return {};
    throw new InvalidRequestError(
      `model ${target.model} on provider ${target.provider} does not support tools, and this request needs them; use a model that does or set "tools":true for it in MODEL_CAPABILITIES`,
    );
  }
  const convertAll = (tools: readonly Tool[]) => tools.map((tool) => convertTool(tool, target));
  const prepared: PreparedTools = { tools: toolSets ? toolSets.convert(request.tools, convertAll) : convertAll(request.tools) };
  const choice = convertToolChoice(request.tool_choice);
  if (choice !== undefined) prepared.tool_choice = choice;
  if (request.tool_choice?.disable_parallel_tool_use === true) prepared.parallel_tool_calls = false;
  return prepared;
}
