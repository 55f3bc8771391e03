/**
 * Section 6: the CRM connectors' outbox. BENCH_OUTBOX_CALLS click-to-calls
 * (default 100) in flight at once: each of their six statuses is written
 * through CallService (makeCall, then the controller's events: operator rung,
 * answered, client dialled, answered, hung up) in rounds across all calls,
 * with three connectors (webhook, binotel, phonet) delivering to a local
 * HTTP receiver. Measured: the cost of a status write with the outbox, beside
 * the same writes with no connector (the baseline, same run); delivery
 * throughput; and latency from the status written (the delivery row's
 * creation, same transaction) to the receiver having the request. Against a
 * receiver that answers at once, and one that takes 200 ms (default
 * concurrency 4 per connector, and 32).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/index.js';
import { CallStore } from '../src/calls/store.js';
import { CallService } from '../src/calls/service.js';
import type { CallController } from '../src/calls/controller.js';
import type { CallEvent } from '../src/calls/chain.js';
import { createConnectors } from '../src/connectors/config.js';
import { Outbox } from '../src/outbox/outbox.js';
import { silentLogger } from '../src/log.js';
import { envInt } from './stats.js';
import { progress, section } from './child.js';

export interface OutboxRun {
  name: string;
  receiverDelayMs: number;
  concurrency: number;
  connectors: number;
  calls: number;
  statuses: number;
  deliveries: number;
  /** µs per status written, outbox rows included */
  writeUs: number;
  /** ms from the first status written to the last delivery received */
  drainMs: number;
  /** ms, status written → receiver got it */
  latencies: number[];
}

export interface OutboxResult {
  calls: number;
  /** the same status writes with no connector configured */
  baselineWriteUs: number;
  runs: OutboxRun[];
}

const STEPS: CallEvent[] = [{ type: 'operator_ringing' }, { type: 'operator_answered' }, { type: 'client_dialing' }, { type: 'client_answered' }, { type: 'client_hangup', cause: 16 }];

const controller: CallController = {
  mode: 'ari',
  available: true,
  start: async () => undefined,
  reconcile: async () => undefined,
  stop: async () => undefined,
};

async function receiver(delayMs: number): Promise<{ url: string; got: Map<string, number>; close(): Promise<void> }> {
  const got = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got.set(`${req.headers['x-callbridge-delivery']}`, performance.timeOrigin + performance.now());
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Writes every status of `calls` click-to-calls, round by round across all calls; returns µs per status. */
function writeCalls(service: CallService, calls: number, tag: string): { us: number; statuses: number } {
  const t = performance.now();
  const ids: number[] = [];
  for (let i = 0; i < calls; i++) ids.push(service.makeCall({ sip: `${tag}-${i}`, phone: `38063992${String(i).padStart(4, '0')}`, orderId: `o${i}`, externalKey: undefined }).callId);
  for (const ev of STEPS) for (const id of ids) service.sink.event(id, ev);
  const statuses = calls * (STEPS.length + 1);
  return { us: ((performance.now() - t) * 1000) / statuses, statuses };
}

async function run(name: string, calls: number, delayMs: number, concurrency: number, oneAtATime = false): Promise<OutboxRun> {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-bench-outbox-'));
  const rx = await receiver(delayMs);
  try {
    const db = openDatabase(join(dir, 'outbox.db'));
    const store = new CallStore(db);
    const common = { timeout_ms: 10_000, concurrency };
    const connectors = createConnectors([
      { type: 'webhook', url: `${rx.url}/hook`, secret: 'bench-secret-0123456789', ...common },
      { type: 'binotel', url: rx.url, company_id: '1', ...common },
      { type: 'phonet', url: `${rx.url}/phonet`, account_domain: 'bench.phonet.local', ...common },
    ]);
    const outbox = new Outbox(store, connectors, { log: silentLogger(), urlOf: (id) => `http://x/recordings/${id}` });
    const service = new CallService(store, { status: () => 'online' }, controller, { operatorChannel: 'PJSIP/{sip}', clientChannel: 'Local/{phone}@x', callerId: '{phone}', operatorRingTimeout: 30, clientRingTimeout: 30 }, silentLogger(), Date.now, outbox);
    outbox.start();
    const t0 = performance.timeOrigin + performance.now();
    const count = () => (db.$client.prepare('SELECT COUNT(*) AS n FROM outbox_deliveries').get() as { n: number }).n;
    const deadline = Date.now() + 300_000;
    let w = { us: 0, statuses: 0 };
    if (oneAtATime) {
      // one call's statuses, then wait until the receiver has all of its deliveries, and the next call
      let us = 0;
      for (let i = 0; i < calls; i++) {
        const one = writeCalls(service, 1, `seq${i}`);
        us += one.us * one.statuses;
        w = { us: us / (w.statuses + one.statuses), statuses: w.statuses + one.statuses };
        const want = count();
        while (rx.got.size < want && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      }
    } else {
      w = writeCalls(service, calls, 'op');
    }
    const total = count();
    while (rx.got.size < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const drainMs = performance.timeOrigin + performance.now() - t0;
    const created = db.$client.prepare('SELECT id, created_at FROM outbox_deliveries').all() as Array<{ id: number; created_at: number }>;
    const latencies = created.filter((c) => rx.got.has(String(c.id))).map((c) => rx.got.get(String(c.id))! - c.created_at);
    await outbox.stop();
    db.$client.close();
    progress(`${name}: ${total} deliveries in ${(drainMs / 1000).toFixed(1)} s`);
    return { name, receiverDelayMs: delayMs, concurrency, connectors: connectors.length, calls, statuses: w.statuses, deliveries: total, writeUs: w.us, drainMs, latencies };
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function baseline(calls: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-bench-outbox-'));
  try {
    const db = openDatabase(join(dir, 'base.db'));
    const service = new CallService(new CallStore(db), { status: () => 'online' }, controller, { operatorChannel: 'PJSIP/{sip}', clientChannel: 'Local/{phone}@x', callerId: '{phone}', operatorRingTimeout: 30, clientRingTimeout: 30 }, silentLogger());
    writeCalls(service, Math.min(20, calls), 'warm');
    const w = writeCalls(service, calls, 'op');
    db.$client.close();
    return w.us;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

section(async (): Promise<OutboxResult> => {
  const calls = envInt('BENCH_OUTBOX_CALLS', 100);
  const baselineWriteUs = baseline(calls);
  const runs: OutboxRun[] = [];
  runs.push(await run('receiver answers at once, one call at a time', Math.min(calls, 20), 0, 8, true));
  runs.push(await run('receiver answers at once', calls, 0, 8));
  // BENCH_OUTBOX_SLOW=0 leaves out the slow receiver (about 30 s)
  if (process.env.BENCH_OUTBOX_SLOW !== '0') {
    runs.push(await run('receiver takes 200 ms', calls, 200, 8));
    runs.push(await run('receiver takes 200 ms, concurrency 32', calls, 200, 32));
  }
  return { calls, baselineWriteUs, runs };
});
