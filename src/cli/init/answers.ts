import { confirm, isCancel, password, select, text } from "@clack/prompts";
import { cloudProviderNames, providerNames, type ProviderName } from "../../config/provider-names.ts";
import { pointsAtSelf } from "../../config/self-loop.ts";
import { defaultAnswer, providerHints, providerQuestions, type Question, type ValueFlag } from "./questions.ts";

// The answers `lynkr init` turns into a .env file: from prompts on a terminal, or from flags and
// the environment in scripts (where keys come from their own variables, not from argv).
// Prompts are @clack/prompts': consola 3.4's text prompt (an older clack inside) loses what is
// typed when run by Bun and answers its default instead.

export class InitCancelled extends Error {}

/** A problem with the flags given; the command exits 2 with it. */
export class InitUsageError extends Error {}

export interface InitFlags {
  provider?: string;
  hybrid: boolean;
  fallback?: string;
  port?: string;
  values: Partial<Record<ValueFlag, string>>;
}

export interface Answers {
  provider: ProviderName;
  hybrid: boolean;
  fallback?: ProviderName;
  port: string;
  /** Variable → value for each provider involved, in question order; unanswered ones left out. */
  values: Record<string, string>;
}

function providerName(value: string, flag: string, allowed: readonly ProviderName[] = providerNames): ProviderName {
  const found = allowed.find((name) => name === value);
  if (!found) throw new InitUsageError(`${flag}=${JSON.stringify(value)}: expected one of: ${allowed.join(", ")}`);
  return found;
}

/** Providers whose settings the file needs besides the main one, in the order they are asked. */
export function otherProviders(answers: Pick<Answers, "provider" | "hybrid" | "fallback">): ProviderName[] {
  const others: ProviderName[] = [];
  if (answers.hybrid && answers.provider !== "ollama") others.push("ollama");
  if (answers.fallback && answers.fallback !== answers.provider) others.push(answers.fallback);
  return others;
}

/** lynkr's default port, unless a local provider (llama-server) already uses it. */
function defaultPort(values: Record<string, string>): string {
  const collides = Object.values(values).some((value) => pointsAtSelf(value, { HOST: "127.0.0.1", PORT: 8080 }));
  return collides ? "8081" : "8080";
}

export function answersFromFlags(flags: InitFlags, env: Record<string, string | undefined>): Answers {
  const provider = providerName(flags.provider ?? "anthropic", "--provider");
  const fallback = flags.fallback === undefined ? undefined : providerName(flags.fallback, "--fallback", cloudProviderNames);
  if (flags.hybrid && provider === "ollama" && !fallback) {
    throw new InitUsageError("--hybrid with --provider ollama needs --fallback PROVIDER: the cloud provider for heavier requests");
  }
  const values: Record<string, string> = {};
  const take = (question: Question, fromFlag: string | undefined) => {
    const value = fromFlag ?? env[question.variable] ?? defaultAnswer(question);
    if (value !== undefined && value.trim() !== "") values[question.variable] = value.trim();
  };
  for (const question of providerQuestions[provider]) take(question, flags.values[question.flag]);
  for (const other of otherProviders({ provider, hybrid: flags.hybrid, fallback })) {
    for (const question of providerQuestions[other]) take(question, undefined);
  }
  return { provider, hybrid: flags.hybrid, fallback, port: flags.port ?? defaultPort(values), values };
}

/** The answer, or InitCancelled when the user pressed Ctrl+C / Escape. */
function answered<T>(answer: T): Exclude<T, symbol> {
  if (isCancel(answer)) throw new InitCancelled();
  return answer as Exclude<T, symbol>;
}

async function askText(message: string, fallback: string | undefined): Promise<string> {
  return (answered(await text({ message, placeholder: fallback, defaultValue: fallback })) ?? "").trim();
}

export async function askConfirm(message: string, initialValue: boolean): Promise<boolean> {
  return answered(await confirm({ message, initialValue }));
}

async function askSecret(question: Question, env: Record<string, string | undefined>): Promise<string> {
  if (env[question.variable] && (await askConfirm(`Use ${question.variable} from your environment?`, true))) {
    return env[question.variable] ?? "";
  }
  return (answered(await password({ message: `${question.label} (${question.variable})`, mask: "•" })) ?? "").trim();
}

export async function askQuestion(question: Question, env: Record<string, string | undefined>): Promise<string> {
  if (question.secret) return askSecret(question, env);
  return askText(`${question.label} (${question.variable})`, env[question.variable] ?? defaultAnswer(question));
}

async function askProvider(message: string, choices: readonly ProviderName[], initial: ProviderName): Promise<ProviderName> {
  const options = choices.map((name) => ({ value: name, label: name, hint: providerHints[name] }));
  return answered(await select<ProviderName>({ message, options, initialValue: initial }));
}

/** Asks on the terminal; a flag given on the command line answers its question without asking. */
export async function answersFromPrompts(flags: InitFlags, env: Record<string, string | undefined>): Promise<Answers> {
  const provider = flags.provider
    ? providerName(flags.provider, "--provider")
    : await askProvider("Which provider should answer Claude Code?", providerNames, "anthropic");
  const values: Record<string, string> = {};
  const ask = async (name: ProviderName, main: boolean) => {
    for (const question of providerQuestions[name]) {
      const value = (main ? flags.values[question.flag] : undefined) ?? (await askQuestion(question, env));
      if (value !== "") values[question.variable] = value;
    }
  };
  await ask(provider, true);

  let hybrid = flags.hybrid;
  if (!hybrid) {
    const hint = provider === "ollama" ? "heavier ones on a cloud provider" : `heavier ones on ${provider}`;
    hybrid = await askConfirm(`Enable hybrid routing (light requests on local Ollama, ${hint})?`, false);
  }
  let fallback = flags.fallback === undefined ? undefined : providerName(flags.fallback, "--fallback", cloudProviderNames);
  if (hybrid && provider === "ollama" && !fallback) {
    fallback = await askProvider("Which cloud provider takes the heavier requests (and any Ollama failure)?", cloudProviderNames, "anthropic");
  }
  for (const other of otherProviders({ provider, hybrid, fallback })) await ask(other, false);

  const port = flags.port ?? (await askText("Port for lynkr to listen on (PORT)", defaultPort(values)));
  return { provider, hybrid, fallback, port: port || defaultPort(values), values };
}

/** The file's variables: what was chosen, then each provider's settings. */
export function answersToEnv(answers: Answers): Record<string, string> {
  return {
    MODEL_PROVIDER: answers.provider,
    PORT: answers.port,
    ...(answers.hybrid ? { PREFER_OLLAMA: "true" } : {}),
    ...(answers.fallback ? { FALLBACK_PROVIDER: answers.fallback } : {}),
    ...answers.values,
  };
}
