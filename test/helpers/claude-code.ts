import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "./gateway.ts";
import { repoRoot } from "./lynkr-process.ts";
import { run } from "./run.ts";

// The real Claude Code CLI (node_modules/.bin/claude), headless, pointed at a gateway: the way
// CLAUDE-CODE-FACTS.md observed it. As root --dangerously-skip-permissions is refused, so the
// tools a run may use are listed with --allowedTools.

const claudeBin = join(repoRoot, "node_modules/.bin/claude");

export interface ClaudeCodeResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The `--output-format json` result object, when the CLI printed one. */
  json: { result?: string; is_error?: boolean; subtype?: string; num_turns?: number; [k: string]: unknown } | undefined;
  /** With `outputFormat: "stream-json"`: every line the CLI printed (system/api_retry, assistant, result...). */
  events: { type?: string; subtype?: string; [k: string]: unknown }[];
}

export interface ClaudeCodeOptions {
  baseUrl: string;
  prompt: string;
  /** Working directory (e.g. from tempGitRepo); a fresh empty one by default. */
  cwd?: string;
  allowedTools?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  /** "stream-json" (with --verbose) also shows the CLI's retries as `{"type":"system","subtype":"api_retry"}` lines. */
  outputFormat?: "json" | "stream-json";
}

/** A throwaway git repository with the given files committed, as the CLI's working directory. */
export async function tempGitRepo(files: Record<string, string>): Promise<string> {
  const dir = tempDir("lynkr-cc-repo-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const git = async (...args: string[]) => {
    const { code, stderr } = await run(["git", ...args], { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: dir } });
    if (code !== 0) throw new Error(`git ${args.join(" ")} failed: ${stderr}`);
  };
  await git("init", "-q");
  await git("add", ".");
  await git("-c", "user.name=test", "-c", "user.email=test@example.test", "commit", "-q", "-m", "initial");
  return dir;
}

function parseLine(line: string): ClaudeCodeResult["events"][number] | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as ClaudeCodeResult["events"][number]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `claude -p PROMPT --output-format json` (or stream-json) against the gateway at `baseUrl`. */
export async function runClaudeCode(options: ClaudeCodeOptions): Promise<ClaudeCodeResult> {
  const cwd = options.cwd ?? tempDir("lynkr-cc-");
  const home = tempDir("lynkr-cc-home-");
  const args = [claudeBin, "-p", options.prompt, "--output-format", options.outputFormat ?? "json"];
  if (options.outputFormat === "stream-json") args.push("--verbose");
  if (options.allowedTools) args.push("--allowedTools", options.allowedTools.join(","));
  const { code, stdout, stderr } = await run(args, {
    cwd,
    timeoutMs: options.timeoutMs ?? 90_000,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      CLAUDE_CONFIG_DIR: join(home, ".claude"),
      ANTHROPIC_BASE_URL: options.baseUrl,
      ANTHROPIC_API_KEY: "dummy",
      DISABLE_TELEMETRY: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      CLAUDE_CODE_MAX_RETRIES: "1",
      ...options.env,
    },
  });
  const lines = stdout.trim().split("\n").map(parseLine);
  // The result object is the last line in both formats.
  const json = lines.at(-1) as ClaudeCodeResult["json"];
  const events = options.outputFormat === "stream-json" ? lines.filter((line) => line !== undefined) : [];
  return { code, stdout, stderr, json, events };
}
