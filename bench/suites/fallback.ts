import { refusedUrl } from "../../test/helpers/ports.ts";
import { assertReachedUpstream, latencyAgainstBaseline, startFakeAnthropicUpstream, startGatewayInProcess, timeEach, type BenchSection, type FakeUpstream } from "../lib.ts";

// Failover cost: Ollama (the hybrid tier) refuses connections and a cloud provider answers.
// Time per request as a client sees it, against the same cloud provider called alone (the
// baseline, same run). Aim: < 20 ms added once the breaker is open.

const requests = 200;
const warmup = 20;

async function timings(cloud: FakeUpstream, env: Record<string, string>): Promise<number[]> {
  const gateway = startGatewayInProcess(env);
  const body = JSON.stringify({ model: "claude-x", max_tokens: 16, stream: true, messages: [{ role: "user", content: "hi" }] });
  const call = async () => {
    const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body });
    if (res.status !== 200) throw new Error(`bench request failed: HTTP ${res.status} ${await res.text()}`);
    await res.text();
  };
  try {
    const before = cloud.requests;
    await timeEach(warmup, call);
    const times = await timeEach(requests, call);
    assertReachedUpstream(cloud, before, warmup + requests);
    return times;
  } finally {
    await gateway.stop();
  }
}

export default async function fallbackBench(): Promise<BenchSection> {
  const cloud = startFakeAnthropicUpstream();
  const hybrid = { PREFER_OLLAMA: "true", MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: cloud.url, OLLAMA_ENDPOINT: refusedUrl() };
  try {
    const baseline = await timings(cloud, { MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: cloud.url });
    // The breaker never opens: every request tries Ollama's refused port first.
    const refused = await timings(cloud, { ...hybrid, CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000000" });
    // The warm-up opens the breaker (5 failures); measured requests skip Ollama without a connection attempt.
    const open = await timings(cloud, { ...hybrid, CIRCUIT_BREAKER_TIMEOUT: "3600000" });
    return {
      title: "Fallback: Ollama refusing connections, cloud provider answering",
      ...latencyAgainstBaseline(
        ["cloud alone (baseline)", baseline],
        [
          ["fallback, breaker closed (connect refused each time)", refused],
          ["fallback, breaker open", open],
        ],
      ),
      notes: [
        `${requests} sequential streaming requests per scenario after ${warmup} warm-up requests, gateway in process, loopback fake upstream; aim: breaker open adds < 20 ms.`,
        "A refused connection (or a timeout) fails over at once, without retrying, when another provider is in the chain.",
      ],
    };
  } finally {
    await cloud.stop();
  }
}
