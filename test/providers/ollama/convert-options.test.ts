import { expect, test } from "bun:test";
import { convertKeepAlive, convertOptions } from "../../../src/providers/ollama/convert-options.ts";
import { freshRequest } from "../recorded.ts";

test("Claude Code's request: max_tokens as num_predict, no sampling it did not send; num_ctx when set", async () => {
  const request = await freshRequest();
  expect(convertOptions(request, undefined)).toEqual({ num_predict: request.max_tokens });
  expect(convertOptions(request, 32768)).toEqual({ num_predict: request.max_tokens, num_ctx: 32768 });
  expect(convertOptions({ ...request, temperature: 0.2, top_p: 0.9, top_k: 40, stop_sequences: ["END"] }, undefined)).toEqual({
    num_predict: request.max_tokens,
    temperature: 0.2,
    top_p: 0.9,
    top_k: 40,
    stop: ["END"],
  });
});

test("keep_alive: seconds as a number, a duration as a string", () => {
  expect(convertKeepAlive("300")).toBe(300);
  expect(convertKeepAlive("-1")).toBe(-1);
  expect(convertKeepAlive("5m")).toBe("5m");
});
