import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { translatedProviderNames } from "../../../src/config/sections/openai-family.ts";
import { CapabilityTable } from "../../../src/providers/models/capabilities.ts";
import { chatFlavors } from "../../../src/providers/openai-chat/flavors.ts";
import { toChatRequest } from "../../../src/providers/openai-chat/request.ts";
import { freshRequest } from "../recorded.ts";

// Where OpenAI-compatible flavors differ is data (flavors.ts); the translators read traits.

const folder = join(import.meta.dir, "../../../src/providers/openai-chat");

test("no translator file tests a flavor's name: the differences are in the flavor table", () => {
  const translators = readdirSync(folder).filter((file) => /^(convert-|map-|prepare-)|^(request|stream)\.ts$/.test(file));
  expect(translators.length).toBeGreaterThan(8);
  for (const file of translators) {
    const source = readFileSync(join(folder, file), "utf8");
    for (const flavor of translatedProviderNames) expect({ file, names: source.includes(`"${flavor}"`) }).toEqual({ file, names: false });
  }
});

test("the table's traits are what each flavor's request shows, for Claude Code's request", async () => {
  const request = await freshRequest();
  const caps = new CapabilityTable({}).for("anthropic/claude-sonnet-4.5");
  const bodies = Object.fromEntries(
    translatedProviderNames.map((flavor) => [
      flavor,
      toChatRequest({ ...request, top_k: 40 }, { flavor, provider: flavor, bodyModel: "m", model: "anthropic/claude-sonnet-4.5", capabilities: caps, midSystem: "keep" }),
    ]),
  );
  for (const flavor of translatedProviderNames) {
    const body = bodies[flavor];
    const traits = chatFlavors[flavor];
    expect(body?.stream_options !== undefined).toBe(traits.streamOptions);
    expect(body?.top_k !== undefined).toBe(traits.topK);
    expect(JSON.stringify(body?.messages).includes("cache_control")).toBe(traits.cacheMarks);
  }
  // Claude behind OpenRouter takes Claude Code's breakpoints; that is the one flavor that hands them on.
  expect(caps.cache_control).toBe(true);
});

test("reasoning models: OpenAI's own take max_completion_tokens and reasoning_effort, OpenRouter its reasoning object", async () => {
  const request = await freshRequest();
  const caps = { ...new CapabilityTable({}).for("gpt-5"), reasoning: true };
  const body = (flavor: (typeof translatedProviderNames)[number]) =>
    toChatRequest({ ...request, temperature: 0.5 }, { flavor, provider: flavor, bodyModel: "m", model: "gpt-5", capabilities: caps, midSystem: "keep" });
  expect(body("openai")).toMatchObject({ max_completion_tokens: expect.any(Number), reasoning_effort: "medium" });
  expect(body("openai").temperature).toBeUndefined();
  expect(body("openrouter")).toMatchObject({ max_tokens: expect.any(Number), reasoning: { effort: "medium" }, temperature: 0.5 });
  expect(body("llamacpp")).toMatchObject({ max_tokens: expect.any(Number), reasoning_effort: "medium", temperature: 0.5 });
});
