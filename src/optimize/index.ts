import { InvalidRequestError } from "../anthropic/errors.ts";
import type { MessagesRequest } from "../anthropic/schema.ts";
import { optimizeProfiles, type OptimizePiece, type OptimizeProfileSetting } from "../config/sections/optimize.ts";
import { clearToolResults } from "./clear-tool-results.ts";
import { compactTool } from "./compact-tools.ts";
import { encodingFor } from "./encodings.ts";
import { slimSystem } from "./slim-system.ts";
import { countIfNear, countTextTokens } from "./tokens.ts";
import { reordered, stickyToolOrder } from "./tool-order.ts";
import { Threads, type ThreadState } from "./threads.ts";
import type { ConversationRecord } from "../shared-state/ports.ts";

// The pipeline's optimize step: the client's request in, the request the upstream gets out, and
// a report of what was done. Deterministic: the same request after the same earlier requests of
// its thread gives the same bytes. Profiles (README "Token economy"):
// - full: lossless; tools in a sticky order, so a tool loaded mid-conversation cannot break the
//   upstream's cached prefix;
// - small (models with a window of at most OPTIMIZE_SMALL_WINDOW_TOKENS): also compact tools,
//   slim system prompt, stepwise clearing of old tool results;
// - off: the request as the client sent it.

export type Profile = ThreadState["profile"];

export interface OptimizeSettings {
  profile: OptimizeProfileSetting;
  disabled: readonly OptimizePiece[];
  smallWindowTokens: number;
  clearTrigger: number;
  clearTarget: number;
  keepToolResults: number;
  maxSessions: number;
}

/** Where the request goes: decides `auto` and the small profile's trigger. */
export interface OptimizeTarget {
  /** Anthropic-wire upstreams get Claude Code's request as it is under `auto`. */
  anthropicWire: boolean;
  /** The upstream model, for its tokenizer. */
  model: string | undefined;
  contextWindow: number | undefined;
}

export interface OptimizeContext {
  /** The conversation thread (session + agent); undefined when the client names none. */
  thread: string | undefined;
  /** The request's x-lynkr-optimize header, if any: a profile for this request alone. */
  header: string | null | undefined;
  target: OptimizeTarget;
  /** The thread's record shared by replicas (LYNKR_REDIS_URL), already read; absent: this process's state only. */
  shared?: ConversationRecord;
}

export interface OptimizeReport {
  profile: Profile;
  /** What was done, as `piece=what` entries, in a fixed order. */
  actions: string[];
  /** Tool results replaced by a placeholder in this request. */
  clearedToolResults: number;
  /** Whether a clearing edit fired here (this request's prefix differs from the last one's). */
  clearingFired: boolean;
}

export interface Optimized {
  request: MessagesRequest;
  report: OptimizeReport;
}

/** The x-lynkr-optimize response header: `off`, or `profile=small,tools=compact,…`. */
export function reportHeader(report: OptimizeReport): string {
  return report.profile === "off" ? "off" : [`profile=${report.profile}`, ...report.actions].join(",");
}

function headerProfile(header: string | null | undefined): OptimizeProfileSetting | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim().toLowerCase();
  if ((optimizeProfiles as readonly string[]).includes(value)) return value as OptimizeProfileSetting;
  throw new InvalidRequestError(`x-lynkr-optimize: ${JSON.stringify(header.slice(0, 40))} is not a profile; expected one of: ${optimizeProfiles.join(", ")}`, {
    headers: { "x-should-retry": "false" },
  });
}

export class Optimizer {
  private readonly threads: Threads;
  private readonly disabled: ReadonlySet<OptimizePiece>;

  constructor(readonly settings: OptimizeSettings) {
    this.threads = new Threads(settings.maxSessions);
    this.disabled = new Set(settings.disabled);
  }

  private resolve(setting: OptimizeProfileSetting, target: OptimizeTarget): Profile {
    if (setting !== "auto") return setting;
    if (target.anthropicWire) return "off";
    const window = target.contextWindow;
    return window !== undefined && window <= this.settings.smallWindowTokens ? "small" : "full";
  }

  /**
   * Whether a request to such an upstream can use its thread's state: under `auto` Anthropic-wire
   * upstreams get the request as sent, and `off` keeps nothing, unless the request's header asks
   * for a profile.
   */
  usesThreadState(anthropicWire: boolean, header: string | null): boolean {
    if (header !== null) return true;
    return this.settings.profile === "auto" ? !anthropicWire : this.settings.profile !== "off";
  }

  private on(piece: OptimizePiece): boolean {
    return !this.disabled.has(piece);
  }

  optimize(request: MessagesRequest, ctx: OptimizeContext): Optimized {
    const asked = headerProfile(ctx.header);
    const off: Optimized = { request, report: { profile: "off", actions: [], clearedToolResults: 0, clearingFired: false } };
    if (asked === "off") return off;
    const state = this.threads.get(ctx.thread, this.resolve(this.settings.profile, ctx.target), ctx.shared);
    // A header's profile holds for its request alone; the thread keeps the one it started with.
    const profile = asked === undefined ? state.profile : this.resolve(asked, ctx.target);
    if (profile === "off") {
      this.threads.set(ctx.thread, state, ctx.shared);
      return off;
    }
    const actions: string[] = [];
    let out = request;
    let toolOrder = state.toolOrder;
    if (this.on("tool-order") && request.tools && request.tools.length > 0) {
      const sticky = stickyToolOrder(request.tools, state.toolOrder);
      toolOrder = sticky.order;
      if (reordered(request.tools, sticky.tools)) actions.push("tool-order=sticky");
      out = { ...out, tools: sticky.tools };
    }
    let clearedThrough = state.clearedThrough;
    let clearedToolResults = 0;
    let clearingFired = false;
    if (profile === "small") {
      if (this.on("tools") && out.tools && out.tools.length > 0) {
        out = { ...out, tools: out.tools.map(compactTool) };
        actions.push("tools=compact");
      }
      if (this.on("system")) {
        out = slimSystem(out);
        actions.push("system=slim");
      }
      const window = ctx.target.contextWindow;
      if (this.on("tool-results") && window !== undefined) {
        const model = ctx.target.model;
        const encoding = encodingFor(model);
        const trigger = Math.floor(window * this.settings.clearTrigger);
        const clearing = clearToolResults(out, clearedThrough, {
          trigger,
          target: Math.floor(window * Math.min(this.settings.clearTarget, this.settings.clearTrigger)),
          keep: this.settings.keepToolResults,
          clearAtLeast: Math.min(2_048, Math.floor(window / 16)),
          // Counted only when its size says it may be past the trigger (counting costs ms; most requests are clearly under).
          countRequest: (r) => countIfNear(r, Buffer.byteLength(JSON.stringify(r)), trigger, model) ?? 0,
          countText: (text) => countTextTokens(text, encoding),
        });
        out = clearing.request;
        clearedThrough = clearing.through;
        clearedToolResults = clearing.cleared;
        clearingFired = clearing.fired;
        if (clearing.cleared > 0) actions.push(`tool-results=cleared:${clearing.cleared}`);
      }
    }
    this.threads.set(ctx.thread, { profile: state.profile, toolOrder, clearedThrough }, ctx.shared);
    return { request: out, report: { profile, actions, clearedToolResults, clearingFired } };
  }
}
