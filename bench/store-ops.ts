/**
 * Section 5: what the SQLite work behind one event costs. The CallStore
 * methods the event path and makeCall use, against the same SQL run through
 * better-sqlite3 statements prepared once (the baseline), on a database of
 * BENCH_STORE_CALLS finished calls (default 100,000) in WAL mode as the daemon
 * opens it. Also makeCall's busy check (CallStore.hasOpenCall) with
 * 0 / 100 / 1,000 calls open, against the same query prepared by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/index.js';
import { CallStore } from '../src/calls/store.js';
import { seedDatabase } from './seed.js';
import { envInt } from './stats.js';
import { progress, section } from './child.js';

export interface StoreOp {
  name: string;
  /** µs per operation through CallStore */
  storeUs: number;
  /** µs per operation, same SQL, statements prepared once */
  rawUs: number;
  iterations: number;
}

export interface StoreResult {
  calls: number;
  ops: StoreOp[];
}

function perOp(iterations: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(200, iterations); i++) fn(i); // warm-up
  const t = performance.now();
  for (let i = 0; i < iterations; i++) fn(i);
  return ((performance.now() - t) / iterations) * 1000;
}

section(async (): Promise<StoreResult> => {
  const calls = envInt('BENCH_STORE_CALLS', 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-bench-store-'));
  try {
    const path = join(dir, 'store.db');
    seedDatabase(path, calls);
    const db = openDatabase(path);
    const raw = db.$client;
    const store = new CallStore(db);
    const ops: StoreOp[] = [];
    const details = { sip: '101', phone: '380639920003' };
    const pick = (i: number) => 1 + ((i * 7_919) % calls);

    const getRaw = raw.prepare('SELECT * FROM calls WHERE id = ?');
    ops.push({ name: 'get(call id)', iterations: 5_000, storeUs: perOp(5_000, (i) => store.get(pick(i))), rawUs: perOp(5_000, (i) => getRaw.get(pick(i))) });

    // advance: one status + the call row patched, in one transaction (what every status of a call costs)
    const orderRaw = raw.prepare('SELECT order_id FROM calls WHERE id = ?');
    const statusRaw = raw.prepare('INSERT INTO call_statuses (call_id, order_id, status, time, details) VALUES (?, ?, ?, ?, ?)');
    const patchRaw = raw.prepare('UPDATE calls SET client_ring_at = ?, status = ? WHERE id = ?');
    const advanceRaw = raw.transaction((id: number, at: number) => {
      const row = orderRaw.get(id) as { order_id: string };
      statusRaw.run(id, row.order_id, 'CLIENT_CALLTO', at, JSON.stringify(details));
      patchRaw.run(at, 'CLIENT_CALLTO', id);
    });
    ops.push({
      name: 'advance(one status + patch)',
      iterations: 2_000,
      storeUs: perOp(2_000, (i) => store.advance(pick(i), [{ status: 'CLIENT_CALLTO', details }], Date.now(), { clientRingAt: Date.now() })),
      rawUs: perOp(2_000, (i) => advanceRaw(pick(i), Date.now())),
    });

    // create: a new call and its CALL status (makeCall)
    let n = 0;
    const callRaw = raw.prepare(
      "INSERT INTO calls (external_key, request_fingerprint, order_id, sip, phone, control, status, final, created_at) VALUES (?, ?, ?, ?, ?, 'ami', 'CALL', 0, ?) RETURNING *",
    );
    const createRaw = raw.transaction((k: string, at: number) => {
      const row = callRaw.get(k, '["101","380639920003","o"]', 'o', '101', '380639920003', at) as { id: number; order_id: string };
      statusRaw.run(row.id, row.order_id, 'CALL', at, JSON.stringify(details));
      return row;
    });
    const closeOpen = raw.prepare('UPDATE calls SET final = 1 WHERE final = 0');
    const create = () =>
      store.create({ externalKey: `bench-${++n}`, requestFingerprint: '["101","380639920003","o"]', orderId: 'o', sip: '101', phone: '380639920003', control: 'ami' }, [{ status: 'CALL', details }], Date.now());
    ops.push({ name: 'create(call + CALL status)', iterations: 2_000, storeUs: perOp(2_000, () => create()), rawUs: perOp(2_000, () => createRaw(`bench-${++n}`, Date.now())) });
    closeOpen.run();

    // makeCall's busy check with K calls open
    const busyRaw = raw.prepare('SELECT 1 FROM calls WHERE final = 0 AND sip = ? LIMIT 1');
    for (const open of [0, 100, 1000]) {
      for (let k = 0; k < open; k++) create();
      const iterations = open >= 1000 ? 100 : 1_000;
      ops.push({
        name: `busy check, ${open} calls open`,
        iterations,
        storeUs: perOp(iterations, () => store.hasOpenCall('999')),
        rawUs: perOp(iterations, () => busyRaw.get('999')),
      });
      closeOpen.run();
    }
    progress('store: done');
    db.$client.close();
    return { calls, ops };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
