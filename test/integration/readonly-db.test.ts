/**
 * The daemon with a database that stops taking writes while it runs (the WAL
 * made immutable with `chattr +i`, which root cannot write past either: a
 * chmod would not do, root ignores file modes and the daemon holds the file
 * open anyway). /health says so, the daemon keeps serving, presence changes
 * are caught up once the file is writable again.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { waitFor } from '../helpers/daemon.js';
import { chattrWorks } from '../helpers/chattr.js';


const dir = mkdtempSync(join(tmpdir(), 'callbridge-rodb-'));
const CHATTR = chattrWorks(dir);
const wal = join(dir, 'db.sqlite-wal');
let frozen = false;
let daemon: Daemon | undefined;

const api = async (path: string, init?: RequestInit) => {
  const res = await fetch(`http://127.0.0.1:${daemon!.port}${path}`, init);
  return { status: res.status, body: (await res.json()) as any };
};
const statusOf = async (sip: string): Promise<string> =>
  (await api('/api/sipList.json?per_page=100')).body.sips.find((s: { sip: string }) => s.sip === sip)?.status;

beforeAll(async () => {
  if (!CHATTR) return;
  const config = loadConfig(
    { CALLBRIDGE_SIMULATE: '1', CALLBRIDGE_DB_PATH: join(dir, 'db.sqlite'), CALLBRIDGE_RECORDINGS_DIR: join(dir, 'rec'), CALLBRIDGE_HTTP_PORT: '0', CALLBRIDGE_SIM_TIME_SCALE: '0.05' },
    [],
  );
  daemon = await startDaemon(config, silentLogger());
  await waitFor('resync', () => daemon!.presence.status('108') !== undefined && daemon!.ami.connected && daemon!.ari?.connected);
});

afterAll(async () => {
  if (frozen) execFileSync('chattr', ['-i', wal]);
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it.skipIf(!CHATTR)('reports db error while writes fail, keeps serving, and catches up when writable again', async () => {
  expect((await api('/health')).body).toMatchObject({ status: 'ok', db: 'ok' });
  expect((await api('/health')).body.db_error).toBeUndefined();

  execFileSync('chattr', ['+i', wal]);
  frozen = true;
  const bad = await waitFor('db error in /health', async () => {
    const h = await api('/health');
    return h.body.db === 'error' ? h : undefined;
  }, 3000);
  expect(bad.status).toBe(503);
  expect(bad.body).toMatchObject({ status: 'degraded', db: 'error', ami: 'connected' });
  expect(bad.body.db_error).toMatch(/SQLITE_IOERR|disk I\/O error/);

  // a presence change Asterisk reports now cannot be stored; reads still work
  daemon!.simulator!.unregister('102');
  await new Promise((r) => setTimeout(r, 300));
  expect(await statusOf('102')).toBe('online');
  // a write through the API fails cleanly
  const call = await api('/api/makeCall.json?sip=101&phone=380639920000&order_id=ro1');
  expect(call.status).toBe(500);
  expect(call.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });

  execFileSync('chattr', ['-i', wal]);
  frozen = false;
  await waitFor('db ok again', async () => (await api('/health')).body.db === 'ok', 3000);
  // the retried resync writes what happened meanwhile
  await waitFor('102 offline after the retry', async () => (await statusOf('102')) === 'offline', 10_000);
  daemon!.simulator!.register('102');
  await waitFor('102 online', async () => (await statusOf('102')) === 'online', 3000);
  expect((await api('/health')).body).toMatchObject({ status: 'ok', db: 'ok' });
}, 30_000);
