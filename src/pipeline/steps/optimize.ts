import type { Step } from "../turn.ts";

/** The slot for token optimization (tools, history, truncation): nothing to do yet. */
export const optimizeStep: Step = {
  name: "optimize",
  run: () => undefined,
};
