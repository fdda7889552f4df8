import { join } from "node:path";
import { buildBinary, pathWithoutBun } from "../helpers/binary.ts";
import { tempDir } from "../helpers/temp-dirs.ts";
import { readWire, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { spawnLynkr, type LynkrProcess } from "../helpers/lynkr-process.ts";

// The fault suite's common ground: the built binary (as users run it: no Bun, no sources beside
// it) on loopback, a fake OpenAI upstream speaking the recorded wire format, a liveness probe
// polled from its own process throughout (the test process is busy attacking, its own event loop
// must not be what is measured), and the checks every answer must pass.

export interface BuiltGateway extends LynkrProcess {
  dir: string;
  dbPath: string;
}

/**
 * The release binary, started with `env` on top of PORT 0, loopback, JSON logs and its own
 * database (in `dir`, to start it again on the same one).
 */
export async function startBuiltGateway(env: Record<string, string>, dir = tempDir("lynkr-fault-")): Promise<BuiltGateway> {
  const binary = await buildBinary();
  const dbPath = join(dir, "lynkr.db");
  const lynkr = await spawnLynkr([binary], { PATH: pathWithoutBun, SESSION_DB_PATH: dbPath, ...env }, dir);
  return { ...lynkr, dir, dbPath };
}

/**
 * An OpenAI chat-completions upstream answering every call with the recorded text answer (SSE
 * when asked to stream), and an empty model list: it never fails, so any 5xx is the gateway's.
 */
export async function startFakeOpenAi(): Promise<FakeUpstream> {
  const [stream, message] = await Promise.all([readWire("upstream/openai-chat/stream-text.sse"), readWire("upstream/openai-chat/message-text.json")]);
  return startFakeUpstream((req) => {
    if (req.url.pathname.endsWith("/models")) return Response.json({ object: "list", data: [] });
    const wantsStream = (req.json as { stream?: unknown } | undefined)?.stream === true;
    return wantsStream
      ? new Response(stream, { headers: { "content-type": "text/event-stream" } })
      : new Response(message, { headers: { "content-type": "application/json" } });
  });
}

/** The environment that puts the built gateway in front of `upstream` as its OpenAI provider. */
export function openAiEnv(upstream: FakeUpstream): Record<string, string> {
  return { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-fault-suite-upstream-key", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` };
}

export interface LiveReport {
  /** Probes answered, the slowest answer and the 99th percentile (ms). */
  probes: number;
  worstMs: number;
  p99Ms: number;
  /** Probes that failed or answered other than 200. */
  failures: number;
}

const pollerScript = `
const url = process.env.LIVE_URL + "/health/live";
const every = Number(process.env.LIVE_EVERY_MS);
let probes = 0, worstMs = 0, failures = 0, stopping = false;
const took = [];
(async () => { for await (const _ of Bun.stdin.stream()) {} stopping = true; })();
while (!stopping) {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10000) });
    await res.text();
    if (res.status !== 200) failures++;
  } catch { failures++; }
  const ms = performance.now() - started;
  probes++;
  took.push(ms);
  worstMs = Math.max(worstMs, ms);
  await Bun.sleep(Math.max(0, every - ms));
}
took.sort((a, b) => a - b);
const p99Ms = took[Math.min(took.length - 1, Math.floor(took.length * 0.99))] ?? 0;
console.log(JSON.stringify({ probes, worstMs, p99Ms, failures }));
`;

/** Polls `${url}/health/live` every `everyMs` from a separate process until `stop()`, which reports. */
export function pollLive(url: string, everyMs = 100): { stop(): Promise<LiveReport> } {
  const proc = Bun.spawn(["bun", "-e", pollerScript], {
    env: { PATH: process.env.PATH ?? "", LIVE_URL: url, LIVE_EVERY_MS: String(everyMs) },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  return {
    async stop() {
      await proc.stdin.end();
      const out = await new Response(proc.stdout).text();
      await proc.exited;
      return JSON.parse(out) as LiveReport;
    },
  };
}

/** Runs `work` while the liveness probe polls; the probe's report comes with its result. */
export async function whileProbing<T>(url: string, work: () => Promise<T>): Promise<{ result: T; live: LiveReport }> {
  const poller = pollLive(url);
  // Let the first probes land before the attack starts.
  await Bun.sleep(250);
  try {
    const result = await work();
    return { result, live: await poller.stop() };
  } catch (error) {
    await poller.stop();
    throw error;
  }
}

/** Runs `task` over `items`, at most `limit` at a time. */
export async function eachBounded<T>(items: Iterable<T>, limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let index = 0;
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await task(next.value, index++);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** Why an error answer is not in Anthropic's shape with a request id; undefined when it is. */
export function anthropicErrorProblem(status: number, headers: Headers, text: string): string | undefined {
  if (!headers.get("request-id")) return `${status} without a request-id header`;
  if (!headers.get("content-type")?.startsWith("application/json")) return `${status} with content-type ${headers.get("content-type")}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${status} whose body is not JSON: ${text.slice(0, 200)}`;
  }
  const error = (body as { type?: unknown; error?: { type?: unknown; message?: unknown } }).error;
  if ((body as { type?: unknown }).type !== "error" || typeof error?.type !== "string" || typeof error.message !== "string") {
    return `${status} whose body is not an Anthropic error: ${text.slice(0, 200)}`;
  }
  if (/\n\s+at /.test(error.message)) return `${status} whose message holds a stack trace`;
  return undefined;
}

/** A small seeded PRNG (mulberry32): the same seed, the same attack, run after run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
