import { z } from "zod";
import type { Memory } from "./store.ts";

// Export and import as JSON Lines: one memory per line, every field kept, so an export restored
// elsewhere ranks the same. Imported lines are checked one by one and bounded.

export const maxMemoryChars = 2000;
const maxImportLines = 100_000;

const memoryLineSchema = z.strictObject({
  id: z.number().int().optional(),
  scope: z.string().regex(/^(project:\/.*|client:.+|global)$/, { error: 'expected "project:/abs/dir", "client:NAME" or "global"' }).max(4200),
  text: z.string().trim().min(1).max(maxMemoryChars),
  source: z.enum(["user", "assistant", "manual"]),
  importance: z.number().min(0).max(1),
  mentions: z.number().int().min(1),
  uses: z.number().int().min(0),
  createdAt: z.number().int().min(0),
  updatedAt: z.number().int().min(0),
  lastUsedAt: z.number().int().min(0).nullable(),
});

export function toJsonLines(memories: readonly Memory[]): string {
  return memories.map((m) => `${JSON.stringify(m)}\n`).join("");
}

export class ImportError extends Error {}

/** Parses every line, or throws naming each bad line (at most five). */
export function fromJsonLines(text: string): Omit<Memory, "id">[] {
  const lines = text.split("\n").map((l) => l.trim());
  if (lines.length > maxImportLines) throw new ImportError(`at most ${maxImportLines} lines per import`);
  const out: Omit<Memory, "id">[] = [];
  const problems: string[] = [];
  for (const [i, line] of lines.entries()) {
    if (line === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      problems.push(`line ${i + 1}: not JSON`);
      continue;
    }
    const parsed = memoryLineSchema.safeParse(json);
    if (!parsed.success) {
      problems.push(`line ${i + 1}: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "line"}: ${issue.message}`).join("; ")}`);
      continue;
    }
    const { id: _id, ...memory } = parsed.data;
    out.push(memory);
  }
  if (problems.length > 0) throw new ImportError(problems.slice(0, 5).join("\n"));
  return out;
}
