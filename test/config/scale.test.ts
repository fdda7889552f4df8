import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import { tempDir } from "../helpers/gateway.ts";

// LYNKR_REDIS_URL: unset keeps state in process; a value must be a redis:// or rediss:// URL.

const load = (env: Record<string, string>) => loadConfig({ env: { HOME: tempDir(), ...env }, cwd: tempDir() });

test("LYNKR_REDIS_URL takes redis:// and rediss:// URLs and names what it expects otherwise", () => {
  expect(load({}).LYNKR_REDIS_URL).toBeUndefined();
  expect(load({ LYNKR_REDIS_URL: " redis://redis:6379/0 " }).LYNKR_REDIS_URL).toBe("redis://redis:6379/0");
  expect(load({ LYNKR_REDIS_URL: "rediss://user:pw@cache.internal:6380" }).LYNKR_REDIS_URL).toBe("rediss://user:pw@cache.internal:6380");
  for (const bad of ["http://redis:6379", "redis:", "redis.internal:6379"]) {
    expect(() => load({ LYNKR_REDIS_URL: bad })).toThrow(/LYNKR_REDIS_URL.*redis:\/\/ or rediss:\/\//s);
  }
});

test("a bad LYNKR_REDIS_URL is named without the password it carries", () => {
  expect(() => load({ LYNKR_REDIS_URL: "redis+tls://:hunter22@cache:6380" })).toThrow('LYNKR_REDIS_URL="redis+tls://:***@cache:6380"');
});
