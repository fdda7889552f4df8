import { expect, test } from "bun:test";
import { convertToolChoice, prepareTools } from "../../../src/providers/openai-chat/prepare-tools.ts";
import { CapabilityTable } from "../../../src/providers/models/capabilities.ts";
import { freshRequest, sessionRequest } from "../recorded.ts";

// Claude Code's tools → function tools, tool_choice → its Chat Completions form.

const target = { provider: "openai", model: "gpt-4o", capabilities: new CapabilityTable({}).for("gpt-4o") };
const noTools = { ...target, model: "tiny", capabilities: { ...target.capabilities, tools: false } };

test("Claude Code's 12 tools become 12 function tools, in order, without JSON Schema meta keywords", async () => {
  const request = await freshRequest();
  const prepared = prepareTools(request, target);
  expect(prepared.tools?.map((t) => t.function.name)).toEqual(request.tools?.map((t) => t.name));
  const json = JSON.stringify(prepared.tools);
  expect(json).not.toContain('"$schema"');
  expect(prepared.tools?.every((t) => t.type === "function" && t.function.parameters?.type === "object")).toBe(true);
  // Claude Code sends no tool_choice.
  expect(prepared.tool_choice).toBeUndefined();
  expect(prepared.parallel_tool_calls).toBeUndefined();
});

test("tool_choice: auto, any → required, none, a named tool; parallel calls can be turned off", async () => {
  expect(convertToolChoice({ type: "auto" })).toBe("auto");
  expect(convertToolChoice({ type: "any" })).toBe("required");
  expect(convertToolChoice({ type: "none" })).toBe("none");
  expect(convertToolChoice({ type: "tool", name: "Bash" })).toEqual({ type: "function", function: { name: "Bash" } });
  expect(convertToolChoice(undefined)).toBeUndefined();
  const request = await freshRequest();
  expect(prepareTools({ ...request, tool_choice: { type: "auto", disable_parallel_tool_use: true } }, target)).toMatchObject({ tool_choice: "auto", parallel_tool_calls: false });
});

test("a model without tools: the first turn goes without them; a history with tool calls is refused", async () => {
  expect(prepareTools(await freshRequest(), noTools)).toEqual({});
  const session = await sessionRequest();
  expect(() => prepareTools(session, noTools)).toThrow("model tiny on provider openai does not support tools");
});

test("Anthropic's built-in tool types cannot run elsewhere: refused, naming the tool", async () => {
  const request = await freshRequest();
  expect(() => prepareTools({ ...request, tools: [{ name: "web_search", type: "web_search_20250305" }] }, target)).toThrow('tool "web_search" is Anthropic\'s built-in tool type');
});
