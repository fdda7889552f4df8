#!/usr/bin/env -S bun --no-env-file
import { defineCommand, runMain } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { doctorCommand } from "./commands/doctor.ts";
import { initCommand } from "./commands/init.ts";
import { mcpCommand } from "./commands/mcp.ts";
import { memoryCommand } from "./commands/memory.ts";
import { startCommand } from "./commands/start.ts";

const main = defineCommand({
  meta: { name: "lynkr", version: pkg.version, description: pkg.description },
  subCommands: { init: initCommand, start: startCommand, doctor: doctorCommand, memory: memoryCommand, mcp: mcpCommand },
});

await runMain(main);
