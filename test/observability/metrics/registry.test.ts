import { expect, test } from "bun:test";
import { toPrometheus } from "../../../src/observability/metrics/prometheus.ts";
import { percentiles, Registry } from "../../../src/observability/metrics/registry.ts";

test("label values are escaped, histograms are cumulative and end in +Inf", () => {
  const registry = new Registry();
  registry.counter("x_total", "Help with a \\ backslash\nand a newline.", ["model"]).inc({ model: 'a "quoted"\\path\nnext' }, 2);
  const h = registry.histogram("d_seconds", "Durations.", ["p"], [0.1, 1]);
  for (const v of [0.05, 0.5, 0.5, 3]) h.observe({ p: "x" }, v);
  expect(toPrometheus(registry)).toBe(
    [
      "# HELP x_total Help with a \\\\ backslash\\nand a newline.",
      "# TYPE x_total counter",
      'x_total{model="a \\"quoted\\"\\\\path\\nnext"} 2',
      "# HELP d_seconds Durations.",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{p="x",le="0.1"} 1',
      'd_seconds_bucket{p="x",le="1"} 3',
      'd_seconds_bucket{p="x",le="+Inf"} 4',
      'd_seconds_sum{p="x"} 4.05',
      'd_seconds_count{p="x"} 4',
      "",
    ].join("\n"),
  );
});

test("a metric stops growing at 500 label sets: the rest fold into `other`", () => {
  const registry = new Registry();
  const c = registry.counter("m_total", "M.", ["model"]);
  for (let i = 0; i < 700; i++) c.inc({ model: `client-invented-${i}` });
  const series = [...c.entries()];
  expect(series).toHaveLength(501);
  expect(c.get({ model: "other" })).toBe(200);
});

test("percentiles come from the latest samples", () => {
  const registry = new Registry();
  const h = registry.histogram("l", "L.", [], [1]);
  for (let i = 1; i <= 100; i++) h.observe({}, i);
  const values = [...h.entries()].map((e) => e.value);
  expect(percentiles(values, [50, 95, 99])).toEqual([50, 95, 99]);
});

test("a label value is cut to 256 characters: an upstream's absurd model name cannot hold megabytes per series", () => {
  const registry = new Registry();
  const c = registry.counter("m_total", "M.", ["model"]);
  c.inc({ model: "m".repeat(1_000_000) });
  c.inc({ model: `${"m".repeat(256)}-other-tail` });
  const series = [...c.entries()];
  expect(series.length).toBe(1);
  expect(series[0]?.labels.model).toBe("m".repeat(256));
  expect(series[0]?.value.n).toBe(2);
});

test("recording finds each label set's one series, whatever order its labels come in, and past the bound still folds into `other`", () => {
  const registry = new Registry();
  const c = registry.counter("r_total", "R.", ["provider", "model", "status"]);
  for (let i = 0; i < 3; i++) {
    c.inc({ provider: "openai", model: "gpt-4o", status: "200" });
    c.inc({ status: "200", model: "gpt-4o", provider: "openai" }, 2);
    c.inc({ provider: "openai", model: "gpt-4o", status: "500" });
  }
  expect([...c.entries()].map((e) => [e.labels, e.value.n])).toEqual([
    [{ provider: "openai", model: "gpt-4o", status: "200" }, 9],
    [{ provider: "openai", model: "gpt-4o", status: "500" }, 3],
  ]);
  for (let i = 0; i < 600; i++) c.inc({ provider: "p", model: `m${i}`, status: "200" });
  for (let i = 0; i < 3; i++) c.inc({ provider: "p", model: "m599", status: "200" });
  expect(c.get({ provider: "other", model: "other", status: "other" })).toBe(600 + 2 - 500 + 3);
  expect(c.get({ provider: "openai", model: "gpt-4o", status: "200" })).toBe(9);
  expect([...c.entries()]).toHaveLength(501);
});
