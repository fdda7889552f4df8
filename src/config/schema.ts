import { z } from "zod";
import { missingProviderVariables } from "./provider-settings.ts";
import { anthropicEnv } from "./sections/anthropic.ts";
import { browserEnv } from "./sections/browser.ts";
import { openAiFamilyEnv } from "./sections/openai-family.ts";
import { memoryEnv } from "./sections/memory.ts";
import { ollamaEnv } from "./sections/ollama.ts";
import { operationsEnv, operationsProblems } from "./sections/operations.ts";
import { optimizeEnv } from "./sections/optimize.ts";
import { routingEnv, routingProblems } from "./sections/routing.ts";
import { scaleEnv } from "./sections/scale.ts";
import { serverEnv } from "./sections/server.ts";
import { serverToolsEnv, serverToolsProblems } from "./sections/server-tools.ts";

export { providerNames, type ProviderName } from "./provider-names.ts";

// Every environment variable lynkr reads, one section per concern, Lynkr's names where Lynkr has one.
export const envShape = {
  ...serverEnv,
  ...browserEnv,
  ...anthropicEnv,
  ...openAiFamilyEnv,
  ...ollamaEnv,
  ...routingEnv,
  ...operationsEnv,
  ...memoryEnv,
  ...serverToolsEnv,
  ...optimizeEnv,
  ...scaleEnv,
};

export const envSchema = z.object(envShape).superRefine((env, ctx) => {
  for (const { variable, hint } of missingProviderVariables(env.MODEL_PROVIDER, env)) {
    ctx.addIssue({ code: "custom", path: [variable], message: `required when MODEL_PROVIDER=${env.MODEL_PROVIDER} (${hint})` });
  }
  for (const { variable, message } of routingProblems(env)) ctx.addIssue({ code: "custom", path: [variable], message });
  for (const { variable, message } of operationsProblems(env)) ctx.addIssue({ code: "custom", path: [variable], message });
  for (const { variable, message } of serverToolsProblems(env)) ctx.addIssue({ code: "custom", path: [variable], message });
});

export type Config = z.infer<typeof envSchema>;
