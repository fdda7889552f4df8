import { expect, test } from "bun:test";
import { compactTool } from "../../src/optimize/compact-tools.ts";
import { clip, firstParagraph, firstSentence } from "../../src/optimize/shorten.ts";
import { slimSystem, slimText } from "../../src/optimize/slim-system.ts";
import { recordedSession } from "./recorded-sessions.ts";

test("sentences, paragraphs and clipping", () => {
  expect(firstSentence("Runs a command. Then more.", 100)).toBe("Runs a command.");
  expect(firstSentence("Version 2.1 is out. Next.", 100)).toBe("Version 2.1 is out.");
  expect(firstSentence("no end at all", 100)).toBe("no end at all");
  expect(firstSentence("one two three four five", 12)).toBe("one two…");
  expect(firstParagraph("First. Second.\n\nThird.", 100)).toBe("First. Second.");
  expect(firstParagraph("First sentence here. Second sentence runs long.", 25)).toBe("First sentence here.");
  expect(clip("short", 10)).toBe("short");
});

test("a compact tool keeps names, types, enums, defaults and required; only prose shrinks", () => {
  const tool = {
    name: "Bash",
    description: "Executes a command. Long advice follows.\n\n- Never do this.\n- Always do that.",
    input_schema: {
      type: "object",
      properties: {
        // A parameter named like a keyword stays a parameter.
        description: { type: "string", description: "What this command does. Write it in active voice. Keep it short." },
        mode: { type: "string", enum: ["a", "b"], default: "a", description: "The mode. Pick one." },
        nested: { type: "object", properties: { depth: { type: "integer", description: "How deep. Really." } }, required: ["depth"] },
      },
      required: ["description"],
      additionalProperties: false,
    },
  };
  const compact = compactTool(tool);
  expect(compact.name).toBe("Bash");
  expect(compact.description).toBe("Executes a command. Long advice follows.");
  expect(compact.input_schema).toEqual({
    type: "object",
    properties: {
      description: { type: "string", description: "What this command does." },
      mode: { type: "string", enum: ["a", "b"], default: "a", description: "The mode." },
      nested: { type: "object", properties: { depth: { type: "integer", description: "How deep." } }, required: ["depth"] },
    },
    required: ["description"],
    additionalProperties: false,
  });
  // The input is not touched.
  expect(tool.input_schema.properties.mode.description).toBe("The mode. Pick one.");
});

test("slim text: long lines keep their first sentence (list items their marker and name), fences go, short lines stay", () => {
  const long = "x".repeat(10);
  const text = [
    "# Heading",
    ` - Short line.`,
    `- dataviz: Use this skill whenever you chart. ${long.repeat(25)}. More.`,
    `A paragraph that is long. ${long.repeat(25)}`,
    "```markdown",
    "example",
    "```",
    "",
    "",
    "",
    "End.",
  ].join("\n");
  expect(slimText(text)).toBe(["# Heading", " - Short line.", "- dataviz: Use this skill whenever you chart.", "A paragraph that is long.", "", "End."].join("\n"));
});

test("slim system touches the system prompt and role:system messages only, and keeps their cache marks", () => {
  const request = recordedSession("refactor-two-runs")[0]?.request;
  if (!request || !Array.isArray(request.system)) throw new Error("recording without system blocks");
  const slim = slimSystem(request);
  if (!Array.isArray(slim.system)) throw new Error("system lost its blocks");
  expect(slim.system.map((b) => b.cache_control)).toEqual(request.system.map((b) => b.cache_control));
  expect(slim.system[0]?.text).toBe(request.system[0]?.text);
  expect(JSON.stringify(slim.system).length).toBeLessThan(0.6 * JSON.stringify(request.system).length);
  for (const [i, message] of request.messages.entries()) {
    if (message.role !== "system") expect(slim.messages[i]).toBe(message);
  }
  // The environment facts stay.
  expect(JSON.stringify(slim.messages)).toContain("Primary working directory: /home/user/project");
});

test("hostile prompts slim in linear time: blank-line runs, an unclosed fence, one endless line", () => {
  expect(slimText("\n".repeat(200_000))).toBe("\n\n");
  const unclosed = `\`\`\`\n${"a\n".repeat(100_000)}`;
  expect(slimText(unclosed)).toBe(unclosed);
  expect(slimText(`- ${"word ".repeat(100_000)}`).length).toBeLessThan(300);
  expect(firstParagraph(`\n${" ".repeat(200_000)}x`, 100)).toBe("x");
});

test("a schema nested deeper than any real one is compacted to a bound and kept below it", () => {
  let deep: Record<string, unknown> = { type: "string", description: "Leaf. More." };
  for (let i = 0; i < 20_000; i++) deep = { type: "object", properties: { p: deep }, description: "Level. More." };
  const compact = compactTool({ name: "Deep", input_schema: deep });
  const schema = compact.input_schema as { description: string };
  expect(schema.description).toBe("Level.");
});
