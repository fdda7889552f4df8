import { defineCommand } from "citty";
import { runDoctor, type DoctorReport } from "../../doctor/run.ts";
import { configureLogger } from "../../observability/logger.ts";

// `lynkr doctor`: one screen saying what is wrong with this setup and how to fix each thing.

export function table(report: DoctorReport, color: boolean): string {
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const width = Math.max(...report.checks.map((c) => c.title.length));
  const lines = report.checks.map((check) => {
    const mark = !check.ok ? paint(31, "✖") : check.warning ? paint(33, "!") : paint(32, "✔");
    const line = `${mark} ${check.title.padEnd(width)}  ${check.detail}`;
    return check.fix ? `${line}\n  ${" ".repeat(width)}  ${paint(33, `fix: ${check.fix}`)}` : line;
  });
  const failed = report.checks.filter((c) => !c.ok).length;
  const warned = report.checks.filter((c) => c.warning).length;
  const warnings = warned === 0 ? "" : `, ${warned} warning${warned === 1 ? "" : "s"}`;
  const summary = failed === 0 ? `all checks passed${warnings}` : `${failed} check${failed === 1 ? "" : "s"} failed${warnings}`;
  return `${lines.join("\n")}\n\n${summary}\n`;
}

export const doctorCommand = defineCommand({
  meta: { name: "doctor", description: "Check the configuration, each provider, the port, the database, Claude Code's ANTHROPIC_BASE_URL and the MCP servers" },
  args: {
    json: { type: "boolean", description: "Print the results as JSON (for CI)" },
    "env-file": { type: "string", description: "Read configuration from this .env file (default: ./.env, else ~/.lynkr/.env, if present)" },
    timeout: { type: "string", description: "Milliseconds to wait for each provider (default 5000)" },
  },
  async run({ args }) {
    const timeoutMs = args.timeout === undefined ? undefined : Number(args.timeout);
    if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
      process.stderr.write(`lynkr doctor: --timeout=${JSON.stringify(args.timeout)}: expected a positive number of milliseconds\n`);
      process.exit(2);
    }
    // The MCP check starts servers, whose log lines would break --json on stdout.
    configureLogger("silent", "json");
    // Provider probes can take seconds: say so on a terminal, then clear the line for the report.
    const progress = process.stderr.isTTY === true && !args.json;
    if (progress) process.stderr.write("checking the configuration, each provider, the port, the database and the MCP servers…");
    const report = await runDoctor({ env: process.env, envFile: args["env-file"], timeoutMs });
    if (progress) process.stderr.write("\r\x1b[2K");
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : table(report, process.stdout.isTTY === true));
    process.exit(report.ok ? 0 : 1);
  },
});
