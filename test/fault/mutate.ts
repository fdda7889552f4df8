// Hostile variations of a real Claude Code request, generated deterministically from a seed:
// wrong types, missing fields, huge and deep values, unknown blocks, absurd numbers, invalid
// UTF-8 and broken JSON. Each is what a buggy or malicious client could send.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

export interface Attack {
  path: "/v1/messages" | "/v1/messages/count_tokens";
  body: Uint8Array;
  /** What was done to the request, for a failure's message. */
  what: string;
}

/** Every node's path in `value`, the root's children first. */
function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) value.forEach((item, i) => (out.push([...prefix, i]), pathsOf(item, [...prefix, i], out)));
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      out.push([...prefix, key]);
      pathsOf(item, [...prefix, key], out);
    }
  }
  return out;
}

function parentOf(root: Json, path: Path): { parent: Json[] | Record<string, Json>; key: string | number } | undefined {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, Json>)[key as string] as Json;
  }
  const key = path.at(-1);
  return node !== null && typeof node === "object" && key !== undefined ? { parent: node, key } : undefined;
}

/** Stands for a value nested `depth` deep, put into the text after serializing (JSON.stringify would overflow). */
const deepMarker = (depth: number) => `\u0001deep:${depth}\u0001`;
const deepMarkers = /"\\u0001deep:(\d+)\\u0001"/g;

function nestedText(depth: number): string {
  let open = "";
  let close = "";
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? "[" : '{"d":';
    close = (i % 2 === 0 ? "]" : "}") + close;
  }
  return `${open}"deep"${close}`;
}

const runLengths = [...Array<number>(10).fill(1_000), ...Array<number>(6).fill(10_000), ...Array<number>(3).fill(100_000), 1_000_000];
const wrongValues: Json[] = [null, true, 0, -1, 1.5, "", "x", [], {}, [null], { type: null }, "claude-opus-5-5"];
const absurdNumbers = [-1, 0, 1e308, -1e308, 2 ** 53 + 1, 1e-300, 4294967297, -0];
const unknownBlocks: Json[] = [
  { type: "mystery_block", payload: 1 },
  { type: "text" },
  { type: "image", source: { type: "base64", media_type: "image/png", data: "not base64!" } },
  { type: "tool_result" },
  { type: "thinking", thinking: 42 },
  {},
];
const invalidUtf8 = [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xf0, 0x28, 0x8c, 0xbc], [0xed, 0xa0, 0x80], [0x80, 0x80]];

export class Mutator {
  private readonly bases: { value: Json; paths: Path[] }[];

  constructor(
    request: Json,
    private readonly random: () => number,
  ) {
    // The real request, and a slimmer one (two tools, two system blocks) so that ten thousand
    // of them fit the suite's time; both are the CLI's own shapes.
    const record = request as Record<string, Json>;
    const slim = { ...record, tools: (record.tools as Json[]).slice(0, 2), system: (record.system as Json[]).slice(0, 2) };
    this.bases = [request, slim].map((value) => ({ value, paths: pathsOf(value) }));
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private int(below: number): number {
    return Math.floor(this.random() * below);
  }

  next(): Attack {
    const base = this.random() < 0.05 ? this.bases[0] : this.bases[1];
    if (!base) throw new Error("no base request");
    const request = structuredClone(base.value) as Record<string, Json>;
    const done: string[] = [];
    const mutations = 1 + this.int(3);
    for (let i = 0; i < mutations; i++) done.push(this.mutate(request, base.paths));
    if (this.random() < 0.5) request.stream = this.random() < 0.5;
    const path = this.random() < 0.15 ? "/v1/messages/count_tokens" : "/v1/messages";
    const text = JSON.stringify(request).replace(deepMarkers, (_marker, depth: string) => nestedText(Number(depth)));
    let body: Uint8Array = new TextEncoder().encode(text);
    const raw = this.random();
    if (raw < 0.04) {
      // Invalid UTF-8 inside the body (most likely inside a string).
      const bytes = this.pick(invalidUtf8);
      const at = this.int(body.length);
      body = concat(body.subarray(0, at), Uint8Array.from(bytes), body.subarray(at));
      done.push(`invalid UTF-8 ${bytes.map((b) => b.toString(16)).join(" ")} at byte ${at}`);
    } else if (raw < 0.06) {
      const at = this.int(body.length);
      body = body.subarray(0, at);
      done.push(`truncated at byte ${at}`);
    }
    return { path, body, what: done.join("; ") };
  }

  private mutate(request: Record<string, Json>, paths: Path[]): string {
    const kind = this.int(9);
    if (kind === 0) {
      const field = this.pick(["model", "max_tokens", "messages", "system", "tools", "thinking", "metadata", "stream", "tool_choice", "temperature"]);
      const value = this.pick(wrongValues);
      request[field] = value;
      return `top-level ${field} = ${JSON.stringify(value)}`;
    }
    if (kind === 1) {
      const field = this.pick(["max_tokens", "temperature", "top_p", "top_k"]);
      const value = this.pick(absurdNumbers);
      request[field] = value;
      return `${field} = ${value}`;
    }
    if (kind === 2) {
      const messages = request.messages;
      if (!Array.isArray(messages)) return "no messages to extend";
      const block = this.pick(unknownBlocks);
      messages.push({ role: this.pick(["user", "assistant", "system", "tool", ""]), content: [block] });
      return `message with block ${JSON.stringify(block)}`;
    }
    const path = this.pick(paths);
    const at = parentOf(request, path);
    if (!at) return `no node at ${path.join(".")}`;
    const { parent, key } = at;
    const set = (value: Json) => ((parent as Record<string, Json>)[key as string] = value);
    const where = path.join(".");
    switch (kind) {
      case 3:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        return `removed ${where}`;
      case 4: {
        const value = this.pick(wrongValues);
        set(value);
        return `${where} = ${JSON.stringify(value)}`;
      }
      case 5: {
        // Mostly kilobytes, now and then a megabyte: ten thousand of them still fit the suite's time.
        const length = this.pick(runLengths);
        set(this.pick(["=", "a", " ", "\n", "\u00e9", "{", "\\"]).repeat(length));
        return `${where} = a ${length}-character run`;
      }
      case 6: {
        const depth = this.pick([20, 127, 129, 1_000, 50_000]);
        set(deepMarker(depth));
        return `${where} nested ${depth} deep`;
      }
      case 7: {
        const value = this.pick(["\ud800", "\u0000", "\u202e", "\ufeff", "\udfff\ud800"]);
        set(value);
        return `${where} = ${JSON.stringify(value)}`;
      }
      default: {
        const value = this.pick(absurdNumbers);
        set(value);
        return `${where} = ${value}`;
      }
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
