import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runCli, tempDir } from "../helpers/gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { backends, freshDatabase, releasePostgres, sharedPostgres } from "../helpers/storage-backends.ts";
import { sessionA, sessionB, settle, startSessionTraffic, type SessionTraffic } from "../helpers/session-traffic.ts";
import { alignedTable, csv, parseSince } from "../../src/cli/output.ts";

// `lynkr usage` and `lynkr sessions list|show`, reading the database a real gateway wrote.

// The same reports from the SQLite file and from PostgreSQL (LYNKR_DATABASE_URL).
describe.each(backends)("on %s", (backend) => {
  let traffic: SessionTraffic;
  let records: Record<string, string> = {};

  beforeAll(async () => {
    if (backend === "postgres") records = { LYNKR_DATABASE_URL: await freshDatabase(await sharedPostgres()) };
    traffic = await startSessionTraffic(records);
    for (const [session, prompt] of [[sessionA, "hello from A"], [sessionA, "again from A"], [sessionB, "hello from B"]] as const) {
      await (await traffic.send(session, prompt)).text();
    }
    await settle(traffic, sessionA, 2);
    await settle(traffic, sessionB, 1);
  }, 60_000);
  afterAll(async () => {
    await traffic.stop();
    if (backend === "postgres") await releasePostgres();
  });

  const cli = (...args: string[]) => runCli(args, { SESSION_DB_PATH: traffic.dbPath, ...records });

  test("lynkr usage --by session --json: each session's tokens and cost", async () => {
    const { code, stdout } = await cli("usage", "--by", "session", "--json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { by: string; rows: { group: string; requests: number; input_tokens: number; cache_read_input_tokens: number; cost_usd: number }[] };
    expect(report.by).toBe("session");
    const a = report.rows.find((r) => r.group === sessionA);
    const b = report.rows.find((r) => r.group === sessionB);
    expect(a).toMatchObject({ requests: 2, input_tokens: 2000, cache_read_input_tokens: 16000 });
    expect(b).toMatchObject({ requests: 1, input_tokens: 1000, cache_read_input_tokens: 0 });
    expect(a?.cost_usd).toBeGreaterThan(b?.cost_usd ?? Infinity);
  });

  test("lynkr usage: an aligned table by day, and CSV by provider", async () => {
    const table = await cli("usage");
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^day\s+requests\s+input\s+output/);
    expect(lines[1]).toMatch(/^\d{4}-\d{2}-\d{2}\s+3\s+3,?000\s+60/);
    expect(table.stdout).toContain("3 requests since");
    const byProvider = await cli("usage", "--by", "provider", "--csv");
    expect(byProvider.stdout.split("\n")[0]).toBe("provider,requests,input,output,cache_read,cache_write,lynkr_cache_hits,cost,saved");
    expect(byProvider.stdout.split("\n")[1]).toMatch(/^openai,3,3000,60,16000,0,0,0\.\d+,0$/);
  });

  test("lynkr sessions list and show: turns, routes, tokens, cost", async () => {
    const list = await cli("sessions", "list", "--json");
    const sessions = (JSON.parse(list.stdout) as { sessions: { session_id: string; turns: number }[] }).sessions;
    expect(sessions.map((s) => [s.session_id, s.turns]).sort()).toEqual([[sessionA, 2], [sessionB, 1]]);

    const show = await cli("sessions", "show", sessionA);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`session ${sessionA}`);
    expect(show.stdout).toContain("2 turns, 2 answers (0 from lynkr's cache), 0 errors, 0 fallbacks");
    expect(show.stdout).toContain("89% cache read");
    const turnLines = show.stdout.split("\n").filter((l) => /^\s*\d+\s+\d{4}-/.test(l));
    expect(turnLines).toHaveLength(2);
    expect(turnLines[0]).toContain("openai");
    expect(turnLines[0]).toContain("static");

    const json = JSON.parse((await cli("sessions", "show", sessionB, "--json")).stdout) as { turns: { status: number; route: string }[] };
    expect(json.turns).toHaveLength(1);
    expect(json.turns[0]?.status).toBe(200);

    const missing = await cli("sessions", "show", "no-such-session");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no session");
  });

  test("bad flags are refused with what they accept; no database is not an empty report", async () => {
    expect((await cli("usage", "--by", "color")).stderr).toContain("expected one of day, model, provider, key, session");
    expect((await cli("usage", "--since", "yesterday")).code).toBe(2);
    if (backend === "sqlite") {
      const none = await runCli(["usage"], { SESSION_DB_PATH: `${tempDir()}/none.db` });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("no database at");
    } else {
      // PostgreSQL that does not answer: named by its host, the password left out.
      const none = await runCli(["usage"], { LYNKR_DATABASE_URL: `postgres://lynkr:pw-secret-3@127.0.0.1:${freePort()}/lynkr` });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("lynkr usage: postgres 127.0.0.1:");
      expect(none.stderr).not.toContain("pw-secret-3");
    }
  });
});

test("output helpers: numbers right-aligned, CSV quoted, windows parsed", () => {
  expect(alignedTable(["name", "n"], [["a", 5], ["long name", 1234]], false)).toBe("name          n\na             5\nlong name  1234\n");
  expect(csv(["a", "b"], [['x,"y"', 1]])).toBe('a,b\n"x,""y""",1\n');
  expect(parseSince("7d", 1_000_000_000)).toBe(1_000_000_000 - 7 * 86_400_000);
  expect(parseSince("2026-12-01")).toBe(Date.parse("2026-12-01"));
  expect(parseSince("soon")).toBeUndefined();
});
