import { expect, test } from "bun:test";
import { join } from "node:path";

// What a start does not need is loaded when first used (README, "Start-up and memory"): the MCP
// SDK, turndown and its DOM, and the tokenizers' rank files cost every start tens of ms and MBs.
// A static import of any of them anywhere under the gateway's modules would bring that back.

const deferred = /@modelcontextprotocol|[\\/]turndown[\\/]|@mixmark-io[\\/]domino|js-tiktoken[\\/]dist[\\/]ranks/;

test("loading the gateway's modules (lynkr start) loads none of the modules it defers", async () => {
  const root = join(import.meta.dir, "..");
  const script = `
    await import(${JSON.stringify(join(root, "src/cli/commands/start.ts"))});
    await import(${JSON.stringify(join(root, "src/app.ts"))});
    console.log(JSON.stringify(Object.keys(require.cache)));
  `;
  const proc = Bun.spawn(["bun", "--no-env-file", "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  const loaded = JSON.parse(out) as string[];
  // The check sees what it looks for: the gateway's own modules are listed.
  expect(loaded.some((path) => path.endsWith(join("src", "app.ts")))).toBe(true);
  expect(loaded.filter((path) => deferred.test(path))).toEqual([]);
});

test("each deferred module still loads when it is first used", async () => {
  const { loadMcpSdk } = await import("../src/mcp/sdk.ts");
  const sdk = await loadMcpSdk();
  expect(typeof sdk.Client).toBe("function");
  expect(typeof sdk.StdioClientTransport).toBe("function");
  const { htmlToMarkdown } = await import("../src/tools/html-markdown.ts");
  expect(htmlToMarkdown("<h1>Title</h1><script>x()</script><p>a <b>b</b></p>")).toBe("# Title\n\na **b**");
});
