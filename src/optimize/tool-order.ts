import type { Tool } from "../anthropic/schema.ts";

// A model reads its tools before the conversation, so a tool list that changes in the middle
// loses every cached token after the change. Claude Code inserts a deferred tool it loads
// (ToolSearch → WebFetch) in sorted position: sticky order keeps every tool seen before in the
// place it had, and appends new ones, so the list only ever grows at its end.

/**
 * The tools in the thread's order: those in `known` first, in that order, then new ones in the
 * client's order. Returns the tools and the order to remember (known ones a request left out
 * keep their place for when they come back).
 */
export function stickyToolOrder(tools: Tool[], known: readonly string[]): { tools: Tool[]; order: string[] } {
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  const ordered: Tool[] = [];
  for (const name of known) {
    const tool = byName.get(name);
    if (tool) ordered.push(tool);
  }
  const seen = new Set(known);
  const order = [...known];
  for (const tool of tools) {
    if (seen.has(tool.name)) continue;
    seen.add(tool.name);
    order.push(tool.name);
    ordered.push(tool);
  }
  // Duplicate names (invalid upstream anyway) are kept, after the rest, rather than dropped.
  if (ordered.length < tools.length) for (const tool of tools) if (!ordered.includes(tool)) ordered.push(tool);
  return { tools: ordered, order };
}

/** Whether sticky order moved any tool from where the client put it. */
export function reordered(before: readonly Tool[], after: readonly Tool[]): boolean {
  return before.some((tool, i) => after[i] !== tool);
}
