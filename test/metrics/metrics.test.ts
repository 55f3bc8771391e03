/**
 * GET /metrics of a daemon connected to the simulated Asterisk: a call placed
 * through the API shows in the call, HTTP, makeCall and SQLite metrics, a cut
 * AMI link in the connection metrics; the token rules; the outbox metrics
 * the connectors register.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';

/** Prometheus text → sample lines by `name{labels}` (labels as written). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** The sample whose name and labels match (labels in any order). */
function value(s: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const [key, v] of s) {
    const m = /^([^{]+)(?:\{(.*)\})?$/.exec(key)!;
    if (m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, val]) => have[k] === val)) return v;
  }
  return undefined;
}

let h: Harness;
const scrape = async (init?: RequestInit) => {
  const res = await fetch(`http://127.0.0.1:${h.daemon.port}/metrics`, init);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};

beforeAll(async () => {
  h = await startHarness({ control: 'ari' });
}, 30_000);
afterAll(async () => h?.close());

describe('/metrics', () => {
  it('has the process metrics and the links', async () => {
    const r = await scrape();
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = samples(r.text);
    expect(value(s, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(s, 'nodejs_eventloop_lag_seconds')).toBeDefined();
    expect(value(s, 'callbridge_asterisk_connected', { link: 'ami' })).toBe(1);
    expect(value(s, 'callbridge_asterisk_connected', { link: 'ari' })).toBe(1);
    expect(value(s, 'callbridge_asterisk_connects_total', { link: 'ami' })).toBe(1);
    expect(value(s, 'callbridge_asterisk_reconnect_attempts_total', { link: 'ari' })).toBe(0);
    // the resync's list actions bring their own items; FullyBooted and the like are counted as events
    expect([...s.keys()].some((k) => k.startsWith('callbridge_ami_events_total{'))).toBe(true);
    expect(value(s, 'callbridge_sip_endpoints', { status: 'online' })).toBeGreaterThan(0);
    expect(value(s, 'callbridge_open_calls', { origin: 'click-to-call' })).toBe(0);
  });

  it('counts a click-to-call from CALL to FINISH, its makeCall and HTTP time, and the SQLite writes', async () => {
    const before = samples((await scrape()).text);
    const writesBefore = value(before, 'callbridge_sqlite_write_duration_seconds_count', { statement: 'INSERT' }) ?? 0;
    const commitsBefore = value(before, 'callbridge_sqlite_commits_total') ?? 0;
    const batchedBefore = value(before, 'callbridge_sqlite_batched_writes_total') ?? 0;
    const res = await h.api('/api/makeCall.json?sip=101&phone=380639920000&order_id=m1');
    expect(res.status).toBe(200);
    const id = res.body.call_id as number;
    const mid = samples((await scrape()).text);
    expect(value(mid, 'callbridge_calls_started_total', { origin: 'click-to-call', control: 'ari' })).toBe(1);
    await waitFor('the call to end', async () => {
      const chain = await h.api(`/api/callHistory.json?call_id=${id}`);
      return chain.body.history.some((x: { status: string }) => x.status === 'FINISH');
    }, 20_000);
    const s = samples((await scrape()).text);
    expect(value(s, 'callbridge_calls_finished_total', { status: 'FINISH', origin: 'click-to-call', control: 'ari' })).toBe(1);
    expect(value(s, 'callbridge_open_calls', { origin: 'click-to-call' })).toBe(0);
    expect(value(s, 'callbridge_make_call_duration_seconds_count', { result: 'accepted' })).toBe(1);
    expect(value(s, 'callbridge_http_request_duration_seconds_count', { method: 'GET', route: '/api/makeCall', status: '200' })).toBe(1);
    expect(value(s, 'callbridge_http_request_duration_seconds_count', { method: 'GET', route: '/api/callHistory', status: '200' })).toBeGreaterThan(0);
    expect(value(s, 'callbridge_sqlite_write_duration_seconds_count', { statement: 'INSERT' })).toBeGreaterThan(writesBefore);
    // the call's writes went through the write batch: at least its seven statuses, in as many COMMITs or fewer
    const commits = value(s, 'callbridge_sqlite_commits_total')! - commitsBefore;
    const batched = value(s, 'callbridge_sqlite_batched_writes_total')! - batchedBefore;
    expect(commits).toBeGreaterThan(0);
    expect(batched).toBeGreaterThanOrEqual(7);
    expect(batched).toBeGreaterThanOrEqual(commits);
    expect(value(s, 'callbridge_sqlite_failed_commits_total')).toBe(0);
    // a refused call: the operator does not exist
    const refused = await h.api('/api/makeCall.json?sip=999&phone=380639920000&order_id=m2');
    expect(refused.status).toBe(409);
    const after = samples((await scrape()).text);
    expect(value(after, 'callbridge_make_call_duration_seconds_count', { result: 'refused' })).toBe(1);
    expect(value(after, 'callbridge_http_request_duration_seconds_count', { method: 'GET', route: '/api/makeCall', status: '409' })).toBe(1);
    // unknown paths share one label, so a scanner cannot blow up the series
    await h.api('/no/such/path-1');
    await h.api('/api/noSuchMethod-2');
    expect(value(samples((await scrape()).text), 'callbridge_http_request_duration_seconds_count', { route: 'other', status: '404' })).toBe(2);
    // route groups by their prefix, even under /api
    await h.api('/recordings/999999');
    const groups = samples((await scrape()).text);
    expect(value(groups, 'callbridge_http_request_duration_seconds_count', { route: '/recordings', status: '404' })).toBe(1);
    expect(value(groups, 'callbridge_http_request_duration_seconds_count', { route: '/metrics', status: '200' })).toBeGreaterThan(0);
  }, 30_000);

  it('counts a lost AMI session and the reconnect', async () => {
    const res = await fetch(`http://127.0.0.1:${h.daemon.port}/health`);
    expect(res.status).toBe(200);
    expect(h.sim.disconnect('ami')).toBeGreaterThan(0);
    await waitFor('AMI to reconnect', async () => value(samples((await scrape()).text), 'callbridge_asterisk_connects_total', { link: 'ami' }) === 2, 15_000);
    const s = samples((await scrape()).text);
    expect(value(s, 'callbridge_asterisk_disconnects_total', { link: 'ami' })).toBe(1);
    expect(value(s, 'callbridge_asterisk_reconnect_attempts_total', { link: 'ami' })).toBeGreaterThanOrEqual(1);
    expect(value(s, 'callbridge_asterisk_connected', { link: 'ami' })).toBe(1);
  }, 20_000);

  it('shows the outbox of the connectors once registered', async () => {
    const outbox = h.daemon.metrics.registerOutbox();
    outbox.delivered('crm-a', 3);
    outbox.failed('crm-a');
    outbox.pendingFrom(() => [{ connector: 'crm-a', pending: 7 }]);
    expect(h.daemon.metrics.registerOutbox()).toBe(outbox);
    const s = samples((await scrape()).text);
    expect(value(s, 'callbridge_outbox_delivered_total', { connector: 'crm-a' })).toBe(3);
    expect(value(s, 'callbridge_outbox_failed_total', { connector: 'crm-a' })).toBe(1);
    expect(value(s, 'callbridge_outbox_pending', { connector: 'crm-a' })).toBe(7);
  });
});

describe('/metrics access', () => {
  const API = 'api-token-for-metrics-0123';
  const METRICS = 'metrics-token-0123456789';
  let t: Harness;
  afterAll(async () => t?.close());

  it('with CALLBRIDGE_METRICS_TOKEN: that token or an API token; the metrics token opens nothing else', async () => {
    t = await startHarness({ env: { CALLBRIDGE_API_TOKENS: API, CALLBRIDGE_METRICS_TOKEN: METRICS } });
    const url = `http://127.0.0.1:${t.daemon.port}`;
    const none = await fetch(`${url}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe('UNAUTHORIZED');
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong-token-000000000' } })).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).status).toBe(200);
    expect((await fetch(`${url}/metrics?token=${METRICS}`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${API}` } })).status).toBe(200);
    expect((await fetch(`${url}/api/sipList`, { headers: { authorization: `Bearer ${METRICS}` } })).status).toBe(401);
    // the token never shows in the metrics themselves
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).text();
    expect(text).not.toContain(METRICS);
  }, 30_000);

  it('without it: the API tokens, like any route', async () => {
    await t.close();
    t = await startHarness({ env: { CALLBRIDGE_API_TOKENS: API } });
    const url = `http://127.0.0.1:${t.daemon.port}`;
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${API}` } })).status).toBe(200);
  }, 30_000);
});

describe('CALLBRIDGE_METRICS_TOKEN', () => {
  it('is validated like the API tokens, its value never in the message', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config.js');
    expect(loadConfig({ CALLBRIDGE_METRICS_TOKEN: 'a-metrics-token-of-24ch' }, []).metricsToken).toBe('a-metrics-token-of-24ch');
    expect(loadConfig({}, []).metricsToken).toBeUndefined();
    let err: unknown;
    try {
      loadConfig({ CALLBRIDGE_METRICS_TOKEN: 'short-secret' }, []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^CALLBRIDGE_METRICS_TOKEN: must be 16 to 256 printable characters$/);
  });
});
