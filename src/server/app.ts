import { Hono } from "hono";
import { NotFoundError } from "../anthropic/errors.ts";
import type { Gateway } from "../gateway.ts";
import { handleCountTokens } from "../pipeline/count-tokens.ts";
import { handleMessages } from "../pipeline/messages.ts";
import { handleModels } from "../pipeline/models.ts";
import { isDatabaseReachable } from "../store/db.ts";
import { errorResponse } from "./error-response.ts";
import { requestIdFor } from "./request-id.ts";

type Env = { Variables: { requestId: string } };

export function createApp(gw: Gateway): Hono<Env> {
  const app = new Hono<Env>();

  app.use(async (c, next) => {
    const requestId = requestIdFor(c.req.raw.headers);
    c.set("requestId", requestId);
    await next();
    c.res.headers.set("request-id", requestId);
  });

  app.post("/v1/messages", (c) => handleMessages(gw, c.req.raw, c.get("requestId")));
  app.post("/v1/messages/count_tokens", (c) => handleCountTokens(gw, c.req.raw, c.get("requestId")));
  app.get("/v1/models", (c) => handleModels(gw, c.req.raw, c.get("requestId")));

  app.get("/health/live", (c) => c.json({ status: "ok" }));
  app.get("/health/ready", (c) => {
    const checks = {
      database: isDatabaseReachable(gw.db) ? "ok" : "unreachable",
      shutdown: gw.lifecycle.shuttingDown ? "draining" : "ok",
    };
    const ready = Object.values(checks).every((v) => v === "ok");
    return c.json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
  });

  app.notFound((c) =>
    errorResponse(new NotFoundError(`no route for ${c.req.method} ${c.req.path}`), c.get("requestId") ?? requestIdFor(c.req.raw.headers)),
  );
  app.onError((error, c) => errorResponse(error, c.get("requestId") ?? requestIdFor(c.req.raw.headers)));
  return app;
}
