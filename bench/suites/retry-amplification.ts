import { startGatewayInProcess, startOverloadedUpstream, type BenchSection } from "../lib.ts";

// Retry amplification: how many upstream calls one client attempt costs when the only provider
// answers 529 to everything, with many requests arriving at once. A client that retries by itself
// (Anthropic's SDKs, Claude Code: x-stainless-retry-count) must cost exactly 1; for one that does
// not, lynkr's retries (API_RETRY_MAX_RETRIES=3) are bounded by the retry budget.

const concurrent = 100;

async function callsPerRequest(env: Record<string, string>, headers: Record<string, string>): Promise<number> {
  const upstream = startOverloadedUpstream();
  const gateway = startGatewayInProcess({
    MODEL_PROVIDER: "anthropic",
    ANTHROPIC_UPSTREAM_URL: upstream.url,
    ANTHROPIC_UPSTREAM_API_KEY: "sk-bench",
    // The breaker would stop the retries on its own: this measures the retry rules alone.
    CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000000",
    API_RETRY_MAX_RETRIES: "3",
    API_RETRY_INITIAL_DELAY: "20",
    API_RETRY_MAX_DELAY: "200",
    ...env,
  });
  const body = JSON.stringify({ model: "claude-x", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
  try {
    const statuses = await Promise.all(
      Array.from({ length: concurrent }, async () => {
        const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
        await res.text();
        return res.status;
      }),
    );
    if (statuses.some((s) => s !== 529)) throw new Error(`expected every answer to be the upstream's 529, got ${[...new Set(statuses)].join(", ")}`);
    return upstream.requests / concurrent;
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}

export default async function retryAmplificationBench(): Promise<BenchSection> {
  const selfRetrying = { "x-stainless-retry-count": "0" };
  const unbounded = { RETRY_BUDGET_PERCENT: "100", RETRY_BUDGET_MIN: "1000" };
  const rows: [string, number][] = [
    ["client retries by itself (x-stainless-retry-count)", await callsPerRequest({}, selfRetrying)],
    ["client does not retry, retry budget 20% / min 3 (default)", await callsPerRequest({}, {})],
    ["client does not retry, no retry budget (100% / min 1000)", await callsPerRequest(unbounded, {})],
  ];
  return {
    title: "Retry amplification: one provider answering 529 to everything",
    columns: ["client", "upstream calls per client attempt"],
    rows: rows.map(([name, calls]) => [name, calls.toFixed(2)]),
    notes: [
      `${concurrent} requests at once per row, gateway in process, loopback upstream; API_RETRY_MAX_RETRIES=3, backoff 20 ms·2^n (cap 200 ms), breaker kept closed.`,
      "Without lynkr a client's attempt costs 1 call; the budget bounds what a burst of failing requests adds to a struggling upstream.",
    ],
  };
}
