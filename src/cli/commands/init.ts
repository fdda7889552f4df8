import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, loadConfig, userEnvFile } from "../../config/load.ts";
import { providerNames } from "../../config/provider-names.ts";
import { listenUrl } from "../../doctor/checks.ts";
import { runDoctor } from "../../doctor/run.ts";
import { answersFromFlags, answersFromPrompts, answersToEnv, askConfirm, askQuestion, InitCancelled, InitUsageError, otherProviders, type Answers, type InitFlags } from "../init/answers.ts";
import { claudeSettingsPath, installStatusLine } from "../init/claude-settings.ts";
import { renderEnvFile, stageEnvFile } from "../init/env-file.ts";
import { providerQuestions, type Question } from "../init/questions.ts";
import { table } from "./doctor.ts";

// `lynkr init`: a few questions, a working ~/.lynkr/.env, then the same checks as `lynkr doctor`.

const out = (line = "") => process.stdout.write(`${line}\n`);

function questionsOf(answers: Answers): Question[] {
  return [answers.provider, ...otherProviders(answers)].flatMap((name) => providerQuestions[name]);
}

/** The file's problems, as `lynkr start` would report them, reading the file alone. */
function problemsOf(staged: string): string[] {
  try {
    // HOME only: the database path derives from it; nothing else from this shell should hide a gap.
    loadConfig({ env: { HOME: process.env.HOME }, envFile: staged });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

/** How a script supplies a variable that was missing or wrong. */
function howToSet(problem: string, answers: Answers): string {
  const variable = /^[A-Z0-9_]+/.exec(problem)?.[0];
  const question = questionsOf(answers).find((q) => q.variable === variable);
  if (variable === "PORT") return `${problem} (pass --port)`;
  if (!question) return problem;
  const isMain = providerQuestions[answers.provider].includes(question);
  return `${problem} (${isMain ? `pass --${question.flag}, or ` : ""}set ${variable} in the environment)`;
}

export const initCommand = defineCommand({
  meta: { name: "init", description: "Ask a few questions and write a working configuration (~/.lynkr/.env), then check it" },
  args: {
    provider: { type: "string", description: `Provider that answers requests (MODEL_PROVIDER): ${providerNames.join(", ")}` },
    "api-key": { type: "string", description: "Its API key (better: set the provider's own variable, e.g. OPENROUTER_API_KEY, in the environment)" },
    endpoint: { type: "string", description: "Its URL (OLLAMA_ENDPOINT, OPENAI_ENDPOINT, AZURE_OPENAI_ENDPOINT, DATABRICKS_API_BASE, ...)" },
    model: { type: "string", description: "Its model (OLLAMA_MODEL, OPENAI_MODEL, OPENROUTER_MODEL, LLAMACPP_MODEL)" },
    deployment: { type: "string", description: "Azure OpenAI deployment name (AZURE_OPENAI_DEPLOYMENT)" },
    hybrid: { type: "boolean", description: "Hybrid routing: light requests on local Ollama, the rest on the cloud provider (PREFER_OLLAMA=true)" },
    fallback: { type: "string", description: "Cloud provider for hybrid routing and failover (FALLBACK_PROVIDER); its settings come from the environment" },
    port: { type: "string", description: "Port lynkr listens on (PORT, default 8080)" },
    path: { type: "string", description: "Where to write (default ~/.lynkr/.env, which lynkr start reads when there is no ./.env)" },
    yes: { type: "boolean", alias: "y", description: "Ask nothing: flags, the environment and defaults answer (for scripts)" },
    force: { type: "boolean", description: "Replace an existing file without asking" },
    check: { type: "boolean", default: true, description: "Check the providers, the port and the database afterwards (--no-check to skip)" },
    statusline: { type: "boolean", description: "Show lynkr's status line in Claude Code (adds statusLine to ~/.claude/settings.json, with a backup); asked on a terminal" },
  },
  async run({ args }) {
    const path = args.path ? resolve(args.path) : userEnvFile(process.env);
    const interactive = !args.yes;
    const flags: InitFlags = {
      provider: args.provider,
      hybrid: args.hybrid === true,
      fallback: args.fallback,
      port: args.port,
      values: { "api-key": args["api-key"], endpoint: args.endpoint, model: args.model, deployment: args.deployment },
    };
    const fail = (message: string, code = 2): never => {
      process.stderr.write(`lynkr init: ${message}\n`);
      process.exit(code);
    };

    try {
      if (interactive && !(process.stdin.isTTY && process.stdout.isTTY)) {
        fail("no terminal to ask questions on: pass --yes, with --provider and the other flags you need (lynkr init --help)");
      }
      if (existsSync(path) && !args.force) {
        if (!interactive) fail(`${path} exists: pass --force to replace it`);
        if (!(await askConfirm(`${path} exists. Replace it?`, false))) throw new InitCancelled();
      }

      const answers = interactive ? await answersFromPrompts(flags, process.env) : answersFromFlags(flags, process.env);
      const header = [`Written by lynkr init. lynkr start reads this file when given no --env-file and there is no ./.env.`, `Every variable: README, Configuration.`];
      let file = stageEnvFile(path, renderEnvFile(answersToEnv(answers), header));
      let problems = problemsOf(file.staged);
      // On a terminal, a wrong answer is asked again instead of ending the run.
      while (problems.length > 0 && interactive) {
        file.discard();
        out("These answers do not make a working configuration yet:");
        for (const problem of problems) out(`  - ${problem}`);
        const named = questionsOf(answers).filter((q) => problems.some((p) => new RegExp(`^${q.variable}[=:]`).test(p)));
        if (named.length === 0) break;
        for (const question of named) {
          const value = await askQuestion(question, {});
          if (value === "") delete answers.values[question.variable];
          else answers.values[question.variable] = value;
        }
        file = stageEnvFile(path, renderEnvFile(answersToEnv(answers), header));
        problems = problemsOf(file.staged);
      }
      if (problems.length > 0) {
        file.discard();
        fail(`nothing written; the configuration would be invalid:\n${problems.map((p) => `  - ${howToSet(p, answers)}`).join("\n")}`);
      }
      file.commit();
      out(`✔ wrote ${path} (mode 0600)`);
      // lynkr start lets the environment win over the file: say so where this shell disagrees with it.
      const written = answersToEnv(answers);
      const shadowed = Object.keys(written).filter((name) => process.env[name]?.trim() && process.env[name] !== written[name]);
      if (shadowed.length > 0) out(`! set differently in this shell, and winning over the file when lynkr start runs here: ${shadowed.join(", ")}`);

      if (args.check) {
        const color = process.stdout.isTTY === true;
        if (color) process.stdout.write("checking the providers, the port and the database…");
        const report = await runDoctor({ env: process.env, envFile: path, timeoutMs: 3_000 });
        if (color) process.stdout.write("\r\x1b[2K");
        // Claude Code's ANTHROPIC_BASE_URL is the next step below, not a failure yet.
        const checks = report.checks.filter((c) => c.id !== "base-url");
        out();
        out(table({ ok: checks.every((c) => c.ok), checks }, color).trimEnd());
        if (!checks.every((c) => c.ok)) {
          out();
          out(`${path} is written, but lynkr would not work yet: fix what failed above, then check again with lynkr doctor${path === userEnvFile(process.env) ? "" : ` --env-file ${path}`}.`);
          process.exit(1);
        }
      }
      const statusLine = args.statusline ?? (interactive ? await askConfirm("Show lynkr's status line (provider, cost, cache) in Claude Code?", false) : false);
      if (statusLine) {
        const installed = installStatusLine(claudeSettingsPath(process.env));
        if (!installed.done) out(`! status line not added to ${installed.path}: ${installed.problem}`);
        else {
          const notes = [installed.backup && `backup ${installed.backup}`, installed.replaced && `replaced ${JSON.stringify(installed.replaced)}`].filter(Boolean);
          out(`✔ status line added to ${installed.path}${notes.length ? ` (${notes.join("; ")})` : ""}`);
        }
      }
      const defaultPath = path === userEnvFile(process.env);
      const envFlag = defaultPath ? "" : ` --env-file ${path}`;
      // Claude Code refuses to start ("Not logged in") without some key; lynkr holds the provider's.
      const keyHint = answers.provider === "anthropic" ? "" : " ANTHROPIC_API_KEY=any-value";
      out();
      out("Next:");
      out(`  lynkr wrap${envFlag} claude        # Claude Code through lynkr (starts it, or uses a running one)`);
      out("or, with lynkr running in another terminal:");
      out(`  lynkr start${envFlag}`);
      out(`  export ANTHROPIC_BASE_URL=${listenUrl({ HOST: "127.0.0.1", PORT: Number(answers.port) })}${keyHint}   # then run claude in that shell`);
      if (keyHint) out("  (Claude Code needs some ANTHROPIC_API_KEY to start; lynkr keeps your provider's key and never forwards that one)");
    } catch (error) {
      if (error instanceof InitCancelled) fail("cancelled; nothing written", 130);
      if (error instanceof InitUsageError) fail(error.message);
      throw error;
    }
  },
});
