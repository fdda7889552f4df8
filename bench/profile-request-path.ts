import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chatChunk, openAiSse } from "../test/helpers/fake-upstream.ts";
import { lynkrFromSource, spawnLynkr } from "../test/helpers/lynkr-process.ts";
import { run } from "../test/helpers/run.ts";
import { recordedClaudeCodeRequest, startFakeOpenAiUpstream } from "./lib.ts";

// Where the request path spends its CPU: `lynkr start` from source under `bun --cpu-prof`,
// driven by wrk with the recorded Claude Code request translated to OpenAI Chat (prompt cache
// off), then its profile summed per function: self time, and time inclusive of callees, per
// request. `bun bench/profile-request-path.ts [seconds] [connections]`. Not a suite of `bun
// run bench`: a profiler's figures are for finding costs, the request-path suite for judging them.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 4);

const recorded = await recordedClaudeCodeRequest();
const answer = openAiSse([chatChunk({ role: "assistant", content: "" }), chatChunk({ content: "Done." }), chatChunk({}, "stop"), chatChunk({}, null, { choices: [], usage: { prompt_tokens: 11000, completion_tokens: 3, total_tokens: 11003 } })]).join("");
const upstream = startFakeOpenAiUpstream(answer);
const dir = mkdtempSync(join(tmpdir(), "lynkr-prof-"));
const profDir = join(dir, "prof");
const [bun, ...rest] = lynkrFromSource;
const lynkr = await spawnLynkr([bun ?? "bun", "--cpu-prof", `--cpu-prof-dir=${profDir}`, "--cpu-prof-interval=100", ...rest], {
  SESSION_DB_PATH: join(dir, "lynkr.db"),
  PROMPT_CACHE_ENABLED: "false",
  LOG_LEVEL: "info",
  MODEL_PROVIDER: "openai",
  OPENAI_API_KEY: "sk-bench",
  OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`,
}, dir);

const bodyFile = join(dir, "cc.json");
writeFileSync(bodyFile, JSON.stringify(recorded.body));
const lua = ['wrk.method = "POST"', `local f = io.open(${JSON.stringify(bodyFile)}, "rb")`, 'wrk.body = f:read("*all")', "f:close()"];
for (const [k, v] of Object.entries({ ...recorded.headers, "content-type": "application/json" })) lua.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
writeFileSync(join(dir, "cc.lua"), `${lua.join("\n")}\n`);

let requests = 0;
try {
  await run(["wrk", "-t1", "-c4", "-d2s", "-s", join(dir, "cc.lua"), lynkr.url + recorded.path]);
  const before = upstream.requests;
  const { stdout } = await run(["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "-s", join(dir, "cc.lua"), lynkr.url + recorded.path]);
  process.stdout.write(stdout);
  requests = upstream.requests - before;
} finally {
  await lynkr.stop();
  await upstream.stop();
}

const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
if (!file) throw new Error(`no profile written in ${profDir}`);
const profile = JSON.parse(readFileSync(join(profDir, file), "utf8")) as Profile;
rmSync(dir, { recursive: true, force: true });

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^.*\/(src|node_modules)\//, "$1/");
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  all += dt;
  const node = byId.get(id);
  if (!node) return;
  self.set(label(node), (self.get(label(node)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n) break;
    const l = label(n);
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + dt);
  }
});
const perRequest = (us: number) => (us / Math.max(1, requests)).toFixed(1).padStart(8);
const top = (m: Map<string, number>, n: number) => [...m].filter(([l]) => !/^\((root|program|idle)\)/.test(l)).sort((a, b) => b[1] - a[1]).slice(0, n);
process.stdout.write(`\n${requests} requests; profile ${(all / 1e6).toFixed(2)} s (idle included)\n\nself µs/request\n`);
for (const [l, us] of top(self, 45)) process.stdout.write(`${perRequest(us)}  ${l}\n`);
// A native function (JSON.stringify, say) is only as telling as who calls it.
const callers = new Map<string, Map<string, number>>();
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  const node = byId.get(id);
  if (!node || node.callFrame.url !== "") return;
  let up = parent.get(id);
  while (up !== undefined && byId.get(up)?.callFrame.url === "") up = parent.get(up);
  const caller = up === undefined ? "(none)" : label(byId.get(up) as ProfileNode);
  const m = callers.get(label(node)) ?? new Map<string, number>();
  m.set(caller, (m.get(caller) ?? 0) + dt);
  callers.set(label(node), m);
});
for (const [l] of top(self, 45).filter(([l]) => callers.has(l)).slice(0, 10)) {
  process.stdout.write(`\n${l.trim()} called from\n`);
  for (const [c, us] of top(callers.get(l) as Map<string, number>, 6)) process.stdout.write(`${perRequest(us)}  ${c}\n`);
}
const busy = [...self].filter(([l]) => !/^\((program|idle)\)/.test(l)).reduce((a, [, us]) => a + us, 0);
process.stdout.write(`\nbusy (not idle) ${perRequest(busy)} µs/request\n`);
process.stdout.write("\ninclusive µs/request\n");
for (const [l, us] of top(total, 70)) process.stdout.write(`${perRequest(us)}  ${l}\n`);
