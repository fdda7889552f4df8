import { loadavg } from "node:os";
import { TurnHasher } from "../../src/store/sessions.ts";
import { recordedSession, recordedSessionNames } from "../../test/helpers/recorded-sessions.ts";
import { median, ms, type BenchSection } from "../lib.ts";

// What recording a turn costs in hashing: Claude Code re-sends the whole history every turn, and
// the session store hashes messages to find what the thread already holds. Every recorded Claude
// Code session replayed turn by turn (each request parsed afresh, as the gateway gets it): every
// message hashed each turn, against only those its thread's previous turn did not have.

const rounds = 40;

export default async function sessionHashing(): Promise<BenchSection> {
  const rows: (string | number)[][] = [];
  for (const name of recordedSessionNames) {
    const turns = recordedSession(name).map((r) => ({ sessionId: r.headers["x-claude-code-session-id"] ?? name, text: JSON.stringify(r.request.messages) }));
    const perTurn = (threads: number): number => {
      const hasher = new TurnHasher(threads);
      const parsed = turns.map((t) => ({ sessionId: t.sessionId, messages: JSON.parse(t.text) }));
      const started = performance.now();
      for (const turn of parsed) hasher.hashes(turn);
      return (performance.now() - started) / parsed.length;
    };
    // The session's last turn alone, its thread's earlier turns recorded before: a long session's steady state.
    const lastTurn = (threads: number): number => {
      const hasher = new TurnHasher(threads);
      const parsed = turns.map((t) => ({ sessionId: t.sessionId, messages: JSON.parse(t.text) }));
      const last = parsed.pop();
      for (const turn of parsed) hasher.hashes(turn);
      if (!last) return 0;
      const started = performance.now();
      hasher.hashes(last);
      return performance.now() - started;
    };
    const every: number[] = [];
    const onlyNew: number[] = [];
    const everyLast: number[] = [];
    const onlyNewLast: number[] = [];
    for (let i = 0; i < rounds; i++) {
      every.push(perTurn(0));
      onlyNew.push(perTurn(128));
      everyLast.push(lastTurn(0));
      onlyNewLast.push(lastTurn(128));
    }
    const bytes = Math.max(...turns.map((t) => t.text.length));
    rows.push([
      name,
      turns.length,
      `${Math.round(bytes / 1024)} KB`,
      ms(median(every)),
      ms(median(onlyNew)),
      ms(median(everyLast)),
      ms(median(onlyNewLast)),
      `${(median(everyLast) / median(onlyNewLast)).toFixed(1)}×`,
    ]);
  }
  return {
    title: "Recording a turn: hashing the whole history vs only what is new (ms per turn)",
    columns: ["recorded session", "turns", "largest history", "all turns: every message", "all turns: only new", "last turn: every message", "last turn: only new", "last turn faster"],
    rows,
    notes: [
      `Median of ${rounds} replays; "all turns" averages the session's turns (its first hashes everything either way), "last turn" is its last request alone after the earlier ones, as every turn of a long session is. Load average ${loadavg()[0]?.toFixed(1)} on this machine when it ran.`,
      "Both give the same hashes (test/store/session-hashing.test.ts checks the records are identical).",
    ],
  };
}
