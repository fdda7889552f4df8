import { createConsola, LogLevels, type ConsolaInstance, type LogObject } from "consola";
import { writeSync } from "node:fs";
import { formatWithOptions } from "node:util";
import type { Config } from "../config/schema.ts";

// One logger for the process: readable on a terminal, one JSON object per line with
// LOG_FORMAT=json. A trailing plain object argument becomes structured fields.

export type LogLevelName = Config["LOG_LEVEL"];
export type LogFormat = Config["LOG_FORMAT"];

function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Error);
}

/** The line's message, and its trailing plain object argument as structured fields (when it is not the only one). */
function messageAndFields(logObj: LogObject): { msg: string; fields: Record<string, unknown> | undefined } {
  const last = logObj.args.at(-1);
  const fields = logObj.args.length > 1 && isFields(last) ? last : undefined;
  const msg = formatWithOptions({ colors: false }, ...(fields ? logObj.args.slice(0, -1) : logObj.args));
  return { msg, fields };
}

function jsonLine(logObj: LogObject): string {
  const { msg, fields } = messageAndFields(logObj);
  const line = {
    time: logObj.date.toISOString(),
    level: logObj.type,
    ...(logObj.tag ? { tag: logObj.tag } : {}),
    msg,
    ...fields,
  };
  return `${JSON.stringify(line)}\n`;
}

/** Plain text for a file: time, level, message, and any fields as JSON on the same line. */
function textLine(logObj: LogObject): string {
  const { msg, fields } = messageAndFields(logObj);
  return `${logObj.date.toISOString()} ${logObj.type.padEnd(5)} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ""}\n`;
}

const jsonReporter = {
  log(logObj: LogObject) {
    const stream = logObj.level <= LogLevels.warn ? process.stderr : process.stdout;
    stream.write(jsonLine(logObj));
  },
};

/** What every line passes through before it is written (the running gateway's secrets). */
let redact: (text: string) => string = (text) => text;

/** From now on, every log line is redacted by `redactor` (whatever wrote it: upstream error text, a stack). */
export function redactLogsWith(redactor: { redact(text: string): string }): void {
  redact = (text) => redactor.redact(text);
}

function redacted(value: unknown): unknown {
  if (typeof value === "string") return redact(value);
  if (value instanceof Error) return redact(value.stack ?? String(value));
  if (typeof value !== "object" || value === null) return value;
  try {
    return JSON.parse(redact(JSON.stringify(value)));
  } catch {
    // A redaction that cut through an escaped quote: the fields go, the line stays.
    return { redacted: true };
  }
}

function withRedaction(instance: ConsolaInstance): ConsolaInstance {
  instance.options.reporters = instance.options.reporters.map((reporter) => ({
    log: (logObj, ctx) => reporter.log({ ...logObj, args: logObj.args.map(redacted) }, ctx),
  }));
  return instance;
}

/** Appends every line to an open file (`lynkr wrap` keeps the terminal for the command it runs). */
function fileReporter(fd: number, format: LogFormat) {
  return { log: (logObj: LogObject) => void writeSync(fd, format === "json" ? jsonLine(logObj) : textLine(logObj)) };
}

export let logger: ConsolaInstance = withRedaction(createConsola({ level: LogLevels.info }));
let format: LogFormat = "pretty";

/** LOG_FORMAT as configured: the request log writes its facts as one line of text or as fields. */
export function logFormat(): LogFormat {
  return format;
}

/** `fileFd`: write to this open file instead of the terminal. Every reporter writes redacted lines. */
export function configureLogger(level: LogLevelName, logFormat: LogFormat, fileFd?: number): ConsolaInstance {
  format = logFormat;
  const reporters = fileFd !== undefined ? { reporters: [fileReporter(fileFd, logFormat)] } : logFormat === "json" ? { reporters: [jsonReporter] } : undefined;
  logger = withRedaction(createConsola({ level: LogLevels[level], ...(reporters ?? { fancy: process.stdout.isTTY === true }) }));
  return logger;
}
