/**
 * ARI REST request cost: the daemon's AriRest (keep-alive undici pool) next
 * to node's fetch making the same request (the former implementation), both
 * against a local HTTP server answering like Asterisk's originate, at 1 and
 * 100 requests in flight. CPU is this process's (client and server).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AriRest, buildQuery } from '../src/asterisk/ari/rest.js';
import { envInt } from './stats.js';
import { progress, section } from './child.js';

export interface RestRow {
  name: string;
  inflight: number;
  requests: number;
  /** ms per request */
  samples: number[];
  cpuUsPerRequest: number;
}

export interface RestResult {
  rows: RestRow[];
}

const ANSWER = JSON.stringify({ id: 'cb-1-op-1', name: 'PJSIP/101-00000001', state: 'Down' });
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

section(async (): Promise<RestResult> => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(ANSWER);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ari`;
  const auth = `Basic ${Buffer.from('bench:bench').toString('base64')}`;
  const query = { endpoint: 'PJSIP/101', app: 'callbridge', timeout: 30 };
  const body = { variables: { CALLBRIDGE_CALL_ID: '1' } };
  const rest = new AriRest({ baseUrl, username: 'bench', password: 'bench', timeoutMs: 10_000 });
  const viaFetch = async () => {
    const res = await fetch(`${baseUrl}/channels${buildQuery(query)}`, {
      method: 'POST',
      headers: { authorization: auth, accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    JSON.parse(await res.text());
  };
  const viaRest = () => rest.request('POST', '/channels', { query, body });
  const requests = envInt('BENCH_REST_REQUESTS', 3000);

  const run = async (name: string, once: () => Promise<unknown>, inflight: number): Promise<RestRow> => {
    for (let i = 0; i < 200; i++) await once(); // warm-up
    const samples: number[] = [];
    let left = requests;
    const c0 = cpuMs();
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (left-- > 0) {
          const t = performance.now();
          await once();
          samples.push(performance.now() - t);
        }
      }),
    );
    const row = { name, inflight, requests, samples, cpuUsPerRequest: ((cpuMs() - c0) / requests) * 1000 };
    progress(`ari-rest: ${name}, ${inflight} in flight`);
    return row;
  };

  const rows: RestRow[] = [];
  try {
    for (const inflight of [1, 100]) {
      rows.push(await run("node's fetch (former AriRest)", viaFetch, inflight));
      rows.push(await run('AriRest, undici keep-alive pool', viaRest, inflight));
    }
  } finally {
    rest.close();
    server.close();
  }
  return { rows };
});
