/**
 * Section 3: the history endpoints on a large database. A database of
 * BENCH_DB_CALLS calls (default 1,000,000; bench/seed.ts) and a baseline one
 * of 1,000 calls are seeded in the same run; each is opened with openDatabase
 * and served by the real Hono app (createApp + callMethods) over HTTP on
 * loopback, and every endpoint is timed one request at a time. Then the
 * hosted-PBX call history (/rest/calls/*.api) is timed on the same database,
 * once a mix of directions and missed calls is written over it
 * (bench/rest-history.ts).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { silentLogger } from '../src/log.js';
import { openDatabase } from '../src/db/index.js';
import { createApp } from '../src/http/app.js';
import { callMethods } from '../src/calls/http.js';
import { presenceMethods } from '../src/presence/http.js';
import { PresenceStore } from '../src/presence/store.js';
import { CallService } from '../src/calls/service.js';
import { CallStore } from '../src/calls/store.js';
import type { CallController } from '../src/calls/controller.js';
import { seedDatabase, prng, type SeedResult } from './seed.js';
import { envInt } from './stats.js';
import { progress, section } from './child.js';
import { restHistoryServer } from './rest-history.js';

export interface EndpointTiming {
  name: string;
  example: string;
  /** ms per request */
  samples: number[];
  /** bytes of the last answer */
  bytes: number;
}

export interface HistoryResult {
  sizes: Array<{ seed: SeedResult; seedMs: number; dbBytes: number; endpoints: EndpointTiming[] }>;
}

const MAX_REQUESTS = 200;
/** An endpoint slower than this gets fewer requests (at least MIN_REQUESTS), so the run stays within minutes. */
const BUDGET_MS = 15_000;
const MIN_REQUESTS = 10;

/** Nothing is placed in this section: makeCall is not called. */
const idleController: CallController = {
  mode: 'ari',
  available: false,
  start: async () => undefined,
  reconcile: async () => undefined,
  stop: async () => undefined,
};

async function measure(path: string, calls: number): Promise<EndpointTiming[]> {
  const db = openDatabase(path);
  const log = silentLogger();
  const store = new CallStore(db);
  const settings = { operatorChannel: 'PJSIP/{sip}', clientChannel: 'Local/{phone}@from-internal', callerId: '{phone}', operatorRingTimeout: 30, clientRingTimeout: 30 };
  const service = new CallService(store, { status: () => undefined }, idleController, settings, log);
  const app = createApp({
    log,
    apiTokens: [],
    allowedNetworks: [],
    methods: [
      ...callMethods(service, store, { sipPattern: /^[A-Za-z0-9_.-]{1,40}$/, urlOf: (id) => `http://127.0.0.1:8095/recordings/${id}` }),
      ...presenceMethods(new PresenceStore(db)),
    ],
    health: () => ({ status: 'ok' }),
  });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const rnd = prng(7);
  const raw = db.$client;
  const orderOf = raw.prepare('SELECT order_id AS o FROM calls WHERE id = ?');
  const maxStatus = (raw.prepare('SELECT max(id) AS m FROM call_statuses').get() as { m: number }).m;
  const pick = (max: number) => 1 + Math.floor(rnd() * max);
  const lastPage = Math.ceil(calls / 20);
  const endpoints: Array<{ name: string; path: () => string }> = [
    { name: 'orderHistory (random order)', path: () => `/api/orderHistory.json?order_id=${(orderOf.get(pick(calls)) as { o: string }).o}` },
    { name: 'orderHistory group_by_call=1', path: () => `/api/orderHistory.json?group_by_call=1&order_id=${(orderOf.get(pick(calls)) as { o: string }).o}` },
    { name: 'orderRecords (random order)', path: () => `/api/orderRecords.json?order_id=${(orderOf.get(pick(calls)) as { o: string }).o}` },
    { name: 'recordList page=1', path: () => '/api/recordList.json?page=1' },
    { name: `recordList last page`, path: () => `/api/recordList.json?page=${lastPage}` },
    { name: 'recordList before_id (random depth)', path: () => `/api/recordList.json?before_id=${1 + pick(calls)}` },
    { name: 'callHistory since_id (per_page=100)', path: () => `/api/callHistory.json?since_id=${pick(Math.max(1, maxStatus - 100))}&per_page=100` },
    { name: 'callHistory call_id', path: () => `/api/callHistory.json?call_id=${pick(calls)}` },
    { name: 'callHistory newest page', path: () => '/api/callHistory.json' },
    { name: 'callHistory page at half depth', path: () => `/api/callHistory.json?per_page=100&page=${Math.ceil(maxStatus / 200)}` },
    { name: 'operatorHistory page=1', path: () => '/api/operatorHistory.json' },
    { name: 'operatorHistory last page', path: () => `/api/operatorHistory.json?page=${Math.ceil((2 * calls) / 20)}` },
    { name: 'operatorHistory sip, random page', path: () => `/api/operatorHistory.json?sip=${101 + Math.floor(rnd() * 100)}&page=${pick(Math.ceil((2 * calls) / 100 / 20))}` },
  ];

  try {
    return await time(base, endpoints);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.$client.close();
  }
}

/** Times each endpoint one request at a time, after a warm-up. */
async function time(base: string, endpoints: ReadonlyArray<{ name: string; path: () => string }>): Promise<EndpointTiming[]> {
  const out: EndpointTiming[] = [];
  for (const ep of endpoints) {
    const get = async () => {
      const p = ep.path();
      const t = performance.now();
      const res = await fetch(base + p);
      const body = await res.text();
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status} ${body.slice(0, 200)}`);
      return { ms, bytes: body.length, p };
    };
    for (let i = 0; i < 10; i++) await get(); // warm-up
    const samples: number[] = [];
    let last = { ms: 0, bytes: 0, p: '' };
    const t0 = performance.now();
    while (samples.length < MAX_REQUESTS && (samples.length < MIN_REQUESTS || performance.now() - t0 < BUDGET_MS)) {
      last = await get();
      samples.push(last.ms);
    }
    out.push({ name: ep.name, example: last.p, samples, bytes: last.bytes });
  }
  return out;
}

/** The hosted-PBX call history on the same database (the mix is written first). */
async function measureRest(path: string): Promise<EndpointTiming[]> {
  const rest = await restHistoryServer(path);
  try {
    return await time(rest.base, rest.endpoints);
  } finally {
    await rest.close();
  }
}

section(async (): Promise<HistoryResult> => {
  const big = envInt('BENCH_DB_CALLS', 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-bench-history-'));
  const sizes: HistoryResult['sizes'] = [];
  try {
    for (const calls of [1000, big]) {
      const path = join(dir, `calls-${calls}.db`);
      const t0 = performance.now();
      const seed = seedDatabase(path, calls, (done) => {
        if (done % 200_000 === 0) progress(`seed: ${done.toLocaleString('en-US')} / ${calls.toLocaleString('en-US')} calls`);
      });
      const seedMs = performance.now() - t0;
      const dbBytes = statSync(path).size;
      progress(`history: timing the endpoints on ${calls.toLocaleString('en-US')} calls`);
      const endpoints = await measure(path, calls);
      progress(`history: timing /rest/calls/*.api on ${calls.toLocaleString('en-US')} calls`);
      endpoints.push(...(await measureRest(path)));
      sizes.push({ seed, seedMs, dbBytes, endpoints });
      rmSync(path, { force: true });
      rmSync(`${path}-wal`, { force: true });
      rmSync(`${path}-shm`, { force: true });
    }
    return { sizes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
