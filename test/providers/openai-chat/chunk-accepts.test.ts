import { expect, test } from "bun:test";
import { certainlyChatChunk } from "../../../src/providers/openai-chat/chunk-accepts.ts";
import { chatChunkSchema } from "../../../src/providers/openai-chat/wire.ts";
import { isStream, recordedChunks, recordingFolders, recordings } from "./replay.ts";

// The fast check may only say "valid" where zod accepts the chunk as it is; on what real
// upstreams stream it should say so (else every chunk would still pay for zod).

async function allRecordedChunks(): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const folder of recordingFolders) {
    for (const file of recordings(folder).filter(isStream)) out.push(...(await recordedChunks(`${folder}/${file}`)));
  }
  return out;
}

test("every recorded chunk is certainly valid, and zod accepts it as it is", async () => {
  const chunks = await allRecordedChunks();
  expect(chunks.length).toBeGreaterThan(100);
  let certain = 0;
  for (const chunk of chunks) {
    const parsed = chatChunkSchema.safeParse(chunk);
    expect(parsed.success).toBe(true);
    if (certainlyChatChunk(chunk)) {
      certain++;
      expect(parsed.data).toEqual(chunk as never);
    }
  }
  expect(certain).toBe(chunks.length);
});

/** Every path to a value inside `value`. */
function paths(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

const replacements: unknown[] = [null, "", "x", 0, -1, 1.5, 2 ** 60, Infinity, true, [], [{}], [{ type: "text" }], [{ type: 1 }], {}, { name: 1 }, { type: "text", text: 2 }, { prompt_tokens: "1" }];

test("whatever a chunk is mutated into, the fast check never accepts what zod refuses", async () => {
  const chunks = await allRecordedChunks();
  let seed = 11;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n);
  };
  const outcomes = { bothAccept: 0, zodOnly: 0, bothRefuse: 0 };
  for (let n = 0; n < 6000; n++) {
    const mutated = structuredClone(chunks[random(chunks.length)]);
    for (let m = 1 + random(2); m > 0; m--) {
      const all = paths(mutated).filter((p) => p.length > 0);
      if (all.length === 0) break;
      const path = all[random(all.length)] as (string | number)[];
      let parent: unknown = mutated;
      for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
      const container = parent as Record<string | number, unknown>;
      const last = path.at(-1) as string | number;
      if (random(8) === 0 && !Array.isArray(parent)) delete container[last];
      else container[last] = structuredClone(replacements[random(replacements.length)]);
    }
    const fast = certainlyChatChunk(mutated);
    const zod = chatChunkSchema.safeParse(mutated);
    if (fast && !zod.success) throw new Error(`the fast check accepted what zod refuses: ${JSON.stringify(mutated)}`);
    if (fast) expect(zod.data).toEqual(mutated as never);
    if (fast) outcomes.bothAccept++;
    else if (zod.success) outcomes.zodOnly++;
    else outcomes.bothRefuse++;
  }
  expect(outcomes.bothAccept).toBeGreaterThan(500);
  expect(outcomes.bothRefuse).toBeGreaterThan(500);
});
