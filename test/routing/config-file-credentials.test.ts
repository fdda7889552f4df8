import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runDoctor } from "../../src/doctor/run.ts";
import { chatChunk, chunkedResponse, openAiSse, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";

// A key is sent only to the address it was configured for: a routing-file instance at an
// address of its own inherits no *_API_KEY from the environment.

function routingFile(providers: Record<string, Record<string, string>>, rule: string): string {
  const path = join(tempDir(), "routing.json");
  writeFileSync(path, JSON.stringify({ providers, router: { default: rule } }));
  return path;
}

test("an openai instance pointed at another host does not get the environment's OPENAI_API_KEY; one that names its own key sends that", async () => {
  const model = { model: "m" };
  const other = startFakeUpstream(() => chunkedResponse(openAiSse([chatChunk({ role: "assistant", content: "hi" }, null, model), chatChunk({}, "stop", model)])));
  const env = { OPENAI_API_KEY: "sk-env-secret", OPENAI_ENDPOINT: "https://api.openai.com/v1/chat/completions" };
  const ask = async (providers: Record<string, Record<string, string>>) => {
    const gateway = startTestGateway({ ...env, LYNKR_CONFIG: routingFile(providers, "elsewhere,m") });
    try {
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-x", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
      return other.received.at(-1)?.headers.get("authorization");
    } finally {
      await gateway.shutdown();
    }
  };
  try {
    expect(await ask({ elsewhere: { type: "openai", OPENAI_ENDPOINT: `${other.url}/v1/chat/completions` } })).toBeNull();
    expect(await ask({ elsewhere: { type: "openai", OPENAI_ENDPOINT: `${other.url}/v1/chat/completions`, OPENAI_API_KEY: "sk-its-own" } })).toBe("Bearer sk-its-own");
  } finally {
    await other.stop();
  }
});

test("an instance at an address of its own that needs a key names it, or start-up says which", () => {
  const path = routingFile({ team: { type: "openrouter", OPENROUTER_ENDPOINT: "https://llm.example.com/v1/chat/completions" } }, "team");
  expect(() => startTestGateway({ OPENROUTER_API_KEY: "sk-or-env", LYNKR_CONFIG: path })).toThrow(/providers\.team\.OPENROUTER_API_KEY: required for type openrouter/);
});

test("lynkr doctor warns where a key was withheld and where clients' Anthropic credentials would go to another host", async () => {
  const dir = tempDir();
  const path = routingFile({ elsewhere: { type: "openai", OPENAI_ENDPOINT: "http://127.0.0.1:9/v1/chat/completions" } }, "elsewhere");
  const report = await runDoctor({
    env: {
      HOME: dir,
      PORT: "0",
      SESSION_DB_PATH: join(dir, "lynkr.db"),
      LYNKR_CONFIG: path,
      OPENAI_API_KEY: "sk-env-secret",
      ANTHROPIC_UPSTREAM_URL: "http://127.0.0.1:9",
      ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true",
    },
    cwd: dir,
    timeoutMs: 500,
  });
  const warnings = report.checks.filter((c) => c.warning);
  expect(warnings.map((c) => c.id).sort()).toEqual(["credentials:anthropic", "credentials:elsewhere"]);
  expect(warnings.find((c) => c.id === "credentials:elsewhere")?.detail).toBe("OPENAI_API_KEY from the environment not sent: this instance has an address of its own");
  expect(warnings.find((c) => c.id === "credentials:anthropic")?.detail).toContain("forwarded to http://127.0.0.1:9 (ANTHROPIC_FORWARD_CLIENT_CREDENTIALS=true)");
  // Warnings do not fail the report, and never show a key.
  expect(JSON.stringify(report)).not.toContain("sk-env-secret");
});
