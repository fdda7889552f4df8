import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { ConfigError, loadConfig } from "../../config/load.ts";
import { exportMemories, importMemories, scopeFor, searchMemories, type Where } from "../../memory/manage.ts";
import { MemoryService } from "../../memory/service.ts";
import { PostgresMemoryStore } from "../../memory/postgres-store.ts";
import { SqliteMemoryStore } from "../../memory/sqlite-store.ts";
import type { Memory } from "../../memory/store.ts";
import { ImportError } from "../../memory/transfer.ts";
import { databasePath, openDatabase } from "../../store/db.ts";
import { connectPostgres } from "../database.ts";

// `lynkr memory …`: the gateway's long-term memories, read and changed in its database (the
// SQLite file, or PostgreSQL with LYNKR_DATABASE_URL).

const envFile = { type: "string", description: "Read configuration from this .env file (default: ./.env, else ~/.lynkr/.env, if present)" } as const;
const project = { type: "string", description: "A project folder (normalised to its git root)" } as const;

function fail(message: string): never {
  process.stderr.write(`lynkr memory: ${message}\n`);
  process.exit(2);
}

interface Opened {
  memory: MemoryService;
  halfLife: number;
  close(): Promise<void>;
}

/** The memories the gateway keeps: in PostgreSQL with LYNKR_DATABASE_URL, else in its SQLite file. */
async function open(file: string | undefined): Promise<Opened> {
  let config;
  try {
    config = loadConfig({ env: process.env, envFile: file });
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const halfLife = config.MEMORY_DECAY_HALF_LIFE;
  if (config.LYNKR_DATABASE_URL !== undefined) {
    const sql = await connectPostgres(config.LYNKR_DATABASE_URL, "memory");
    return { memory: new MemoryService(new PostgresMemoryStore(sql), config), halfLife, close: () => sql.close({ timeout: 5 }) };
  }
  const db = openDatabase(databasePath(config));
  return { memory: new MemoryService(new SqliteMemoryStore(db), config), halfLife, close: async () => db.close(false) };
}

/** Runs `use` on the opened memories, closing the database after. */
async function withMemory<T>(file: string | undefined, use: (opened: Opened) => Promise<T>): Promise<T> {
  const opened = await open(file);
  try {
    return await use(opened);
  } finally {
    await opened.close();
  }
}

function line(m: Memory & { score?: number }): string {
  const extra = [`${m.source}`, m.mentions > 1 ? `said ${m.mentions}×` : "", m.uses > 0 ? `used ${m.uses}×` : "", m.score === undefined ? "" : `score ${m.score}`]
    .filter(Boolean)
    .join(", ");
  return `${String(m.id).padStart(4)}  ${m.text}  (${extra}; ${m.scope})\n`;
}

function print(memories: (Memory & { score?: number })[], json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(memories, null, 2)}\n`);
  else process.stdout.write(memories.length === 0 ? "no memories\n" : memories.map(line).join(""));
}

const list = defineCommand({
  meta: { name: "list", description: "List memories (of one project with --project)" },
  args: { project, json: { type: "boolean", description: "Print JSON" }, "env-file": envFile },
  async run({ args }) {
    const listed = await withMemory(args["env-file"], ({ memory }) => memory.store.list(scopeFor({ project: args.project }, process.cwd())));
    print(listed, args.json);
  },
});

const search = defineCommand({
  meta: { name: "search", description: "Search memories as a new session would rank them" },
  args: { query: { type: "positional", required: true, description: "Words to search for" }, project, json: { type: "boolean", description: "Print JSON" }, "env-file": envFile },
  async run({ args }) {
    const found = await withMemory(args["env-file"], ({ memory, halfLife }) => searchMemories(memory, args.query, scopeFor({ project: args.project }, process.cwd()), halfLife));
    print(found, args.json);
  },
});

const add = defineCommand({
  meta: { name: "add", description: "Remember a statement for a project (default: the current folder's) or for every project (--global)" },
  args: { text: { type: "positional", required: true, description: "What to remember" }, project, global: { type: "boolean", description: "For every project" }, "env-file": envFile },
  async run({ args }) {
    if (args.global && args.project !== undefined) fail("give either --project or --global, not both");
    if (args.text.trim() === "") fail("nothing to remember: TEXT is empty");
    const where: Where = args.global ? { global: true } : { project: args.project ?? process.cwd() };
    const scope = scopeFor(where, process.cwd()) as string;
    const outcome = await withMemory(args["env-file"], ({ memory }) => memory.add(scope, args.text));
    const verb = outcome.kind === "merged" ? "merged into" : "stored as";
    process.stdout.write(`${verb} memory ${"id" in outcome ? outcome.id : ""} (${scope})\n`);
  },
});

const forget = defineCommand({
  meta: { name: "forget", description: "Delete a memory by its id (see list)" },
  args: { id: { type: "positional", required: true, description: "Memory id" }, "env-file": envFile },
  async run({ args }) {
    const id = Number(args.id);
    if (!Number.isSafeInteger(id) || id < 1) fail(`${JSON.stringify(args.id)}: expected a memory id (a positive integer)`);
    if (!(await withMemory(args["env-file"], ({ memory }) => memory.forget(id)))) fail(`no memory with id ${id}`);
    process.stdout.write(`forgot memory ${id}\n`);
  },
});

const exportCommand = defineCommand({
  meta: { name: "export", description: "Print every memory as JSON Lines" },
  args: { "env-file": envFile },
  async run({ args }) {
    process.stdout.write(await withMemory(args["env-file"], ({ memory }) => exportMemories(memory)));
  },
});

const importCommand = defineCommand({
  meta: { name: "import", description: "Add memories from JSON Lines (a file, else standard input)" },
  args: { file: { type: "positional", required: false, description: "A file written by lynkr memory export" }, "env-file": envFile },
  async run({ args }) {
    const text = readFileSync(args.file ?? 0, "utf8");
    try {
      process.stdout.write(`imported ${await withMemory(args["env-file"], ({ memory }) => importMemories(memory, text))} memories\n`);
    } catch (error) {
      if (error instanceof ImportError) fail(error.message);
      throw error;
    }
  },
});

export const memoryCommand = defineCommand({
  meta: { name: "memory", description: "See, search, add, forget, export and import long-term memories" },
  subCommands: { list, search, add, forget, export: exportCommand, import: importCommand },
});
