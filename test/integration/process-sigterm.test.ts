/**
 * SIGTERM during a call: the daemon (a real process) exits 0 within 10 s, the
 * database is consistent, and the call, which ended while the daemon was
 * down, gets exactly one final status at the next start.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { SimulatedAsterisk } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/daemon.js';
import { spawnDaemon } from '../helpers/process.js';

let child: ChildProcess | undefined;
let sim: SimulatedAsterisk | undefined;
let dir: string | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});


it('SIGTERM mid-call: exit 0 within 10 s, database consistent, the call reconciled to one FINISH at the next start', async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-sigterm-'));
  sim = new SimulatedAsterisk({ amiUser: 'callbridge', amiSecret: 'sim-ami-secret-0123', ariUser: 'callbridge', ariPassword: 'sim-ari-password-0123', recordingsDir: join(dir, 'rec'), timeScale: 0.2, logger: silentLogger() });
  const { amiPort, ariUrl } = await sim.start();
  const env = {
    CALLBRIDGE_HTTP_PORT: '0',
    CALLBRIDGE_DB_PATH: join(dir, 'db.sqlite'),
    CALLBRIDGE_RECORDINGS_DIR: join(dir, 'rec'),
    CALLBRIDGE_AMI_PORT: String(amiPort),
    CALLBRIDGE_AMI_SECRET: 'sim-ami-secret-0123',
    CALLBRIDGE_ARI_URL: ariUrl,
    CALLBRIDGE_ARI_PASSWORD: 'sim-ari-password-0123',
    CALLBRIDGE_CONTROL: 'ami',
    CALLBRIDGE_LOG_LEVEL: 'info',
  };
  let d = spawnDaemon(env);
  child = d.proc;
  let base = `http://127.0.0.1:${await d.port()}`;
  await waitFor('connected', async () => ((await (await fetch(`${base}/health`)).json()) as { status: string }).status === 'ok', 15_000);
  // a client ending in 9 stays on the line until the operator hangs up
  const made = (await (await fetch(`${base}/api/makeCall.json?sip=101&phone=380639920009&order_id=5`)).json()) as { call_id: number };
  await waitFor('CLIENT_PICKUP', async () => {
    const h = (await (await fetch(`${base}/api/callHistory.json?call_id=${made.call_id}`)).json()) as { history: Array<{ status: string }> };
    return h.history.at(-1)?.status === 'CLIENT_PICKUP';
  }, 15_000);

  const t0 = Date.now();
  d.proc.kill('SIGTERM');
  expect(await d.exited).toBe(0);
  expect(Date.now() - t0).toBeLessThan(10_000);

  const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(db.prepare('SELECT status, final FROM calls WHERE id = ?').get(made.call_id)).toEqual({ status: 'CLIENT_PICKUP', final: 0 });
  db.close();

  // the conversation ends while the daemon is down
  expect(sim.hangupPhone('101')).toBe(1);

  d = spawnDaemon(env);
  child = d.proc;
  base = `http://127.0.0.1:${await d.port()}`;
  const chain = await waitFor('a final status', async () => {
    const h = (await (await fetch(`${base}/api/callHistory.json?call_id=${made.call_id}`)).json()) as { history: Array<{ status: string }> };
    const s = h.history.map((x) => x.status);
    return ['FINISH', 'ERROR'].includes(s.at(-1) ?? '') ? s : undefined;
  }, 20_000);
  expect(chain).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']);
  d.proc.kill('SIGTERM');
  expect(await d.exited).toBe(0);
}, 60_000);
