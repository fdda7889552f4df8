import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import Anthropic from "@anthropic-ai/sdk";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium, screenshotPaths } from "../helpers/browser.ts";
import { chatChunk, openAiSse, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";
import { demoServer, writeMcpConfig } from "../helpers/mcp-config.ts";
import { lynkrFromSource } from "../helpers/lynkr-process.ts";
import { sessionA, sessionB, settle, startSessionTraffic, type SessionTraffic } from "../helpers/session-traffic.ts";

// /dashboard in headless Chromium: it asks for the key (keys are on), then shows the request
// count and charts and follows new requests without a reload, and the MCP servers (one ready,
// one whose binary is missing); no console errors, nothing loaded from elsewhere. The
// screenshots are the README's.

const clientKey = "dashboard-key-123456";
let traffic: SessionTraffic;
let browser: BrowserContext;

beforeAll(async () => {
  const mcpConfig = writeMcpConfig({ demo: demoServer(), ghost: { command: "lynkr-no-such-mcp-server" } });
  traffic = await startSessionTraffic({ LYNKR_API_KEYS: `ops:${clientKey}`, BUDGET_DAILY_USD: "5", LYNKR_MCP_CONFIG: mcpConfig });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await traffic.stop();
});

const send = async (session: string, prompt: string) => {
  const res = await traffic.send(session, prompt, { authorization: `Bearer ${clientKey}` });
  expect(res.status).toBe(200);
  await res.text();
};

function watch(page: Page, origins = [traffic.gateway.url]): { errors: string[]; foreign: string[] } {
  const seen = { errors: [] as string[], foreign: [] as string[] };
  page.on("console", (msg) => {
    if (msg.type() === "error") seen.errors.push(msg.text());
  });
  page.on("pageerror", (error) => seen.errors.push(String(error)));
  page.on("request", (req) => {
    if (!origins.some((origin) => req.url().startsWith(origin))) seen.foreign.push(req.url());
  });
  return seen;
}

test("the dashboard asks for the key, then shows requests and charts that update live", async () => {
  const page = await browser.newPage();
  const seen = watch(page);
  await page.goto(`${traffic.gateway.url}/dashboard?interval=500`);
  await page.waitForSelector("#key-form:not([hidden])");
  expect(await page.isHidden("#main")).toBe(true);

  await page.fill("#key-input", clientKey);
  await page.click("button[type=submit]");
  await page.waitForSelector("#main:not([hidden])");
  expect(await page.textContent("#requests-total")).toBe("0");

  // Requests sent while the page is open appear without a reload.
  for (let i = 0; i < 3; i++) await send(sessionA, `hello from A ${i}`);
  await page.locator("#requests-total", { hasText: /^3$/ }).waitFor({ timeout: 15_000 });
  await Bun.sleep(700);
  for (let i = 0; i < 4; i++) await send(sessionB, `hello from B ${i}`);
  await settle(traffic, sessionB, 4);
  await page.locator("#requests-total", { hasText: /^7$/ }).waitFor({ timeout: 15_000 });
  // The header row and one per request.
  await page.locator("#recent tr").nth(7).waitFor({ timeout: 15_000 });

  const points = await page.getAttribute("#rate-chart polyline", "data-points");
  expect(Number(points)).toBeGreaterThanOrEqual(2);
  expect(await page.$$eval("#latency-chart polyline", (lines) => lines.length)).toBe(2);
  expect(await page.textContent("#providers")).toContain("openai");
  expect(await page.textContent("#circuits")).toContain("closed");
  expect(await page.textContent("#budget")).toContain("daily budget");
  // A: 9000 prompt tokens of which 8000 cached, 3 times; B: 1000, none cached, 4 times.
  expect(await page.textContent("#upstream-cache")).toBe("77.4%");
  expect(await page.textContent("#memories-state")).toBe("memories kept");
  expect(await page.textContent("#status")).toBe("live");

  // MCP: the SDK test server ready with its tools, the missing binary failed with its reason.
  const demo = page.locator("#mcp tr", { hasText: "demo" });
  await demo.locator("td", { hasText: /^ready$/ }).waitFor({ timeout: 30_000 });
  expect(await demo.locator("td").allTextContents()).toEqual(["demo", "ready", "stdio", "5", "0 / 0 / 0", "0", "echo, sleep, crash, env, add_tool"]);
  const ghost = page.locator("#mcp tr", { hasText: "ghost" });
  await ghost.locator("td", { hasText: /^failed$/ }).waitFor({ timeout: 30_000 });
  expect(await ghost.locator("td.bad").last().textContent()).toContain('cannot start "lynkr-no-such-mcp-server": command not found');
  expect(await page.textContent("#mcp-ready")).toBe("1 / 2");
  expect(await page.textContent("#mcp-tools")).toBe("ready · 5 tools listed");

  for (const path of screenshotPaths("dashboard.png")) await page.screenshot({ path, fullPage: true });
  expect(seen.errors).toEqual([]);
  expect(seen.foreign).toEqual([]);
  await page.close();
}, 90_000);

test("server-tool calls appear by tool and outcome; a gateway without MCP servers says none configured", async () => {
  // The model calls mcp__demo__echo once, then answers from its result.
  const upstream = startFakeUpstream((req) => {
    const toolAnswered = req.text.includes('"role":"tool"');
    const chunks = toolAnswered
      ? [chatChunk({ role: "assistant", content: "done" }), chatChunk({}, "stop")]
      : [chatChunk({ role: "assistant", content: null }), chatChunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "mcp__demo__echo", arguments: '{"text":"hi"}' } }] }), chatChunk({}, "tool_calls")];
    return new Response(openAiSse(chunks).join(""), { headers: { "content-type": "text/event-stream" } });
  });
  const openai = { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-test", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`, OPENAI_MODEL: "gpt-4o" };
  const withMcp = startTestGateway({ ...openai, LYNKR_MCP_CONFIG: writeMcpConfig() });
  const withoutMcp = startTestGateway(openai);
  const page = await browser.newPage();
  const seen = watch(page, [withMcp.url, withoutMcp.url]);
  try {
    await withMcp.gateway.serverTools.mcp.settled();
    const answer = await new Anthropic({ baseURL: withMcp.url, apiKey: "x" }).beta.messages.create({ model: "gpt-4o", max_tokens: 100, messages: [{ role: "user", content: "say hi via echo" }] });
    expect(answer.content.map((b) => b.type)).toEqual(["mcp_tool_use", "mcp_tool_result", "text"]);
    const json = (await (await fetch(`${withMcp.url}/metrics/dashboard`)).json()) as { mcp: { server_tool_calls: unknown[] } };
    expect(json.mcp.server_tool_calls).toEqual([{ tool: "mcp:demo", outcome: "ok", count: 1 }]);

    await page.goto(`${withMcp.url}/dashboard?interval=500`);
    await page.locator("#mcp tr", { hasText: "demo" }).locator("td", { hasText: "1 / 0 / 0" }).waitFor({ timeout: 15_000 });
    expect(await page.locator("#tool-calls tr", { hasText: "mcp:demo" }).locator("td").allTextContents()).toEqual(["mcp:demo", "1", "0", "0"]);

    await page.goto(`${withoutMcp.url}/dashboard?interval=500`);
    await page.locator("#mcp td", { hasText: "none configured" }).waitFor({ timeout: 15_000 });
    expect(await page.textContent("#mcp-ready")).toBe("none");
    expect(await page.textContent("#mcp-tools")).toBe("no MCP servers configured");
    expect(seen.errors).toEqual([]);
    expect(seen.foreign).toEqual([]);
  } finally {
    await page.close();
    await withMcp.shutdown();
    await withoutMcp.shutdown();
    await upstream.stop();
  }
}, 60_000);

test("a wrong key is refused and asked for again", async () => {
  const page = await browser.newPage();
  await page.goto(`${traffic.gateway.url}/dashboard`);
  await page.waitForSelector("#key-form:not([hidden])");
  await page.fill("#key-input", "not-the-key-000");
  await page.click("button[type=submit]");
  await page.locator("#key-error", { hasText: "That key was not accepted." }).waitFor();
  expect(await page.isHidden("#main")).toBe(true);
  await page.close();
}, 60_000);

test("the status line as Claude Code shows it, for the README", async () => {
  const proc = Bun.spawn([...lynkrFromSource, "statusline", "--timeout", "5000"], {
    cwd: tempDir(),
    env: { PATH: process.env.PATH ?? "", HOME: tempDir(), ANTHROPIC_BASE_URL: traffic.gateway.url, ANTHROPIC_AUTH_TOKEN: clientKey },
    stdin: Buffer.from(JSON.stringify({ session_id: sessionA, model: { id: "claude-sonnet-4-5", display_name: "Sonnet 4.5" }, workspace: { current_dir: "/home/me/project" } })),
    stdout: "pipe",
  });
  const line = (await new Response(proc.stdout).text()).trim();
  expect(line).toMatch(/^lynkr ▸ openai · gpt-4o/);
  const page = await browser.newPage();
  await page.setViewportSize({ width: 760, height: 130 });
  await page.setContent(
    `<body style="margin:0;background:#1e1e1e;color:#d4d4d4;font:14px/1.5 'DejaVu Sans Mono',monospace;padding:12px">` +
      `<div style="border:1px solid #555;border-radius:6px;padding:6px 10px">&gt; <span style="color:#888">Try "refactor the parser"</span></div>` +
      `<div id="line" style="padding:6px 10px;color:#8fbcbb"></div><div style="padding:0 10px;color:#777">? for shortcuts</div></body>`,
  );
  await page.$eval("#line", (el, text) => (el.textContent = text), line);
  for (const path of screenshotPaths("statusline.png")) {
    await page.screenshot({ path });
    expect(existsSync(path) && statSync(path).size > 1000).toBe(true);
  }
  await page.close();
}, 60_000);
