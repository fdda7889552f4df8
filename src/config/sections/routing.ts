import { z } from "zod";
import { bool, int, text } from "../fields.ts";
import { cloudProviderNames, type ProviderName } from "../provider-names.ts";
import { missingProviderVariables } from "../provider-settings.ts";
import type { Config } from "../schema.ts";

// Which provider answers: hybrid tiers (Lynkr's names), the fallback chain, circuit breakers and
// retries. Rules by model, thinking and size live in the LYNKR_CONFIG file (routing/config-file.ts).

export const routingEnv = {
  /** Hybrid routing: requests with few tools go to Ollama, heavier ones to a cloud provider. */
  PREFER_OLLAMA: bool(false),
  /** Requests with fewer tools than this go to Ollama when PREFER_OLLAMA=true. */
  OLLAMA_MAX_TOOLS_FOR_ROUTING: int(3, 0),
  /** Requests with fewer tools than this (and not for Ollama) go to OpenRouter, when it is configured. */
  OPENROUTER_MAX_TOOLS_FOR_ROUTING: int(15, 0),
  /** Whether a failing provider hands the request to the next one in the chain. */
  FALLBACK_ENABLED: bool(true),
  /** The cloud provider for hybrid routing and for failover; see effectiveFallback. */
  FALLBACK_PROVIDER: z.enum(cloudProviderNames, { error: `expected one of: ${cloudProviderNames.join(", ")}` }).optional(),
  CIRCUIT_BREAKER_FAILURE_THRESHOLD: int(5, 1),
  CIRCUIT_BREAKER_SUCCESS_THRESHOLD: int(2, 1),
  /** How long an open circuit stays open before one request probes the provider again (ms). */
  CIRCUIT_BREAKER_TIMEOUT: int(60_000, 0),
  /** Retries of one request on the same provider, for clients that do not retry by themselves. */
  API_RETRY_MAX_RETRIES: int(3, 0),
  API_RETRY_INITIAL_DELAY: int(1_000, 0),
  API_RETRY_MAX_DELAY: int(30_000, 0),
  /** Retry budget: retries in flight to a provider stay under this share (%) of its requests in flight. */
  RETRY_BUDGET_PERCENT: int(20, 0, 100),
  /** Retries in flight to a provider always allowed, whatever the budget's share (a quiet gateway still retries). */
  RETRY_BUDGET_MIN: int(3, 0),
  /** Routing rules and named providers (JSON); default ~/.lynkr/config.json, read if present. */
  LYNKR_CONFIG: text().optional(),
};

export interface FallbackChoice {
  provider: ProviderName;
  /** Set explicitly (its settings are then required), or implied. */
  explicit: boolean;
}

/**
 * The cloud provider of hybrid routing and the failover target: FALLBACK_PROVIDER when set;
 * otherwise, in hybrid mode, MODEL_PROVIDER unless that is Ollama; otherwise Lynkr's default,
 * databricks (used only when its settings are present).
 */
export function effectiveFallback(env: Config): FallbackChoice {
  if (env.FALLBACK_PROVIDER) return { provider: env.FALLBACK_PROVIDER, explicit: true };
  if (env.PREFER_OLLAMA && env.MODEL_PROVIDER !== "ollama") return { provider: env.MODEL_PROVIDER, explicit: false };
  return { provider: "databricks", explicit: false };
}

/** Whether `name` has every setting it needs. */
export function isProviderConfigured(name: ProviderName, env: Config): boolean {
  return missingProviderVariables(name, env).length === 0;
}

/** Cross-field problems, each naming the variable to set. */
export function routingProblems(env: Config): { variable: string; message: string }[] {
  const fallback = effectiveFallback(env);
  const why = fallback.explicit
    ? `FALLBACK_PROVIDER=${fallback.provider}`
    : `PREFER_OLLAMA=true sends requests Ollama cannot take to ${fallback.provider} (set FALLBACK_PROVIDER to choose another provider)`;
  if (!fallback.explicit && !env.PREFER_OLLAMA) return [];
  if (!env.PREFER_OLLAMA && !env.FALLBACK_ENABLED) return [];
  return missingProviderVariables(fallback.provider, env).map(({ variable, hint }) => ({
    variable,
    message: `required by ${why}: ${hint}`,
  }));
}
