/**
 * Fills a fresh database (migrations applied by openDatabase) with `n`
 * finished click-to-calls: each with its six statuses (CALL … FINISH) and one
 * recording, about 2.5 calls per order, calls 20 s apart; and the operator's
 * two presence changes of each call (inuse at the start, online at the end).
 *
 * For speed the rows go in through raw better-sqlite3 prepared statements, in
 * large transactions, without a journal, and the schema's indexes are dropped
 * first and re-created afterwards from their own stored CREATE statements, so
 * the result has exactly the schema the migrations made. The database is left
 * in WAL mode, as the daemon keeps it.
 */
import Database from 'better-sqlite3';
import { seeded } from '../test/asterisk/ami/fake-ami.js';
import { openDatabase } from '../src/db/index.js';

export interface SeedResult {
  calls: number;
  orders: number;
  statuses: number;
  recordings: number;
  presence: number;
  insertMs: number;
  indexMs: number;
}

const STATUSES = ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'] as const;
/** Offsets of the statuses from the call's start, ms. */
const AT = [0, 40, 3_100, 3_150, 9_800, 52_000];
const TABLES = ['calls', 'call_statuses', 'recordings', 'operator_history'];

/** Small deterministic PRNG, so every run seeds the same data. */
export const prng = seeded;

export const orderCount = (calls: number): number => Math.max(1, Math.round(calls / 2.5));
export const orderName = (k: number): string => `ORD-${k}`;

export function seedDatabase(path: string, n: number, onProgress?: (done: number) => void): SeedResult {
  openDatabase(path).$client.close();
  const db = new Database(path);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    db.pragma('temp_store = MEMORY');
    const indexes = db
      .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${TABLES.map(() => '?').join(',')})`)
      .all(...TABLES)
      // the called-back trigger of every answered call looks up its number in calls_phone_key
      .filter((ix) => (ix as { name: string }).name !== 'calls_phone_key') as Array<{ name: string; sql: string }>;
    for (const ix of indexes) db.exec(`DROP INDEX "${ix.name}"`);

    const insertCall = db.prepare(
      `INSERT INTO calls (id, origin, direction, control, external_key, request_fingerprint, order_id, sip, phone, status, final, linkedid,
         operator_channel, client_channel, bridge_id, created_at, operator_ring_at, operator_answer_at, client_ring_at, client_answer_at,
         ended_at, billsec, hangup_cause, hangup_cause_text)
       VALUES (?, 'api', 'outgoing', 'ari', ?, ?, ?, ?, ?, 'FINISH', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 42, 16, 'Normal Clearing')`,
    );
    const insertStatus = db.prepare('INSERT INTO call_statuses (call_id, order_id, status, time, details) VALUES (?, ?, ?, ?, ?)');
    const insertRecording = db.prepare(
      `INSERT INTO recordings (call_id, order_id, name, file, format, size, duration, started_at, ended_at) VALUES (?, ?, ?, ?, 'wav', ?, ?, ?, ?)`,
    );

    const insertPresence = db.prepare('INSERT INTO operator_history (sip, status, previous_status, reason, time) VALUES (?, ?, ?, ?, ?)');
    const orders = orderCount(n);
    const rnd = prng(1);
    const start = Date.UTC(2025, 0, 1);
    const BATCH = 50_000;
    const t0 = performance.now();
    for (let first = 1; first <= n; first += BATCH) {
      db.transaction(() => {
        for (let id = first; id < Math.min(first + BATCH, n + 1); id++) {
          const order = orderName(Math.floor(rnd() * orders));
          const sip = String(101 + (id % 100));
          const phone = `38063${String(1_000_000 + ((id * 7_919) % 9_000_000)).padStart(7, '0')}`;
          const at = start + id * 20_000;
          const uid = `${1_735_689_600 + id}.${2 * id}`;
          const bridge = `cb-${id}-bridge-${(id * 2_654_435_761 >>> 0).toString(16).padStart(8, '0')}`;
          insertCall.run(id, `ek-${id}`, JSON.stringify([sip, phone, order]), order, sip, phone, uid, `cb-${id}-op`, `cb-${id}-client`, bridge,
            at, at + AT[1]!, at + AT[2]!, at + AT[3]!, at + AT[4]!, at + AT[5]!);
          const base = `"sip":"${sip}","phone":"${phone}"`;
          for (let s = 0; s < STATUSES.length; s++) {
            const details =
              s === 4 ? `{"dialStatus":"ANSWER",${base}}` : s === 5 ? `{"cause":16,"causeText":"Normal Clearing","by":"client",${base}}` : `{${base}}`;
            insertStatus.run(id, order, STATUSES[s], at + AT[s]!, details);
          }
          const name = `order-${order}-call-${id}`;
          insertRecording.run(id, order, name, `/var/spool/asterisk/recording/${name}.wav`, 672_044, 42, at + AT[4]!, at + AT[5]!);
          insertPresence.run(sip, 'inuse', 'online', 'device state INUSE', at + AT[1]!);
          insertPresence.run(sip, 'online', 'inuse', 'device state NOT_INUSE', at + AT[5]!);
        }
      })();
      onProgress?.(Math.min(first + BATCH - 1, n));
    }
    const insertMs = performance.now() - t0;
    const t1 = performance.now();
    for (const ix of indexes) db.exec(ix.sql);
    const indexMs = performance.now() - t1;
    db.pragma('journal_mode = WAL');
    return { calls: n, orders, statuses: n * STATUSES.length, recordings: n, presence: 2 * n, insertMs, indexMs };
  } finally {
    db.close();
  }
}
