/** The history API on stored calls: shapes of SPEC section 4, paging, polling cursor, XML, downloads. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { silentLogger } from '../../src/log.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { CallStore } from '../../src/calls/store.js';
import { CallService } from '../../src/calls/service.js';
import { callMethods } from '../../src/calls/http.js';
import { recordingRoutes, parseRange } from '../../src/calls/recordings-http.js';
import type { CallController } from '../../src/calls/controller.js';
import type { CallEvent } from '../../src/calls/chain.js';

let db: Db;
let dir: string;
let clock: number;
let store: CallStore;
let service: CallService;

/** A controller that accepts every call; the test then plays the PBX's part through the sink. */
const accepting: CallController = { mode: 'ari', available: true, start: async () => undefined, reconcile: async () => undefined, stop: async () => undefined };

beforeEach(() => {
  db = openDatabase(':memory:');
  dir = mkdtempSync(join(tmpdir(), 'callbridge-hist-'));
  clock = Date.UTC(2026, 10, 24, 10, 0, 0, 0);
  store = new CallStore(db);
  service = new CallService(
    store,
    { status: () => 'online' },
    accepting,
    { operatorChannel: 'PJSIP/{sip}', clientChannel: 'Local/{phone}@from-internal', callerId: '{phone}', operatorRingTimeout: 30, clientRingTimeout: 30 },
    silentLogger(),
    () => clock,
  );
});
afterEach(() => {
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

const app = () =>
  createApp({ log: silentLogger(), apiTokens: [], allowedNetworks: [], methods: callMethods(service, store, { sipPattern: /^\d+$/, urlOf: (id) => `http://cb/recordings/${id}` }), health: () => ({ status: 'ok' }), routes: [recordingRoutes(store)] });
const get = async (path: string, init?: RequestInit) => {
  const res = await app().request(path, init);
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, body: type.includes('json') ? ((await res.json()) as any) : await res.text() };
};

function play(callId: number, events: CallEvent[]) {
  for (const ev of events) {
    clock += 1000;
    service.sink.event(callId, ev);
  }
}

function successfulCall(sip: string, orderId: string, talkSec = 4): number {
  const { callId } = service.makeCall({ sip, phone: '380639920000', orderId, externalKey: undefined });
  play(callId, [{ type: 'operator_ringing' }, { type: 'operator_answered' }, { type: 'client_dialing' }, { type: 'client_answered' }]);
  const file = join(dir, `order-${orderId}-call-${callId}.wav`);
  const wav = Buffer.alloc(44 + 16000);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + 16000, 4);
  wav.write('WAVEfmt ', 8, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(8000, 24);
  wav.writeUInt32LE(16000, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(16000, 40);
  writeFileSync(file, wav);
  service.sink.recordingStarted(callId, { name: `order-${orderId}-call-${callId}`, file, format: 'wav' });
  clock += talkSec * 1000;
  play(callId, [{ type: 'client_hangup', cause: 16 }]);
  service.sink.recordingFinished(callId, { name: `order-${orderId}-call-${callId}`, file, format: 'wav' });
  return callId;
}

describe('history API', () => {
  it('orderHistory as one list and grouped by call; orderRecords with times, billsec and records', async () => {
    const a = successfulCall('101', '15');
    const { callId: b } = service.makeCall({ sip: '102', phone: '380639920005', orderId: '15', externalKey: 'k2' });
    play(b, [{ type: 'operator_ringing' }, { type: 'operator_answered' }, { type: 'client_dialing' }, { type: 'client_failed', outcome: 'busy', cause: 17, dialStatus: 'BUSY' }]);
    await new Promise((r) => setTimeout(r, 50)); // recording stat runs async

    const flat = (await get('/api/orderHistory.json?order_id=15')).body;
    expect(flat.order_id).toBe('15');
    expect(flat.history.map((s: { call_id: number; status: string }) => `${s.call_id}:${s.status}`)).toEqual([
      ...['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'].map((s) => `${a}:${s}`),
      ...['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_BUSY'].map((s) => `${b}:${s}`),
    ]);
    expect(flat.history[0]).toEqual({ id: 1, call_id: a, status: 'CALL', time: '2026-11-24T10:00:00.000Z', details: { sip: '101', phone: '380639920000' } });
    expect(flat.history.at(-1).details).toMatchObject({ cause: 17, causeText: 'User busy', dialStatus: 'BUSY' });

    const grouped = (await get('/api/orderHistory.json?order_id=15&group_by_call=1')).body;
    expect(grouped.calls.map((c: { call_id: number; history: unknown[] }) => [c.call_id, c.history.length])).toEqual([[a, 6], [b, 5]]);

    const records = (await get('/api/orderRecords.json?order_id=15')).body;
    expect(records.calls[0]).toMatchObject({ call_id: a, sip: '101', status: 'FINISH', answered_at: '2026-11-24T10:00:04.000Z', ended_at: '2026-11-24T10:00:09.000Z', billsec: 5 });
    expect(records.calls[0].records[0]).toMatchObject({ call_id: a, order_id: '15', format: 'wav', size: 16044, duration: 1, url: 'http://cb/recordings/1' });
    expect(records.calls[1]).toMatchObject({ call_id: b, status: 'CLIENT_BUSY', billsec: 0, answered_at: null, records: [] });

    const xml = (await get('/api/orderRecords.xml?order_id=15')).body as string;
    expect(xml).toContain('<calls><call><call_id>1</call_id>');
    expect(xml).toContain('<records><record><id>1</id>');
    expect((await get('/api/orderHistory.json?order_id=a%20b')).status).toBe(400);
    expect((await get('/api/orderHistory.json?order_id=15&group_by_call=2')).body.error.field).toBe('group_by_call');
  });

  it('callHistory: one call, newest first, and a since_id cursor that never misses or repeats', async () => {
    const a = successfulCall('101', '1');
    expect((await get(`/api/callHistory.json?call_id=${a}`)).body.history).toHaveLength(6);
    expect((await get('/api/callHistory.json?call_id=999')).status).toBe(404);

    const latest = (await get('/api/callHistory.json?per_page=2')).body;
    expect(latest.history.map((s: { status: string }) => s.status)).toEqual(['FINISH', 'CLIENT_PICKUP']);
    expect(latest.next_since_id).toBe(6);

    const seen: string[] = [];
    let cursor = 0;
    const poll = async () => {
      const r = (await get(`/api/callHistory.json?since_id=${cursor}&per_page=4`)).body;
      for (const s of r.history) seen.push(`${s.id}:${s.status}`);
      cursor = r.next_since_id;
      return r.history.length;
    };
    while ((await poll()) > 0);
    const b = successfulCall('102', '2');
    while ((await poll()) > 0);
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
    expect(seen.at(-1)).toBe('12:FINISH');
    expect(b).toBe(2);
  });

  it('recordList pages newest first (both spellings), and downloads honour Range', async () => {
    for (let i = 1; i <= 3; i++) successfulCall(`10${i}`, `o${i}`);
    await new Promise((r) => setTimeout(r, 50));
    const page = (await get('/api/recordList.json?per_page=2')).body;
    expect(page).toMatchObject({ page: 1, per_page: 2, total: 3 });
    expect(page.records.map((r: { id: number }) => r.id)).toEqual([3, 2]);
    expect(page.records[0]).toMatchObject({ call_id: 3, order_id: 'o3', sip: '103', phone: '380639920000', external_key: null, format: 'wav', size: 16044 });
    expect((await get('/api/RecordsList.json?page=2&per_page=2')).body.records.map((r: { id: number }) => r.id)).toEqual([1]);
    expect(page.next_before_id).toBe(2);
    const next = (await get(`/api/recordList.json?per_page=2&before_id=${page.next_before_id}`)).body;
    expect(next.records.map((r: { id: number }) => r.id)).toEqual([1]);
    expect((await get('/api/recordList.json?before_id=1')).body).toMatchObject({ records: [], next_before_id: null });

    const whole = await app().request('/recordings/1');
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/wav');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect((await whole.arrayBuffer()).byteLength).toBe(16044);
    const part = await app().request('/recordings/1', { headers: { range: 'bytes=8-11' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 8-11/16044');
    expect(Buffer.from(await part.arrayBuffer()).toString('ascii')).toBe('WAVE');
    const tail = await app().request('/recordings/1', { headers: { range: 'bytes=-4' } });
    expect(tail.headers.get('content-range')).toBe('bytes 16040-16043/16044');
    expect((await app().request('/recordings/1', { headers: { range: 'bytes=99999-' } })).status).toBe(416);
    expect((await app().request('/recordings/42')).status).toBe(404);
  });

  it('parseRange', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=0-', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=2-100', 10)).toEqual({ start: 2, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=10-', 10)).toBeNull();
    expect(parseRange('bytes=5-2', 10)).toBeNull();
    expect(parseRange('items=0-1', 10)).toBeUndefined();
  });
});

describe('a recording whose start was never seen', () => {
  const talked = (orderId: string): number => {
    const { callId } = service.makeCall({ sip: '101', phone: '380639920000', orderId, externalKey: undefined });
    play(callId, [{ type: 'operator_ringing' }, { type: 'operator_answered' }, { type: 'client_dialing' }, { type: 'client_answered' }, { type: 'client_hangup', cause: 16 }]);
    return callId;
  };
  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('is listed from its file when the file is on disk', async () => {
    const callId = talked('71');
    const file = join(dir, `order-71-call-${callId}.wav`);
    writeFileSync(file, Buffer.alloc(44));
    service.sink.recordingFinished(callId, { name: `order-71-call-${callId}`, file, format: 'wav' });
    await settle();
    expect(store.recordingsOf([callId]).map((r) => [r.file, r.size])).toEqual([[file, 44]]);
  });

  it('is not listed when nothing is on disk (its start was lost with a link, or never happened)', async () => {
    const callId = talked('72');
    service.sink.recordingFinished(callId, { name: `order-72-call-${callId}`, file: join(dir, 'never-written.wav'), format: 'wav' });
    await settle();
    expect(store.recordingsOf([callId])).toEqual([]);
    expect((await get(`/api/orderRecords.json?order_id=72`)).body.calls).toMatchObject([{ call_id: callId, status: 'FINISH', records: [] }]);
  });
});
