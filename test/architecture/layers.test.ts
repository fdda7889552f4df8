import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// The layering rule of README.md ("Architecture"), read off the import graph of src/: imports
// point down the layers, never up; only src/server/ speaks HTTP (imports hono, builds a
// Response). A new folder must be given its place here before anything may import it.

const src = resolve(import.meta.dir, "../../src");

/** Top to bottom; a file may import from its own layer and the layers below it. */
const layers: readonly (readonly string[])[] = [
  ["cli"],
  // The composition root: builds everything and wires it together.
  ["app.ts", "turn-subscribers.ts"],
  ["server"],
  ["pipeline"],
  // What the pipeline's steps (and the CLI) use: each may call routing, none calls back up.
  ["agent", "mcp", "tools", "memory", "usage", "doctor"],
  ["routing"],
  ["providers"],
  // Request shaping and token counting, the prompt cache and its LRU: routing, providers and the
  // steps all use them.
  ["optimize", "cache"],
  ["anthropic"],
];
/** Beside the request path: anything may import them; they import only each other and anthropic/. */
const beside = ["config", "store", "observability", "shared-state"];
/** Except that the configuration checks each provider kind's variables with that kind's descriptor. */
const descriptor = /^providers\/(descriptors?\.ts|[^/]+\/descriptor\.ts)$/;
const httpFree = ["pipeline", "routing", "providers"];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The folder under src/ (or the file, for the root) a path belongs to. */
function unitOf(path: string): string {
  return relative(src, path).split("/")[0] ?? "";
}

function rankOf(unit: string): number | undefined {
  const i = layers.findIndex((layer) => layer.includes(unit));
  return i === -1 ? undefined : i;
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(text: string): string[] {
  return [...text.matchAll(importPattern)].map((m) => m[1] ?? m[2] ?? "");
}

const sources = files(src).map((path) => ({ path, unit: unitOf(path), text: readFileSync(path, "utf8") }));

test("every folder of src/ has its place in the layers", () => {
  const placed = new Set([...layers.flat(), ...beside]);
  expect([...new Set(sources.map((s) => s.unit))].filter((u) => !placed.has(u))).toEqual([]);
});

test("no import points up the layers, and what is beside the request path stays beside it", () => {
  const wrong: string[] = [];
  for (const { path, unit, text } of sources) {
    for (const spec of importsOf(text)) {
      if (!spec.startsWith(".")) continue;
      const resolved = resolve(dirname(path), spec);
      // package.json and the like: not code of a layer.
      if (!resolved.startsWith(`${src}/`)) continue;
      const target = unitOf(resolved);
      if (target === unit) continue;
      const at = `${relative(src, path)} imports ${relative(src, resolved)}`;
      if (beside.includes(unit)) {
        if (unit === "config" && descriptor.test(relative(src, resolved))) continue;
        if (!beside.includes(target) && target !== "anthropic") wrong.push(`${at} (${unit}/ is beside the request path)`);
        continue;
      }
      if (beside.includes(target)) continue;
      const from = rankOf(unit);
      const to = rankOf(target);
      if (from === undefined || to === undefined || to < from) wrong.push(`${at} (up the layers)`);
    }
  }
  expect(wrong).toEqual([]);
});

test("only src/server/ speaks HTTP: pipeline, routing and providers neither import hono nor build a Response", () => {
  const wrong: string[] = [];
  for (const { path, unit, text } of sources) {
    const imports = importsOf(text);
    if (unit !== "server" && imports.some((spec) => spec === "hono" || spec.startsWith("hono/"))) wrong.push(`${relative(src, path)} imports hono`);
    if (httpFree.includes(unit) && /\bnew Response\(|\bResponse\.(json|error|redirect)\(/.test(text)) wrong.push(`${relative(src, path)} builds a Response`);
  }
  expect(wrong).toEqual([]);
});

test("the check sees imports in each form they take", () => {
  expect(importsOf('import { a } from "./a.ts";\nimport type { B } from "../b.ts";\nexport { c } from "./c.ts";\nconst d = await import("./d.ts");')).toEqual(["./a.ts", "../b.ts", "./c.ts", "./d.ts"]);
  expect(importsOf('import {\n  x,\n  y,\n} from "hono";')).toEqual(["hono"]);
});
