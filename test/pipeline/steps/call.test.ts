import { afterAll, expect, test } from "bun:test";
import { createServerToolServices } from "../../../src/agent/services.ts";
import { AnthropicError } from "../../../src/anthropic/errors.ts";
import { Registry } from "../../../src/observability/metrics/registry.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { Outcomes, type TurnOutcome } from "../../../src/pipeline/outcome.ts";
import { callStep } from "../../../src/pipeline/steps/call.ts";
import { RoutedError } from "../../../src/routing/call-route.ts";
import { buildRouteProviders } from "../../../src/routing/providers.ts";
import { createRouter } from "../../../src/routing/router.ts";
import { chunkedResponse, jsonResponse, startFakeUpstream } from "../../helpers/fake-upstream.ts";
import { tempDir } from "../../helpers/gateway.ts";
import { turnEvents } from "../../helpers/scripted-anthropic.ts";
import { anthropicSse } from "../../helpers/fake-upstream.ts";
import { turnFor } from "../turn-fixture.ts";

let failing = false;
const upstream = startFakeUpstream(() =>
  failing
    ? jsonResponse({ type: "error", error: { type: "invalid_request_error", message: "prompt is too long" } }, 400)
    : chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "hi" }] }, "claude-x"))),
);
afterAll(() => upstream.stop());

function setUp() {
  const home = tempDir();
  const config = loadConfig({ env: { HOME: home, ANTHROPIC_UPSTREAM_URL: upstream.url, API_RETRY_MAX_RETRIES: "0" }, cwd: home });
  const router = createRouter(config, buildRouteProviders(config, undefined));
  const outcomes = new Outcomes();
  const seen: TurnOutcome[] = [];
  outcomes.subscribe("test", (o) => seen.push(o));
  return { step: callStep(router, createServerToolServices(config, new Registry()), outcomes), seen };
}

test("an answered call hands back the provider's first event and the route facts", async () => {
  failing = false;
  const { step, seen } = setUp();
  const answer = await step.run(turnFor());
  if (answer?.from !== "upstream") throw new Error("expected an upstream answer");
  expect(answer.answer.first.type).toBe("message_start");
  expect(answer.answer.route).toMatchObject({ provider: { name: "anthropic" }, rule: "static", why: "static: MODEL_PROVIDER=anthropic", attempts: 1 });
  // The outcome comes when the answer ends (the tee), not here.
  await Bun.sleep(5);
  expect(seen).toEqual([]);
});

test("a call no provider answered ends the turn: its outcome carries the route, and the error keeps the upstream's words", async () => {
  failing = true;
  const { step, seen } = setUp();
  const error = await Promise.resolve(step.run(turnFor())).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RoutedError);
  expect((error as AnthropicError).status).toBe(400);
  expect((error as AnthropicError).message).toContain("prompt is too long");
  await Bun.sleep(5);
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ status: 400, cached: false, route: { provider: { name: "anthropic" }, rule: "static" } });
  expect(Object.isFrozen(seen[0])).toBe(true);
});
