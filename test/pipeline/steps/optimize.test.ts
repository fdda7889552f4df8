import { expect, test } from "bun:test";
import { optimizeStep } from "../../../src/pipeline/steps/optimize.ts";
import { turnFor } from "../turn-fixture.ts";

test("the empty optimize slot leaves the request and the client's bytes as they are", () => {
  const turn = turnFor();
  const { request, body } = turn;
  expect(optimizeStep.run(turn)).toBeUndefined();
  expect(turn.request).toBe(request);
  expect(turn.body).toBe(body as string);
});
