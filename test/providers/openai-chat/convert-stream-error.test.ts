import { expect, test } from "bun:test";
import { convertStreamError } from "../../../src/providers/openai-chat/convert-stream-error.ts";
import { chunksOf } from "./recorded-chunks.ts";

test("OpenRouter's error chunk under HTTP 200 (Token limit reached, code 400) → invalid_request_error 400 with its words", async () => {
  const chunk = (await chunksOf("openrouter/stream-midstream-error-token-limit.sse")).find((c) => c.error);
  if (!chunk?.error) throw new Error("the recording has an error chunk");
  const error = convertStreamError(chunk.error, "openrouter");
  expect(error.status).toBe(400);
  expect(error.type).toBe("invalid_request_error");
  expect(error.message).toBe("Token limit reached");
});

test("a code that is no HTTP status, or none, is an api_error; an empty message names the provider", () => {
  expect(convertStreamError({ code: "server_error", message: "boom" }, "x")).toMatchObject({ status: 500, type: "api_error", message: "boom" });
  expect(convertStreamError({ code: 429, message: "slow down" }, "x")).toMatchObject({ status: 429, type: "rate_limit_error" });
  expect(convertStreamError({}, "openrouter").message).toBe("upstream openrouter reported an error mid-stream");
});
