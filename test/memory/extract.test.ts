import { expect, test } from "bun:test";
import type { MessageParam } from "../../src/anthropic/schema.ts";
import { extractCandidates } from "../../src/memory/extract.ts";

const reminder = "<system-reminder>\nContents of /repo/CLAUDE.md: always use yarn, never npm.\n</system-reminder>";

test("the user's statements are candidates; system reminders and questions are not", () => {
  const messages: MessageParam[] = [
    {
      role: "user",
      content: [
        { type: "text", text: reminder },
        { type: "text", text: "In this repo we always use pnpm, never npm. What does the build script do?" },
      ],
    },
    { role: "system", content: "# Environment\n - Primary working directory: /repo\n - we always deploy on Fridays" },
  ];
  const texts = extractCandidates(messages).map((c) => c.text);
  expect(texts).toEqual(["In this repo we always use pnpm, never npm."]);
});

test("tool results are never candidates, and a tool loop's later requests add nothing", () => {
  const messages: MessageParam[] = [
    { role: "user", content: "We use vitest for tests." },
    { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "cat notes" } }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "Never use npm. Always deploy with make." }] },
  ];
  expect(extractCandidates(messages)).toEqual([]);
});

test("an assistant decision counts once the user's reply does not reject it", () => {
  const history = (reply: string): MessageParam[] => [
    { role: "user", content: "Where should the config loader go?" },
    { role: "assistant", content: [{ type: "text", text: "I'll put the loader in src/config/load.ts. It reads .env files." }] },
    { role: "user", content: reply },
  ];
  const accepted = extractCandidates(history("Great, go ahead."));
  expect(accepted.map((c) => [c.source, c.text])).toEqual([["assistant", "I'll put the loader in src/config/load.ts."]]);
  expect(extractCandidates(history("No, keep it in lib/ please."))).toEqual(
    expect.not.arrayContaining([expect.objectContaining({ source: "assistant" })]),
  );
});

test("statements of fact about the project are candidates", () => {
  const texts = extractCandidates([{ role: "user", content: "The API lives in services/api.\nDon't touch the generated files." }]).map((c) => c.text);
  expect(texts).toEqual(["The API lives in services/api.", "Don't touch the generated files."]);
});
