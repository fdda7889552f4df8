import { expect, test } from "bun:test";
import type { MessageParam } from "../../src/anthropic/schema.ts";
import { encodeSnippet, flattenLynkrBlocks, lowerServerToolBlocks } from "../../src/agent/history.ts";
import { namespacedTool } from "../../src/mcp/registry.ts";

// Server-tool blocks in a client's history become tool_use + tool_result pairs for models that
// only know those, in an order every backend accepts.

const all = { webTools: true };

test("a turn with a search, text and a client tool call: cut at the result, the client's tool results join the inserted user turn", () => {
  const messages: MessageParam[] = [
    { role: "user", content: "find it" },
    {
      role: "assistant",
      content: [
        { type: "text", text: "Searching." },
        { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "q" } },
        { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [{ type: "web_search_result", url: "https://a.example", title: "A", page_age: null, encrypted_content: encodeSnippet("snippet A") }] },
        { type: "text", text: "Now running it." },
        { type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls" } },
      ],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "file.txt" }] },
  ];
  const lowered = lowerServerToolBlocks(messages, all);
  expect(lowered).toEqual([
    { role: "user", content: "find it" },
    { role: "assistant", content: [{ type: "text", text: "Searching." }, { type: "tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "q" } }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "srvtoolu_1", content: "[1] A\nURL: https://a.example\nsnippet A" }] },
    { role: "assistant", content: [{ type: "text", text: "Now running it." }, { type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls" } }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "file.txt" }] },
  ]);
});

test("parallel MCP calls and a turn that ends on results: the next user turn is merged, never two in a row", () => {
  const messages: MessageParam[] = [
    {
      role: "assistant",
      content: [
        { type: "mcp_tool_use", id: "m1", name: "echo", server_name: "demo", input: { text: "a" } },
        { type: "mcp_tool_use", id: "m2", name: "echo", server_name: "demo", input: { text: "b" } },
        { type: "mcp_tool_result", tool_use_id: "m1", is_error: false, content: [{ type: "text", text: "echo: a" }] },
        { type: "mcp_tool_result", tool_use_id: "m2", is_error: true, content: "boom" },
      ],
    },
    { role: "user", content: "next" },
  ];
  expect(lowerServerToolBlocks(messages, all)).toEqual([
    {
      role: "assistant",
      content: [
        { type: "tool_use", id: "m1", name: "mcp__demo__echo", input: { text: "a" } },
        { type: "tool_use", id: "m2", name: "mcp__demo__echo", input: { text: "b" } },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "m1", content: "echo: a" },
        { type: "tool_result", tool_use_id: "m2", content: "boom", is_error: true },
        { type: "text", text: "next" },
      ],
    },
  ]);
});

test("what an Anthropic upstream runs itself stays as it is; nothing to lower returns the same array", () => {
  const messages: MessageParam[] = [
    {
      role: "assistant",
      content: [
        { type: "server_tool_use", id: "s1", name: "web_search", input: { query: "q" } },
        { type: "web_search_tool_result", tool_use_id: "s1", content: [] },
        { type: "mcp_tool_use", id: "m1", name: "echo", server_name: "theirs", input: {} },
        { type: "mcp_tool_result", tool_use_id: "m1", content: "x" },
      ],
    },
  ];
  expect(lowerServerToolBlocks(messages, { webTools: false, mcpServers: (s) => s === "mine" })).toEqual(messages);
  const plain: MessageParam[] = [{ role: "user", content: "hi" }];
  expect(lowerServerToolBlocks(plain, all)).toBe(plain);
});

test("errors of web tools read as errors", () => {
  const lowered = lowerServerToolBlocks(
    [
      {
        role: "assistant",
        content: [
          { type: "server_tool_use", id: "f1", name: "web_fetch", input: { url: "http://10.0.0.1" } },
          { type: "web_fetch_tool_result", tool_use_id: "f1", content: { type: "web_fetch_tool_result_error", error_code: "url_not_allowed" } },
        ],
      },
    ],
    all,
  );
  expect(lowered[1]).toEqual({ role: "user", content: [{ type: "tool_result", tool_use_id: "f1", content: "web fetch failed: url_not_allowed", is_error: true }] });
});

test("MCP names a model backend would reject are made safe the way they were offered", () => {
  const lowered = lowerServerToolBlocks(
    [{ role: "assistant", content: [{ type: "mcp_tool_use", id: "m1", name: "files.read", server_name: "my.server", input: {} }] }],
    all,
  );
  expect(lowered[0]?.content).toEqual([{ type: "tool_use", id: "m1", name: "mcp__my_server__files_read", input: {} }]);
  expect(namespacedTool("s", "x".repeat(100))).toHaveLength(64);
});

test("for an Anthropic upstream only lynkr's own calls become text: Anthropic's, and the operator's MCP servers' (lowered later), stay", () => {
  const anthropics = [
    { type: "server_tool_use", id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE", name: "web_search", input: { query: "q" } },
    { type: "web_search_tool_result", tool_use_id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE", content: [{ type: "web_search_result", url: "https://a.example", title: "A", page_age: null, encrypted_content: "EqgfCioIARgB" }] },
  ];
  const operators = [
    { type: "mcp_tool_use", id: "mcptoolu_lynkr_1", name: "echo", server_name: "demo", input: {} },
    { type: "mcp_tool_result", tool_use_id: "mcptoolu_lynkr_1", is_error: false, content: [{ type: "text", text: "echo" }] },
  ];
  const messages = [{ role: "assistant", content: [...anthropics, ...operators] }] as MessageParam[];
  expect(flattenLynkrBlocks(messages, (server) => server === "demo")).toBe(messages);
  const fetched = [
    { role: "assistant", content: [{ type: "server_tool_use", id: "srvtoolu_lynkr_2", name: "web_fetch", input: { url: "https://b.example" } }, { type: "web_fetch_tool_result", tool_use_id: "srvtoolu_lynkr_2", content: { type: "web_fetch_tool_result_error", error_code: "url_not_accessible" } }] },
  ] as MessageParam[];
  expect(flattenLynkrBlocks(fetched, () => false)).toEqual([
    { role: "assistant", content: [{ type: "text", text: '[web_fetch {"url":"https://b.example"}]' }, { type: "text", text: "web fetch failed: url_not_accessible" }] },
  ]);
});
