import type { ServerToolServices } from "../agent/services.ts";
import type { PromptCache } from "../cache/prompt-cache.ts";
import type { MemoryService } from "../memory/service.ts";
import type { Optimizer } from "../optimize/index.ts";
import type { Router } from "../routing/router.ts";
import type { ConversationStore } from "../shared-state/ports.ts";
import type { Budgets } from "../usage/budgets.ts";
import type { Prices } from "../usage/prices.ts";
import type { RateLimiter } from "../usage/rate-limiter.ts";
import type { UsageLedger } from "../store/usage.ts";
import type { Outcomes } from "./outcome.ts";
import { budgetStep } from "./steps/budget.ts";
import { cacheStep, type CacheSettings } from "./steps/cache.ts";
import { callStep } from "./steps/call.ts";
import { memoryStep } from "./steps/memory.ts";
import { optimizeStep } from "./steps/optimize.ts";
import { routeStep } from "./steps/route.ts";
import { sessionStep } from "./steps/session.ts";
import { teeCached, teeUpstream } from "./tee.ts";
import { newTurn, type ClientBody, type Step, type TurnAnswer, type TurnContext, type TurnResult } from "./turn.ts";

// One /v1/messages turn, without HTTP: the server parses the body and renders the result. The
// steps run in the order declared below, each on the same turn; the first that answers ends
// the list (the cache, else the call), and the tee hands the answer back and emits the
// turn's outcome when it ends. A new feature is a new step here, with its own module and test.

export interface PipelineParts {
  router: Router;
  outcomes: Outcomes;
  budgets: Budgets;
  limiter: RateLimiter;
  usage: UsageLedger;
  prices: Prices;
  /** Undefined when MEMORY_ENABLED=false. */
  memory: MemoryService | undefined;
  /** Undefined when PROMPT_CACHE_ENABLED=false. */
  cache: PromptCache | undefined;
  cacheSettings: CacheSettings;
  /** MCP servers, web tools and the loop's limits (src/agent/). */
  serverTools: ServerToolServices;
  /** The optimize step's settings and per-conversation state. */
  optimizer: Optimizer;
  /** Per-conversation state shared by replicas (LYNKR_REDIS_URL); absent: each keeps its own. */
  conversations?: ConversationStore;
}

export interface Pipeline {
  readonly steps: readonly Step[];
  runTurn(client: ClientBody, ctx: TurnContext): Promise<TurnResult>;
}

export function createPipeline(parts: PipelineParts): Pipeline {
  const steps: readonly Step[] = [
    sessionStep,
    memoryStep(parts.memory),
    routeStep(parts.router),
    budgetStep({ budgets: parts.budgets, limiter: parts.limiter, usage: parts.usage, prices: parts.prices, router: parts.router }),
    optimizeStep(parts.optimizer, parts.router, parts.conversations),
    cacheStep(parts.cache, parts.cacheSettings),
    callStep(parts.router, parts.serverTools, parts.outcomes),
  ];
  return { steps, runTurn: (client, ctx) => runTurn(steps, parts.outcomes, client, ctx) };
}

async function runTurn(steps: readonly Step[], outcomes: Outcomes, client: ClientBody, ctx: TurnContext): Promise<TurnResult> {
  const turn = newTurn(client, ctx);
  ctx.facts.stream = turn.stream;
  for (const step of steps) {
    const ran = step.run(turn);
    const answer: TurnAnswer | undefined = ran instanceof Promise ? await ran : ran;
    if (answer) return answer.from === "cache" ? teeCached(turn, answer.entry, outcomes) : teeUpstream(turn, answer.answer, outcomes);
  }
  throw new Error(`no step answered the turn (steps: ${steps.map((s) => s.name).join(", ")})`);
}
