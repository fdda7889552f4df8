// What the rate limiter, the budgets and the circuit breakers need from the state they share
// with other replicas. Each has an in-process implementation (the default, one replica) and a
// Redis one (src/shared-state/redis-*.ts); the consumers only see these interfaces.

export interface BucketLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

/** A client's two bucket levels after (or, when refused, instead of) a take. */
export interface BucketLevels {
  requests: number;
  tokens: number;
}

/**
 * Takes `requests` from the request bucket (when it has a limit) and `tokens` from the token
 * bucket (when it has one), both or neither: refused when either holds less than asked, or the
 * token bucket less than `minTokens`.
 */
export interface BucketTake {
  requests: number;
  tokens: number;
  minTokens: number;
}

export interface RateBuckets {
  take(client: string, limits: BucketLimits, take: BucketTake): { taken: boolean; levels: BucketLevels } | Promise<{ taken: boolean; levels: BucketLevels }>;
  /** Puts `tokens` back into the token bucket (negative: takes them), capped at the limit. */
  give(client: string, limits: BucketLimits, tokens: number): void;
}

/** One budget a request is held against: `key` names the budget, subject and period. */
export interface BudgetLine {
  key: string;
  limit: number;
  /** Spent on it as this replica's own usage store counts it. */
  localSpent: number;
  /** Seconds its spend is worth keeping (a day's budget: past the day). */
  keepSeconds: number;
}

/** A request's hold on its budgets; `settle` once it ended, with what it really cost. */
export interface BudgetHold {
  settle(costUsd: number): void;
}

export type HoldResult = { held: true; hold: BudgetHold } | { held: false; line: number; spent: number; pending: number };

export interface BudgetLedger {
  /** Holds `cost` on every line when each one's spent + held + cost ≤ limit; else names the first that does not fit. */
  hold(lines: BudgetLine[], cost: number): HoldResult | Promise<HoldResult>;
}

/** A circuit of a provider opening or closing, as one replica saw it. */
export interface CircuitEvent {
  provider: string;
  state: "open" | "closed";
  /** When it opened (epoch ms), for the other replicas' timeout. */
  at: number;
}

export interface CircuitBus {
  publish(event: CircuitEvent): void;
  /** Events other replicas published. */
  subscribe(listener: (event: CircuitEvent) => void): void;
}

/** Whether replicas share state now, for readiness and metrics. */
export interface SharedStateStatus {
  backend: "process" | "redis";
  /** False while Redis is unreachable: the replica serves with its own state. */
  up: boolean;
}

/**
 * What one conversation's requests must find the same on every replica (the optimizer's thread
 * state, llama.cpp's slot): named fields of JSON text, read once per request, written back as
 * they change. Each owner validates what it reads.
 */
export interface ConversationRecord {
  get(field: string): string | undefined;
  set(field: string, value: string): void;
  /** Fields of the whole fleet, read along with every conversation's (when llama.cpp's slots were last used). */
  fleet: { get(field: string): string | undefined; set(field: string, value: string): void };
}

export interface ConversationStore {
  /** Starts reading the conversation's record; `ready` resolves once it is read (or could not be), never rejects. */
  open(conversation: string): { record: ConversationRecord; ready: Promise<void> };
}
