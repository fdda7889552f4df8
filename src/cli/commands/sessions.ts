import { defineCommand } from "citty";
import { openReportDatabase } from "../database.ts";
import { alignedTable, parseSince, usd } from "../output.ts";

// `lynkr sessions list [--since 7d] [--limit 20] [--json]` and `lynkr sessions show ID [--json]`.

const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);
const common = {
  json: { type: "boolean", description: "Print JSON" },
  "env-file": { type: "string", description: "Read configuration (SESSION_DB_PATH) from this .env file" },
} as const;

const listCommand = defineCommand({
  meta: { name: "list", description: "Sessions, most recently active first" },
  args: {
    since: { type: "string", description: "Active since: 7d, 24h, 30m, or a date (default 7d)" },
    limit: { type: "string", description: "At most this many (default 20)" },
    ...common,
  },
  async run({ args }) {
    const since = parseSince(args.since ?? "7d");
    const limit = Number(args.limit ?? 20);
    if (since === undefined || !Number.isInteger(limit) || limit < 1) {
      process.stderr.write("lynkr sessions list: --since takes 7d, 24h, 30m or a date; --limit a positive whole number\n");
      process.exit(2);
    }
    const db = await openReportDatabase(args["env-file"], "sessions");
    const rows = await db.reports.list({ since, limit });
    await db.close();
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ sessions: rows }, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(`no sessions since ${new Date(since).toISOString()}\n`);
      return;
    }
    const headers = ["session", "started", "last active", "turns", "input", "output", "cost", "errors", "fallbacks"];
    const cells = rows.map((r) => [r.session_id, time(r.created_at), time(r.updated_at), r.turns, r.input_tokens, r.output_tokens, usd(r.cost_usd), r.errors, r.fallbacks]);
    process.stdout.write(alignedTable(headers, cells, process.stdout.isTTY === true));
  },
});

const showCommand = defineCommand({
  meta: { name: "show", description: "One session: its figures and every turn (route, tokens, cost, errors)" },
  args: {
    id: { type: "positional", description: "The session id (Claude Code's session id)", required: true },
    ...common,
  },
  async run({ args }) {
    const db = await openReportDatabase(args["env-file"], "sessions");
    const report = db.reports;
    if (!(await report.exists(args.id))) {
      await db.close();
      process.stderr.write(`lynkr sessions show: no session ${JSON.stringify(args.id)} (lynkr sessions list shows the recent ones)\n`);
      process.exit(1);
    }
    const figures = await report.session(args.id);
    const turns = await report.turns(args.id);
    await db.close();
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ session: figures, turns }, null, 2)}\n`);
      return;
    }
    const input = figures.input_tokens + figures.cache_read_input_tokens + figures.cache_creation_input_tokens;
    process.stdout.write(
      `session ${args.id}\n` +
        `${figures.turns} turns, ${figures.requests} answers (${figures.cache_hits} from lynkr's cache), ${figures.errors} errors, ${figures.fallbacks} fallbacks\n` +
        `${input} input tokens (${Math.round(figures.cache_read_share * 100)}% cache read), ${figures.output_tokens} output, ${usd(figures.cost_usd)}\n\n`,
    );
    const headers = ["#", "time", "provider", "model", "status", "ms", "input", "output", "cost", "route / error"];
    const cells = turns.map((t, i) => [
      i + 1,
      time(t.created_at),
      t.provider,
      t.model ?? t.requested_model,
      t.status,
      Math.round(t.latency_ms),
      t.input_tokens,
      t.output_tokens,
      usd(t.cost_usd),
      [t.route, t.error ? errorText(t.error) : undefined].filter(Boolean).join(" · "),
    ]);
    process.stdout.write(alignedTable(headers, cells, process.stdout.isTTY === true));
  },
});

function errorText(stored: string): string {
  try {
    const parsed: unknown = JSON.parse(stored);
    if (parsed && typeof parsed === "object" && "message" in parsed) return String(parsed.message);
  } catch {
    // Stored by lynkr as JSON; anything else is shown as it is.
  }
  return stored;
}

export const sessionsCommand = defineCommand({
  meta: { name: "sessions", description: "Sessions and their turns, from the database" },
  subCommands: { list: listCommand, show: showCommand },
});
