#!/usr/bin/env -S bun --no-env-file
import { defineCommand, runMain } from "citty";
import pkg from "../../package.json" with { type: "json" };

// Each command is loaded when it runs: `lynkr statusline` runs after every Claude Code turn and
// must not pay for the gateway's modules.
const main = defineCommand({
  meta: { name: "lynkr", version: pkg.version, description: pkg.description },
  subCommands: {
    init: () => import("./commands/init.ts").then((m) => m.initCommand),
    start: () => import("./commands/start.ts").then((m) => m.startCommand),
    doctor: () => import("./commands/doctor.ts").then((m) => m.doctorCommand),
    memory: () => import("./commands/memory.ts").then((m) => m.memoryCommand),
    mcp: () => import("./commands/mcp.ts").then((m) => m.mcpCommand),
    wrap: () => import("./commands/wrap.ts").then((m) => m.wrapCommand),
    code: () => import("./commands/wrap.ts").then((m) => m.codeCommand),
    statusline: () => import("./commands/statusline.ts").then((m) => m.statuslineCommand),
    usage: () => import("./commands/usage.ts").then((m) => m.usageCommand),
    sessions: () => import("./commands/sessions.ts").then((m) => m.sessionsCommand),
  },
});

await runMain(main);
