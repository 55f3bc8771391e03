/** A temp database, recordings and monitor directories, and an app with the events API and the call history API. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createApp } from '../../src/http/app.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { CallStore } from '../../src/calls/store.js';
import { CallService } from '../../src/calls/service.js';
import { callMethods } from '../../src/calls/http.js';
import type { CallController } from '../../src/calls/controller.js';
import { eventMethods } from '../../src/events/http.js';
import { DomainBus, type DomainEvent } from '../../src/domain/bus.js';

export interface Env {
  dir: string;
  db: Db;
  recordingsDir: string;
  monitorDir: string;
  bus: DomainBus;
  published: DomainEvent[];
  clock: { now: number };
  request(path: string, init?: RequestInit): Promise<{ status: number; type: string; body: any }>;
  /** POST form-encoded */
  post(path: string, params: Record<string, string>): Promise<{ status: number; type: string; body: any }>;
  insertCall(c: Partial<CallInsert>): number;
  rows<T = Record<string, unknown>>(sql: string, ...args: unknown[]): T[];
  close(): void;
}

export interface CallInsert {
  origin: 'api' | 'pbx';
  direction: 'incoming' | 'outgoing' | 'internal';
  order_id: string | null;
  sip: string | null;
  phone: string | null;
  status: string;
  final: number;
  linkedid: string | null;
  operator_channel: string | null;
  client_channel: string | null;
  created_at: number;
  recording_file: string | null;
}

const accepting: CallController = { mode: 'ari', available: true, start: async () => undefined, reconcile: async () => undefined, stop: async () => undefined };

export const T0 = Date.UTC(2026, 10, 24, 10, 0, 0, 0);

export function setup(opts: { numberLookupUrl?: string; log?: Logger; lookupTimeoutMs?: number } = {}): Env {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-events-'));
  const db = openDatabase(join(dir, 'callbridge.db'));
  const recordingsDir = join(dir, 'recordings');
  const monitorDir = join(dir, 'monitor');
  mkdirSync(recordingsDir, { recursive: true });
  mkdirSync(monitorDir, { recursive: true });
  const clock = { now: T0 };
  const bus = new DomainBus();
  const published: DomainEvent[] = [];
  bus.on('event', (e) => published.push(e));
  const log = opts.log ?? silentLogger();
  const store = new CallStore(db);
  const service = new CallService(
    store,
    { status: () => 'online' },
    accepting,
    { operatorChannel: 'PJSIP/{sip}', clientChannel: 'Local/{phone}@from-internal', callerId: '{phone}', operatorRingTimeout: 30, clientRingTimeout: 30 },
    log,
    () => clock.now,
  );
  const app = createApp({
    log,
    apiTokens: [],
    allowedNetworks: [],
    methods: [
      ...eventMethods(db, {
        recordingsDir,
        monitorDir,
        numberLookupUrl: opts.numberLookupUrl,
        log,
        bus,
        now: () => clock.now,
        lookupTimeoutMs: opts.lookupTimeoutMs,
      }),
      ...callMethods(service, store, { sipPattern: /^\d+$/, urlOf: (id) => `http://cb/recordings/${id}` }),
    ],
    health: () => ({ status: 'ok' }),
  });
  const request = async (path: string, init?: RequestInit) => {
    const res = await app.request(path, init);
    const type = res.headers.get('content-type') ?? '';
    const text = await res.text();
    return { status: res.status, type, body: type.includes('json') ? JSON.parse(text) : text };
  };
  return {
    dir,
    db,
    recordingsDir,
    monitorDir,
    bus,
    published,
    clock,
    request,
    post: (path, params) =>
      request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() }),
    insertCall(c) {
      const row: CallInsert = {
        origin: 'pbx',
        direction: 'incoming',
        order_id: null,
        sip: null,
        phone: null,
        status: 'FINISH',
        final: 1,
        linkedid: null,
        operator_channel: null,
        client_channel: null,
        created_at: clock.now,
        recording_file: null,
        ...c,
      };
      const cols = Object.keys(row);
      const info = db.$client
        .prepare(`INSERT INTO calls (${cols.join(', ')}) VALUES (${cols.map((k) => `@${k}`).join(', ')})`)
        .run(row as unknown as Record<string, unknown>);
      return Number(info.lastInsertRowid);
    },
    rows: <T>(sql: string, ...args: unknown[]) => db.$client.prepare(sql).all(...args) as T[],
    close() {
      db.$client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A PCM WAV: 8 kHz, 16-bit mono, `seconds` long (16,000 bytes of data a second, plus the 44-byte header). */
export function writeWav(file: string, seconds = 1): number {
  const data = 16000 * seconds;
  const buf = Buffer.alloc(44 + data);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + data, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(8000, 24);
  buf.writeUInt32LE(16000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(data, 40);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, buf);
  return buf.length;
}

/** A CDR as the shipped dialplan hook posts it. */
export function hookCdr(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    event_id: '1700000000.123',
    phone: '89001234567',
    extension: '101',
    path: '',
    call_at: '2026-11-24 13:00:05',
    type: 'incoming',
    duration: '20',
    billsec: '15',
    disposition: 'ANSWERED',
    uniqueid: '1700000000.124',
    linkedid: '1700000000.123',
    did: '74950000000',
    ...overrides,
  };
}
