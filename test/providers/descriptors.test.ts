import { expect, test } from "bun:test";
import { providerNames } from "../../src/config/provider-names.ts";
import { envShape } from "../../src/config/schema.ts";
import { loadConfig } from "../../src/config/load.ts";
import { providerDescriptors } from "../../src/providers/descriptors.ts";
import { tempDir } from "../helpers/gateway.ts";

// One descriptor per provider kind, and each names real configuration variables: config
// validation, doctor, health, init and the registry all read these.

test("every provider kind has its descriptor, under its own name", () => {
  expect(Object.keys(providerDescriptors).sort()).toEqual([...providerNames].sort());
  for (const [name, descriptor] of Object.entries(providerDescriptors)) expect(descriptor.kind).toBe(name as (typeof providerNames)[number]);
});

test("address, key and init questions name variables the configuration reads", () => {
  const known = new Set(Object.keys(envShape));
  for (const descriptor of Object.values(providerDescriptors)) {
    expect(known.has(descriptor.addressVariable)).toBe(true);
    if (descriptor.keyVariable !== undefined) expect(known.has(descriptor.keyVariable)).toBe(true);
    expect(descriptor.questions.length).toBeGreaterThan(0);
    for (const question of descriptor.questions) expect(known.has(question.variable)).toBe(true);
    expect(descriptor.hint).not.toBe("");
    expect(descriptor.addressForm).not.toBe("");
  }
});

test("the builder makes the provider of its kind, and names it as asked (routing-file instances)", () => {
  const dir = tempDir();
  const config = loadConfig({
    env: { HOME: dir, AZURE_ANTHROPIC_ENDPOINT: "https://r.services.ai.azure.com", AZURE_ANTHROPIC_API_KEY: "k", AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com", AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_DEPLOYMENT: "gpt-4o", OPENROUTER_API_KEY: "k", DATABRICKS_API_BASE: "https://adb.example.net", DATABRICKS_API_KEY: "k" },
    cwd: dir,
  });
  for (const descriptor of Object.values(providerDescriptors)) {
    const provider = descriptor.create(config, `my-${descriptor.kind}`);
    expect(provider.kind).toBe(descriptor.kind);
    expect(provider.name).toBe(`my-${descriptor.kind}`);
  }
});

test("required variables: what each kind cannot work without, nothing for the ones with defaults", () => {
  const dir = tempDir();
  const bare = loadConfig({ env: { HOME: dir }, cwd: dir });
  const missing = Object.fromEntries(Object.values(providerDescriptors).map((d) => [d.kind, d.missing(bare).map((m) => m.variable)]));
  expect(missing).toEqual({
    anthropic: [],
    "azure-anthropic": ["AZURE_ANTHROPIC_ENDPOINT", "AZURE_ANTHROPIC_API_KEY"],
    openai: ["OPENAI_API_KEY"],
    "azure-openai": ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_DEPLOYMENT"],
    openrouter: ["OPENROUTER_API_KEY"],
    databricks: ["DATABRICKS_API_BASE", "DATABRICKS_API_KEY"],
    llamacpp: [],
    ollama: [],
  });
});
