import type { Labels, Registry } from "./registry.ts";

// Prometheus text exposition format 0.0.4: HELP and TYPE per metric, escaped label values,
// cumulative histogram buckets ending in +Inf, then _sum and _count.

export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function escapeHelp(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function num(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

export function toPrometheus(registry: Registry): string {
  const lines: string[] = [];
  for (const metric of registry.all()) {
    lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.type}`);
    if (metric.type === "histogram") {
      for (const { labels, value } of metric.entries()) {
        let cumulative = 0;
        for (const [i, bound] of metric.bounds.entries()) {
          cumulative += value.buckets[i] ?? 0;
          lines.push(`${metric.name}_bucket${labelText(labels, ["le", num(bound)])} ${cumulative}`);
        }
        lines.push(`${metric.name}_bucket${labelText(labels, ["le", "+Inf"])} ${value.count}`);
        lines.push(`${metric.name}_sum${labelText(labels)} ${num(value.sum)}`);
        lines.push(`${metric.name}_count${labelText(labels)} ${value.count}`);
      }
    } else {
      for (const { labels, value } of metric.entries()) lines.push(`${metric.name}${labelText(labels)} ${num(value.n)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
