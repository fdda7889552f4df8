import { existsSync } from "node:fs";
import { join } from "node:path";
import { lynkrFromSource, repoRoot } from "../../test/helpers/lynkr-process.ts";
import { refusedUrl } from "../../test/helpers/ports.ts";
import { ms, percentile, spawnGateway, startFakeAnthropicUpstream, timeEach, type BenchSection } from "../lib.ts";

// `lynkr statusline` as Claude Code runs it after every turn: a new process, JSON on stdin, one
// line out. Wall time per run, process start included, against a gateway in its own process
// that knows the session, and with no gateway at all. Aim: < 300 ms.

const runs = 30;
const sessionId = "bench-statusline-session";

/** The built binary (npm run build), when there is one: what users run. */
const binary = join(repoRoot, "dist", "lynkr");

async function statusline(baseUrl: string, command: string[] = lynkrFromSource): Promise<void> {
  const proc = Bun.spawn([...command, "statusline"], {
    env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", ANTHROPIC_BASE_URL: baseUrl },
    stdin: Buffer.from(JSON.stringify({ session_id: sessionId, model: { id: "claude-sonnet-4-5", display_name: "Sonnet" } })),
    stdout: "pipe",
  });
  const line = await new Response(proc.stdout).text();
  await proc.exited;
  if (!line.startsWith("lynkr")) throw new Error(`unexpected status line: ${line}`);
}

export default async function statuslineBench(): Promise<BenchSection> {
  const upstream = startFakeAnthropicUpstream();
  const gateway = await spawnGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url });
  try {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-claude-code-session-id": sessionId },
      body: JSON.stringify({ model: "claude-x", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
    });
    await res.text();
    await timeEach(3, () => statusline(gateway.url));
    const live = await timeEach(runs, () => statusline(gateway.url));
    const down = await timeEach(runs, () => statusline(refusedUrl()));
    const row = (name: string, values: number[]) => [name, ms(percentile(values, 50), 1), ms(percentile(values, 95), 1), ms(Math.max(...values), 1)];
    const rows = [row("source: running, session known", live), row("source: not running", down)];
    if (existsSync(binary)) {
      rows.push(row("binary: running, session known", await timeEach(runs, () => statusline(gateway.url, [binary]))));
      rows.push(row("binary: not running", await timeEach(runs, () => statusline(refusedUrl(), [binary]))));
    }
    return {
      title: "lynkr statusline: wall time per run (new process each time)",
      columns: ["command", "p50 ms", "p95 ms", "max ms"],
      rows,
      notes: [
        `${runs} sequential runs each, after 3 warm-up runs; the gateway is its own process; aim < 300 ms.`,
        "source: bun src/cli/main.ts (transpiled on each start); binary: dist/lynkr from npm run build, when present.",
      ],
    };
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}
