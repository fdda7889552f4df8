import { z } from "zod";
import { fraction, int, oneOf } from "../fields.ts";

// What lynkr does to a request's tokens before it goes upstream (src/optimize/, README "Token
// economy"): a profile, and each piece switchable on its own.

export const optimizeProfiles = ["auto", "full", "small", "off"] as const;
export type OptimizeProfileSetting = (typeof optimizeProfiles)[number];

/** The pieces, by the names the x-lynkr-optimize header and OPTIMIZE_DISABLE use. */
export const optimizePieces = ["tool-order", "tools", "system", "tool-results"] as const;
export type OptimizePiece = (typeof optimizePieces)[number];

const pieceList = z
  .string()
  .optional()
  .transform((value, ctx): OptimizePiece[] => {
    const out: OptimizePiece[] = [];
    for (const raw of (value ?? "").split(",")) {
      const name = raw.trim();
      if (name === "") continue;
      if ((optimizePieces as readonly string[]).includes(name)) out.push(name as OptimizePiece);
      else ctx.addIssue({ code: "custom", message: `"${name}" is not a piece; expected a comma-separated list of: ${optimizePieces.join(", ")}` });
    }
    return out;
  });

export const optimizeEnv = {
  /**
   * auto: small for models whose window is at most OPTIMIZE_SMALL_WINDOW_TOKENS, full for other
   * translated backends, off for Anthropic-wire ones (Claude Code already shapes its requests
   * for Anthropic's cache). full: lossless only. small: also compacts. off: as the client sent it.
   */
  OPTIMIZE_PROFILE: oneOf(optimizeProfiles, "auto"),
  /** Pieces left out whatever the profile, comma-separated. */
  OPTIMIZE_DISABLE: pieceList,
  OPTIMIZE_SMALL_WINDOW_TOKENS: int(32_768, 1_024),
  /**
   * Small profile: old tool results are cleared once the prompt passes this share of the window
   * (the high-water mark; what is left of the window is the answer's room).
   */
  OPTIMIZE_CLEAR_TRIGGER: fraction(0.85),
  /** Small profile: an edit clears the oldest tool results until the prompt is under this share of the window (the low-water mark). */
  OPTIMIZE_CLEAR_TARGET: fraction(0.5),
  /** Small profile: the latest tool results that are never cleared (those of the latest user message never are). */
  OPTIMIZE_KEEP_TOOL_RESULTS: int(1, 0),
  /** Conversations whose optimization state (tool order, decisions) is kept in memory, least recently used out. */
  OPTIMIZE_MAX_SESSIONS: int(10_000, 1),
};
