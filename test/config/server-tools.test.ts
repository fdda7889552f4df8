import { expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { tempDir } from "../helpers/gateway.ts";

// The server-tool variables: defaults, parsing, and bad values named with what they accept.

const load = (env: Record<string, string>) => loadConfig({ env: { HOME: tempDir(), ...env }, cwd: tempDir() });

test("defaults and lists", () => {
  const config = load({ POLICY_DISALLOWED_TOOLS: "web_fetch, mcp__github__*", MCP_MANIFEST_DIRS: "/a:/b,/c", WEB_SEARCH_ENDPOINT: "http://127.0.0.1:8888/" });
  expect(config.POLICY_DISALLOWED_TOOLS).toEqual(["web_fetch", "mcp__github__*"]);
  expect(config.MCP_MANIFEST_DIRS).toEqual(["/a", "/b", "/c"]);
  expect(config.WEB_SEARCH_ENDPOINT).toBe("http://127.0.0.1:8888");
  expect(config).toMatchObject({ POLICY_MAX_STEPS: 10, POLICY_MAX_TOOL_CALLS: 20, POLICY_TOOL_TIMEOUT_MS: 30_000, WEB_FETCH_ALLOW_PRIVATE: false });
});

test("bad values stop start-up, each variable named", () => {
  let error: unknown;
  try {
    load({ POLICY_MAX_STEPS: "0", WEB_SEARCH_ENDPOINT: "searx.local", WEB_FETCH_ALLOW_PRIVATE: "maybe" });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as ConfigError).message;
  expect(message).toContain("POLICY_MAX_STEPS");
  expect(message).toContain("WEB_SEARCH_ENDPOINT");
  expect(message).toContain("WEB_FETCH_ALLOW_PRIVATE");
  expect(() => load({ WEB_SEARCH_ENGINE: "brave" })).toThrow("WEB_SEARCH_API_KEY");
  expect(() => load({ WEB_SEARCH_ENGINE: "bing" })).toThrow("searxng, brave, tavily");
});
