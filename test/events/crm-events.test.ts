/** call_asterisk, events (text or call) and coming: stored, shown in orderHistory's events, published on the domain bus. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainBus } from '../../src/domain/bus.js';
import { T0, setup, type Env } from './setup.js';

let env: Env;
beforeEach(() => {
  env = setup();
});
afterEach(() => env.close());

const eventRows = () => env.rows<Record<string, any>>('SELECT * FROM crm_events ORDER BY id');

describe('CRM events', () => {
  it('call_asterisk: stored with the call it names (by uniqueid or linkedid) and that call order', async () => {
    const callId = env.insertCall({ origin: 'api', order_id: '15', sip: '101', phone: '+79001234567', linkedid: '1700000000.50' });
    env.db.$client.prepare('INSERT INTO call_channels (uniqueid, call_id, channel) VALUES (?, ?, ?)').run('1700000000.51', callId, 'Local/79001234567@from-internal-0001;1');
    const byUniqueid = await env.post('/api/events/call_asterisk', { call_id: '1700000000.51', extension: '101' });
    expect(byUniqueid.status).toBe(200);
    expect(byUniqueid.body).toEqual({
      event: { id: 1, kind: 'call_asterisk', order_id: '15', call_id: callId, text: null, time: new Date(T0).toISOString(), details: { call_id: '1700000000.51', extension: '101' } },
    });
    const byLinkedid = await env.request('/api/events/call_asterisk.json?call_id=1700000000.50');
    expect(byLinkedid.body.event).toMatchObject({ call_id: callId, order_id: '15' });
    const unknown = await env.request('/api/events?type=call_asterisk&call_id=12345');
    expect(unknown.body.event).toMatchObject({ id: 3, kind: 'call_asterisk', call_id: null, order_id: null, details: { type: 'call_asterisk', call_id: '12345' } });
    expect(eventRows().map((r) => [r.kind, r.call_id, r.order_id])).toEqual([
      ['call_asterisk', callId, '15'],
      ['call_asterisk', callId, '15'],
      ['call_asterisk', null, null],
    ]);
  });

  it('events: text or call, each a new row', async () => {
    const text = await env.post('/api/events', { text: '501' });
    const call = await env.request('/api/events?call=777');
    const both = await env.request('/api/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: '502', call: '778' }) });
    expect(text.body.event).toMatchObject({ kind: 'event', text: '501', order_id: null, call_id: null, details: { text: '501' } });
    expect(call.body.event).toMatchObject({ kind: 'event', text: null, details: { call: '777' } });
    expect(both.body.event).toMatchObject({ kind: 'event', text: '502', details: { text: '502', call: '778' } });
    expect(eventRows()).toHaveLength(3);
  });

  it('coming: appended to the order history, also grouped by call, and in XML', async () => {
    const callId = env.insertCall({ origin: 'api', order_id: '15', sip: '101', phone: '1' });
    env.db.$client
      .prepare("INSERT INTO call_statuses (call_id, order_id, status, time, details) VALUES (?, '15', 'CALL', ?, '{}')")
      .run(callId, T0 - 1000);
    env.clock.now = T0 + 60_000;
    const res = await env.post('/api/events/coming', { id: '15' });
    expect(res.body.event).toMatchObject({ id: 1, kind: 'coming', order_id: '15', call_id: null, time: new Date(T0 + 60_000).toISOString(), details: { id: '15' } });
    await env.post('/api/events/coming', { id: '16' });
    env.clock.now += 1000;
    await env.request('/api/events?type=Coming&id=15');

    const flat = await env.request('/api/orderHistory.json?order_id=15');
    expect(flat.body.order_id).toBe('15');
    expect(flat.body.history.map((s: { status: string }) => s.status)).toEqual(['CALL']);
    expect(flat.body.events).toEqual([
      { id: 1, kind: 'coming', time: new Date(T0 + 60_000).toISOString(), details: { id: '15' } },
      { id: 3, kind: 'coming', time: new Date(T0 + 61_000).toISOString(), details: { type: 'Coming', id: '15' } },
    ]);
    const grouped = await env.request('/api/orderHistory.json?order_id=15&group_by_call=1');
    expect(grouped.body.calls).toHaveLength(1);
    expect(grouped.body.events.map((e: { id: number }) => e.id)).toEqual([1, 3]);
    const none = await env.request('/api/orderHistory.json?order_id=99');
    expect(none.body).toEqual({ order_id: '99', history: [], events: [] });
    const xml = await env.request('/api/orderHistory.xml?order_id=16');
    expect(xml.body).toContain('<events><event><id>2</id><kind>coming</kind>');
  });

  it('publishes every stored event on the domain bus after it is committed', async () => {
    const seen: Array<{ type: string; rows: number }> = [];
    env.bus.on('event', (e) => seen.push({ type: e.type, rows: eventRows().length }));
    await env.post('/api/events/coming', { id: '15' });
    await env.post('/api/events', { text: '1' });
    await env.post('/api/events/call_asterisk', { call_id: '1700000000.1' });
    expect(env.published).toEqual([
      { type: 'coming', time: T0, event_id: 1, order_id: '15', call_id: null, text: null, details: { id: '15' } },
      { type: 'event', time: T0, event_id: 2, order_id: null, call_id: null, text: '1', details: { text: '1' } },
      { type: 'call_asterisk', time: T0, event_id: 3, order_id: null, call_id: null, text: null, details: { call_id: '1700000000.1' } },
    ]);
    expect(seen).toEqual([
      { type: 'coming', rows: 1 },
      { type: 'event', rows: 2 },
      { type: 'call_asterisk', rows: 3 },
    ]);
  });

  it('a failing listener neither breaks the answer nor the other listeners', async () => {
    const errors: string[] = [];
    const bus = new DomainBus((err) => errors.push((err as Error).message));
    const got: string[] = [];
    bus.on('event', () => {
      throw new Error('listener down');
    });
    bus.on('event', (e) => got.push(e.type));
    bus.publish({ type: 'coming', time: 1 });
    expect(got).toEqual(['coming']);
    expect(errors).toEqual(['listener down']);

    env.bus.on('event', () => {
      throw new Error('listener down');
    });
    const res = await env.post('/api/events/coming', { id: '15' });
    expect(res.status).toBe(200);
    expect(env.published).toHaveLength(1);
  });
});
