import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { anthropicSse, chunkedResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";

// Memory through the gateway with the official SDK as the client: learnt from a session's user
// statements, given to the next session, and neither when the client opts out, when the
// statement is a subagent's prompt, or when MEMORY_ENABLED=false.

const environment = "# Environment\n - Primary working directory: /work/shop\n - Is a git repository: false\n";
const tool = { name: "Bash", description: "Run a command", input_schema: { type: "object" as const, properties: {} } };

let upstream: FakeUpstream;
beforeAll(() => {
  upstream = startFakeUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, "claude-opus-5-5"))));
});
afterAll(() => upstream.stop());

function sdk(url: string, headers: Record<string, string>): Anthropic {
  return new Anthropic({ baseURL: url, apiKey: "k", maxRetries: 0, defaultHeaders: headers });
}

async function ask(client: Anthropic, text: string): Promise<string> {
  const before = upstream.received.length;
  await client.messages.create({
    model: "claude-opus-5-5",
    max_tokens: 100,
    system: [{ type: "text", text: "You are Claude Code." }],
    tools: [tool],
    // Claude Code's environment block: a role:"system" message (the SDK's types lack the role).
    messages: [{ role: "user", content: text }, { role: "system", content: environment } as unknown as Anthropic.MessageParam],
  });
  return upstream.received[before]?.text ?? "";
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i++) await Bun.sleep(50);
}

test("learnt from the user, given to the next session; nothing with x-lynkr-memory: off or from a subagent", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-ant" });
  try {
    const listed = async () => ((await (await fetch(`${gateway.url}/v1/memory?project=/work/shop`)).json()) as { data: { text: string }[] }).data.map((m) => m.text);
    await ask(sdk(gateway.url, { "x-claude-code-session-id": "s1", "x-lynkr-memory": "off" }), "Prices are always integer cents, never floats.");
    await ask(sdk(gateway.url, { "x-claude-code-session-id": "s1", "x-claude-code-agent-id": "0123456789abcdef0" }), "Never read files outside src/.");
    await ask(sdk(gateway.url, { "x-claude-code-session-id": "s1" }), "We always deploy with `make ship`.");
    await until(async () => (await listed()).length > 0);
    await Bun.sleep(100);
    expect(await listed()).toEqual(["We always deploy with `make ship`."]);

    const next = await ask(sdk(gateway.url, { "x-claude-code-session-id": "s2" }), "Deploy the new version");
    expect(next).toContain("<lynkr-memory>");
    expect(next).toContain("make ship");
    const off = await ask(sdk(gateway.url, { "x-claude-code-session-id": "s3", "x-lynkr-memory": "off" }), "Deploy the new version");
    expect(off).not.toContain("lynkr-memory");
  } finally {
    await gateway.shutdown();
  }
});

test("MEMORY_ENABLED=false: no block, nothing learnt, /v1/memory says memory is off", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-ant", MEMORY_ENABLED: "false" });
  try {
    await ask(sdk(gateway.url, { "x-claude-code-session-id": "s1" }), "We always deploy with `make ship`.");
    expect(await ask(sdk(gateway.url, { "x-claude-code-session-id": "s2" }), "Deploy")).not.toContain("lynkr-memory");
    const res = await fetch(`${gateway.url}/v1/memory`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("MEMORY_ENABLED=false");
  } finally {
    await gateway.shutdown();
  }
});
