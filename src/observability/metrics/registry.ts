// An in-process metrics registry: counters, gauges and histograms keyed by label values. Recording
// is a Map lookup and a few additions on the request's own thread (no lock, no syscall, no I/O);
// the text and JSON views are built only when scraped.

export type Labels = Readonly<Record<string, string>>;

/** Series beyond this per metric fold into one `other` series, so clients cannot blow up memory. */
const maxSeriesPerMetric = 500;
/** Label values are cut to this many characters (an upstream may name its model anything). */
const maxLabelLength = 256;

const bounded = (value: string) => (value.length > maxLabelLength ? value.slice(0, maxLabelLength) : value);

interface Series<V> {
  labels: Labels;
  value: V;
}

/** Label values to a series' value, one level per label name, so that a lookup builds no key. */
type Index<V> = Map<string, Index<V> | V>;

abstract class Metric<V> {
  protected readonly series = new Map<string, Series<V>>();
  /**
   * The same series by their label values, level by level: recording (a dozen lookups per
   * request) then concatenates no key string and hashes only values it has seen before.
   * Holds only series that `series` holds: label values folded into `other` past the bound are
   * looked up the slow way each time, so hostile values cannot grow it.
   */
  private readonly index: Index<V> = new Map();
  private unlabelled: V | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  abstract readonly type: "counter" | "gauge" | "histogram";
  protected abstract initial(): V;

  protected at(labels: Labels): V {
    const names = this.labelNames;
    if (names.length === 0) return (this.unlabelled ??= this.slowAt(labels));
    let level: Index<V> | V | undefined = this.index;
    for (const name of names) {
      level = (level as Index<V>).get(bounded(labels[name] ?? ""));
      if (level === undefined) return this.slowAt(labels);
    }
    return level as V;
  }

  private slowAt(labels: Labels): V {
    let key = "";
    for (const name of this.labelNames) key += `${bounded(labels[name] ?? "")}\u0001`;
    let entry = this.series.get(key);
    if (entry === undefined) {
      if (this.series.size >= maxSeriesPerMetric) return this.overflow();
      entry = { labels: pick(labels, this.labelNames), value: this.initial() };
      this.series.set(key, entry);
    }
    this.indexed(labels, entry.value);
    return entry.value;
  }

  private indexed(labels: Labels, value: V): void {
    const names = this.labelNames;
    let level = this.index;
    for (let i = 0; i < names.length; i++) {
      const label = bounded(labels[names[i] as string] ?? "");
      if (i === names.length - 1) {
        level.set(label, value);
        return;
      }
      let next = level.get(label) as Index<V> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(label, next);
      }
      level = next;
    }
  }

  private overflow(): V {
    const labels = Object.fromEntries(this.labelNames.map((n) => [n, "other"]));
    const key = this.labelNames.map(() => "other\u0001").join("");
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels, value: this.initial() };
      this.series.set(key, entry);
    }
    return entry.value;
  }

  entries(): Iterable<Series<V>> {
    return this.series.values();
  }
}

function pick(labels: Labels, names: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (const name of names) out[name] = bounded(labels[name] ?? "");
  return out;
}

export class Counter extends Metric<{ n: number }> {
  readonly type = "counter";
  protected initial() {
    return { n: 0 };
  }
  inc(labels: Labels = {}, by = 1): void {
    this.at(labels).n += by;
  }
  get(labels: Labels = {}): number {
    return this.at(labels).n;
  }
}

export class Gauge extends Metric<{ n: number }> {
  readonly type = "gauge";
  protected initial() {
    return { n: 0 };
  }
  set(labels: Labels, value: number): void {
    this.at(labels).n = value;
  }
}

export interface HistogramValue {
  /** Cumulative counts are computed at scrape time; these are per bucket. */
  buckets: Float64Array;
  sum: number;
  count: number;
  /** The latest samples, for percentiles in the JSON view. */
  recent: Float64Array;
  next: number;
}

const recentSamples = 1024;

export class Histogram extends Metric<HistogramValue> {
  readonly type = "histogram";

  constructor(name: string, help: string, labelNames: readonly string[], readonly bounds: readonly number[]) {
    super(name, help, labelNames);
  }

  protected initial(): HistogramValue {
    return { buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0, recent: new Float64Array(recentSamples), next: 0 };
  }

  observe(labels: Labels, value: number): void {
    const h = this.at(labels);
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    h.buckets[i] = (h.buckets[i] ?? 0) + 1;
    h.sum += value;
    h.count++;
    h.recent[h.next % recentSamples] = value;
    h.next++;
  }
}

/** p-th percentiles (0-100) over the recent samples of the given series, merged. */
export function percentiles(values: Iterable<HistogramValue>, ps: readonly number[]): number[] {
  const all: number[] = [];
  for (const h of values) {
    const n = Math.min(h.next, recentSamples);
    for (let i = 0; i < n; i++) all.push(h.recent[i] as number);
  }
  if (all.length === 0) return ps.map(() => 0);
  all.sort((a, b) => a - b);
  return ps.map((p) => all[Math.min(all.length - 1, Math.max(0, Math.ceil((p / 100) * all.length) - 1))] as number);
}

export class Registry {
  private readonly metrics: (Counter | Gauge | Histogram)[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }
  histogram(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, bounds));
  }

  all(): readonly (Counter | Gauge | Histogram)[] {
    return this.metrics;
  }

  private add<M extends Counter | Gauge | Histogram>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
}
