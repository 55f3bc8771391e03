/**
 * GET /api/stream against the daemon and the simulated PBX: events are the
 * committed rows, a client dropped mid-stream that reconnects with
 * Last-Event-ID gets exactly what it missed (also across a daemon restart on
 * the same database), filters, heartbeats, validation and the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';
import { openSse, type SseEvent } from './sse.js';

const TOKEN = 'stream-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

let h: Harness;
const url = (q = '') => `http://127.0.0.1:${h.daemon.port}/api/stream${q}`;
const get = (path: string) => h.api(path, { headers: auth });

/** Every row id after a cursor position, from SQLite itself. */
function rowIdsAfter(table: 'call_statuses' | 'operator_history', after: number): number[] {
  return (h.daemon.db.$client.prepare(`SELECT id FROM ${table} WHERE id > ? ORDER BY id`).all(after) as Array<{ id: number }>).map((r) => r.id);
}

const idsOf = (events: SseEvent[], kind: string) => events.filter((e) => e.event === kind).map((e) => e.data.id as number);
const cursorOf = (c: string) => Object.fromEntries(c.split('.').map((p) => [p[0], Number(p.slice(1))])) as { s: number; p: number };

async function finalOf(callId: number): Promise<string> {
  return waitFor(`call ${callId} to end`, async () => {
    const { body } = await get(`/api/callHistory.json?call_id=${callId}`);
    const last = body.history?.[body.history.length - 1];
    return last && ['FINISH', 'ERROR', 'CLIENT_NOANSWER', 'CLIENT_BUSY', 'OPERATOR_NOANSWER', 'OPERATOR_BUSY', 'OPERATOR_OFFLINE', 'OPERATOR_CANCEL', 'CLIENT_CANCEL'].includes(last.status) ? (last.status as string) : undefined;
  });
}

async function makeCall(sip: string, phone: string, orderId: string): Promise<number> {
  const r = await get(`/api/makeCall.json?sip=${sip}&phone=${phone}&order_id=${orderId}`);
  expect(r.status).toBe(200);
  return r.body.call_id as number;
}

beforeAll(async () => {
  h = await startHarness({ timeScale: 0.2, env: { CALLBRIDGE_API_TOKENS: TOKEN, CALLBRIDGE_HTTP_HOST: '127.0.0.1' } });
});
afterAll(async () => {
  await h?.close();
});

describe('GET /api/stream', () => {
  it('needs the API token like every /api route', async () => {
    const anon = await openSse(url());
    expect(anon.status).toBe(401);
    expect(JSON.parse(anon.raw).error.code).toBe('UNAUTHORIZED');
    const wrong = await openSse(url(), { authorization: 'Bearer not-the-token-0123456789' });
    expect(wrong.status).toBe(401);
    const ok = await openSse(url(), auth);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await ok.waitFor('ready', (e) => e.some((x) => x.event === 'ready'));
    expect(ok.raw.startsWith('retry: 2000\n')).toBe(true);
    ok.drop();
  });

  it('a client dropped mid-stream gets exactly the missed events with Last-Event-ID', async () => {
    const first = await openSse(url(), auth);
    await first.waitFor('ready', (e) => e.length > 0);
    const start = cursorOf(first.events[0]!.data.cursor);
    expect(first.events[0]!.id).toBe(first.events[0]!.data.cursor);
    const callId = await makeCall('101', '380639920000', 'stream-1');
    await first.waitFor('the CALL status', (e) => e.some((x) => x.event === 'status' && x.data.call_id === callId));
    first.drop();
    await first.ended;
    const seen = first.events.filter((e) => e.event !== 'ready');
    expect(await finalOf(callId)).toBe('FINISH');
    await waitFor('101 to be online again', async () => (await get('/api/sipList.json')).body.sips.find((s: any) => s.sip === '101')?.status === 'online');

    const second = await openSse(url(), { ...auth, 'last-event-id': first.lastId()! });
    const statusRows = rowIdsAfter('call_statuses', start.s);
    const presenceRows = rowIdsAfter('operator_history', start.p);
    await second.waitFor('the missed events', (e) => idsOf([...seen, ...e], 'status').length >= statusRows.length && idsOf([...seen, ...e], 'presence').length >= presenceRows.length);
    const missed = second.events.filter((e) => e.event !== 'ready');
    expect(missed.length).toBeGreaterThan(0);
    // no gap, no repeat: what the two connections carried is every row after the start, once, in id order per kind
    expect(idsOf([...seen, ...missed], 'status')).toEqual(statusRows);
    expect(idsOf([...seen, ...missed], 'presence')).toEqual(presenceRows);
    const chain = idsOf([...seen, ...missed], 'status').length;
    expect(chain).toBeGreaterThanOrEqual(6);
    const statuses = [...seen, ...missed].filter((e) => e.event === 'status').map((e) => e.data.status);
    expect(statuses).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']);
    const fin = missed.find((e) => e.data.status === 'FINISH')!;
    expect(fin.data).toMatchObject({ call_id: callId, order_id: 'stream-1', final: true, sip: '101', phone: '380639920000', direction: 'outgoing', origin: 'click-to-call' });
    // the event's id is the cursor after it: its status row and the presence position at that point
    expect(cursorOf(fin.id!).s).toBe(fin.data.id);
    // nothing more arrives after the catch-up
    await new Promise((r) => setTimeout(r, 300));
    expect(second.events.filter((e) => e.event !== 'ready')).toHaveLength(missed.length);
    second.drop();
  });

  it('since_id resumes like Last-Event-ID; since_id=0 replays from the first row; the header wins over since_id', async () => {
    const all = await openSse(url('?since_id=0&kind=status'), auth);
    const statusRows = rowIdsAfter('call_statuses', 0);
    await all.waitFor('every status', (e) => idsOf(e, 'status').length >= statusRows.length);
    expect(idsOf(all.events, 'status')).toEqual(statusRows);
    all.drop();
    const mid = all.events.filter((e) => e.event === 'status')[2]!;
    const resumed = await openSse(url(`?since_id=${mid.id}&kind=status`), auth);
    await resumed.waitFor('the rest', (e) => idsOf(e, 'status').length >= statusRows.length - 3);
    expect(idsOf(resumed.events, 'status')).toEqual(statusRows.slice(3));
    resumed.drop();
    const header = await openSse(url(`?since_id=0&kind=status`), { ...auth, 'last-event-id': mid.id! });
    await header.waitFor('the rest', (e) => idsOf(e, 'status').length >= statusRows.length - 3);
    expect(idsOf(header.events, 'status')).toEqual(statusRows.slice(3));
    header.drop();
  });

  it('filters by call, order, sip and kind', async () => {
    const a = await makeCall('102', '380639920001', 'stream-f');
    expect(await finalOf(a)).toBe('FINISH');
    const chainIds = (await get(`/api/callHistory.json?call_id=${a}`)).body.history.map((s: any) => s.id);

    const byCall = await openSse(url(`?since_id=0&call_id=${a}`), auth);
    await byCall.waitFor('the chain', (e) => idsOf(e, 'status').length >= chainIds.length);
    await new Promise((r) => setTimeout(r, 200));
    expect(idsOf(byCall.events, 'status')).toEqual(chainIds);
    expect(idsOf(byCall.events, 'presence')).toEqual([]); // presence belongs to no call
    byCall.drop();

    const byOrder = await openSse(url('?since_id=0&order_id=stream-f'), auth);
    await byOrder.waitFor('the chain', (e) => idsOf(e, 'status').length >= chainIds.length);
    expect(byOrder.events.filter((e) => e.event === 'status').every((e) => e.data.order_id === 'stream-f')).toBe(true);
    byOrder.drop();

    const bySip = await openSse(url('?since_id=0&sip=102'), auth);
    const presence102 = (h.daemon.db.$client.prepare("SELECT id FROM operator_history WHERE sip = '102' ORDER BY id").all() as Array<{ id: number }>).map((r) => r.id);
    await bySip.waitFor('102 only', (e) => idsOf(e, 'status').length >= chainIds.length && idsOf(e, 'presence').length >= presence102.length);
    expect(idsOf(bySip.events, 'status')).toEqual(chainIds);
    expect(idsOf(bySip.events, 'presence')).toEqual(presence102);
    bySip.drop();

    const presenceOnly = await openSse(url('?since_id=0&kind=presence'), auth);
    const presenceRows = rowIdsAfter('operator_history', 0);
    await presenceOnly.waitFor('presence', (e) => idsOf(e, 'presence').length >= presenceRows.length);
    expect(idsOf(presenceOnly.events, 'presence')).toEqual(presenceRows);
    expect(idsOf(presenceOnly.events, 'status')).toEqual([]);
    expect(presenceOnly.events[0]!.data.kinds).toEqual(['presence']);
    presenceOnly.drop();

    // a registration made while streaming arrives live
    const live = await openSse(url('?kind=presence&sip=106'), auth);
    await live.waitFor('ready', (e) => e.length > 0);
    expect(h.sim.register('106')).toBe(true);
    await live.waitFor('106 online', (e) => e.some((x) => x.event === 'presence' && x.data.sip === '106' && x.data.status === 'online'));
    live.drop();
    h.sim.unregister('106');
  });

  it('sends heartbeat comments', async () => {
    const c = await openSse(url('?heartbeat=1&kind=status&call_id=999999'), auth);
    await waitFor('two heartbeats', () => c.comments.filter((x) => x === 'heartbeat').length >= 2, 5000);
    expect(c.raw).toContain('\n\n: heartbeat\n\n');
    c.drop();
  });

  it('refuses bad parameters with 400 naming the field', async () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['?call_id=abc', {}, 'call_id'],
      ['?order_id=bad%20order', {}, 'order_id'],
      ['?sip=a%3Bb', {}, 'sip'],
      ['?kind=status,calls', {}, 'kind'],
      ['?since_id=s1.x2', {}, 'since_id'],
      ['?since_id=s1.s2', {}, 'since_id'],
      ['?heartbeat=0', {}, 'heartbeat'],
      ['', { 'last-event-id': 'yesterday' }, 'Last-Event-ID'],
    ];
    for (const [q, headers, field] of cases) {
      const r = await h.api(`/api/stream${q}`, { headers: { ...auth, ...headers } });
      expect(r.status, q).toBe(400);
      expect(r.body.error, q).toMatchObject({ code: 'INVALID_PARAMETER', field });
    }
    const post = await h.api('/api/stream', { method: 'POST', headers: auth });
    expect(post.status).toBe(405);
  });

  it('resumes across a daemon restart on the same database', async () => {
    const first = await openSse(url(), auth);
    await first.waitFor('ready', (e) => e.length > 0);
    const start = cursorOf(first.events[0]!.data.cursor);
    const a = await makeCall('103', '380639920002', 'stream-r');
    await first.waitFor('a status of the call', (e) => e.some((x) => x.event === 'status' && x.data.call_id === a));
    await h.restart();
    await first.ended; // the stopping daemon ended the stream
    const seen = first.events.filter((e) => e.event !== 'ready');
    await finalOf(a);
    const b = await makeCall('104', '380639920003', 'stream-r');
    expect(await finalOf(b)).toBe('FINISH');
    await waitFor('104 to be online again', async () => (await get('/api/sipList.json')).body.sips.find((s: any) => s.sip === '104')?.status === 'online');

    const second = await openSse(url(), { ...auth, 'last-event-id': first.lastId()! });
    const statusRows = rowIdsAfter('call_statuses', start.s);
    const presenceRows = rowIdsAfter('operator_history', start.p);
    await second.waitFor('the missed events', (e) => idsOf([...seen, ...e], 'status').length >= statusRows.length && idsOf([...seen, ...e], 'presence').length >= presenceRows.length);
    const missed = second.events.filter((e) => e.event !== 'ready');
    expect(idsOf([...seen, ...missed], 'status')).toEqual(statusRows);
    expect(idsOf([...seen, ...missed], 'presence')).toEqual(presenceRows);
    expect(missed.some((e) => e.data.call_id === b && e.data.status === 'FINISH')).toBe(true);
    second.drop();
  });
});
