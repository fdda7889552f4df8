import { RedisClient, SQL } from "bun";
import { expect, test } from "bun:test";
import { startPostgresServer } from "../helpers/postgres-server.ts";
import { startRedisServer } from "../helpers/redis-server.ts";

// The real servers the scale-out tests run against start on loopback, answer, stop and come back.

test("redis-server starts on a loopback port, stops, and starts again on the same port", async () => {
  const redis = await startRedisServer();
  try {
    expect(redis.url).toStartWith("redis://127.0.0.1:");
    const client = new RedisClient(redis.url);
    expect(await client.send("PING", [])).toBe("PONG");
    client.close();
    await redis.stop();
    const gone = new RedisClient(redis.url, { autoReconnect: false, connectionTimeout: 500 });
    expect(await gone.connect().then(() => "connected", () => "refused")).toBe("refused");
    gone.close();
    await redis.start();
    const back = new RedisClient(redis.url);
    expect(await back.send("PING", [])).toBe("PONG");
    back.close();
  } finally {
    await redis.close();
  }
});

test("PostgreSQL starts in a temp folder on a loopback port, keeps its data across a restart, and stops", async () => {
  const pg = await startPostgresServer();
  try {
    expect(pg.url).toStartWith("postgres://postgres@127.0.0.1:");
    let sql = new SQL(pg.url);
    await sql`create table kept (n int)`;
    await sql`insert into kept values (42)`;
    await sql.close();
    await pg.stop();
    await pg.start();
    sql = new SQL(pg.url);
    expect(await sql`select n from kept`).toEqual([{ n: 42 }]);
    await sql.close();
  } finally {
    await pg.close();
  }
}, 60_000);
