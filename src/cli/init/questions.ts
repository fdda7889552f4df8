import type { ProviderName } from "../../config/provider-names.ts";
import { envShape } from "../../config/schema.ts";
import type { Question } from "../../providers/descriptor.ts";
import { perProvider } from "../../providers/descriptors.ts";

// What `lynkr init` asks for each provider: the settings a first run needs, under the variable
// names the configuration reads; each provider's descriptor lists them. Everything else keeps its
// default and can be added to the file by hand (README: Configuration).

export type { Question, ValueFlag } from "../../providers/descriptor.ts";

/** What init asks for each provider, from its descriptor. */
export const providerQuestions: Record<ProviderName, Question[]> = perProvider((descriptor) => descriptor.questions);

/** Each provider's line in init's menu, from its descriptor. */
export const providerHints: Record<ProviderName, string> = perProvider((descriptor) => descriptor.hint);

/** What an unanswered question means: the configuration's own default, else the provider's. */
export function defaultAnswer(question: Question): string | undefined {
  const parsed = envShape[question.variable].safeParse(undefined);
  return parsed.success && typeof parsed.data === "string" ? parsed.data : question.suggestion;
}
