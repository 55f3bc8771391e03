/**
 * The stream hub over a real SQLite database and a real HTTP server: a long
 * backlog from both tables arrives complete and in order, rows committed
 * while a client catches up arrive once, a dropped client is let go, and
 * stopping ends every open stream.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import { createApp } from '../../src/http/app.js';
import { silentLogger } from '../../src/log.js';
import { StreamHub } from '../../src/stream/hub.js';
import { streamRoutes } from '../../src/stream/http.js';
import { presenceSource, statusSource } from '../../src/stream/sources.js';
import { parseCursor, formatCursor } from '../../src/stream/cursor.js';
import { waitFor } from '../helpers/daemon.js';
import { openSse } from './sse.js';

let dir: string;
let db: Db;
let calls: EventEmitter;
let presence: EventEmitter;
let hub: StreamHub;
let server: ServerType;
let port: number;

function addStatus(callId: number, status: string, time: number): void {
  db.$client.prepare("INSERT INTO call_statuses (call_id, order_id, status, time, details) VALUES (?, 'o1', ?, ?, '{}')").run(callId, status, time);
  calls.emit('status', {});
}
function addPresence(sip: string, status: string, time: number): void {
  db.$client.prepare("INSERT INTO operator_history (sip, status, previous_status, reason, time) VALUES (?, ?, NULL, 'test', ?)").run(sip, status, time);
  presence.emit('change', {});
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-hub-'));
  db = openDatabase(join(dir, 'db.sqlite'));
  db.$client.prepare("INSERT INTO calls (id, status, created_at, sip, phone, order_id) VALUES (1, 'CALL', 0, '101', '5550000', 'o1')").run();
  calls = new EventEmitter();
  presence = new EventEmitter();
  hub = new StreamHub([statusSource(db, calls), presenceSource(db, presence)], silentLogger());
  const app = createApp({ log: silentLogger(), apiTokens: [], allowedNetworks: [], methods: [], health: () => ({ status: 'ok' }), routes: [streamRoutes(hub, { sipPattern: /^\d+$/ })] });
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  hub.close();
  await new Promise<void>((r) => server.close(() => r()));
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('stream hub', () => {
  it('catches up a long backlog of both tables, merged in time order, and takes rows committed meanwhile once', async () => {
    for (let i = 0; i < 450; i++) {
      addStatus(1, 'CALL', 1000 + i * 2);
      addPresence('101', i % 2 ? 'online' : 'inuse', 1001 + i * 2);
    }
    const c = await openSse(`http://127.0.0.1:${port}/api/stream?since_id=0`);
    // rows committed while the client is catching up
    for (let i = 0; i < 50; i++) addStatus(1, 'FINISH', 5000 + i);
    await c.waitFor('all rows', (e) => e.length >= 1 + 450 + 450 + 50);
    await new Promise((r) => setTimeout(r, 100));
    const events = c.events.slice(1);
    expect(events).toHaveLength(950);
    expect(events.filter((e) => e.event === 'status').map((e) => e.data.id)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(events.filter((e) => e.event === 'presence').map((e) => e.data.id)).toEqual(Array.from({ length: 450 }, (_, i) => i + 1));
    // the backlog interleaves by time: status 1, presence 1, status 2, ...
    expect(events.slice(0, 4).map((e) => e.id)).toEqual(['s1.p0', 's1.p1', 's2.p1', 's2.p2']);
    expect(events[events.length - 1]!.id).toBe('s500.p450');
    c.drop();
  });

  it('lets a dropped client go, and ends every stream when closed', async () => {
    const a = await openSse(`http://127.0.0.1:${port}/api/stream`);
    const b = await openSse(`http://127.0.0.1:${port}/api/stream?kind=presence`);
    await a.waitFor('ready', (e) => e.length > 0);
    await b.waitFor('ready', (e) => e.length > 0);
    expect(hub.size).toBe(2);
    expect(calls.listenerCount('status')).toBe(1);
    a.drop();
    await waitFor('the dropped stream to be released', () => hub.size === 1);
    expect(calls.listenerCount('status')).toBe(0);
    addPresence('102', 'online', 10);
    await b.waitFor('the live row', (e) => e.length === 2);
    expect(b.events[1]!.id).toBe('s0.p1');
    hub.close();
    await b.ended;
    expect(hub.size).toBe(0);
    expect(presence.listenerCount('change')).toBe(0);
    // a stream asked for after close ends at once
    const late = await openSse(`http://127.0.0.1:${port}/api/stream`);
    await late.ended;
    expect(late.events).toHaveLength(0);
  });

  it('cursors: missing positions count from the start, 0 is the start, the format round-trips', () => {
    expect(formatCursor(parseCursor('s12.p5', ['s', 'p'], 'since_id'), ['s', 'p'])).toBe('s12.p5');
    expect(formatCursor(parseCursor('p5', ['s', 'p'], 'since_id'), ['s', 'p'])).toBe('s0.p5');
    expect(formatCursor(parseCursor('0', ['s', 'p', 'd'], 'since_id'), ['s', 'p', 'd'])).toBe('s0.p0.d0');
    expect(() => parseCursor('s1.d2', ['s', 'p'], 'since_id')).toThrow(/since_id/);
    expect(() => parseCursor('12', ['s', 'p'], 'Last-Event-ID')).toThrow(/Last-Event-ID/);
  });
});
