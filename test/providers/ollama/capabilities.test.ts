import { expect, test } from "bun:test";
import { ClientAbortedError } from "../../../src/providers/http.ts";
import { OllamaCapabilityCache } from "../../../src/providers/ollama/capabilities.ts";
import { jsonResponse, startFakeUpstream } from "../../helpers/fake-upstream.ts";

// The /api/show lookup is shared by every request for the model; no one client may end it.

test("a client that goes away while /api/show is pending fails alone; the others get the capabilities", async () => {
  let answer = () => {};
  const answered = new Promise<void>((resolve) => {
    answer = resolve;
  });
  const ollama = startFakeUpstream(async () => {
    await answered;
    return jsonResponse({ capabilities: ["completion", "tools"], model_info: { "qwen2.context_length": 32768 } });
  });
  try {
    const cache = new OllamaCapabilityCache({ endpoint: ollama.url, upstream: `ollama (${ollama.url})`, timeoutMs: 5_000 });
    const gone = new AbortController();
    const first = cache.get("coder:7b", gone.signal);
    const second = cache.get("coder:7b", new AbortController().signal);
    gone.abort();
    expect(await first.catch((e: unknown) => e)).toBeInstanceOf(ClientAbortedError);
    answer();
    expect(await second).toMatchObject({ tools: true, contextLength: 32768 });
    expect(ollama.received.length).toBe(1);
    // Kept for later requests, even the one whose client left.
    expect(await cache.get("coder:7b", new AbortController().signal)).toMatchObject({ tools: true });
    expect(ollama.received.length).toBe(1);
  } finally {
    await ollama.stop();
  }
});
