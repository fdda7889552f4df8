import { defineCommand } from "citty";
import { z } from "zod";

// `lynkr statusline`: the command for Claude Code's `statusLine` setting. Claude Code pipes a
// JSON object about the session in (session_id, model, workspace, …) after each turn and shows
// the first line printed. The figures asked for are those of *that* session, so two Claude
// Codes on one gateway each see their own. It must never fail nor stall the CLI: a short
// timeout, a fallback line, exit code 0 whatever happens.

const stdinLimit = 256 * 1024;

/** The part of Claude Code's status-line input lynkr uses; the rest is ignored. */
const statusInput = z.looseObject({
  session_id: z.string().max(200).optional(),
  model: z.looseObject({ id: z.string().optional(), display_name: z.string().optional() }).optional(),
});

const sessionFigures = z.looseObject({
  requests: z.number(),
  turns: z.number(),
  errors: z.number(),
  fallbacks: z.number(),
  cost_usd: z.number(),
  cache_hits: z.number(),
  cache_read_share: z.number(),
  provider: z.string().nullish(),
  model: z.string().nullish(),
});

export type SessionFigures = z.infer<typeof sessionFigures>;

async function readStdin(deadline: Promise<void>): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  let size = 0;
  const reading = (async () => {
    for await (const chunk of process.stdin) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > stdinLimit) break;
      chunks.push(buffer);
    }
  })();
  await Promise.race([reading, deadline]);
  return Buffer.concat(chunks).toString("utf8");
}

function usd(n: number): string {
  return `$${n >= 1 ? n.toFixed(2) : n.toFixed(4)}`;
}

/** The one line Claude Code shows under the prompt. */
export function statusLineOf(f: SessionFigures): string {
  const parts = [`lynkr ▸ ${f.provider ?? "?"}${f.model ? ` · ${f.model}` : ""}`];
  if (f.requests === 0 && f.turns === 0) return `${parts[0]} · no requests yet`;
  parts.push(usd(f.cost_usd));
  parts.push(`cache ${Math.round(f.cache_read_share * 100)}%`);
  if (f.cache_hits > 0) parts.push(`${f.cache_hits} from lynkr's cache`);
  if (f.fallbacks > 0) parts.push(`${f.fallbacks} fallback${f.fallbacks === 1 ? "" : "s"}`);
  if (f.errors > 0) parts.push(`${f.errors} error${f.errors === 1 ? "" : "s"}`);
  return parts.join(" · ");
}

/** The gateway this Claude Code talks to: its own ANTHROPIC_BASE_URL, else lynkr's configured address. */
async function gatewayUrl(given: string | undefined): Promise<string> {
  const url = given ?? process.env.ANTHROPIC_BASE_URL;
  if (url) return url.replace(/\/+$/, "");
  // Only now the configuration code: the common case (under `lynkr wrap`) never loads it.
  const { loadConfig } = await import("../../config/load.ts");
  const { listenUrl } = await import("../../doctor/checks.ts");
  return listenUrl(loadConfig({ env: process.env }));
}

async function figuresLine(url: string, sessionId: string | undefined, timeoutMs: number): Promise<string> {
  const headers: Record<string, string> = {};
  if (process.env.ANTHROPIC_AUTH_TOKEN) headers.authorization = `Bearer ${process.env.ANTHROPIC_AUTH_TOKEN}`;
  else if (process.env.ANTHROPIC_API_KEY) headers["x-api-key"] = process.env.ANTHROPIC_API_KEY;
  const signal = AbortSignal.timeout(timeoutMs);
  if (!sessionId) {
    const ready = await fetch(`${url}/health/ready`, { signal });
    return ready.ok ? "lynkr ▸ ready" : `lynkr: not ready (HTTP ${ready.status})`;
  }
  const response = await fetch(`${url}/v1/lynkr/sessions/${encodeURIComponent(sessionId)}`, { headers, signal });
  if (response.status === 401) return "lynkr: client key refused (ANTHROPIC_AUTH_TOKEN / ANTHROPIC_API_KEY)";
  if (!response.ok) return `lynkr: HTTP ${response.status} from ${url}`;
  const figures = sessionFigures.safeParse(await response.json());
  return figures.success ? statusLineOf(figures.data) : `lynkr: unexpected answer from ${url}`;
}

export const statuslineCommand = defineCommand({
  meta: { name: "statusline", description: "One status line for Claude Code (its statusLine setting): provider, model, session cost, cache, fallbacks" },
  args: {
    url: { type: "string", description: "The gateway (default: ANTHROPIC_BASE_URL, else lynkr's configured address)" },
    timeout: { type: "string", description: "Milliseconds to wait for the input and the gateway together (default 200)" },
  },
  async run({ args }) {
    const timeoutMs = Math.min(5000, Math.max(10, Number(args.timeout ?? 200) || 200));
    // One budget for reading the input and asking the gateway, so the line is never late.
    const deadline = performance.now() + timeoutMs;
    let line: string;
    let url = args.url ?? "the gateway";
    try {
      const raw = await readStdin(Bun.sleep(timeoutMs));
      let input: z.infer<typeof statusInput> = {};
      try {
        const parsed = statusInput.safeParse(JSON.parse(raw));
        if (parsed.success) input = parsed.data;
      } catch {
        // No input, or not Claude Code's: still say whether the gateway runs.
      }
      url = await gatewayUrl(args.url);
      line = await figuresLine(url, input.session_id, Math.max(20, deadline - performance.now()));
    } catch {
      line = `lynkr: not running (${url})`;
    }
    process.stdout.write(`${line}\n`);
    process.exit(0);
  },
});
