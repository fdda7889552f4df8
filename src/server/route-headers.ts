import type { RouteFacts } from "../routing/call-route.ts";

/** Header values must be visible ASCII; a client's model name (in a route, say) may not be. */
function headerValue(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, "?");
}

/**
 * Which provider and model answered, and why (routing rule, fallbacks on the way). The model is
 * the one the upstream was asked for: MODEL_MAP's choice, not the provider's default.
 */
export function setRouteHeaders(headers: Headers, route: RouteFacts, model: { upstream: string | undefined; requested: string }): void {
  headers.set("x-lynkr-provider", headerValue(route.provider.name));
  headers.set("x-lynkr-model", headerValue(model.upstream ?? route.model ?? model.requested));
  headers.set("x-lynkr-route", headerValue(route.why));
}

/** A routed failure says how it was routed, like an answer does. */
export function setFailedRouteHeader(headers: Headers, route: RouteFacts): void {
  headers.set("x-lynkr-route", headerValue(route.why));
}
