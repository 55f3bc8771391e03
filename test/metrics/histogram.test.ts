/** FastHistogram against prom-client's own Histogram: the same observations give the same exposition text. */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from '../../src/metrics/histogram.js';

describe('FastHistogram', () => {
  it('exposes what prom-client\'s Histogram exposes for the same observations', async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['kind', 'status'], buckets, registers: [theirs] });
    const fast = new FastHistogram('x_seconds', 'h', ['kind', 'status'], buckets, ours);
    const insert = fast.labels({ kind: 'INSERT', status: '200' });
    // on a bound, between bounds, above the last, zero
    for (const v of [0.001, 0.0005, 0.01, 0.05, 0.5, 1, 3, 0]) {
      reference.observe({ kind: 'INSERT', status: '200' }, v);
      insert(v);
    }
    reference.observe({ kind: 'UPDATE', status: '500' }, 0.02);
    fast.observe({ kind: 'UPDATE', status: '500' }, 0.02);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('x_seconds_bucket{le="0.001",kind="INSERT",status="200"} 3');
  });

  it('is emptied by the registry\'s reset', async () => {
    const r = new Registry();
    const fast = new FastHistogram('y_seconds', 'h', ['k'], [1], r);
    fast.observe({ k: 'a' }, 0.5);
    r.resetMetrics();
    expect(await r.metrics()).not.toContain('y_seconds_count');
  });
});
