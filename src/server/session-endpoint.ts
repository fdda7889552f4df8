import type { Context } from "hono";
import { InvalidRequestError } from "../anthropic/errors.ts";
import type { AppEnv } from "./context.ts";
import type { ServerParts } from "./parts.ts";

// GET /v1/lynkr/sessions/:id — one Claude Code session's figures (the id is its
// x-claude-code-session-id), for `lynkr statusline`. A session lynkr has not seen yet answers
// zeros and the provider and model requests would go to, so a new session's status line is
// not an error.

const maxIdLength = 200;

export async function sessionFigures(gw: Pick<ServerParts, "reports" | "router">, c: Context<AppEnv>): Promise<Response> {
  const id = c.req.param("id") ?? "";
  if (id.length === 0 || id.length > maxIdLength || /[^\x21-\x7e]/.test(id)) {
    throw new InvalidRequestError(`session id: expected 1 to ${maxIdLength} visible ASCII characters`);
  }
  const figures = await gw.reports.session(id);
  const primary = gw.router.primary;
  return c.json({
    ...figures,
    known: figures.turns > 0 || figures.requests > 0,
    provider: figures.provider ?? primary.name,
    model: figures.model ?? primary.model,
  });
}
