import { z } from "zod";
import { messageSchema, type Message } from "../anthropic/schema.ts";
import type { PromptKey } from "./key.ts";

// One cached answer, as every tier holds it: the Message and, when the answer was streamed, its
// events exactly as they were sent, so a streamed hit is byte-identical to the original stream.

export interface CachedFrame {
  type: string;
  /** The `data:` text as it went to the client. */
  data: string;
}

export interface CacheEntry {
  message: Message;
  frames?: CachedFrame[];
  fingerprint: number;
  expiresAt: number;
}

/** An entry as this process holds it: `id` computes the SHA-256 key when first needed. */
export type Stored = CacheEntry & { id: PromptKey; createdAt: number };

/**
 * What a tier outside this process holds (PostgreSQL's row, Redis's value): read back as outside
 * input. The message keeps its members in their order (loose objects), so a JSON hit is the
 * same bytes as the answer it replays.
 */
export const storedEntrySchema = z.object({
  message: messageSchema,
  frames: z.array(z.object({ type: z.string(), data: z.string() })).optional(),
  fingerprint: z.number().int().nonnegative(),
});

/** The JSON text a tier outside this process stores. */
export function entryText(e: Pick<CacheEntry, "message" | "frames" | "fingerprint">): string {
  return JSON.stringify({ message: e.message, frames: e.frames, fingerprint: e.fingerprint });
}

/** An entry's stored text back, or undefined when it is not one (cut short, another shape). */
export function parseEntry(text: string, expiresAt: number): CacheEntry | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Checked, but kept as read: zod's output could order (or default) members differently.
  if (!storedEntrySchema.safeParse(json).success) return undefined;
  const { message, frames, fingerprint } = json as Omit<CacheEntry, "expiresAt">;
  return { message, ...(frames ? { frames } : {}), fingerprint, expiresAt };
}
