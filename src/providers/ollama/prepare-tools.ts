import type { MessagesRequest } from "../../anthropic/schema.ts";
import { functionTool, type FunctionTool } from "../tool-schema.ts";

// Anthropic tools → Ollama's function tools. Ollama has no tool_choice: "none" means no tools.

export function prepareTools(request: MessagesRequest): FunctionTool[] | undefined {
  if (!request.tools || request.tools.length === 0 || request.tool_choice?.type === "none") return undefined;
  return (
    request.tools
      // Anthropic server tools (web_search_20250305…) have a `type` and no schema: nothing to call locally.
      .filter((tool) => tool.input_schema !== undefined)
      .map(functionTool)
  );
}
