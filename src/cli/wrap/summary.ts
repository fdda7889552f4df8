import type { SessionFigures } from "../../store/session-report.ts";

// The paragraph `lynkr wrap` prints when the command ends.

const n = (value: number) => value.toLocaleString("en-US");

export function sessionSummary(f: SessionFigures & { providers: string[] }, elapsedMs: number, gatewayNote: string): string {
  const seconds = Math.round(elapsedMs / 100) / 10;
  if (f.requests === 0 && f.turns === 0) return `lynkr: no requests in ${seconds}s; ${gatewayNote}.`;
  const parts = [
    `lynkr: ${n(f.requests)} request${f.requests === 1 ? "" : "s"} in ${seconds}s via ${f.providers.join(", ") || "?"}`,
    `${n(f.input_tokens + f.cache_read_input_tokens + f.cache_creation_input_tokens)} input tokens (${n(f.cache_read_input_tokens)} cached), ${n(f.output_tokens)} output`,
    `$${f.cost_usd.toFixed(4)}${f.saved_usd > 0 ? ` (saved $${f.saved_usd.toFixed(4)} from lynkr's cache)` : ""}`,
    `${n(f.fallbacks)} fallback${f.fallbacks === 1 ? "" : "s"}`,
    `${n(f.errors)} error${f.errors === 1 ? "" : "s"}`,
  ];
  return `${parts.join("; ")}; ${gatewayNote}.`;
}
