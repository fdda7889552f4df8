import { isProviderName } from "../config/provider-names.ts";
import type { RoutingFile } from "../config/routing-file.ts";
import type { Config } from "../config/schema.ts";
import type { Upstream } from "../config/self-loop.ts";
import type { Provider } from "../providers/types.ts";

/** Each built provider with the settings it was built from: a named instance's own, else the environment's. */
export function upstreamsOf(providers: readonly Provider[], config: Config, file: RoutingFile | undefined): Upstream[] {
  return providers.flatMap(({ name, kind, endpoint }) =>
    isProviderName(kind) ? [{ name, kind, endpoint, config: file?.instances.get(name)?.config ?? config }] : [],
  );
}
