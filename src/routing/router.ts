import type { MessagesRequest } from "../anthropic/schema.ts";
import type { Config } from "../config/schema.ts";
import { createProvider } from "../providers/registry.ts";
import type { Provider } from "../providers/types.ts";

export interface Route {
  /** Providers to try, in order; the first that accepts the request answers it. */
  chain: Provider[];
  /** Why this route was chosen, for logs and the x-lynkr-route header. */
  reason: string;
}

export interface Router {
  readonly primary: Provider;
  /** Every configured provider, for /v1/models and health checks. */
  readonly providers: Provider[];
  route(request: MessagesRequest): Route;
}

export function createRouter(config: Config): Router {
  const primary = createProvider(config.MODEL_PROVIDER, config);
  return {
    primary,
    providers: [primary],
    route: () => ({ chain: [primary], reason: "static" }),
  };
}
