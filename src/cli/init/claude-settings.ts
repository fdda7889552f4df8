import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { userHome } from "../../config/lynkr-dir.ts";

// Claude Code's user settings (~/.claude/settings.json, or $CLAUDE_CONFIG_DIR/settings.json):
// `lynkr init` adds lynkr's status line to them, keeping every other setting and a backup.

export const statusLineCommand = "lynkr statusline";

export function claudeSettingsPath(env: Record<string, string | undefined>): string {
  return join(env.CLAUDE_CONFIG_DIR || join(userHome(env.HOME), ".claude"), "settings.json");
}

export type StatusLineInstall =
  | { done: true; path: string; backup: string | undefined; replaced: string | undefined }
  | { done: false; path: string; problem: string };

/** Sets `statusLine` to lynkr's; a file that is not a JSON object is left alone. */
export function installStatusLine(path: string): StatusLineInstall {
  let settings: Record<string, unknown> = {};
  let backup: string | undefined;
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8");
    let parsed: unknown;
    try {
      parsed = text.trim() === "" ? {} : JSON.parse(text);
    } catch {
      return { done: false, path, problem: "it is not valid JSON; fix it, then run lynkr init again" };
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return { done: false, path, problem: "it does not hold a JSON object" };
    }
    settings = parsed as Record<string, unknown>;
    backup = `${path}.lynkr-backup`;
    copyFileSync(path, backup);
  }
  const previous = settings.statusLine as { command?: unknown } | undefined;
  const replaced = previous && typeof previous.command === "string" && previous.command !== statusLineCommand ? previous.command : undefined;
  settings.statusLine = { type: "command", command: statusLineCommand, padding: 0 };
  mkdirSync(dirname(path), { recursive: true });
  // Written beside it and renamed: Claude Code never reads half a file.
  const staged = `${path}.lynkr-tmp`;
  writeFileSync(staged, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  renameSync(staged, path);
  return { done: true, path, backup, replaced };
}
