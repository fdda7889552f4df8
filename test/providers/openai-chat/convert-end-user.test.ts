import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { convertEndUser } from "../../../src/providers/openai-chat/convert-end-user.ts";
import { freshRequest } from "../recorded.ts";

test("Claude Code's user_id (a JSON string over OpenAI's 64 characters) goes as its SHA-256, the same every turn", async () => {
  const userId = (await freshRequest()).metadata?.user_id ?? "";
  expect(userId.length).toBeGreaterThan(64);
  const user = convertEndUser(userId);
  expect(user).toBe(createHash("sha256").update(userId).digest("hex"));
  expect(user).toHaveLength(64);
  expect(convertEndUser(userId)).toBe(user);
});

test("a short id goes as it is", () => {
  expect(convertEndUser("user-42")).toBe("user-42");
});
