import { expect, test } from "bun:test";
import { prepareTools } from "../../../src/providers/ollama/prepare-tools.ts";
import { freshRequest } from "../recorded.ts";

test("Claude Code's 12 tools → 12 function tools without $schema; tool_choice none → no tools", async () => {
  const request = await freshRequest();
  const tools = prepareTools(request);
  expect(tools?.map((t) => t.function.name)).toEqual(request.tools?.map((t) => t.name));
  expect(JSON.stringify(tools)).not.toContain('"$schema"');
  expect(prepareTools({ ...request, tool_choice: { type: "none" } })).toBeUndefined();
  expect(prepareTools({ ...request, tools: [] })).toBeUndefined();
});

test("Anthropic server tools (a type, no schema) are left out: nothing local could run them", async () => {
  const request = await freshRequest();
  const tools = prepareTools({ ...request, tools: [{ name: "web_search", type: "web_search_20250305" }, ...(request.tools ?? []).slice(0, 1)] });
  expect(tools?.map((t) => t.function.name)).toEqual(["Agent"]);
});
