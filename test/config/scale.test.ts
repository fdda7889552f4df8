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

test("LYNKR_DATABASE_URL takes postgres:// and postgresql:// URLs and names what it expects otherwise", () => {
  expect(load({}).LYNKR_DATABASE_URL).toBeUndefined();
  expect(load({}).LYNKR_DATABASE_POOL_MAX).toBe(10);
  expect(load({ LYNKR_DATABASE_URL: " postgres://lynkr@db:5432/lynkr " }).LYNKR_DATABASE_URL).toBe("postgres://lynkr@db:5432/lynkr");
  expect(load({ LYNKR_DATABASE_URL: "postgresql://db/lynkr", LYNKR_DATABASE_POOL_MAX: "4" })).toMatchObject({ LYNKR_DATABASE_URL: "postgresql://db/lynkr", LYNKR_DATABASE_POOL_MAX: 4 });
  for (const bad of ["mysql://db/lynkr", "postgres:", "db.internal:5432", "sqlite:///tmp/x.db"]) {
    expect(() => load({ LYNKR_DATABASE_URL: bad })).toThrow(/LYNKR_DATABASE_URL.*postgres:\/\/ or postgresql:\/\//s);
  }
  expect(() => load({ LYNKR_DATABASE_POOL_MAX: "0" })).toThrow(/LYNKR_DATABASE_POOL_MAX/);
});

test("a bad LYNKR_DATABASE_URL is named without the password it carries", () => {
  expect(() => load({ LYNKR_DATABASE_URL: "mysql://lynkr:hunter22@db:3306/lynkr" })).toThrow('LYNKR_DATABASE_URL="mysql://lynkr:***@db:3306/lynkr"');
});
