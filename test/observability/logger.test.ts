import { afterEach, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { configureLogger, redactLogsWith } from "../../src/observability/logger.ts";
import { Redactor } from "../../src/observability/redact.ts";
import { tempDir } from "../helpers/gateway.ts";

const upstreamKey = "sk-ant-api03-file-log-do-not-write-5512";

afterEach(() => {
  redactLogsWith({ redact: (text) => text });
  configureLogger("silent", "json");
});

// `lynkr wrap` sends the gateway's log to a file: that reporter must redact like the terminal's.
for (const format of ["pretty", "json"] as const) {
  test(`the log file (${format}) gets every line through the redactor: message, fields and errors`, () => {
    const dir = tempDir();
    const path = join(dir, "lynkr.log");
    const fd = openSync(path, "a");
    try {
      redactLogsWith(new Redactor(loadConfig({ env: { HOME: dir, ANTHROPIC_UPSTREAM_API_KEY: upstreamKey }, cwd: dir })));
      const log = configureLogger("info", format, fd);
      log.info(`upstream said: Incorrect API key provided: ${upstreamKey}`);
      log.warn("provider failed", { error: `401 for ${upstreamKey}` });
      log.error(new Error(`stack with ${upstreamKey}`));
    } finally {
      closeSync(fd);
    }
    const written = readFileSync(path, "utf8");
    expect(written).toContain("Incorrect API key provided: [REDACTED]");
    expect(written).toContain("401 for [REDACTED]");
    expect(written).toContain("stack with [REDACTED]");
    expect(written).not.toContain(upstreamKey);
  });
}

test("the password in LYNKR_REDIS_URL is redacted like a key", () => {
  const dir = tempDir();
  const redactor = new Redactor(loadConfig({ env: { HOME: dir, LYNKR_REDIS_URL: "redis://:s3cret%2Fpass@redis.internal:6379/0" }, cwd: dir }));
  expect(redactor.redact("could not reach redis://:s3cret/pass@redis.internal:6379/0")).toBe("could not reach redis://:[REDACTED]@redis.internal:6379/0");
  expect(redactor.redact("url redis://:s3cret%2Fpass@redis.internal")).toBe("url redis://:[REDACTED]@redis.internal");
});

test("the password in LYNKR_DATABASE_URL is redacted like a key", () => {
  const dir = tempDir();
  const redactor = new Redactor(loadConfig({ env: { HOME: dir, LYNKR_DATABASE_URL: "postgres://lynkr:pg%40secret@db.internal:5432/lynkr" }, cwd: dir }));
  expect(redactor.redact("connect postgres://lynkr:pg@secret@db.internal:5432/lynkr failed")).toBe("connect postgres://lynkr:[REDACTED]@db.internal:5432/lynkr failed");
  expect(redactor.redact("url postgres://lynkr:pg%40secret@db.internal")).toBe("url postgres://lynkr:[REDACTED]@db.internal");
});
