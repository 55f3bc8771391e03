/**
 * GET /rest/calls/company.api, missed.api and users.api over a real Hono app
 * and a fresh SQLite database seeded with the calls a PBX stores: inbound
 * answered and abandoned, a ring group, outbound answered and busy, internal,
 * a blind transfer, a click-to-call, callbacks, and the operators' pauses.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { openDatabase, type Db } from '../../src/db/index.js';
import { callStatuses, calls, operatorHistory, recordings, type PresenceStatus } from '../../src/db/schema.js';
import { HistoryQueries, type HistoryDeps } from '../../src/rest/history.js';
import { installHistoryRoutes } from '../../src/rest/history-routes.js';
import { ChildCalls, childUuid } from '../../src/calls/children.js';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const S = 1000;

let db: Db;
let app: Hono;

const deps: HistoryDeps = {
  group: (kind, ext) => ({ id: ext ? Number(ext) : null, displayName: `${kind === 'queue' ? 'Queue' : 'Ring group'} ${ext ?? ''}`.trim(), ext }),
  uuidOf: (id) => `c${String(id).padStart(31, '0')}`,
  user: (sip) => ({ id: Number(sip), displayName: `Operator ${sip}`, ext: sip }),
  contactName: (phone) => (phone === '79001234567' ? 'Ivan Petrov' : undefined),
  audioUrl: (uuid, call) => (call.recordingFile || (call as { recordingId?: number | null }).recordingId ? `https://pbx.example/rest/public/calls/${uuid}/audio` : null),
  trunk: '74950000001',
};
const uuid = (id: number) => deps.uuidOf(id);

type NewCall = typeof calls.$inferInsert;

/** One stored call with its final status (and details), as the PBX mirror or the click-to-call flow leave it. */
function addCall(c: Partial<NewCall> & { createdAt: number }, finalDetails: Record<string, unknown> = {}): number {
  const row = db
    .insert(calls)
    .values({ origin: 'pbx', direction: 'incoming', status: 'FINISH', final: true, linkedid: `${c.createdAt / 1000}.1`, ...c })
    .returning()
    .get();
  db.insert(callStatuses).values({ callId: row.id, orderId: row.orderId, status: 'CALL', time: row.createdAt, details: {} }).run();
  db.insert(callStatuses).values({ callId: row.id, orderId: row.orderId, status: row.status, time: row.endedAt ?? row.createdAt, details: finalDetails }).run();
  return row.id;
}

/** One row of the operator history, as the presence service writes it. */
function presence(sip: string, status: PresenceStatus, previousStatus: PresenceStatus | null, time: number, reason = 'device state'): number {
  return db.insert(operatorHistory).values({ sip, status, previousStatus, reason, time }).returning().get().id;
}

const ids: Record<string, number> = {};
const pauses: Record<string, number> = {};

beforeEach(() => {
  db = openDatabase(':memory:');
  app = new Hono();
  installHistoryRoutes(app, new HistoryQueries(db), deps);

  ids.before = addCall({ createdAt: T0 - 60 * S, endedAt: T0 - 50 * S, phone: '79001112233', sip: '1000', operators: ['1000'], answeredAt: T0 - 58 * S, billsec: 8, did: '74950000600' });
  ids.inboundAnswered = addCall({
    createdAt: T0,
    answeredAt: T0 + 5 * S,
    endedAt: T0 + 65 * S,
    billsec: 60,
    phone: '79001234567',
    did: '74950000600',
    sip: '1000',
    operators: ['1000'],
    hangupCause: 16,
    recordingFile: '/var/spool/asterisk/monitor/2026/11/24/in-1.wav',
    legs: [
      { channel: 'PJSIP/trunk-00000001', role: 'client', number: '79001234567', dialed_by: null, answer_at: T0 + 1 * S, dial_status: null },
      { channel: 'PJSIP/1000-00000002', role: 'operator', sip: '1000', dialed_by: 'x', answer_at: T0 + 5 * S, dial_status: 'ANSWER' },
    ],
  }, { by: 'client', cause: 16 });
  ids.inboundAbandoned = addCall({ createdAt: T0 + 100 * S, endedAt: T0 + 112 * S, billsec: 0, phone: '79005550001', did: '74950000600', operators: ['1000'], status: 'CLIENT_CANCEL', hangupCause: 16 }, { dialStatus: 'CANCEL' });
  ids.ringGroup = addCall({ createdAt: T0 + 200 * S, answeredAt: T0 + 206 * S, endedAt: T0 + 236 * S, billsec: 30, phone: '79005550002', did: '74950000600', sip: '1001', operators: ['1000', '1001'], recordingFile: '/var/spool/asterisk/monitor/2026/11/24/in-3.wav' });
  ids.outboundAnswered = addCall({ createdAt: T0 + 300 * S, answeredAt: T0 + 310 * S, endedAt: T0 + 340 * S, billsec: 30, direction: 'outgoing', phone: '79005550003', sip: '1002', operators: ['1002'] });
  ids.outboundBusy = addCall({ createdAt: T0 + 400 * S, endedAt: T0 + 403 * S, billsec: 0, direction: 'outgoing', phone: '79005550004', sip: '1002', operators: ['1002'], status: 'CLIENT_BUSY', hangupCause: 17 }, { dialStatus: 'BUSY', cause: 17 });
  ids.outboundCongested = addCall({ createdAt: T0 + 450 * S, endedAt: T0 + 451 * S, billsec: 0, direction: 'outgoing', phone: '79005550009', sip: '1002', operators: ['1002'], status: 'ERROR', hangupCause: 34 }, { dialStatus: 'CONGESTION', reason: 'congestion: the trunk or route refused the call' });
  ids.internal = addCall({ createdAt: T0 + 500 * S, answeredAt: T0 + 503 * S, endedAt: T0 + 523 * S, billsec: 20, direction: 'internal', phone: '1000', sip: '1001', operators: ['1001'] });
  ids.blindTransfer = addCall({
    createdAt: T0 + 600 * S,
    answeredAt: T0 + 604 * S,
    endedAt: T0 + 660 * S,
    billsec: 56,
    phone: '79005550005',
    did: '74950000601',
    sip: '1001',
    operators: ['1000', '1001'],
    transfers: [{ from: '1000', to: '1001', kind: 'blind', at: T0 + 620 * S }],
  });
  ids.clickToCall = addCall({
    origin: 'api',
    direction: 'outgoing',
    createdAt: T0 + 700 * S,
    operatorAnswerAt: T0 + 703 * S,
    clientAnswerAt: T0 + 710 * S,
    endedAt: T0 + 752 * S,
    billsec: 42,
    sip: '1002',
    phone: '380639920000',
    orderId: '15',
    externalKey: 'ek-15',
    linkedid: null,
  }, { by: 'client', cause: 16 });
  db.insert(recordings).values({ callId: ids.clickToCall, orderId: '15', name: 'order-15-call-x', file: '/rec/order-15.wav', format: 'wav', startedAt: T0 + 710 * S, endedAt: T0 + 752 * S }).run();
  // missed from +79005550006 at 800 s, called back (as 89005550006) and answered at 900 s: nothing to call back
  ids.missedCalledBack = addCall({ createdAt: T0 + 800 * S, endedAt: T0 + 820 * S, billsec: 0, phone: '+79005550006', did: '74950000600', operators: ['1000'], status: 'OPERATOR_NOANSWER' }, { dialStatus: 'NOANSWER' });
  ids.callback = addCall({ createdAt: T0 + 900 * S, answeredAt: T0 + 905 * S, endedAt: T0 + 930 * S, billsec: 25, direction: 'outgoing', phone: '89005550006', sip: '1000', operators: ['1000'] });
  // the abandoned caller (79005550001) was tried again but did not answer: still to call back
  ids.callbackUnanswered = addCall({ createdAt: T0 + 950 * S, endedAt: T0 + 980 * S, billsec: 0, direction: 'outgoing', phone: '79005550001', sip: '1000', operators: ['1000'], status: 'CLIENT_NOANSWER' }, { dialStatus: 'NOANSWER' });
  ids.anonymousMissed = addCall({ createdAt: T0 + 1000 * S, endedAt: T0 + 1010 * S, billsec: 0, phone: 'anonymous', did: '74950000600', operators: ['1000'], status: 'CLIENT_CANCEL' });
  ids.ivrAbandoned = addCall({ createdAt: T0 + 1100 * S, endedAt: T0 + 1105 * S, billsec: 0, phone: '79005550007', did: '74950000600', operators: [], status: 'CLIENT_CANCEL' });
  // a missed call whose caller calls in again later and is answered
  ids.missedThenAnswered = addCall({ createdAt: T0 + 1200 * S, endedAt: T0 + 1210 * S, billsec: 0, phone: '79005550008', did: '74950000600', operators: ['1000'], status: 'CLIENT_CANCEL' });
  ids.secondTryAnswered = addCall({ createdAt: T0 + 1300 * S, answeredAt: T0 + 1302 * S, endedAt: T0 + 1320 * S, billsec: 18, phone: '79005550008', did: '74950000600', sip: '1001', operators: ['1001'] });
  // two calls at the same millisecond: ordered by id
  ids.tieA = addCall({ createdAt: T0 + 1400 * S, endedAt: T0 + 1401 * S, billsec: 0, direction: 'internal', phone: '1001', operators: ['1002'], status: 'OPERATOR_BUSY' });
  ids.tieB = addCall({ createdAt: T0 + 1400 * S, endedAt: T0 + 1402 * S, billsec: 0, direction: 'internal', phone: '1002', operators: ['1001'], status: 'OPERATOR_NOANSWER' });
  // still ringing: not final, never listed
  ids.open = addCall({ createdAt: T0 + 1500 * S, phone: '79005550010', did: '74950000600', operators: ['1000'], status: 'OPERATOR_CALLTO', final: false });
  ids.after = addCall({ createdAt: T0 + 5000 * S, endedAt: T0 + 5010 * S, billsec: 0, phone: '79005550011', did: '74950000600', operators: ['1000'], status: 'CLIENT_CANCEL' });

  // presence of 1000: paused at 150 s, took a call while paused (160-170 s), unpaused at 350 s
  presence('1000', 'online', null, T0 - 100 * S, 'resync (AMI)');
  pauses.p1000 = presence('1000', 'away', 'online', T0 + 150 * S, 'queue 700 paused: lunch');
  presence('1000', 'inuse', 'away', T0 + 160 * S);
  presence('1000', 'away', 'inuse', T0 + 170 * S);
  pauses.u1000 = presence('1000', 'online', 'away', T0 + 350 * S, 'queue 700 unpaused');
  // 1001 paused during a call (inuse → away), then unpaused during another one (inuse → online)
  presence('1001', 'inuse', 'online', T0 + 200 * S);
  pauses.p1001 = presence('1001', 'away', 'inuse', T0 + 240 * S);
  presence('1001', 'inuse', 'away', T0 + 600 * S);
  pauses.u1001 = presence('1001', 'online', 'inuse', T0 + 660 * S);
  // 1002 paused, then its phone went offline: no unpause
  pauses.p1002 = presence('1002', 'away', 'online', T0 + 1000 * S, 'queue 700 paused: away');
  presence('1002', 'offline', 'away', T0 + 1100 * S, 'contact unreachable');
  pauses.after = presence('1002', 'away', 'offline', T0 + 5000 * S);
});

afterEach(() => db.$client.close());

const WINDOW = `timeFrom=${T0}&timeTo=${T0 + 3600 * S}`;

async function get(path: string): Promise<{ status: number; type: string; body: any }> {
  const res = await app.request(path);
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, body: type.includes('json') ? await res.json() : await res.text() };
}
const uuids = (body: Array<{ uuid: string }>) => body.map((r) => r.uuid);
const byUuid = (body: Array<Record<string, unknown>>, id: number) => body.find((r) => r.uuid === uuid(id));

/** The final calls of the window, in start order (ties by id). */
const inWindow = () => [
  'inboundAnswered', 'inboundAbandoned', 'ringGroup', 'outboundAnswered', 'outboundBusy', 'outboundCongested', 'internal', 'blindTransfer',
  'clickToCall', 'missedCalledBack', 'callback', 'callbackUnanswered', 'anonymousMissed', 'ivrAbandoned', 'missedThenAnswered', 'secondTryAnswered', 'tieA', 'tieB',
].map((k) => uuid(ids[k]!));

describe('company.api', () => {
  it('lists every final call of the window in start order, as a JSON array', async () => {
    const r = await get(`/rest/calls/company.api?${WINDOW}`);
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/json');
    expect(Array.isArray(r.body)).toBe(true);
    expect(uuids(r.body)).toEqual(inWindow());
  });

  it('gives every field the seed type', async () => {
    const r = await get(`/rest/calls/company.api?${WINDOW}`);
    const nullableString = (v: unknown) => v === null || typeof v === 'string';
    for (const rec of r.body as Array<Record<string, any>>) {
      expect(rec.parentUuid).toBeNull();
      expect(typeof rec.uuid).toBe('string');
      expect(Number.isInteger(rec.endAt)).toBe(true);
      expect([1, 2, 4]).toContain(rec.lgDirection);
      expect(nullableString(rec.otherLegNum) && nullableString(rec.otherLegName)).toBe(true);
      if (rec.leg !== null) expect(rec.leg).toEqual({ id: expect.any(Number), type: 1, displayName: expect.any(String), ext: expect.any(String) });
      expect(rec.lgDirection === 1 ? rec.leg2 !== null : rec.leg2 === null).toBe(true);
      expect(Number.isInteger(rec.billSecs) && Number.isInteger(rec.duration) && rec.duration >= rec.billSecs).toBe(true);
      expect([0, 1, 2, 3, 4]).toContain(rec.disposition);
      expect(nullableString(rec.transferHistory) && nullableString(rec.audioRecUrl) && nullableString(rec.trunk)).toBe(true);
    }
  });

  const cases: Array<{ name: string; key: string; want: Record<string, unknown> }> = [
    {
      name: 'inbound answered',
      key: 'inboundAnswered',
      want: {
        endAt: T0 + 65 * S, lgDirection: 4, otherLegNum: '79001234567', otherLegName: 'Ivan Petrov',
        leg: { id: 1000, type: 1, displayName: 'Operator 1000', ext: '1000' }, leg2: null, billSecs: 60, duration: 65, disposition: 0,
        transferHistory: '1000', trunk: '74950000600',
      },
    },
    { name: 'inbound abandoned', key: 'inboundAbandoned', want: { lgDirection: 4, otherLegName: '79005550001', leg: { id: 1000, type: 1, displayName: 'Operator 1000', ext: '1000' }, billSecs: 0, duration: 12, disposition: 1, transferHistory: null, audioRecUrl: null } },
    { name: 'ring group, the second operator answered', key: 'ringGroup', want: { leg: { id: 1001, type: 1, displayName: 'Operator 1001', ext: '1001' }, billSecs: 30, disposition: 0, transferHistory: '1001' } },
    { name: 'outbound answered', key: 'outboundAnswered', want: { lgDirection: 2, otherLegNum: '79005550003', leg: { id: 1002, type: 1, displayName: 'Operator 1002', ext: '1002' }, disposition: 0, trunk: '74950000001', audioRecUrl: null } },
    { name: 'outbound busy', key: 'outboundBusy', want: { lgDirection: 2, disposition: 4, billSecs: 0, duration: 3, transferHistory: null } },
    { name: 'outbound congested', key: 'outboundCongested', want: { lgDirection: 2, disposition: 2 } },
    {
      name: 'internal',
      key: 'internal',
      want: { lgDirection: 1, otherLegNum: null, otherLegName: null, leg: { id: 1000, type: 1, displayName: 'Operator 1000', ext: '1000' }, leg2: { id: 1001, type: 1, displayName: 'Operator 1001', ext: '1001' }, trunk: null, billSecs: 20 },
    },
    { name: 'blind transfer', key: 'blindTransfer', want: { lgDirection: 4, leg: { id: 1001, type: 1, displayName: 'Operator 1001', ext: '1001' }, transferHistory: '1000 > 1001', trunk: '74950000601' } },
    { name: 'click-to-call', key: 'clickToCall', want: { lgDirection: 2, otherLegNum: '380639920000', leg: { id: 1002, type: 1, displayName: 'Operator 1002', ext: '1002' }, billSecs: 42, duration: 52, disposition: 0, transferHistory: '1002', trunk: '74950000001' } },
    { name: 'internal, busy', key: 'tieA', want: { lgDirection: 1, disposition: 4, leg2: { id: 1002, type: 1, displayName: 'Operator 1002', ext: '1002' } } },
  ];
  it.each(cases)('$name', async ({ key, want }) => {
    const r = await get(`/rest/calls/company.api?${WINDOW}`);
    expect(byUuid(r.body, ids[key]!)).toMatchObject(want);
  });

  it('links recordings of answered calls only: the PBX file or the click-to-call recording row', async () => {
    const r = await get(`/rest/calls/company.api?${WINDOW}`);
    const withAudio = (r.body as Array<{ uuid: string; audioRecUrl: string | null }>).filter((x) => x.audioRecUrl !== null);
    expect(withAudio).toEqual(
      ['inboundAnswered', 'ringGroup', 'clickToCall'].map((k) => ({ uuid: uuid(ids[k]!), audioRecUrl: `https://pbx.example/rest/public/calls/${uuid(ids[k]!)}/audio` })).map((x) => expect.objectContaining(x)),
    );
  });

  const directionForms: Array<{ query: string; lg: number[] }> = [
    { query: 'directions=1', lg: [1] },
    { query: 'directions=2', lg: [2] },
    { query: 'directions=4', lg: [4] },
    { query: 'directions=1&directions=4', lg: [1, 4] },
    { query: 'directions=1,4', lg: [1, 4] },
    { query: 'directions=5', lg: [1, 4] },
    { query: 'directions=6', lg: [2, 4] },
    { query: 'directions=2&directions=1,4', lg: [1, 2, 4] },
    { query: 'directions=7', lg: [1, 2, 4] },
  ];
  it.each(directionForms)('filters by $query', async ({ query, lg }) => {
    const all = (await get(`/rest/calls/company.api?${WINDOW}`)).body as Array<{ uuid: string; lgDirection: number }>;
    const r = await get(`/rest/calls/company.api?${WINDOW}&${query}`);
    expect(r.status).toBe(200);
    const want = all.filter((x) => lg.includes(x.lgDirection)).map((x) => x.uuid);
    expect(want.length).toBeGreaterThan(0);
    expect(uuids(r.body)).toEqual(want);
  });

  it('pages with limit and offset: the pages put together are the whole list, in order, each call once', async () => {
    const whole = inWindow();
    for (const limit of [1, 3, 5, 7]) {
      const seen: string[] = [];
      for (let offset = 0; ; offset += limit) {
        const r = await get(`/rest/calls/company.api?${WINDOW}&limit=${limit}&offset=${offset}`);
        expect(r.body.length).toBeLessThanOrEqual(limit);
        seen.push(...uuids(r.body));
        if (r.body.length < limit) break;
      }
      expect(seen).toEqual(whole);
    }
  });

  it('asks again for the same page and gets the same answer; calls started at the same ms come in id order', async () => {
    const a = await get(`/rest/calls/company.api?${WINDOW}&limit=2&offset=16`);
    const b = await get(`/rest/calls/company.api?${WINDOW}&limit=2&offset=16`);
    expect(a.body).toEqual(b.body);
    expect(uuids(a.body)).toEqual([uuid(ids.tieA!), uuid(ids.tieB!)]);
    expect(ids.tieA! < ids.tieB!).toBe(true);
  });

  it('defaults to 50 and an offset past the end is an empty page', async () => {
    for (let k = 0; k < 60; k++) addCall({ createdAt: T0 + 2000 * S + k, endedAt: T0 + 2001 * S + k, billsec: 0, phone: '79009990000', operators: ['1000'], status: 'CLIENT_CANCEL' });
    expect((await get(`/rest/calls/company.api?${WINDOW}`)).body).toHaveLength(50);
    expect((await get(`/rest/calls/company.api?${WINDOW}&offset=50`)).body).toHaveLength(18 + 60 - 50);
    expect((await get(`/rest/calls/company.api?${WINDOW}&offset=1000`)).body).toEqual([]);
  });

  const bounds: Array<{ name: string; from: number; to: number; want: string[] }> = [
    { name: 'timeFrom is inclusive', from: T0 + 100 * S, to: T0 + 200 * S, want: ['inboundAbandoned', 'ringGroup'] },
    { name: 'timeTo is inclusive', from: T0 + 101 * S, to: T0 + 300 * S, want: ['ringGroup', 'outboundAnswered'] },
    { name: 'a ms before a start leaves it out', from: T0 + 100 * S + 1, to: T0 + 300 * S - 1, want: ['ringGroup'] },
    { name: 'a window of one ms', from: T0 + 1400 * S, to: T0 + 1400 * S, want: ['tieA', 'tieB'] },
    { name: 'the start counts, not the end (a call that began before the window)', from: T0 - 55 * S, to: T0 - 1, want: [] },
    { name: 'an open call in the window is not listed', from: T0 + 1500 * S, to: T0 + 1500 * S, want: [] },
    { name: 'the whole day', from: T0 - 3600 * S, to: T0 + 86_400 * S, want: ['before', ...[
      'inboundAnswered', 'inboundAbandoned', 'ringGroup', 'outboundAnswered', 'outboundBusy', 'outboundCongested', 'internal', 'blindTransfer',
      'clickToCall', 'missedCalledBack', 'callback', 'callbackUnanswered', 'anonymousMissed', 'ivrAbandoned', 'missedThenAnswered', 'secondTryAnswered', 'tieA', 'tieB',
    ], 'after'] },
  ];
  it.each(bounds)('window: $name', async ({ from, to, want }) => {
    const r = await get(`/rest/calls/company.api?timeFrom=${from}&timeTo=${to}`);
    expect(uuids(r.body)).toEqual(want.map((k) => uuid(ids[k]!)));
  });

  it('reads along calls_created, never a full scan of calls', () => {
    const q = new HistoryQueries(db);
    const params = { from: T0, to: T0 + 1, all: 0, d1: 'internal', d2: null, d4: 'incoming', limit: 50, offset: 0, calls: 1, p32: 1, p64: 1 };
    for (const [name, sql] of Object.entries(q.sql)) {
      const plan = (db.$client.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((p) => p.detail);
      expect(plan.some((d) => /SEARCH c USING (COVERING )?INDEX calls_(created|missed) \(created_at>\? AND created_at<\?\)/.test(d)), `${name}: ${plan.join(' | ')}`).toBe(true);
      expect(plan.filter((d) => /^SCAN (c|l|h|calls|operator_history)\b/.test(d)), `${name}: ${plan.join(' | ')}`).toEqual([]);
      // missed: the partial index alone (called_back is kept by triggers), no look-up per skipped row
      if (name === 'missed') expect(plan.some((d) => /SEARCH c USING COVERING INDEX calls_missed/.test(d)), plan.join(' | ')).toBe(true);
      if (name === 'users' || name === 'company') {
        // calls and children merged in the order each index gives: no sort of the window
        expect(plan.some((d) => /SEARCH k USING INDEX call_children_created/.test(d)), plan.join(' | ')).toBe(true);
        expect(plan.some((d) => /TEMP B-TREE/.test(d)), `${name} sorts: ${plan.join(' | ')}`).toBe(false);
      }
      if (name === 'users') {
        expect(plan.some((d) => /SEARCH h USING (COVERING )?INDEX operator_history_pauses/.test(d)), plan.join(' | ')).toBe(true);
        expect(plan.some((d) => /TEMP B-TREE/.test(d)), `users sorts: ${plan.join(' | ')}`).toBe(false);
      }
    }
  });
});

describe('missed.api', () => {
  it('lists the incoming calls nobody answered and no later call of the number answered', async () => {
    const r = await get(`/rest/calls/missed.api?${WINDOW}`);
    expect(r.status).toBe(200);
    expect(uuids(r.body)).toEqual([uuid(ids.inboundAbandoned!), uuid(ids.ivrAbandoned!)]);
    expect(byUuid(r.body, ids.inboundAbandoned!)).toMatchObject({ lgDirection: 4, otherLegNum: '79005550001', disposition: 1, billSecs: 0, audioRecUrl: null, trunk: '74950000600' });
  });

  it('a later answered call in another form of the number (+7… / 8…) counts as the callback', async () => {
    const r = await get(`/rest/calls/missed.api?${WINDOW}`);
    expect(uuids(r.body)).not.toContain(uuid(ids.missedCalledBack!));
    // without the callback the call is to be called back
    db.$client.prepare("UPDATE calls SET phone = '89005559999' WHERE id = ?").run(ids.callback!);
    expect(uuids((await get(`/rest/calls/missed.api?${WINDOW}`)).body)).toContain(uuid(ids.missedCalledBack!));
  });

  it('an answered call before the missed one does not count', async () => {
    addCall({ createdAt: T0 + 1600 * S, endedAt: T0 + 1610 * S, billsec: 0, phone: '79001234567', did: '74950000600', operators: ['1000'], status: 'CLIENT_CANCEL' });
    expect(uuids((await get(`/rest/calls/missed.api?${WINDOW}`)).body)).toHaveLength(3);
  });

  it('a later answer after timeTo still counts', async () => {
    const r = await get(`/rest/calls/missed.api?timeFrom=${T0 + 1200 * S}&timeTo=${T0 + 1250 * S}`);
    expect(r.body).toEqual([]);
  });

  it('pages with limit and offset, and keeps the window', async () => {
    expect(uuids((await get(`/rest/calls/missed.api?${WINDOW}&limit=1`)).body)).toEqual([uuid(ids.inboundAbandoned!)]);
    expect(uuids((await get(`/rest/calls/missed.api?${WINDOW}&limit=1&offset=1`)).body)).toEqual([uuid(ids.ivrAbandoned!)]);
    expect((await get(`/rest/calls/missed.api?${WINDOW}&limit=1&offset=2`)).body).toEqual([]);
    expect(uuids((await get(`/rest/calls/missed.api?timeFrom=${T0 + 101 * S}&timeTo=${T0 + 3600 * S}`)).body)).toEqual([uuid(ids.ivrAbandoned!)]);
  });
});

describe('users.api', () => {
  const pauseUuid = (k: string, kind = k.startsWith('p') ? 'pause' : 'unpause') => `${kind}-${pauses[k]}`;

  it('lists the calls that had an operator and the pauses, merged by time', async () => {
    const r = await get(`/rest/calls/users.api?${WINDOW}`);
    expect(r.status).toBe(200);
    expect(uuids(r.body)).toEqual([
      uuid(ids.inboundAnswered!), uuid(ids.inboundAbandoned!), pauseUuid('p1000'), uuid(ids.ringGroup!), pauseUuid('p1001'),
      uuid(ids.outboundAnswered!), pauseUuid('u1000'), uuid(ids.outboundBusy!), uuid(ids.outboundCongested!), uuid(ids.internal!),
      uuid(ids.blindTransfer!), pauseUuid('u1001'), uuid(ids.clickToCall!), uuid(ids.missedCalledBack!), uuid(ids.callback!),
      uuid(ids.callbackUnanswered!), pauseUuid('p1002'), uuid(ids.anonymousMissed!), uuid(ids.missedThenAnswered!), uuid(ids.secondTryAnswered!),
      uuid(ids.tieA!), uuid(ids.tieB!),
    ]);
    // p1002 and anonymousMissed share their ms: ties go by id (p1002's row id is the smaller)
    expect(pauses.p1002! < ids.anonymousMissed!).toBe(true);
    // the call no phone rang for is not an operator's
    expect(uuids(r.body)).not.toContain(uuid(ids.ivrAbandoned!));
  });

  it('gives a pause and an unpause the seed shape', async () => {
    const r = await get(`/rest/calls/users.api?${WINDOW}`);
    const empty = { parentUuid: null, otherLegNum: null, otherLegName: null, leg2: null, billSecs: 0, duration: 0, disposition: 0, transferHistory: null, audioRecUrl: null, trunk: null };
    expect(r.body.find((x: { uuid: string }) => x.uuid === pauseUuid('p1000'))).toEqual({
      ...empty, uuid: pauseUuid('p1000'), endAt: T0 + 150 * S, lgDirection: 32, leg: { id: 1000, type: 1, displayName: 'Operator 1000', ext: '1000' },
    });
    expect(r.body.find((x: { uuid: string }) => x.uuid === pauseUuid('u1001'))).toEqual({
      ...empty, uuid: pauseUuid('u1001'), endAt: T0 + 660 * S, lgDirection: 64, leg: { id: 1001, type: 1, displayName: 'Operator 1001', ext: '1001' },
    });
  });

  const filters: Array<{ query: string; want: () => string[] }> = [
    { query: 'directions=32', want: () => [pauseUuid('p1000'), pauseUuid('p1001'), pauseUuid('p1002')] },
    { query: 'directions=64', want: () => [pauseUuid('u1000'), pauseUuid('u1001')] },
    { query: 'directions=96', want: () => [pauseUuid('p1000'), pauseUuid('p1001'), pauseUuid('u1000'), pauseUuid('u1001'), pauseUuid('p1002')] },
    { query: 'directions=32&directions=64', want: () => [pauseUuid('p1000'), pauseUuid('p1001'), pauseUuid('u1000'), pauseUuid('u1001'), pauseUuid('p1002')] },
    { query: 'directions=1', want: () => [uuid(ids.internal!), uuid(ids.tieA!), uuid(ids.tieB!)] },
    { query: 'directions=1,64', want: () => [pauseUuid('u1000'), uuid(ids.internal!), pauseUuid('u1001'), uuid(ids.tieA!), uuid(ids.tieB!)] },
    { query: 'directions=33', want: () => [pauseUuid('p1000'), pauseUuid('p1001'), uuid(ids.internal!), pauseUuid('p1002'), uuid(ids.tieA!), uuid(ids.tieB!)] },
    { query: 'directions=4', want: () => [uuid(ids.inboundAnswered!), uuid(ids.inboundAbandoned!), uuid(ids.ringGroup!), uuid(ids.blindTransfer!), uuid(ids.missedCalledBack!), uuid(ids.anonymousMissed!), uuid(ids.missedThenAnswered!), uuid(ids.secondTryAnswered!)] },
  ];
  it.each(filters)('filters by $query', async ({ query, want }) => {
    const r = await get(`/rest/calls/users.api?${WINDOW}&${query}`);
    expect(r.status).toBe(200);
    expect(uuids(r.body)).toEqual(want());
  });

  it('a paused operator taking a call is no unpause, and going offline while paused is none either', async () => {
    const r = await get(`/rest/calls/users.api?timeFrom=${T0 - 3600 * S}&timeTo=${T0 + 86_400 * S}&directions=96`);
    expect(r.body.map((x: { uuid: string; endAt: number }) => [x.uuid, x.endAt])).toEqual([
      [pauseUuid('p1000'), T0 + 150 * S],
      [pauseUuid('p1001'), T0 + 240 * S],
      [pauseUuid('u1000'), T0 + 350 * S],
      [pauseUuid('u1001'), T0 + 660 * S],
      [pauseUuid('p1002'), T0 + 1000 * S],
      [pauseUuid('after', 'pause'), T0 + 5000 * S],
    ]);
  });

  it('pages the merged list with limit and offset', async () => {
    const whole = uuids((await get(`/rest/calls/users.api?${WINDOW}`)).body);
    const seen: string[] = [];
    for (let offset = 0; offset < whole.length + 4; offset += 4) seen.push(...uuids((await get(`/rest/calls/users.api?${WINDOW}&limit=4&offset=${offset}`)).body));
    expect(seen).toEqual(whole);
  });
});

describe('bad parameters', () => {
  const cases: Array<{ path: string; field: string }> = [
    { path: '/rest/calls/company.api', field: 'timeFrom' },
    { path: `/rest/calls/company.api?timeFrom=${T0}`, field: 'timeTo' },
    { path: `/rest/calls/company.api?timeFrom=${T0 + 1}&timeTo=${T0}`, field: 'timeFrom' },
    { path: `/rest/calls/company.api?${WINDOW}&limit=51`, field: 'limit' },
    { path: `/rest/calls/company.api?${WINDOW}&offset=-1`, field: 'offset' },
    { path: `/rest/calls/company.api?${WINDOW}&directions=32`, field: 'directions' },
    { path: `/rest/calls/company.api?${WINDOW}&directions=8`, field: 'directions' },
    { path: `/rest/calls/missed.api?timeFrom=abc&timeTo=1`, field: 'timeFrom' },
    { path: `/rest/calls/missed.api?${WINDOW}&limit=0`, field: 'limit' },
    { path: `/rest/calls/users.api?${WINDOW}&directions=128`, field: 'directions' },
    { path: `/rest/calls/users.api?${WINDOW}&directions=1,16`, field: 'directions' },
    { path: `/rest/calls/users.api?timeFrom=${T0}&timeTo=%0D%0A1`, field: 'timeTo' },
    { path: `/rest/calls/users.api?timeFrom=${T0}&timeTo=1%00`, field: 'timeTo' },
  ];
  it.each(cases)('$path → 400 naming $field, as plain text', async ({ path, field }) => {
    const r = await get(path);
    expect(r.status).toBe(400);
    expect(r.type).toContain('text/plain');
    expect(r.body).toMatch(new RegExp(`^${field}: `));
    expect(r.body).not.toMatch(/[\r\n\0]/);
  });
});

describe('group calls (ring group, queue): the parent and one child per operator rung', () => {
  const G = T0 + 3 * 86_400 * S;
  const GW = `timeFrom=${G}&timeTo=${G + 200 * S}`;
  const kids: Record<string, string> = {};

  beforeEach(() => {
    const children = new ChildCalls(db, deps.uuidOf);
    ids.rgAnswered = addCall({
      createdAt: G,
      answeredAt: G + 6 * S,
      endedAt: G + 36 * S,
      billsec: 30,
      phone: '79007770001',
      did: '74950000600',
      sip: '1001',
      operators: ['1000', '1001'],
      groupKind: 'ringgroup',
      groupExt: '600',
      recordingFile: '/var/spool/asterisk/monitor/2026/11/27/rg-600.wav',
      legs: [
        { uniqueid: `${G / 1000}.1`, channel: 'PJSIP/clients-1', role: 'client', number: '79007770001', dialed_by: null, created_at: G, ring_at: null, answer_at: G, end_at: G + 36 * S, dial_status: null, cause: 16 },
        { uniqueid: `${G / 1000}.4`, channel: 'PJSIP/1000-4', role: 'operator', sip: '1000', dialed_by: `${G / 1000}.3`, created_at: G + S, ring_at: G + S, answer_at: null, end_at: G + 6 * S, dial_status: 'CANCEL', cause: 26 },
        { uniqueid: `${G / 1000}.6`, channel: 'PJSIP/1001-6', role: 'operator', sip: '1001', dialed_by: `${G / 1000}.5`, created_at: G + S, ring_at: G + S, answer_at: G + 6 * S, end_at: G + 36 * S, dial_status: 'ANSWER', cause: 16 },
      ],
    });
    ids.queueMissed = addCall({
      createdAt: G + 100 * S,
      endedAt: G + 116 * S,
      billsec: 0,
      phone: '79007770002',
      did: '74950000700',
      operators: ['1000', '1001'],
      status: 'OPERATOR_NOANSWER',
      groupKind: 'queue',
      groupExt: '700',
      legs: [
        { uniqueid: `${G / 1000}.10`, channel: 'PJSIP/clients-10', role: 'client', number: '79007770002', dialed_by: null, created_at: G + 100 * S, ring_at: null, answer_at: null, end_at: G + 116 * S, dial_status: null, cause: 16 },
        { uniqueid: `${G / 1000}.11`, channel: 'PJSIP/1000-11', role: 'operator', sip: '1000', dialed_by: `${G / 1000}.10`, created_at: G + 101 * S, ring_at: G + 101 * S, answer_at: null, end_at: G + 116 * S, dial_status: 'NOANSWER', cause: 16 },
        { uniqueid: `${G / 1000}.12`, channel: 'PJSIP/1001-12', role: 'operator', sip: '1001', dialed_by: `${G / 1000}.10`, created_at: G + 102 * S, ring_at: G + 102 * S, answer_at: null, end_at: G + 102 * S, dial_status: 'BUSY', cause: 17 },
      ],
    }, { dialStatus: 'NOANSWER' });
    children.sync(ids.rgAnswered);
    children.sync(ids.queueMissed);
    kids.rg1000 = childUuid(uuid(ids.rgAnswered), `${G / 1000}.4`);
    kids.rg1001 = childUuid(uuid(ids.rgAnswered), `${G / 1000}.6`);
    kids.q1000 = childUuid(uuid(ids.queueMissed), `${G / 1000}.11`);
    kids.q1001 = childUuid(uuid(ids.queueMissed), `${G / 1000}.12`);
  });

  it('company.api lists each parent (leg: the group, type 2) followed by its children (type 1, parentUuid)', async () => {
    const r = await get(`/rest/calls/company.api?${GW}`);
    expect(r.status).toBe(200);
    expect(uuids(r.body)).toEqual([uuid(ids.rgAnswered!), kids.rg1000, kids.rg1001, uuid(ids.queueMissed!), kids.q1000, kids.q1001]);
    const [rg, rg1000, rg1001, q, q1000, q1001] = r.body;
    expect(rg).toMatchObject({ parentUuid: null, lgDirection: 4, leg: { id: 600, type: 2, displayName: 'Ring group 600', ext: '600' }, leg2: null, billSecs: 30, duration: 36, disposition: 0, trunk: '74950000600' });
    expect(rg1001).toMatchObject({
      parentUuid: uuid(ids.rgAnswered!),
      endAt: G + 36 * S,
      lgDirection: 4,
      otherLegNum: '79007770001',
      leg: { id: 1001, type: 1, ext: '1001' },
      billSecs: 30,
      duration: 35,
      disposition: 0,
      transferHistory: '1001',
      audioRecUrl: `https://pbx.example/rest/public/calls/${kids.rg1001}/audio`,
      trunk: '74950000600',
    });
    expect(rg1000).toMatchObject({ parentUuid: uuid(ids.rgAnswered!), endAt: G + 6 * S, leg: { ext: '1000', type: 1 }, billSecs: 0, duration: 5, disposition: 1, transferHistory: null, audioRecUrl: null });
    expect(q).toMatchObject({ parentUuid: null, leg: { id: 700, type: 2, displayName: 'Queue 700', ext: '700' }, disposition: 1, audioRecUrl: null });
    expect(q1000).toMatchObject({ parentUuid: uuid(ids.queueMissed!), disposition: 1, duration: 15 });
    expect(q1001).toMatchObject({ parentUuid: uuid(ids.queueMissed!), disposition: 4, duration: 0 });
  });

  it('limit and offset count the rows, children included', async () => {
    const first = await get(`/rest/calls/company.api?${GW}&limit=2`);
    const next = await get(`/rest/calls/company.api?${GW}&limit=2&offset=2`);
    expect([...uuids(first.body), ...uuids(next.body)]).toEqual([uuid(ids.rgAnswered!), kids.rg1000, kids.rg1001, uuid(ids.queueMissed!)]);
    // the direction filter applies to the children as to their parents
    expect((await get(`/rest/calls/company.api?${GW}&directions=2`)).body).toEqual([]);
    expect(uuids((await get(`/rest/calls/company.api?${GW}&directions=4`)).body)).toHaveLength(6);
  });

  it('users.api lists the operators\' child calls, not the parents whose leg is a group', async () => {
    const r = await get(`/rest/calls/users.api?${GW}`);
    expect(uuids(r.body)).toEqual([kids.rg1000, kids.rg1001, kids.q1000, kids.q1001]);
    expect(r.body.every((x: { leg: { type: number } }) => x.leg.type === 1)).toBe(true);
  });

  it('missed.api lists the group call nobody answered once, as its parent', async () => {
    const r = await get(`/rest/calls/missed.api?${GW}`);
    expect(uuids(r.body)).toEqual([uuid(ids.queueMissed!)]);
    expect(r.body[0]).toMatchObject({ parentUuid: null, leg: { type: 2, ext: '700' }, disposition: 1 });
  });

  it('children are listed only once their parent is final', async () => {
    db.$client.prepare('UPDATE call_children SET final = 0 WHERE call_id = ?').run(ids.queueMissed!);
    db.$client.prepare('UPDATE calls SET final = 0 WHERE id = ?').run(ids.queueMissed!);
    expect(uuids((await get(`/rest/calls/company.api?${GW}`)).body)).toEqual([uuid(ids.rgAnswered!), kids.rg1000, kids.rg1001]);
  });
});
