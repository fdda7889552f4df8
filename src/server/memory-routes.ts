import type { Context, Hono } from "hono";
import { z } from "zod";
import { InvalidRequestError, NotFoundError, RequestTooLargeError } from "../anthropic/errors.ts";
import { exportMemories, importMemories, scopeFor, searchMemories } from "../memory/manage.ts";
import type { MemoryService } from "../memory/service.ts";
import { ImportError, maxMemoryChars } from "../memory/transfer.ts";
import { readJsonBody } from "./read-body.ts";
import type { admitting } from "./admission.ts";
import type { AppEnv } from "./context.ts";
import type { ServerParts } from "./parts.ts";

// /v1/memory: the memories `lynkr memory` manages, over HTTP (behind the client keys when set).
// Projects are named by folder (`?project=/abs/dir`), as Claude Code states them.

const addSchema = z.strictObject({
  text: z.string().trim().min(1).max(maxMemoryChars),
  project: z.string().startsWith("/", { error: "expected an absolute folder" }).max(4096).optional(),
  global: z.boolean().optional(),
});

const maxImportBytes = 16 * 1024 * 1024;

function memoryOf(gw: Pick<ServerParts, "memory">): MemoryService {
  if (!gw.memory) throw new NotFoundError("memory is off on this gateway (MEMORY_ENABLED=false)");
  return gw.memory;
}

function projectParam(c: Context<AppEnv>): string | undefined {
  const project = c.req.query("project");
  if (project === undefined) return undefined;
  if (!project.startsWith("/") || project.length > 4096) throw new InvalidRequestError("project: expected an absolute folder");
  return scopeFor({ project }, "/");
}

export function memoryRoutes(app: Hono<AppEnv>, gw: Pick<ServerParts, "memory" | "settings">, guard: ReturnType<typeof admitting>): void {
  app.get("/v1/memory", guard(async (c) => c.json({ data: await memoryOf(gw).store.list(projectParam(c)) })));

  app.get("/v1/memory/search", guard(async (c) => {
    const query = c.req.query("q")?.trim() ?? "";
    if (query === "" || query.length > 4000) throw new InvalidRequestError("q: expected a search text of 1 to 4000 characters");
    return c.json({ data: await searchMemories(memoryOf(gw), query, projectParam(c), gw.settings.MEMORY_DECAY_HALF_LIFE) });
  }));

  app.post("/v1/memory", guard(async (c) => {
    const memory = memoryOf(gw);
    const { body } = await readJsonBody(c.req.raw, addSchema, 64 * 1024);
    if (body.global === true && body.project !== undefined) throw new InvalidRequestError("give either project or global, not both");
    if (body.global !== true && body.project === undefined) throw new InvalidRequestError("project: expected an absolute folder (or global: true)");
    const scope = scopeFor(body, "/") as string;
    return c.json({ scope, outcome: await memory.add(scope, body.text) }, 201);
  }));

  app.delete("/v1/memory/:id", guard(async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id) || id < 1) throw new InvalidRequestError("id: expected a memory id (a positive integer)");
    if (!(await memoryOf(gw).forget(id))) throw new NotFoundError(`no memory with id ${id}`);
    return c.json({ id, deleted: true });
  }));

  app.get("/v1/memory/export", guard(async (c) => c.body(await exportMemories(memoryOf(gw)), 200, { "content-type": "application/jsonl; charset=utf-8" })));

  app.post("/v1/memory/import", guard(async (c) => {
    const memory = memoryOf(gw);
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > maxImportBytes) throw new RequestTooLargeError(`import body is ${declared} bytes; the maximum is ${maxImportBytes}`);
    const text = await c.req.text();
    if (text.length > maxImportBytes) throw new RequestTooLargeError(`import body exceeds the maximum of ${maxImportBytes} bytes`);
    try {
      return c.json({ imported: await importMemories(memory, text) });
    } catch (error) {
      if (error instanceof ImportError) throw new InvalidRequestError(error.message);
      throw error;
    }
  }));
}
