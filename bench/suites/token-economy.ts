import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";
import { Optimizer } from "../../src/optimize/index.ts";
import { startFakeOllama } from "../../test/helpers/fake-ollama.ts";
import { chatChunk, openAiSse, startFakeUpstream, type ReceivedRequest } from "../../test/helpers/fake-upstream.ts";
import { recordedSession, recordedSessionNames, type RecordedRequest } from "../../test/helpers/recorded-sessions.ts";
import { startGatewayInProcess, type BenchSection } from "../lib.ts";
import { billed, commonPrefix, PrefixCache, prefixStability, type Bill } from "../prompt-bill.ts";

// The recorded Claude Code sessions replayed through lynkr into a recording fake upstream, once
// per backend and optimization profile, against Claude Code's own bodies sent unchanged. What
// counts is what the bill counts: prompt tokens (o200k over what the upstream received), how
// much of each prompt the next one in its thread starts with, and tokens billed by an
// OpenAI-style prefix cache shared by the whole run. See README "Token economy".

type Recorded = RecordedRequest;

/** Credentials and the connection's own headers are not re-sent. */
const dropped = new Set(["host", "content-length", "connection", "authorization", "x-api-key", "accept-encoding"]);

function sendable(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.has(name)));
}

/** What the model reads, in order: tools, system, messages, one JSON value per line. */
function promptText(body: { tools?: unknown; system?: unknown; messages?: unknown[] }): string {
  const parts = [JSON.stringify(body.tools ?? [])];
  if (body.system !== undefined) parts.push(JSON.stringify(body.system));
  for (const message of body.messages ?? []) parts.push(JSON.stringify(message));
  return parts.join("\n");
}

interface Backend {
  name: string;
  kind: "openai" | "ollama";
  /** The model's window, for the small profile's "fits" check. */
  window: number | undefined;
  env(upstreamUrl: string): Record<string, string>;
}

const backends: Backend[] = [
  {
    name: "openai gpt-4o",
    kind: "openai",
    window: undefined,
    env: (url) => ({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-bench", OPENAI_MODEL: "gpt-4o", OPENAI_ENDPOINT: `${url}/v1/chat/completions` }),
  },
  {
    name: "llama.cpp 16k",
    kind: "openai",
    window: 16_384,
    env: (url) => ({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: url, LLAMACPP_MODEL: "qwen2.5-coder-7b", MODEL_CAPABILITIES: '{"qwen2.5-coder-7b":{"context_window":16384,"max_output_tokens":4096}}' }),
  },
  {
    name: "ollama 32k",
    kind: "ollama",
    window: 32_768,
    env: (url) => ({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: url, OLLAMA_MODEL: "qwen2.5-coder:7b", OLLAMA_NUM_CTX: "32768" }),
  },
];

interface Run {
  label: string;
  backend: Backend | undefined;
  profile: string;
  /** Long-term memory on, with one memory of the sessions' project stored before the replay. */
  memory: boolean;
  /** One prompt per recorded request, in order; undefined where lynkr refused it (did not fit). Threads are conversations (RecordedRequest.conversation). */
  prompts: (number[] | undefined)[];
}

// The token ids themselves (lynkr's own counter only counts).
const o200kTokenizer = new Tiktoken(o200k);
const tokens = (text: string) => o200kTokenizer.encode(text, "all");

function nativeRun(recorded: Recorded[]): Run {
  return { label: "Claude Code bodies, unchanged", backend: undefined, profile: "-", memory: false, prompts: recorded.map((r) => tokens(promptText(r.body))) };
}

const chatAnswer = openAiSse([
  chatChunk({ role: "assistant", content: "ok" }),
  chatChunk({}, "stop"),
  chatChunk({}, null, { choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
]).join("");
const ollamaAnswer = `${JSON.stringify({ model: "qwen2.5-coder:7b", message: { role: "assistant", content: "ok" }, done: false })}\n${JSON.stringify({ model: "qwen2.5-coder:7b", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 1, eval_count: 1 })}\n`;

/** What the memory runs start with: one memory of the project every recorded session works in. */
const seededMemory = { project: "/home/user/project", text: "Tests run with `node test/run.js`; never add a test framework" };

async function gatewayRun(recorded: Recorded[], backend: Backend, profile: string, memory = false): Promise<Run> {
  const upstream =
    backend.kind === "ollama"
      ? startFakeOllama({ "qwen2.5-coder:7b": { capabilities: ["completion", "tools"], contextLength: 32_768 } }, () => new Response(ollamaAnswer, { headers: { "content-type": "application/x-ndjson" } }))
      : startFakeUpstream(() => new Response(chatAnswer, { headers: { "content-type": "text/event-stream" } }));
  // Memory off is what the optimize step alone does; memory on adds one block per conversation
  // (seeded, so every session has one from its first request, and learnt from the replay).
  const gateway = startGatewayInProcess({ ...backend.env(upstream.url), OPTIMIZE_PROFILE: profile, MEMORY_ENABLED: String(memory) });
  if (memory) {
    const seeded = await fetch(`${gateway.url}/v1/memory`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "k" }, body: JSON.stringify(seededMemory) });
    if (seeded.status !== 201) throw new Error(`could not seed memory: ${seeded.status} ${await seeded.text()}`);
  }
  const isChat = (r: ReceivedRequest) => r.url.pathname.endsWith("/chat/completions") || r.url.pathname === "/api/chat";
  const prompts: (number[] | undefined)[] = [];
  try {
    for (const request of recorded) {
      const before = upstream.received.filter(isChat).length;
      const res = await fetch(`${gateway.url}${request.path}`, {
        method: "POST",
        headers: { ...sendable(request.headers), "x-api-key": "k" },
        body: JSON.stringify(request.body),
      });
      await res.text();
      const sent = upstream.received.filter(isChat).slice(before);
      if (res.status !== 200 || sent.length !== 1) {
        if (res.status === 200) throw new Error(`${backend.name}: ${sent.length} upstream calls for one request`);
        prompts.push(undefined);
        continue;
      }
      prompts.push(tokens(promptText((sent[0] as ReceivedRequest).json as { tools?: unknown; messages?: unknown[] })));
    }
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
  return { label: `${backend.name}, ${profile}${memory ? ", memory on" : ""}`, backend, profile, memory, prompts };
}

interface Figures {
  prompt: number;
  /** Lowest prefix stability over the threads. */
  stability: number;
  billed01: number;
  billed05: number;
  refused: number;
  /** Requests over the backend's window (counted by o200k as sent). */
  overWindow: number;
}

/** Figures per session and in total for one run (the prefix cache shared by all its threads). */
function figures(run: Run, recorded: Recorded[]): Map<string, Figures> {
  const cache = new PrefixCache();
  const bills = new Map<string, Bill[]>();
  const threads = new Map<string, number[][]>();
  const out = new Map<string, Figures>();
  const row = (key: string) => {
    let f = out.get(key);
    if (!f) out.set(key, (f = { prompt: 0, stability: 1, billed01: 0, billed05: 0, refused: 0, overWindow: 0 }));
    return f;
  };
  for (const [i, request] of recorded.entries()) {
    const prompt = run.prompts[i];
    for (const key of [request.session, "total"]) {
      const f = row(key);
      if (prompt === undefined) f.refused++;
      else if (run.backend?.window !== undefined && prompt.length > run.backend.window) f.overWindow++;
    }
    if (prompt === undefined) continue;
    const bill = cache.send(prompt);
    for (const key of [request.session, "total"]) {
      bills.set(key, [...(bills.get(key) ?? []), bill]);
      row(key).prompt += prompt.length;
    }
    threads.set(request.conversation, [...(threads.get(request.conversation) ?? []), prompt]);
  }
  for (const [key, list] of bills) {
    const f = row(key);
    f.billed01 = billed(list, 0.1);
    f.billed05 = billed(list, 0.5);
  }
  for (const [thread, prompts] of threads) {
    const session = recorded.find((r) => r.conversation === thread)?.session ?? "";
    const stability = prefixStability(prompts);
    for (const key of [session, "total"]) row(key).stability = Math.min(row(key).stability, stability);
  }
  return out;
}

/** Per-thread stabilities, for the "on every thread" targets. */
function threadStabilities(run: Run, recorded: Recorded[]): Map<string, number> {
  const threads = new Map<string, number[][]>();
  for (const [i, request] of recorded.entries()) {
    const prompt = run.prompts[i];
    if (prompt) threads.set(request.conversation, [...(threads.get(request.conversation) ?? []), prompt]);
  }
  return new Map([...threads].map(([thread, prompts]) => [thread, prefixStability(prompts)]));
}

/** Per thread, the requests whose prompt the next one does not start with in full. */
function threadBreaks(run: Run, recorded: Recorded[]): Map<string, number[]> {
  const threads = new Map<string, number[]>();
  for (const [i, request] of recorded.entries()) if (run.prompts[i]) threads.set(request.conversation, [...(threads.get(request.conversation) ?? []), i]);
  return new Map(
    [...threads].map(([thread, indices]) => [
      thread,
      indices.slice(0, -1).filter((index, k) => {
        const current = run.prompts[index] as number[];
        return commonPrefix(current, run.prompts[indices[k + 1] as number] as number[]) < current.length;
      }),
    ]),
  );
}

/** Prompt tokens of `run` over those of `base`, counting only requests both sent upstream (plain translation refuses what does not fit). */
function sentByBoth(run: Run, base: Run, only: (i: number) => boolean = () => true): number {
  let mine = 0;
  let theirs = 0;
  for (const [i, prompt] of run.prompts.entries()) {
    const other = base.prompts[i];
    if (!prompt || !other || !only(i)) continue;
    mine += prompt.length;
    theirs += other.length;
  }
  return theirs === 0 ? Number.NaN : mine / theirs;
}

const ratio = (a: number, b: number) => (b === 0 ? "-" : `${(a / b).toFixed(3)}×`);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const met = (ok: boolean) => (ok ? "MET" : "MISSED");

/** Time the optimize step itself takes per request (in this process, no HTTP): each profile over every recorded request. */
function stepCost(recorded: Recorded[]): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const [profile, window] of [["full", 128_000], ["small", 16_384]] as const) {
    const optimizer = new Optimizer({ profile, disabled: [], smallWindowTokens: 32_768, clearTrigger: 0.85, clearTarget: 0.5, keepToolResults: 1, maxSessions: 100_000 });
    const run = (round: number) => {
      for (const r of recorded) optimizer.optimize(r.request, { thread: `${round}/${r.conversation}`, header: undefined, target: { anthropicWire: false, model: "gpt-4o", contextWindow: window } });
    };
    for (let round = 0; round < 20; round++) run(round);
    const rounds = 100;
    const started = performance.now();
    for (let round = 20; round < 20 + rounds; round++) run(round);
    rows.push([profile, ((performance.now() - started) / (rounds * recorded.length)).toFixed(3)]);
  }
  return rows;
}

export default async function tokenEconomy(): Promise<BenchSection[]> {
  const recorded = recordedSessionNames.flatMap(recordedSession);
  const native = nativeRun(recorded);
  const runs: Run[] = [];
  for (const backend of backends) {
    const optimized = backend.window === undefined ? "full" : "small";
    for (const profile of ["off", optimized]) runs.push(await gatewayRun(recorded, backend, profile));
    runs.push(await gatewayRun(recorded, backend, optimized, true));
  }
  const nativeFigures = figures(native, recorded);
  const sessions = [...new Set(recorded.map((r) => r.session)), "total"];
  const rows: (string | number)[][] = [];
  for (const run of [native, ...runs]) {
    const f = figures(run, recorded);
    const plain = runs.find((r) => r.backend === run.backend && r.profile === "off" && !r.memory);
    for (const session of sessions) {
      const mine = f.get(session);
      const base = nativeFigures.get(session);
      if (!mine || !base) continue;
      rows.push([
        run.label,
        session,
        mine.prompt,
        ratio(mine.prompt, base.prompt),
        plain ? `${sentByBoth(run, plain, (i) => session === "total" || recorded[i]?.session === session).toFixed(3)}×` : "-",
        pct(mine.stability),
        ratio(mine.billed01, base.billed01),
        ratio(mine.billed05, base.billed05),
        run.backend?.window === undefined ? "-" : mine.refused + mine.overWindow === 0 ? "all" : `${mine.refused} refused, ${mine.overWindow} over`,
      ]);
    }
  }

  const find = (backend: string, profile: string, memory = false) => {
    const run = runs.find((r) => r.backend?.name === backend && r.profile === profile && r.memory === memory);
    if (!run) throw new Error(`no run ${backend} ${profile}`);
    return run;
  };
  const total = (run: Run) => figures(run, recorded).get("total") as Figures;
  const nativeTotal = nativeFigures.get("total") as Figures;
  const nativeThreads = threadStabilities(native, recorded);
  const everyThreadAtLeastNative = (run: Run) => [...threadStabilities(run, recorded)].every(([thread, s]) => s >= (nativeThreads.get(thread) ?? 1) - 1e-9);
  const minThread = (run: Run) => Math.min(...threadStabilities(run, recorded).values());
  const targets: (string | number)[][] = [];
  const openOff = find("openai gpt-4o", "off");
  const openFull = find("openai gpt-4o", "full");
  const fullBilled = total(openFull).billed01 / nativeTotal.billed01;
  const offBilled = total(openOff).billed01 / nativeTotal.billed01;
  targets.push(["openai, full: billed at r=0.1 ≤ 0.93× native", `${fullBilled.toFixed(3)}×`, `${offBilled.toFixed(3)}×`, met(fullBilled <= 0.93)]);
  targets.push([
    "openai, full: prefix stability ≥ native on every thread",
    `min ${pct(minThread(openFull))} (native min ${pct(Math.min(...nativeThreads.values()))})`,
    `min ${pct(minThread(openOff))}`,
    met(everyThreadAtLeastNative(openFull)),
  ]);
  for (const backend of backends.filter((b) => b.window !== undefined)) {
    const small = find(backend.name, "small");
    const off = find(backend.name, "off");
    const promptRatio = sentByBoth(small, off);
    targets.push([`${backend.name}, small: prompt tokens ≤ 0.60× plain translation (requests both sent)`, `${promptRatio.toFixed(3)}×`, "1.000×", met(promptRatio <= 0.6)]);
    targets.push([`${backend.name}, small: prefix stability ≥ 90% on every thread`, `min ${pct(minThread(small))}`, `min ${pct(minThread(off))}`, met(minThread(small) >= 0.9)]);
    const fits = (run: Run) => total(run).refused + total(run).overWindow === 0;
    const describe = (run: Run) => `${recorded.length - total(run).refused - total(run).overWindow}/${recorded.length}`;
    targets.push([`${backend.name}, small: every request fits the window`, describe(small), describe(off), met(fits(small))]);
  }

  for (const backend of backends) {
    const profile = backend.window === undefined ? "full" : "small";
    const without = find(backend.name, profile);
    const withMemory = find(backend.name, profile, true);
    // The block is the same bytes on every request of a conversation: it must break no prefix the
    // run without memory keeps. (Its tokens are lost with the rest where something before it changes,
    // e.g. a tool list that grows, so a stability ratio alone can dip.)
    const same = JSON.stringify([...threadBreaks(withMemory, recorded)]) === JSON.stringify([...threadBreaks(without, recorded)]);
    targets.push([
      `${backend.name}, ${profile}, memory on: the block breaks no prefix (a thread's prefix breaks at the same requests as with memory off)`,
      `min ${pct(minThread(withMemory))}`,
      `min ${pct(minThread(without))} (memory off)`,
      met(same),
    ]);
  }

  return [
    {
      title: "Token economy: recorded Claude Code sessions through lynkr",
      columns: ["run", "session", "prompt tokens (o200k)", "× native", "× plain translation (requests both sent)", "prefix stability (lowest thread)", "billed r=0.1 × native", "billed r=0.5 × native", "fits window"],
      rows,
      notes: [
        `${recorded.length} recorded requests (${sessions.length - 1} sessions); each run has its own gateway and one OpenAI-style prefix cache shared by all its threads (≥ 1,024 tokens, 128-token steps)`,
        "prompt: what the model reads, in order (tools, system, messages), one JSON value per line, counted with o200k",
        "prefix stability: tokens of each request that the next request of its thread starts with, over the thread",
        "plain translation = OPTIMIZE_PROFILE=off, today's behaviour; long-term memory off (MEMORY_ENABLED=false) except in the \"memory on\" runs (one memory of the project stored before the replay, more learnt from it)",
      ],
    },
    {
      title: "Token economy: targets (issue 15)",
      columns: ["target", "now", "baseline (OPTIMIZE_PROFILE=off, or as named)", "result"],
      rows: targets,
    },
    {
      title: "Token economy: cost of the optimize step",
      columns: ["profile", "ms per request (mean)"],
      rows: stepCost(recorded),
      notes: [`every recorded request (${recorded.length}) as a new conversation's, 100 rounds after 20 of warm-up; the small profile at a 16k window (tool results counted and cleared)`],
    },
  ];
}
