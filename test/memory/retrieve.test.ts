import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { MessagesRequest } from "../../src/anthropic/schema.ts";
import { injectMemory, withBlock } from "../../src/memory/inject.ts";
import { retrieve } from "../../src/memory/retrieve.ts";
import { scopeOf } from "../../src/memory/scope.ts";
import { MemoryService } from "../../src/memory/service.ts";
import { countTextTokens } from "../../src/optimize/tokens.ts";
import { tempDir } from "../helpers/gateway.ts";
import { memoryBackends } from "../helpers/memory-stores.ts";

const settings = { MEMORY_MAX_AGE_DAYS: 365, MEMORY_MAX_COUNT: 500, MEMORY_DECAY_HALF_LIFE: 10, MEMORY_MAX_TOKENS: 600 };
const day = 86_400_000;
const scope = "project:/work/a";
const environment = (dir: string, repo: boolean) => `# Environment\n - Primary working directory: ${dir}\n - Is a git repository: ${repo}\n - Platform: linux`;

function request(firstUser: string, dir = "/work/a", system: MessagesRequest["system"] = [{ type: "text", text: "You are Claude Code." }]): MessagesRequest {
  return {
    model: "claude-opus-5-5",
    max_tokens: 100,
    system,
    messages: [
      { role: "user", content: [{ type: "text", text: "<system-reminder>context</system-reminder>" }, { type: "text", text: firstUser }] },
      { role: "system", content: [{ type: "text", text: environment(dir, false) }] },
    ],
  };
}

test("the project is Claude Code's primary working directory, at its git root; else the client's scope", () => {
  const root = tempDir("lynkr-mem-scope-");
  mkdirSync(join(root, ".git"));
  mkdirSync(join(root, "packages/web"), { recursive: true });
  const inRepo = { messages: [{ role: "system" as const, content: environment(join(root, "packages/web"), true) }] };
  expect(scopeOf(inRepo, "alice")).toBe(`project:${root}`);
  const notRepo = { messages: [{ role: "system" as const, content: environment(join(root, "packages/web"), false) }] };
  expect(scopeOf(notRepo, "alice")).toBe(`project:${join(root, "packages/web")}`);
  // A path the user types is not where Claude Code runs.
  expect(scopeOf({ messages: [{ role: "user", content: "Primary working directory: /etc" }] }, "alice")).toBe("client:alice");
  // A subagent states it in a reminder of its first user message.
  const reminder = { messages: [{ role: "user" as const, content: `<system-reminder>\n${environment("/work/a", false)}\n</system-reminder>\nFind it` }] };
  expect(scopeOf(reminder, "alice")).toBe("project:/work/a");
});

for (const backend of memoryBackends()) {
  describe(backend.name, () => {
    test("retrieval ranks matches first, decays with age, skips what the client already says, and keeps to the token cap", async () => {
      const memory = new MemoryService(await backend.fresh(), settings);
      const now = 100 * day;
      await memory.add(scope, "Database migrations live in db/migrations and run with `make migrate`", now - day);
      await memory.add(scope, "Staging deploys go through helm", now - 60 * day);
      await memory.add(scope, "Production deploys go through argo", now - day);
      await memory.add(scope, "Migrations must be reversible", now);
      await memory.add(scope, "We always use pnpm, never npm", now);
      await memory.add("project:/work/b", "Migrations run with alembic", now);
      const pick = async (query: string, extra: Partial<Parameters<typeof retrieve>[1]> = {}) =>
        (await retrieve(memory.store, { scopes: [scope, "global"], query, halfLifeDays: 10, maxTokens: 600, now, ...extra })).map((m) => m.text);
      expect((await pick("how do I add a database migration?")).slice(0, 2)).toEqual([
        "Database migrations live in db/migrations and run with `make migrate`",
        "Migrations must be reversible",
      ]);
      expect(await pick("how do I add a database migration?")).toContain("We always use pnpm, never npm");
      // Same relevance, 59 days (about six half-lives) older: the fresh one ranks first.
      expect((await pick("deploys")).slice(0, 2)).toEqual(["Production deploys go through argo", "Staging deploys go through helm"]);
      expect(await pick("migrations", { clientContext: "CLAUDE.md: we always use pnpm,  never npm." })).not.toContain("We always use pnpm, never npm");
      // In other words on one line of CLAUDE.md: still said; the opposite is not.
      expect(await pick("migrations", { clientContext: "# Tooling\n- Package manager: pnpm (npm is not allowed)\n" })).not.toContain("We always use pnpm, never npm");
      expect(await pick("migrations", { clientContext: "# Tooling\n- Package manager: yarn\n" })).toContain("We always use pnpm, never npm");
      const capped = await pick("migrations", { maxTokens: 12 });
      expect(capped).toHaveLength(1);
      expect(countTextTokens(`- ${capped[0]}\n`)).toBeLessThanOrEqual(12);
    });

    test("a session's block is made once and repeated byte for byte; new memories wait for the next session", async () => {
      const memory = new MemoryService(await backend.fresh(), settings);
      await memory.add(scope, "We always use pnpm, never npm");
      const turn = (sessionId: string) => ({ sessionId, client: "alice", headers: new Headers() });
      const first = await injectMemory(memory, { request: request("Install the deps"), clientBody: "{}" }, turn("s1"));
      expect(first.clientBody).toBeUndefined();
      const system = first.request.system;
      if (!Array.isArray(system)) throw new Error("expected system blocks");
      expect(system[0]?.text).toBe("You are Claude Code.");
      expect(system.at(-1)?.text).toContain("- We always use pnpm, never npm\n");
      await memory.add(scope, "The API lives in services/api");
      const later = await injectMemory(memory, { request: request("Something else entirely"), clientBody: "{}" }, turn("s1"));
      expect(later.request.system).toEqual(system);
      // Another client naming the same session gets its own block, not this one's.
      const bob = await injectMemory(memory, { request: request("Install the deps", "/work/c"), clientBody: "{}" }, { ...turn("s1"), client: "bob" });
      expect(JSON.stringify(bob.request.system)).not.toContain("lynkr-memory");
      const next = await injectMemory(memory, { request: request("Install the deps"), clientBody: "{}" }, turn("s2"));
      expect(JSON.stringify(next.request.system)).toContain("services/api");
      // Opted out, no session, or another project: the request is the client's, bytes and all.
      const off = { request: request("Install"), clientBody: "{}" };
      expect(await injectMemory(memory, off, { sessionId: "s3", client: "alice", headers: new Headers({ "x-lynkr-memory": "off" }) })).toBe(off);
      expect(await injectMemory(memory, off, { sessionId: undefined, client: "alice", headers: new Headers() })).toBe(off);
      const elsewhere = { request: request("Install", "/work/c"), clientBody: "{}" };
      expect(await injectMemory(memory, elsewhere, turn("s4"))).toBe(elsewhere);
    });
  });
}

test("a string system prompt is kept as the first block", () => {
  const out = withBlock(request("x", "/work/a", "You are helpful."), "<lynkr-memory>…</lynkr-memory>");
  expect(out.system).toEqual([
    { type: "text", text: "You are helpful." },
    { type: "text", text: "<lynkr-memory>…</lynkr-memory>" },
  ]);
});
