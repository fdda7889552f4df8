import { expect, test } from "bun:test";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers/gateway.ts";

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
