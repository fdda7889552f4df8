import { InvalidRequestError } from "../../anthropic/errors.ts";
import type { ModelCapabilities } from "../models/capabilities.ts";

/** What every request conversion needs to know about where the request goes. */
export interface ConversionTarget {
  /** Provider name, for error messages. */
  provider: string;
  /** The model's name, for error messages. */
  model: string;
  capabilities: ModelCapabilities;
}

/** The error for content the target model cannot take, naming the way out. */
export function unsupported(what: string, target: ConversionTarget): InvalidRequestError {
  return new InvalidRequestError(
    `${what} cannot be sent to model ${target.model} on provider ${target.provider}; use a model that supports it or set its capabilities in MODEL_CAPABILITIES`,
  );
}
