/**
 * The hosted-PBX call history (/rest/calls/company.api, missed.api, users.api)
 * on the history section's database. bench/seed.ts stores only answered
 * click-to-calls, so a mix is written over them first: every 10th call
 * incoming (with a DID), every 30th an incoming call nobody answered
 * (CLIENT_CANCEL), and every second of those called back and answered by the
 * next call (same number). missed.api then has one call in 60 to list, and
 * each candidate's "no later answered call" look-up finds a row half the time.
 * Every 20th call is an answered ring-group call with its two children (101
 * cancelled, 102 answered), so company.api and users.api merge calls and
 * children.
 * The routes are served by a Hono app holding only them (the session check in
 * front is not part of the figures), over HTTP on loopback.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { openDatabase } from '../src/db/index.js';
import { HistoryQueries, type HistoryDeps } from '../src/rest/history.js';
import { installHistoryRoutes } from '../src/rest/history-routes.js';
import { progress } from './child.js';

/** Rewrites the seeded calls into the mix above. */
export function mixCallsForRest(path: string): { incoming: number; missed: number; children: number; ms: number } {
  const t = performance.now();
  const db = openDatabase(path);
  try {
    const raw = db.$client;
    raw.transaction(() => {
      raw.exec(`UPDATE calls SET
          direction = CASE WHEN id % 10 = 0 THEN 'incoming' ELSE 'outgoing' END,
          did = CASE WHEN id % 10 = 0 THEN '74950000600' END,
          status = CASE WHEN id % 30 = 0 THEN 'CLIENT_CANCEL' ELSE status END,
          client_answer_at = CASE WHEN id % 30 = 0 THEN NULL ELSE client_answer_at END,
          client_ring_at = CASE WHEN id % 30 = 0 THEN NULL ELSE client_ring_at END,
          billsec = CASE WHEN id % 30 = 0 THEN 0 ELSE billsec END`);
      raw.exec('UPDATE calls SET phone = (SELECT p.phone FROM calls p WHERE p.id = calls.id - 1) WHERE id % 60 = 1 AND id > 1');
      raw.exec("UPDATE calls SET group_kind = 'ringgroup', group_ext = '600' WHERE id % 20 = 0 AND id % 60 <> 0");
      raw.exec('DELETE FROM call_children');
      raw.exec(`INSERT INTO call_children (uuid, call_id, uniqueid, sip, created_at, answer_at, ended_at, dial_status, cause, final, direction)
        SELECT lower(hex(randomblob(16))), id, id || '.a', '101', created_at + 50, NULL, created_at + 3000, 'CANCEL', 26, final, direction
          FROM calls WHERE group_kind IS NOT NULL
        UNION ALL
        SELECT lower(hex(randomblob(16))), id, id || '.b', '102', created_at + 50, created_at + 3000, coalesce(ended_at, created_at + 3000), 'ANSWER', 16, final, direction
          FROM calls WHERE group_kind IS NOT NULL`);
    })();
    raw.pragma('wal_checkpoint(TRUNCATE)');
    const count = (sql: string) => (raw.prepare(sql).get() as { n: number }).n;
    return {
      incoming: count("SELECT count(*) AS n FROM calls WHERE direction = 'incoming'"),
      missed: count('SELECT count(*) AS n FROM calls WHERE id % 60 = 30'),
      children: count('SELECT count(*) AS n FROM call_children'),
      ms: performance.now() - t,
    };
  } finally {
    db.$client.close();
  }
}

const deps: HistoryDeps = {
  group: (kind, ext) => ({ id: ext ? Number(ext) : null, displayName: `${kind === 'queue' ? 'Queue' : 'Ring group'} ${ext ?? ''}`.trim(), ext }),
  uuidOf: (id) => id.toString(16).padStart(32, '0'),
  user: (sip) => ({ id: Number(sip), displayName: `Operator ${sip}`, ext: sip }),
  contactName: () => undefined,
  audioUrl: (uuid) => `http://127.0.0.1:8095/rest/public/calls/${uuid}/audio`,
  trunk: '74950000001',
};

export interface RestServer {
  base: string;
  endpoints: Array<{ name: string; path: () => string }>;
  close(): Promise<void>;
}

/** Serves the history routes on the database of `calls` seeded calls (mixed by mixCallsForRest). */
export async function restHistoryServer(path: string): Promise<RestServer> {
  const mix = mixCallsForRest(path);
  progress(
    `rest history: ${mix.incoming.toLocaleString('en-US')} incoming calls, ${mix.missed.toLocaleString('en-US')} to call back, ${mix.children.toLocaleString('en-US')} ring-group children (mixed in ${(mix.ms / 1000).toFixed(1)} s)`,
  );
  const db = openDatabase(path);
  const app = new Hono();
  installHistoryRoutes(app, new HistoryQueries(db), deps);
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // the window holds every call of the database
  const span = db.$client.prepare('SELECT min(created_at) AS lo, max(created_at) AS hi, count(*) AS n FROM calls').get() as { lo: number; hi: number; n: number };
  const window = `timeFrom=${span.lo}&timeTo=${span.hi}`;
  const deep = Math.floor(span.n / 2);
  return {
    base,
    endpoints: [
      { name: 'rest company.api page 1 (limit 50)', path: () => `/rest/calls/company.api?${window}&limit=50` },
      { name: `rest company.api offset=calls/2`, path: () => `/rest/calls/company.api?${window}&limit=50&offset=${deep}` },
      { name: 'rest company.api directions=4 page 1', path: () => `/rest/calls/company.api?${window}&directions=4` },
      { name: 'rest missed.api page 1', path: () => `/rest/calls/missed.api?${window}` },
      { name: 'rest missed.api offset=missed/2', path: () => `/rest/calls/missed.api?${window}&offset=${Math.floor(mix.missed / 2)}` },
      { name: 'rest users.api page 1', path: () => `/rest/calls/users.api?${window}` },
      { name: 'rest users.api offset=calls/2', path: () => `/rest/calls/users.api?${window}&offset=${deep}` },
    ],
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      db.$client.close();
    },
  };
}
