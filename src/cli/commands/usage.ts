import { defineCommand } from "citty";
import { usageGroupings, type UsageGrouping } from "../../store/usage-report.ts";
import { openReportDatabase } from "../database.ts";
import { alignedTable, csv, parseSince, usd } from "../output.ts";

// `lynkr usage [--since 7d] [--by day|model|provider|key|session] [--json|--csv]`.

export const usageCommand = defineCommand({
  meta: { name: "usage", description: "Tokens and cost from the database, grouped by day, model, provider, key or session" },
  args: {
    since: { type: "string", description: "Window start: 7d, 24h, 30m, or a date (default 7d)" },
    by: { type: "string", description: `Group by ${usageGroupings.join(", ")} (default day)` },
    json: { type: "boolean", description: "Print JSON" },
    csv: { type: "boolean", description: "Print CSV" },
    "env-file": { type: "string", description: "Read configuration (SESSION_DB_PATH) from this .env file" },
  },
  async run({ args }) {
    const by = (args.by ?? "day") as UsageGrouping;
    if (!usageGroupings.includes(by)) {
      process.stderr.write(`lynkr usage: --by=${JSON.stringify(args.by)}: expected one of ${usageGroupings.join(", ")}\n`);
      process.exit(2);
    }
    const since = parseSince(args.since ?? "7d");
    if (since === undefined) {
      process.stderr.write(`lynkr usage: --since=${JSON.stringify(args.since)}: expected 7d, 24h, 30m, 2w or a date like 2026-12-01\n`);
      process.exit(2);
    }
    const db = await openReportDatabase(args["env-file"], "usage");
    const rows = await db.reports.usage(by, since);
    await db.close();
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ since: new Date(since).toISOString(), by, rows }, null, 2)}\n`);
      return;
    }
    const headers = [by, "requests", "input", "output", "cache read", "cache write", "lynkr cache hits", "cost", "saved"];
    const cells = rows.map((r) => [r.group, r.requests, r.input_tokens, r.output_tokens, r.cache_read_input_tokens, r.cache_creation_input_tokens, r.cache_hits, r.cost_usd, r.saved_usd]);
    if (args.csv) {
      process.stdout.write(csv(headers.map((h) => h.replace(/ /g, "_")), cells));
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(`no usage since ${new Date(since).toISOString()}\n`);
      return;
    }
    const total = rows.reduce((sum, r) => ({ requests: sum.requests + r.requests, cost: sum.cost + r.cost_usd }), { requests: 0, cost: 0 });
    const shown = rows.map((r) => [r.group, r.requests, r.input_tokens, r.output_tokens, r.cache_read_input_tokens, r.cache_creation_input_tokens, r.cache_hits, usd(r.cost_usd), usd(r.saved_usd)]);
    process.stdout.write(alignedTable(headers, shown, process.stdout.isTTY === true));
    process.stdout.write(`\n${total.requests} requests since ${new Date(since).toISOString()}, ${usd(total.cost)}\n`);
  },
});
