/**
 * The outbox retention on a real database: which rows a pass removes and
 * which it keeps (pending and failed deliveries, events another delivery
 * still holds, a call's uuid, what a connector keeps for a call still being
 * delivered), passes of at most 1000 rows per transaction with the event loop
 * free between them, retention 0, the hourly timer and its end on stop(), the
 * log line, and a whole round through a real delivery worker.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import { CallStore } from '../../src/calls/store.js';
import { parseConnectorSettings } from '../../src/connectors/config.js';
import { CONNECTOR_TYPES } from '../../src/connectors/registry.js';
import type { OutboundEvent } from '../../src/connectors/types.js';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { DEFAULT_RETENTION_MS, OutboxRetention, PRUNE_BATCH, PRUNE_FIRST_DELAY_MS, PRUNE_INTERVAL_MS } from '../../src/outbox/retention.js';
import { waitFor } from '../helpers/daemon.js';
import { startReceiver, type Receiver } from '../connectors/receiver.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = 1_800_000_000_000;
const ago = (days: number) => NOW - days * DAY;

let db: Db;
let outbox: Outbox | undefined;
const receivers: Receiver[] = [];

beforeEach(() => {
  db = openDatabase(':memory:');
});
afterEach(async () => {
  vi.useRealTimers();
  await outbox?.stop();
  outbox = undefined;
  for (const r of receivers.splice(0)) await r.close().catch(() => undefined);
  db.$client.close();
});

// ------------------------------------------------------------ rows, written as the outbox writes them

let seq = 0;
function addEvent(time: number, callId: number | null = null): number {
  const uuid = `ev-${++seq}`;
  const info = db.$client.prepare('INSERT INTO outbox_events (uuid, type, call_id, time, payload) VALUES (?, ?, ?, ?, ?)').run(uuid, 'call.ringing', callId, time, JSON.stringify({ id: uuid }));
  return Number(info.lastInsertRowid);
}

type Status = 'pending' | 'delivered' | 'failed';
function addDelivery(eventId: number, d: { connector?: string; status: Status; createdAt: number; deliveredAt?: number; callId?: number | null; attempts?: number[] }): number {
  const info = db.$client
    .prepare('INSERT INTO outbox_deliveries (event_id, connector, call_id, status, attempts, next_at, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(eventId, d.connector ?? 'crm', d.callId ?? null, d.status, d.attempts?.length ?? 0, d.createdAt, d.createdAt, d.deliveredAt ?? null);
  const id = Number(info.lastInsertRowid);
  for (const [i, at] of (d.attempts ?? []).entries()) {
    const outcome = i === d.attempts!.length - 1 && d.status !== 'pending' ? d.status : 'retry';
    db.$client
      .prepare('INSERT INTO outbox_attempts (delivery_id, connector, call_id, outcome, code, error, attempts, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, d.connector ?? 'crm', d.callId ?? null, outcome, 200, null, i + 1, at);
  }
  return id;
}

function addCall(d: { createdAt: number; final: boolean; endedAt?: number }): number {
  const info = db.$client.prepare('INSERT INTO calls (status, final, created_at, ended_at) VALUES (?, ?, ?, ?)').run(d.final ? 'FINISH' : 'CALL', d.final ? 1 : 0, d.createdAt, d.endedAt ?? null);
  return Number(info.lastInsertRowid);
}

const ids = (sql: string): number[] => (db.$client.prepare(sql).all() as Array<{ id: number }>).map((r) => r.id);
const deliveries = () => ids('SELECT id FROM outbox_deliveries ORDER BY id');
const events = () => ids('SELECT id FROM outbox_events ORDER BY id');
const attemptsOf = (deliveryId: number) => (db.$client.prepare('SELECT COUNT(*) AS n FROM outbox_attempts WHERE delivery_id = ?').get(deliveryId) as { n: number }).n;
const count = (table: string) => (db.$client.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
const states = () => (db.$client.prepare('SELECT connector, call_id FROM connector_calls ORDER BY connector, call_id').all() as Array<{ connector: string; call_id: number }>).map((r) => `${r.connector}/${r.call_id}`);

function retention(opts: Partial<{ retentionMs: number; log: Logger; now: () => number; batchSize: number }> = {}): OutboxRetention {
  return new OutboxRetention(db, { retentionMs: DEFAULT_RETENTION_MS, log: silentLogger(), now: () => NOW, ...opts });
}

function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level: 'info', destination, pretty: false }), lines };
}

// ------------------------------------------------------------ what a pass removes

describe('outbox retention: which rows go', () => {
  it('defaults to 30 days, and refuses a negative or non-numeric retention', () => {
    expect(DEFAULT_RETENTION_MS).toBe(30 * DAY);
    expect(retention().retentionMs).toBe(30 * DAY);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => retention({ retentionMs: bad })).toThrow(RangeError);
  });

  // one event with one delivery each; the clock is NOW, the retention 30 days
  const cases: Array<{ name: string; status: Status; created: number; delivered?: number; eventTime: number; attempts: number[]; gone: { delivery: boolean; event: boolean } }> = [
    { name: 'delivered 31 days ago', status: 'delivered', created: ago(31), delivered: ago(31), eventTime: ago(31), attempts: [ago(31)], gone: { delivery: true, event: true } },
    { name: 'delivered 31 days ago after 3 attempts', status: 'delivered', created: ago(33), delivered: ago(31), eventTime: ago(33), attempts: [ago(33), ago(32), ago(31)], gone: { delivery: true, event: true } },
    { name: 'delivered 29 days ago', status: 'delivered', created: ago(29), delivered: ago(29), eventTime: ago(29), attempts: [ago(29)], gone: { delivery: false, event: false } },
    { name: 'made 40 days ago, delivered 29 days ago', status: 'delivered', created: ago(40), delivered: ago(29), eventTime: ago(40), attempts: [ago(40), ago(29)], gone: { delivery: false, event: false } },
    { name: 'delivered 31 days ago, event dated in the last 30 days', status: 'delivered', created: ago(31), delivered: ago(31), eventTime: ago(1), attempts: [ago(31)], gone: { delivery: true, event: false } },
    { name: 'pending for 90 days', status: 'pending', created: ago(90), eventTime: ago(90), attempts: [ago(90), ago(60)], gone: { delivery: false, event: false } },
    { name: 'pending, never attempted, 90 days', status: 'pending', created: ago(90), eventTime: ago(90), attempts: [], gone: { delivery: false, event: false } },
    { name: 'failed 90 days ago', status: 'failed', created: ago(91), eventTime: ago(91), attempts: [ago(91), ago(90)], gone: { delivery: false, event: false } },
  ];

  it.each(cases)('$name', async (c) => {
    // rows that always stay, written before and after the one under test
    const keepEv = addEvent(ago(100));
    const keep = addDelivery(keepEv, { status: 'failed', createdAt: ago(100), attempts: [ago(100)] });
    const ev = addEvent(c.eventTime, 7);
    const d = addDelivery(ev, { status: c.status, createdAt: c.created, deliveredAt: c.delivered, callId: 7, attempts: c.attempts });
    const lateEv = addEvent(ago(0));
    const late = addDelivery(lateEv, { status: 'pending', createdAt: ago(0) });
    expect(attemptsOf(d)).toBe(c.attempts.length);

    const counts = await retention().prune();

    expect(deliveries()).toEqual(c.gone.delivery ? [keep, late] : [keep, d, late]);
    expect(attemptsOf(d)).toBe(c.gone.delivery ? 0 : c.attempts.length);
    expect(attemptsOf(keep)).toBe(1);
    expect(events()).toEqual(c.gone.event ? [keepEv, lateEv] : [keepEv, ev, lateEv]);
    expect(counts).toEqual({ deliveries: c.gone.delivery ? 1 : 0, attempts: c.gone.delivery ? c.attempts.length : 0, events: c.gone.event ? 1 : 0, connector_calls: 0 });
    // a second pass finds nothing more
    expect(await retention().prune()).toEqual({ deliveries: 0, attempts: 0, events: 0, connector_calls: 0 });
  });

  it('an event shared by a delivered and a pending (or failed) delivery stays until none is left', async () => {
    const shared = addEvent(ago(40), 3);
    const done = addDelivery(shared, { connector: 'a', status: 'delivered', createdAt: ago(40), deliveredAt: ago(40), callId: 3, attempts: [ago(40)] });
    const waiting = addDelivery(shared, { connector: 'b', status: 'pending', createdAt: ago(40), callId: 3, attempts: [ago(40), ago(35)] });
    const shared2 = addEvent(ago(40), 4);
    const done2 = addDelivery(shared2, { connector: 'a', status: 'delivered', createdAt: ago(40), deliveredAt: ago(40), callId: 4, attempts: [ago(40)] });
    const gaveUp = addDelivery(shared2, { connector: 'b', status: 'failed', createdAt: ago(40), callId: 4, attempts: [ago(40)] });

    expect(await retention().prune()).toEqual({ deliveries: 2, attempts: 2, events: 0, connector_calls: 0 });
    expect(deliveries()).toEqual([waiting, gaveUp]);
    expect(events()).toEqual([shared, shared2]);
    expect([attemptsOf(done), attemptsOf(done2), attemptsOf(waiting), attemptsOf(gaveUp)]).toEqual([0, 0, 2, 1]);

    // the pending one goes through (40 days ago, as far as the clock is concerned): now the event has no delivery left
    db.$client.prepare("UPDATE outbox_deliveries SET status = 'delivered', delivered_at = ? WHERE id = ?").run(ago(34), waiting);
    expect(await retention().prune()).toEqual({ deliveries: 1, attempts: 2, events: 1, connector_calls: 0 });
    expect(deliveries()).toEqual([gaveUp]);
    expect(events()).toEqual([shared2]);
  });

  it('a row dated ahead of the clock (the clock was set back since) does not hold up older rows', async () => {
    const ahead = addDelivery(addEvent(NOW + 100 * DAY), { status: 'delivered', createdAt: NOW + 100 * DAY, deliveredAt: NOW + 100 * DAY, attempts: [NOW + 100 * DAY] });
    addDelivery(addEvent(ago(31)), { status: 'delivered', createdAt: ago(31), deliveredAt: ago(31), attempts: [ago(31)] });
    const young = addDelivery(addEvent(ago(1)), { status: 'delivered', createdAt: ago(1), deliveredAt: ago(1), attempts: [ago(1)] });
    // written after a young row: left for a later pass (ids grow with time)
    const behind = addDelivery(addEvent(ago(31)), { status: 'delivered', createdAt: ago(31), deliveredAt: ago(31), attempts: [ago(31)] });
    expect(await retention().prune()).toEqual({ deliveries: 1, attempts: 1, events: 1, connector_calls: 0 });
    expect(deliveries()).toEqual([ahead, young, behind]);
    // once the young row is old enough itself, the walk goes past it
    expect(await retention({ now: () => NOW + 30 * DAY }).prune()).toEqual({ deliveries: 2, attempts: 2, events: 2, connector_calls: 0 });
    expect(deliveries()).toEqual([ahead]);
  });

  it("never removes a call's uuid; removes what a connector kept only for ended calls without any delivery left", async () => {
    const ended = addCall({ createdAt: ago(40), final: true, endedAt: ago(40) });
    const pending = addCall({ createdAt: ago(40), final: true, endedAt: ago(40) });
    const failed = addCall({ createdAt: ago(40), final: true, endedAt: ago(40) });
    const open = addCall({ createdAt: ago(40), final: false });
    const endedLately = addCall({ createdAt: ago(40), final: true, endedAt: ago(10) });
    const recent = addCall({ createdAt: ago(2), final: true, endedAt: ago(2) });
    const all = [ended, pending, failed, open, endedLately, recent];
    for (const call of all) {
      db.$client.prepare('INSERT INTO outbox_calls (call_id, uuid) VALUES (?, ?)').run(call, `uuid-${call}`);
      for (const connector of ['helpdesk', 'other']) db.$client.prepare('INSERT INTO connector_calls (connector, call_id, data) VALUES (?, ?, ?)').run(connector, call, '{"call_id":1}');
      const created = call === recent ? ago(2) : ago(40);
      addDelivery(addEvent(created, call), { connector: 'helpdesk', status: 'delivered', createdAt: created, deliveredAt: created, callId: call, attempts: [created] });
      if (call === pending) addDelivery(addEvent(ago(40), pending), { connector: 'other', status: 'pending', createdAt: ago(40), callId: pending });
      if (call === failed) addDelivery(addEvent(ago(40), failed), { connector: 'other', status: 'failed', createdAt: ago(40), callId: failed, attempts: [ago(40)] });
    }

    const counts = await retention().prune();

    // the ended call's two rows (helpdesk, other): its only delivery is gone
    expect(counts).toEqual({ deliveries: 5, attempts: 5, events: 5, connector_calls: 2 });
    expect(ids('SELECT call_id AS id FROM outbox_calls ORDER BY call_id')).toEqual(all);
    expect(states()).toEqual(
      ['helpdesk', 'other'].flatMap((c) => [pending, failed, open, endedLately, recent].map((call) => `${c}/${call}`)).sort(),
    );
  });

  it('retention 0 keeps everything', async () => {
    const call = addCall({ createdAt: ago(400), final: true, endedAt: ago(400) });
    db.$client.prepare('INSERT INTO connector_calls (connector, call_id, data) VALUES (?, ?, ?)').run('helpdesk', call, '{}');
    for (let i = 0; i < 5; i++) addDelivery(addEvent(ago(400), call), { status: 'delivered', createdAt: ago(400), deliveredAt: ago(400), callId: call, attempts: [ago(400)] });
    const r = retention({ retentionMs: 0 });
    expect(await r.prune()).toEqual({ deliveries: 0, attempts: 0, events: 0, connector_calls: 0 });
    expect([count('outbox_deliveries'), count('outbox_attempts'), count('outbox_events'), count('connector_calls')]).toEqual([5, 5, 5, 1]);
  });

  it('logs one info line with the counts when it removed something, none otherwise', async () => {
    const { log, lines } = capture();
    addDelivery(addEvent(ago(31)), { status: 'delivered', createdAt: ago(31), deliveredAt: ago(31), attempts: [ago(31)] });
    await retention({ log }).prune();
    await retention({ log }).prune();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'outbox pruned', deliveries: 1, attempts: 1, events: 1, connector_calls: 0, retention_days: 30 });
  });
});

// ------------------------------------------------------------ batches

describe('outbox retention: batches', () => {
  it('removes thousands of rows in transactions of at most 1000 rows, the event loop free between two', async () => {
    const N = 2600;
    const kept: number[] = [];
    db.$client.transaction(() => {
      for (let i = 0; i < N; i++) {
        addDelivery(addEvent(ago(60), i), { status: 'delivered', createdAt: ago(60), deliveredAt: ago(60), callId: i, attempts: [ago(60)] });
        if (i % 500 === 0) kept.push(addDelivery(addEvent(ago(60), i), { status: 'failed', createdAt: ago(60), callId: i, attempts: [ago(60)] }));
      }
      for (let i = 0; i < 50; i++) addDelivery(addEvent(ago(5)), { status: 'delivered', createdAt: ago(5), deliveredAt: ago(5), attempts: [ago(5)] });
    })();
    const total = () => count('outbox_deliveries') + count('outbox_attempts') + count('outbox_events');
    const start = total();
    expect(start).toBe(3 * (N + kept.length + 50));

    // between two transactions of the pass, this looks at the tables (it runs only when the pass gives the loop back)
    const seen: number[] = [start];
    let watching = true;
    const watch = () => {
      seen.push(total());
      if (watching) setImmediate(watch);
    };
    setImmediate(watch);
    const counts = await retention().prune();
    watching = false;

    expect(counts).toEqual({ deliveries: N, attempts: N, events: N, connector_calls: 0 });
    expect(total()).toBe(3 * (kept.length + 50));
    expect(ids("SELECT id FROM outbox_deliveries WHERE status = 'failed' ORDER BY id")).toEqual(kept);
    for (const d of kept) expect(attemptsOf(d)).toBe(1);
    const steps = seen.slice(1).map((n, i) => seen[i]! - n);
    expect(Math.max(...steps)).toBeLessThanOrEqual(PRUNE_BATCH);
    // 3 × 2600 rows: at least 8 transactions, the loop given back after each
    expect(steps.filter((s) => s > 0).length).toBeGreaterThanOrEqual(Math.ceil((3 * N) / PRUNE_BATCH));
  });

  it('a smaller batch size is honoured, and a pass stopped half way is finished by the next', async () => {
    db.$client.transaction(() => {
      for (let i = 0; i < 300; i++) addDelivery(addEvent(ago(60)), { status: 'delivered', createdAt: ago(60), deliveredAt: ago(60), attempts: [ago(60)] });
    })();
    const r = retention({ batchSize: 100 });
    r.start(); // armed, so stop() has a pass to end
    const pass = r.prune();
    await new Promise((resolve) => setImmediate(resolve));
    await r.stop();
    const first = await pass;
    expect(first.deliveries).toBeGreaterThan(0);
    expect(first.deliveries).toBeLessThan(300);
    expect(count('outbox_deliveries')).toBe(300 - first.deliveries);
    const second = await r.prune();
    expect(first.deliveries + second.deliveries).toBe(300);
    expect([count('outbox_deliveries'), count('outbox_attempts'), count('outbox_events')]).toEqual([0, 0, 0]);
  });
});

// ------------------------------------------------------------ the timer, through the Outbox

function makeOutbox(entries: Array<Record<string, unknown>>, opts: { retentionMs?: number; now?: () => number } = {}): Outbox {
  const { settings, problems } = parseConnectorSettings(entries.map((e) => ({ type: 'webhook', backoff_ms: 20, backoff_max_ms: 80, ...e })));
  expect(problems).toEqual([]);
  return new Outbox(
    new CallStore(db),
    settings.map((s) => CONNECTOR_TYPES[s.type]!.create(s)),
    { log: silentLogger(), urlOf: (id) => `http://x/recordings/${id}`, ...opts },
  );
}

const oldRow = () => addDelivery(addEvent(ago(31)), { status: 'delivered', createdAt: ago(31), deliveredAt: ago(31), attempts: [ago(31)] });
const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('outbox retention: the timer', () => {
  it('runs shortly after start, then hourly, and not after stop()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    outbox = makeOutbox([], { now: () => NOW });
    oldRow();
    outbox.start();
    expect(vi.getTimerCount()).toBe(1);

    await vi.advanceTimersByTimeAsync(PRUNE_FIRST_DELAY_MS - 1000);
    await outbox.retention.idle();
    expect(count('outbox_deliveries')).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    await outbox.retention.idle();
    expect(count('outbox_deliveries')).toBe(0);

    oldRow();
    await vi.advanceTimersByTimeAsync(PRUNE_INTERVAL_MS - 1000);
    await outbox.retention.idle();
    expect(count('outbox_deliveries')).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    await outbox.retention.idle();
    expect(count('outbox_deliveries')).toBe(0);
    expect(vi.getTimerCount()).toBe(1);

    await outbox.stop();
    expect(vi.getTimerCount()).toBe(0);
    oldRow();
    await vi.advanceTimersByTimeAsync(3 * PRUNE_INTERVAL_MS);
    expect(count('outbox_deliveries')).toBe(1);
  });

  it('the timer does not keep the process alive', async () => {
    const before = timeouts();
    outbox = makeOutbox([], { now: () => NOW });
    outbox.start();
    expect(timeouts()).toBe(before);
    expect(vi.isFakeTimers()).toBe(false);
  });

  it('retention 0 arms no timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    outbox = makeOutbox([], { retentionMs: 0, now: () => NOW });
    oldRow();
    outbox.start();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3 * PRUNE_INTERVAL_MS);
    expect(count('outbox_deliveries')).toBe(1);
  });
});

// ------------------------------------------------------------ a whole round

describe('outbox retention: after real deliveries', () => {
  it("removes what a worker delivered once it is old enough, keeps what is still pending and the call's uuid", async () => {
    const rx = await startReceiver();
    receivers.push(rx);
    // the CRM takes call 1's events and refuses call 2's for now
    rx.answer = (r) => ((r.json() as { call: { call_id: number } }).call.call_id === 2 ? { status: 503 } : undefined);
    let clock = NOW;
    outbox = makeOutbox([{ name: 'crm', url: rx.url, backoff_ms: 60_000, backoff_max_ms: 60_000 }], { now: () => clock });
    outbox.start();
    const one = addCall({ createdAt: NOW, final: true, endedAt: NOW });
    const two = addCall({ createdAt: NOW, final: true, endedAt: NOW });
    const uuids = [outbox.store.uuidOf(one), outbox.store.uuidOf(two)];
    const ev = (call: number, n: number): OutboundEvent => ({ id: `e-${call}-${n}`, type: 'call.ringing', time: NOW, call: { call_id: call, direction: 'outgoing' } as never, data: { n } });
    for (const n of [1, 2, 3]) outbox.enqueue(ev(one, n));
    outbox.enqueue(ev(two, 1));
    await waitFor('delivered and tried', () => outbox!.store.list({ status: 'delivered' }, 10).length === 3 && count('outbox_attempts') === 4);

    // a day later nothing is old enough
    clock = NOW + DAY;
    expect(await outbox.retention.prune()).toEqual({ deliveries: 0, attempts: 0, events: 0, connector_calls: 0 });

    clock = NOW + 31 * DAY;
    expect(await outbox.retention.prune()).toEqual({ deliveries: 3, attempts: 3, events: 3, connector_calls: 0 });
    expect(outbox.store.list({}, 10).map((d) => [d.call_id, d.status, d.attempts])).toEqual([[two, 'pending', 1]]);
    expect(count('outbox_events')).toBe(1);
    expect(count('outbox_attempts')).toBe(1);
    expect([outbox.store.uuidOf(one), outbox.store.uuidOf(two)]).toEqual(uuids);
  });
});
