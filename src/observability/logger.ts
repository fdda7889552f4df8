import { createConsola, LogLevels, type ConsolaInstance, type LogObject } from "consola";
import { formatWithOptions } from "node:util";
import type { Config } from "../config/schema.ts";

// One logger for the process: readable on a terminal, one JSON object per line with
// LOG_FORMAT=json. A trailing plain object argument becomes structured fields.

export type LogLevelName = Config["LOG_LEVEL"];
export type LogFormat = Config["LOG_FORMAT"];

function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Error);
}

const jsonReporter = {
  log(logObj: LogObject) {
    const args = [...logObj.args];
    const fields = args.length > 1 && isFields(args.at(-1)) ? (args.pop() as Record<string, unknown>) : {};
    const line = {
      time: logObj.date.toISOString(),
      level: logObj.type,
      ...(logObj.tag ? { tag: logObj.tag } : {}),
      msg: formatWithOptions({ colors: false }, ...args),
      ...fields,
    };
    const stream = logObj.level <= LogLevels.warn ? process.stderr : process.stdout;
    stream.write(`${JSON.stringify(line)}\n`);
  },
};

export let logger: ConsolaInstance = createConsola({ level: LogLevels.info });

export function configureLogger(level: LogLevelName, format: LogFormat): ConsolaInstance {
  logger = createConsola({
    level: LogLevels[level],
    ...(format === "json" ? { reporters: [jsonReporter] } : { fancy: process.stdout.isTTY === true }),
  });
  return logger;
}
