/**
 * The daemon as a real process, killed (SIGKILL) while deliveries are pending
 * because the CRM is down: after a restart on the same database every event
 * reaches the CRM once, in the order of its call.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { SimulatedAsterisk } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/daemon.js';
import { spawnDaemon } from '../helpers/process.js';
import { startReceiver, type Receiver } from './receiver.js';

let child: ChildProcess | undefined;
let sim: SimulatedAsterisk | undefined;
let rx: Receiver | undefined;
let dir: string | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  await sim?.stop();
  await rx?.close().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});


it('killed with deliveries pending: delivered after the restart, none twice, in order', async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-kill-'));
  sim = new SimulatedAsterisk({ amiUser: 'callbridge', amiSecret: 'sim-ami-secret-0123', ariUser: 'callbridge', ariPassword: 'sim-ari-password-0123', recordingsDir: join(dir, 'rec'), timeScale: 0.05, logger: silentLogger() });
  const { amiPort, ariUrl } = await sim.start();
  rx = await startReceiver();
  await rx.close(); // the CRM is down
  const env = {
    CALLBRIDGE_HTTP_PORT: '0',
    CALLBRIDGE_DB_PATH: join(dir, 'db.sqlite'),
    CALLBRIDGE_RECORDINGS_DIR: join(dir, 'rec'),
    CALLBRIDGE_AMI_PORT: String(amiPort),
    CALLBRIDGE_AMI_SECRET: 'sim-ami-secret-0123',
    CALLBRIDGE_ARI_URL: ariUrl,
    CALLBRIDGE_ARI_PASSWORD: 'sim-ari-password-0123',
    CALLBRIDGE_LOG_LEVEL: 'info',
    CALLBRIDGE_CONNECTORS: JSON.stringify([{ type: 'webhook', url: `${rx.url}/hook`, backoff_ms: 50, backoff_max_ms: 300, max_attempts: 1000 }]),
  };
  let d = spawnDaemon(env);
  child = d.proc;
  let base = `http://127.0.0.1:${await d.port()}`;
  const get = async (path: string) => (await (await fetch(`${base}${path}`)).json()) as any;
  await waitFor('connected', async () => (await get('/health')).status === 'ok', 15_000);
  const ids: number[] = [];
  for (const [sip, phone] of [['101', '380639920000'], ['102', '380639920005'], ['103', '380639920001']]) ids.push((await get(`/api/makeCall.json?sip=${sip}&phone=${phone}&order_id=k`)).call_id);
  await waitFor('calls final, recordings announced', async () => {
    const calls = (await get('/api/callList.json?per_page=3')).calls as Array<{ final: boolean }>;
    const pending = (await get('/api/deliveryList.json?status=pending&per_page=100')).deliveries as Array<{ event_type: string }>;
    return calls.every((c) => c.final) && pending.filter((p) => p.event_type === 'recording.ready').length === 2;
  }, 20_000);

  d.proc.kill('SIGKILL');
  await d.exited;
  await rx.reopen();
  d = spawnDaemon(env);
  child = d.proc;
  base = `http://127.0.0.1:${await d.port()}`;
  await waitFor('all delivered', async () => (await get('/api/deliveryList.json?status=pending')).deliveries.length === 0 && rx!.received.length > 0, 20_000);

  const got = rx.received.map((r) => r.json() as { id: string; type: string; call: { call_id: number } });
  expect(new Set(got.map((g) => g.id)).size).toBe(got.length);
  const typesOf = (id: number) => got.filter((g) => g.call.call_id === id).map((g) => g.type);
  const talked = ['call.started', 'call.ringing', 'call.answered', 'call.ringing', 'call.answered', 'call.bridged', 'call.finished', 'recording.ready'];
  expect(typesOf(ids[0]!)).toEqual(talked);
  expect(typesOf(ids[1]!)).toEqual(['call.started', 'call.ringing', 'call.answered', 'call.ringing', 'call.finished']);
  expect(typesOf(ids[2]!)).toEqual(talked);
}, 60_000);
