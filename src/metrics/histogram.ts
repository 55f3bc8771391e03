/**
 * A Prometheus histogram for the hot paths (every SQLite write, every HTTP
 * answer). prom-client's Histogram validates, sorts and hashes the labels on
 * every observation, even through a child; here a label set is looked up once
 * and an observation is a bucket search and three additions. It registers in a
 * prom-client Registry like any metric and is exposed in the same text format
 * (cumulative `le` buckets, `+Inf`, `_sum`, `_count`).
 */
import type { Metric, MetricValue, Registry } from 'prom-client';

interface Series<L extends string> {
  labels: Record<L, string>;
  /** observations per bucket (not cumulative); the last is +Inf */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series<L>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The observer of one label set (kept: call it once per set and reuse it). */
  labels(values: Record<L, string>): (value: number) => void {
    const s = this.seriesOf(values);
    return (value: number) => this.record(s, value);
  }

  observe(values: Record<L, string>, value: number): void {
    this.record(this.seriesOf(values), value);
  }

  private record(s: Series<L>, value: number): void {
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  private seriesOf(values: Record<L, string>): Series<L> {
    let key = '';
    for (const n of this.labelNames) key += `${values[n]}\u0000`;
    let s = this.series.get(key);
    if (!s) {
      const labels = {} as Record<L, string>;
      for (const n of this.labelNames) labels[n] = values[n];
      s = { labels, counts: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  /** What the Registry reads at a scrape. */
  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: MetricValue<string>[] } {
    const values: MetricValue<string>[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i <= this.upperBounds.length; i++) {
        acc += s.counts[i]!;
        const le = i < this.upperBounds.length ? this.upperBounds[i]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: acc } as MetricValue<string>);
      }
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum } as MetricValue<string>);
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count } as MetricValue<string>);
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }
}
