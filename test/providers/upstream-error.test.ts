import { expect, test } from "bun:test";
import { readWire } from "../helpers/fake-upstream.ts";
import { isPathNotFound, parseErrorBody, upstreamError, type UpstreamSettings } from "../../src/providers/upstream-error.ts";

// An upstream's error, as the client will read it: a 404 on the path is lynkr's address
// setting, not the model; a 401 names whose key was rejected.

const openai: UpstreamSettings = {
  provider: "openai",
  addressVariable: "OPENAI_ENDPOINT",
  address: "http://host/v1",
  addressForm: "the full chat completions URL, e.g. http://host/v1/chat/completions",
  keyVariable: "OPENAI_API_KEY",
  keySource: "lynkr",
};
const anthropic: UpstreamSettings = {
  provider: "anthropic",
  addressVariable: "ANTHROPIC_UPSTREAM_URL",
  address: "http://host/api",
  addressForm: "the base URL the Anthropic SDK takes",
  keyVariable: "ANTHROPIC_UPSTREAM_API_KEY",
  keySource: "client",
};

const answer = (body: string, status: number, contentType = "application/json") => new Response(body, { status, headers: { "content-type": contentType } });

test("a model-not-found 404 names the model (OpenAI's and Anthropic's recordings): it stays a 404 with the upstream's words", async () => {
  for (const [file, model, settings] of [
    ["upstream/openai-chat/error-404-model-not-found.json", "gpt-5.2-proo", openai],
    ["upstream/anthropic/error-404-model-not-found.json", "claude-sonet-4-5", anthropic],
  ] as const) {
    const body = await readWire(file);
    expect(isPathNotFound(parseErrorBody(body), model)).toBe(false);
    const error = await upstreamError(answer(body, 404), "up", { settings, url: "http://host/x", model });
    expect(error.status).toBe(404);
    expect(error.type).toBe("not_found_error");
    expect(error.message).toContain(model);
  }
});

test("Azure's DeploymentNotFound is the model's 404 (the deployment is the model there), not the address's", async () => {
  const body = '{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}';
  const error = await upstreamError(answer(body, 404), "up", { settings: { ...openai, provider: "azure-openai", addressVariable: "AZURE_OPENAI_ENDPOINT" }, model: "gpt-4o" });
  expect(error.status).toBe(404);
  expect(error.message).toStartWith("The API deployment for this resource does not exist.");
});

test("a 404 that names no model (an HTML page, a framework's Not Found) is a 502 api_error naming the variable to fix, never retried", async () => {
  for (const body of ["<html><head><title>404 Not Found</title></head><body>nginx</body></html>", '{"detail":"Not Found"}', "404 page not found", ""]) {
    const error = await upstreamError(answer(body, 404, "text/html"), "up", { settings: openai, url: "http://host/v1", model: "gpt-4o" });
    expect(error.status).toBe(502);
    expect(error.type).toBe("api_error");
    expect(error.message).toBe(
      "OPENAI_ENDPOINT=http://host/v1 answered 404 for POST http://host/v1: set it to the full chat completions URL, e.g. http://host/v1/chat/completions",
    );
    expect(error.shouldRetry).toBe(false);
    expect(error.headers["x-should-retry"]).toBe("false");
  }
});

test("a 404 says nothing about settings lynkr was not told (count_tokens, model lists): the upstream's status and words stay", async () => {
  const error = await upstreamError(answer('{"detail":"Not Found"}', 404), "up");
  expect(error.status).toBe(404);
  expect(error.message).toBe('{"detail":"Not Found"}');
});

test("a 401 keeps the upstream's words and names the variable holding the rejected key; not retried", async () => {
  const body = await readWire("upstream/openai-chat/error-401-invalid-api-key.json");
  const error = await upstreamError(answer(body, 401), "up", { settings: openai });
  expect(error.type).toBe("authentication_error");
  expect(error.message).toStartWith("Incorrect API key provided: sk-VKMIs");
  expect(error.message).toEndWith(" (upstream openai rejected the key in OPENAI_API_KEY)");
  expect(error.shouldRetry).toBe(false);
});

test("in credential pass-through the 401 says it was the client's own key", async () => {
  const body = await readWire("upstream/anthropic/error-401-authentication.json");
  const error = await upstreamError(answer(body, 401), "up", { settings: anthropic });
  expect(error.message).toStartWith(parseErrorBody(body).message);
  expect(error.message).toEndWith(" (upstream anthropic rejected the client's own key, which lynkr passed on because ANTHROPIC_UPSTREAM_API_KEY is not set)");
  expect(error.shouldRetry).toBe(false);
});

test("a 401 when no key was sent at all says which variable to set", async () => {
  const error = await upstreamError(answer('{"error":{"message":"Missing bearer token","type":"x","code":null}}', 401), "up", { settings: { ...openai, keySource: "none" } });
  expect(error.message).toBe("Missing bearer token (upstream openai wants a key: set OPENAI_API_KEY)");
});
