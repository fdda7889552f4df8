import type { ContentBlockParam, MessageParam } from "../anthropic/schema.ts";

// What a finished turn may teach: statements the user made in the message that started it
// (preferences, decisions, conventions, facts), and decisions the assistant stated in its
// previous answer when the user's reply does not reject them. Never tool results, never system
// text (Claude Code's <system-reminder> blocks inside user messages are system text).

export interface Candidate {
  text: string;
  source: "user" | "assistant";
  /** The rest of the conversation's words, for the context-switch factor. */
  context: string;
}

const maxStatementChars = 300;
const maxCandidates = 8;
/** Bounds on what one turn is read for: its new user text, and the messages before it. */
const maxSaidChars = 20_000;
const contextMessages = 20;

/** Statements that say how things are or must be done, not questions or requests for one-off work. */
const userStatement = [
  /\b(always|never|don'?t|do not|must|should(?:n'?t)?|avoid|prefer|instead of|rather than|make sure|remember)\b/i,
  /\b(we|i|our team|this (?:repo|project|codebase))\s+(?:always\s+|usually\s+|now\s+|only\s+)?(use|prefer|want|like|keep|run|deploy|build|write|follow|decided|agreed|chose|go with)\b/i,
  /^(use|prefer|avoid|stick to|keep)\b/i,
  /\b(lives in|is in|are in|lives under|is located|is at|is generated|are generated|is deployed|runs on|is hosted|is called|is named|convention|our [a-z]+ is)\b/i,
];
const notAStatement = /\?\s*$|^(can|could|would|will|what|why|how|where|when|which|who|is|are|does|do|did)\b/i;

/** "I'll use X", "Decision: X", "We'll go with X", "Let's keep X". */
const assistantDecision = /^(?:i'?ll|i will|we'?ll|we will|let'?s|decision:|i decided to|i'?m going to)\s+(use|go with|keep|switch to|put|store|name|adopt|stick with|move)\b/i;
/** A reply that turns the previous answer down. */
const rejection = /^\s*(no\b|nope|don'?t|do not|stop|wrong|that'?s (?:not|wrong)|not (?:that|like)|instead\b|undo|revert)/i;

function plainTexts(content: MessageParam["content"]): string[] {
  if (typeof content === "string") return [content];
  return content.flatMap((block: ContentBlockParam) => (block.type === "text" && typeof block.text === "string" ? [block.text] : []));
}

const tagged = /<(system-reminder|command-[a-z-]+|local-command-[a-z-]+)>/g;

/** Text with tagged system blocks cut out; an unclosed one runs to the end. Linear in the text. */
function withoutTagged(text: string): string {
  let out = "";
  let at = 0;
  tagged.lastIndex = 0;
  for (let open = tagged.exec(text); open; open = tagged.exec(text)) {
    out += text.slice(at, open.index);
    const end = `</${open[1] ?? ""}>`;
    const close = text.indexOf(end, tagged.lastIndex);
    at = close < 0 ? text.length : close + end.length;
    tagged.lastIndex = at;
  }
  return out + text.slice(at);
}

/** The user's own words: reminders and other tagged system text removed. */
export function userWords(content: MessageParam["content"]): string {
  return plainTexts(content).map(withoutTagged).join("\n").trim();
}

function sentences(text: string): string[] {
  return text
    .replace(/```[\s\S]*?```/g, " ")
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replace(/^[\s*\-•>#\d.)]+/, "").trim())
    .filter((s) => s.length >= 8 && s.length <= maxStatementChars);
}

function isUserStatement(sentence: string): boolean {
  return !notAStatement.test(sentence) && userStatement.some((pattern) => pattern.test(sentence));
}

/**
 * Candidates from a request's messages: only what is new in this turn, so a tool loop (whose
 * later requests add only tool results) yields each statement once. `learntUpTo` is how many
 * messages an earlier request of the conversation was already learnt from: those are not read
 * again (a turn sent twice, or user messages sent after one that was answered by an error).
 */
export function extractCandidates(messages: readonly MessageParam[], learntUpTo = 0): Candidate[] {
  let lastAssistant = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === "assistant") {
      lastAssistant = i;
      break;
    }
  }
  const fresh = messages.slice(Math.max(lastAssistant + 1, learntUpTo)).filter((m) => m.role === "user");
  const said = fresh
    .map((m) => userWords(m.content))
    .filter((t) => t !== "")
    .join("\n")
    .slice(0, maxSaidChars);
  if (said === "") return [];
  const earlier = messages
    .slice(Math.max(0, lastAssistant - contextMessages), lastAssistant + 1)
    .filter((m) => m.role !== "system")
    .map((m) => (m.role === "user" ? userWords(m.content) : plainTexts(m.content).join("\n")))
    .join("\n")
    .slice(-4000);
  const out: Candidate[] = sentences(said)
    .filter(isUserStatement)
    .map((text) => ({ text, source: "user" as const, context: earlier }));

  const previous = lastAssistant >= 0 && lastAssistant >= learntUpTo ? messages[lastAssistant] : undefined;
  if (previous && !rejection.test(said)) {
    for (const text of sentences(plainTexts(previous.content).join("\n"))) {
      if (assistantDecision.test(text)) out.push({ text, source: "assistant", context: earlier });
    }
  }
  return out.slice(0, maxCandidates);
}
