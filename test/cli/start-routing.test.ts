import { expect, test } from "bun:test";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers/gateway.ts";
import { lynkrFromSource, spawnLynkr } from "../helpers/lynkr-process.ts";

// Bad routing or Ollama settings stop `lynkr start` before it listens: exit 2, every problem named.

test("a bad LYNKR_CONFIG file stops lynkr start with exit 2, naming the file and the key", async () => {
  const dir = tempDir();
  const path = join(dir, "routing.json");
  await Bun.write(path, JSON.stringify({ router: { think: "nowhere", longContextThreshold: "big" } }));
  const { code, stderr } = await runCli(["start", "--port", "0"], { LYNKR_CONFIG: path, LOG_LEVEL: "silent" }, dir);
  expect(code).toBe(2);
  expect(stderr).toContain(`LYNKR_CONFIG ${path}: router.longContextThreshold:`);
});

test("bad Ollama and routing variables stop lynkr start with what each accepts", async () => {
  const { code, stderr } = await runCli(["start", "--port", "0"], {
    MODEL_PROVIDER: "ollama",
    OLLAMA_KEEP_ALIVE: "forever",
    OLLAMA_ENDPOINT: "localhost:11434",
    PREFER_OLLAMA: "maybe",
    CIRCUIT_BREAKER_FAILURE_THRESHOLD: "0",
    LOG_LEVEL: "silent",
  });
  expect(code).toBe(2);
  expect(stderr).toContain('OLLAMA_KEEP_ALIVE="forever": expected a duration such as "5m"');
  expect(stderr).toContain('OLLAMA_ENDPOINT="localhost:11434": expected an http:// or https:// URL');
  expect(stderr).toContain('PREFER_OLLAMA="maybe": expected true or false');
  expect(stderr).toContain('CIRCUIT_BREAKER_FAILURE_THRESHOLD="0": expected an integer >= 1');
});

test("start-up names the routing file with its rules, and each provider's full request URL", async () => {
  const dir = tempDir();
  const path = join(dir, "routing.json");
  await Bun.write(
    path,
    JSON.stringify({
      providers: { "gpu-box": { type: "ollama", OLLAMA_ENDPOINT: "http://127.0.0.1:1", OLLAMA_MODEL: "qwen3:32b" } },
      router: { default: "anthropic", background: "gpu-box,qwen2.5-coder:7b", longContextThreshold: 50000 },
      fallback: ["gpu-box"],
    }),
  );
  const lynkr = await spawnLynkr(lynkrFromSource, { PATH: process.env.PATH ?? "", LYNKR_CONFIG: path, LOG_FORMAT: "pretty", ANTHROPIC_UPSTREAM_URL: "http://127.0.0.1:2/anthropic" }, dir);
  await lynkr.stop();
  const log = lynkr.output();
  expect(log).toContain(`routing file ${path}: default → anthropic; background (haiku) → gpu-box,qwen2.5-coder:7b; fallback gpu-box; named providers gpu-box`);
  expect(log).toContain("provider anthropic → http://127.0.0.1:2/anthropic/v1/messages");
  expect(log).toContain("also routes to gpu-box → http://127.0.0.1:1/api/chat, model qwen3:32b");
});
