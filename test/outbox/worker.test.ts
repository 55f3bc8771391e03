/**
 * The delivery workers against real local HTTP receivers: retries after a
 * 500, a receiver that hangs (timeout) or closes the socket, a refused
 * connection until `failed`, order per call, never a repeat after a 2xx, a
 * slow CRM that holds up nobody else, signatures, and a restart on the same
 * database that resumes what was pending.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import { CallStore } from '../../src/calls/store.js';
import { parseConnectorSettings } from '../../src/connectors/config.js';
import { CONNECTOR_TYPES } from '../../src/connectors/registry.js';
import type { OutboundEvent } from '../../src/connectors/types.js';
import { silentLogger } from '../../src/log.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { backoffDelay } from '../../src/outbox/worker.js';
import { verifySignature } from '../../src/outbox/sign.js';
import { waitFor } from '../helpers/daemon.js';
import { startReceiver, type Receiver } from '../connectors/receiver.js';

let dir: string;
let db: Db;
let outbox: Outbox | undefined;
const receivers: Receiver[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-outbox-'));
  db = openDatabase(join(dir, 'callbridge.db'));
});
afterEach(async () => {
  await outbox?.stop();
  outbox = undefined;
  for (const r of receivers.splice(0)) await r.close().catch(() => undefined);
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

function makeOutbox(entries: Array<Record<string, unknown>>, on: Db = db): Outbox {
  const { settings, problems } = parseConnectorSettings(entries.map((e) => ({ type: 'webhook', backoff_ms: 20, backoff_max_ms: 80, ...e })));
  expect(problems).toEqual([]);
  const o = new Outbox(new CallStore(on), settings.map((s) => CONNECTOR_TYPES[s.type]!.create(s)), { log: silentLogger(), urlOf: (id) => `http://x/recordings/${id}` });
  o.start();
  return o;
}

let seq = 0;
function event(callId: number | null, n: number): OutboundEvent {
  return { id: `ev-${callId}-${n}-${++seq}`, type: 'call.ringing', time: 1_700_000_000_000 + n, call: callId === null ? null : ({ call_id: callId, direction: 'outgoing' } as never), data: { n } };
}

const body = (r: { json(): any }) => r.json() as { id: string; data: { n: number }; call: { call_id: number } | null };

describe('delivery worker', () => {
  it('retries after HTTP 500 with the same idempotency key, then never again after the 2xx', async () => {
    const rx = await receiver();
    rx.plan = [{ status: 500 }, { status: 503 }];
    outbox = makeOutbox([{ name: 'crm', url: rx.url }]);
    const ev = event(1, 1);
    outbox.enqueue(ev);
    await waitFor('delivered', () => outbox!.store.list({ status: 'delivered' }, 10).length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.received.map((r) => r.headers['idempotency-key'])).toEqual([ev.id, ev.id, ev.id]);
    const [d] = outbox.store.list({}, 10);
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, last_status: 200, last_error: null });
    expect(outbox.health().crm).toMatchObject({ type: 'webhook', pending: 0, failed: 0, last_error: 'HTTP 503' });
    expect(outbox.health().crm!.last_success).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('a receiver that hangs times out and is retried; one that closes the socket too', async () => {
    const rx = await receiver();
    rx.plan = [{ hang: true }, { destroy: true }];
    outbox = makeOutbox([{ name: 'crm', url: rx.url, timeout_ms: 300 }]);
    outbox.enqueue(event(1, 1));
    await waitFor('delivered', () => outbox!.store.list({ status: 'delivered' }, 10).length === 1);
    // the hung request was received (and never answered), the closed one was not, the third was answered
    expect(rx.received).toHaveLength(2);
    expect(outbox.store.list({}, 10)[0]).toMatchObject({ attempts: 3, status: 'delivered' });
  });

  it('records why each attempt failed: timeout, closed socket', async () => {
    const rx = await receiver();
    rx.fallback = { hang: true };
    outbox = makeOutbox([{ name: 'crm', url: rx.url, timeout_ms: 200, max_attempts: 1 }]);
    outbox.enqueue(event(1, 1));
    await waitFor('failed', () => outbox!.store.list({ status: 'failed' }, 10)[0]);
    expect(outbox.store.list({}, 10)[0]!.last_error).toBe('timed out after 200 ms');
    rx.fallback = { destroy: true };
    outbox.retry({});
    await waitFor('failed again', () => outbox!.store.list({ status: 'failed' }, 10)[0]?.last_error !== 'timed out after 200 ms' && outbox!.store.list({ status: 'failed' }, 10)[0]);
    expect(outbox.store.list({}, 10)[0]!.last_error).toMatch(/fetch failed|socket|closed/i);
  });

  it('a refused connection until max_attempts: failed; retried by request once the CRM is back', async () => {
    const rx = await receiver();
    await rx.close();
    outbox = makeOutbox([{ name: 'crm', url: rx.url, max_attempts: 3 }]);
    outbox.enqueue(event(1, 1));
    await waitFor('failed', () => outbox!.store.list({ status: 'failed' }, 10)[0]);
    const [d] = outbox.store.list({}, 10);
    expect(d).toMatchObject({ status: 'failed', attempts: 3, last_status: null });
    expect(d!.last_error).toMatch(/ECONNREFUSED/);
    expect(outbox.health().crm).toMatchObject({ pending: 0, failed: 1 });
    await rx.reopen();
    expect(outbox.retry({ connector: 'crm' })).toBe(1);
    await waitFor('delivered', () => outbox!.store.list({ status: 'delivered' }, 10).length === 1);
    expect(rx.received).toHaveLength(1);
  });

  it('sends each call in order, one at a time, and every event once, through random failures', async () => {
    const rx = await receiver();
    let n = 0;
    // every third request fails in turn: 500, closed socket, timeout
    rx.answer = () => {
      n++;
      return n % 9 === 3 ? { status: 500 } : n % 9 === 6 ? { destroy: true } : n % 9 === 0 ? { hang: true } : undefined;
    };
    outbox = makeOutbox([{ name: 'crm', url: rx.url, timeout_ms: 300, concurrency: 4 }]);
    for (let i = 1; i <= 10; i++) for (let c = 1; c <= 5; c++) outbox.enqueue(event(c, i));
    await waitFor('all delivered', () => outbox!.store.list({ status: 'delivered' }, 100).length === 50, 20_000).catch((err) => {
      console.log(JSON.stringify(outbox!.store.list({ status: 'pending' }, 100)), Date.now(), rx.received.length);
      throw err;
    });
    // every event was answered 2xx exactly once
    const ok = new Map<string, number>();
    for (const r of rx.received) if (r.answered === 200) ok.set(body(r).id, (ok.get(body(r).id) ?? 0) + 1);
    expect(ok.size).toBe(50);
    expect([...ok.values()].every((v) => v === 1)).toBe(true);
    for (let c = 1; c <= 5; c++) {
      const seqOfCall = rx.received.filter((r) => body(r).call?.call_id === c).map((r) => body(r).data.n);
      // in order, with a failed attempt repeated right where it failed
      expect([...new Set(seqOfCall)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(seqOfCall).toEqual([...seqOfCall].sort((a, b) => a - b));
    }
    expect(outbox.store.list({}, 100).every((d) => d.status === 'delivered')).toBe(true);
  }, 30_000);

  it('never sends an event again once a 2xx came back', async () => {
    const rx = await receiver();
    outbox = makeOutbox([{ name: 'crm', url: rx.url }]);
    for (let i = 1; i <= 20; i++) outbox.enqueue(event(i % 3, i));
    await waitFor('all delivered', () => outbox!.store.list({ status: 'delivered' }, 100).length === 20);
    await new Promise((r) => setTimeout(r, 300));
    const ids = rx.received.map((r) => body(r).id);
    expect(new Set(ids).size).toBe(20);
    expect(ids).toHaveLength(20);
  });

  it('a slow CRM holds up only its own deliveries', async () => {
    const slow = await receiver();
    const fast = await receiver();
    slow.fallback = { delayMs: 1500 };
    outbox = makeOutbox([
      { name: 'slow', url: slow.url, concurrency: 1 },
      { name: 'fast', url: fast.url },
    ]);
    const t0 = Date.now();
    for (let i = 1; i <= 10; i++) outbox.enqueue(event(1, i));
    await waitFor('fast got all', () => fast.received.length === 10);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(slow.received.length).toBeLessThanOrEqual(1);
    expect(outbox.health().slow!.pending).toBeGreaterThanOrEqual(9);
  });

  it('signs with the secret: the receiver verifies timestamp + "." + body', async () => {
    const rx = await receiver();
    const secret = 'the-shared-secret-0123456789';
    outbox = makeOutbox([{ name: 'crm', url: rx.url, secret }]);
    outbox.enqueue(event(1, 1));
    await waitFor('received', () => rx.received[0]);
    const r = rx.received[0]!;
    const ts = r.headers['x-callbridge-timestamp'] as string;
    const sig = r.headers['x-callbridge-signature'] as string;
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(secret, ts, r.body, sig)).toBe(true);
    expect(verifySignature('another-secret-0123456789', ts, r.body, sig)).toBe(false);
    expect(verifySignature(secret, ts, Buffer.concat([r.body, Buffer.from(' ')]), sig)).toBe(false);
    expect(verifySignature(secret, String(Number(ts) - 3600), r.body, sig)).toBe(false);
    expect(r.headers['x-callbridge-event']).toBe('call.ringing');
    expect(r.headers['content-type']).toBe('application/json');
  });

  it('without a secret there is no signature header', async () => {
    const rx = await receiver();
    outbox = makeOutbox([{ name: 'crm', url: rx.url }]);
    outbox.enqueue(event(null, 1));
    await waitFor('received', () => rx.received[0]);
    expect(rx.received[0]!.headers['x-callbridge-signature']).toBeUndefined();
    expect(rx.received[0]!.headers['idempotency-key']).toMatch(/^ev-/);
  });

  it('stopped with deliveries pending, started again on the same database: each delivered once, in order', async () => {
    const rx = await receiver();
    await rx.close();
    outbox = makeOutbox([{ name: 'crm', url: rx.url, backoff_ms: 400, backoff_max_ms: 400 }]);
    for (let i = 1; i <= 5; i++) outbox.enqueue(event(7, i));
    await waitFor('first attempt failed', () => outbox!.store.list({}, 10).some((d) => d.attempts > 0));
    await outbox.stop();
    expect(outbox.store.list({ status: 'pending' }, 10)).toHaveLength(5);
    db.$client.close();
    await rx.reopen();
    db = openDatabase(join(dir, 'callbridge.db'));
    // the first one waits out the backoff stored with it, then all go
    outbox = makeOutbox([{ name: 'crm', url: rx.url }]);
    await waitFor('delivered after restart', () => outbox!.store.list({ status: 'delivered' }, 10).length === 5);
    expect(rx.received.map((r) => body(r).data.n)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('backoff', () => {
  it('doubles per attempt up to the cap, with jitter between half and all of it', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffDelay(a, 1000, 8000, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect([1, 2, 3].map((a) => backoffDelay(a, 1000, 8000, () => 0))).toEqual([500, 1000, 2000]);
  });
});
