import { createHash } from "node:crypto";

/**
 * Anthropic's metadata.user_id → OpenAI's `user`. OpenAI refuses a `user` longer than 64
 * characters, and Claude Code's user_id is a JSON string of about 150: a longer id goes as its
 * SHA-256 (hex, 64 characters), the same for every turn.
 */
export function convertEndUser(userId: string): string {
  return userId.length <= 64 ? userId : createHash("sha256").update(userId).digest("hex");
}
