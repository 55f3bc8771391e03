/**
 * Queue pause as presence "away" end to end: the daemon in simulated mode,
 * the simulator's /simulator/endpoints/{sip}/pause and /unpause (QueuePause
 * of the member Local/<sip>@from-queue/n in queue 700), sipList and
 * operatorHistory over HTTP, and a pause change while the AMI link is down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { waitFor } from '../helpers/daemon.js';

let daemon: Daemon;
let dir: string;
const api = async (path: string, init?: RequestInit) => {
  const res = await fetch(`http://127.0.0.1:${daemon.port}${path}`, init);
  return { status: res.status, body: (await res.json()) as any };
};
const post = (path: string) => api(path, { method: 'POST' });
const statusOf = async (sip: string): Promise<string> =>
  (await api('/api/sipList.json?per_page=100')).body.sips.find((s: { sip: string }) => s.sip === sip)?.status;
const history = async (sip: string) =>
  ((await api(`/api/operatorHistory.json?sip=${sip}&per_page=100`)).body.history as Array<{ status: string; previous_status: string; reason: string }>).reverse();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-pause-'));
  const config = loadConfig(
    { CALLBRIDGE_SIMULATE: '1', CALLBRIDGE_DB_PATH: join(dir, 'db.sqlite'), CALLBRIDGE_RECORDINGS_DIR: join(dir, 'rec'), CALLBRIDGE_HTTP_PORT: '0', CALLBRIDGE_SIM_TIME_SCALE: '0.05' },
    [],
  );
  daemon = await startDaemon(config, silentLogger());
  await waitFor('resync', () => daemon.presence.status('108') !== undefined && daemon.ami.connected && daemon.ari?.connected);
});

afterAll(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('queue pause through the simulated Asterisk', () => {
  it('pause shows as away in sipList and operatorHistory; unpause brings it back', async () => {
    expect(await statusOf('103')).toBe('online');
    const res = await post('/simulator/endpoints/103/pause?reason=lunch');
    expect(res.status).toBe(200);
    await waitFor('103 away', async () => (await statusOf('103')) === 'away', 2000);
    const away = await api('/api/sipList.json?status=away');
    expect(away.body).toMatchObject({ total: 1 });
    expect(away.body.sips[0]).toMatchObject({ sip: '103', status: 'away' });
    expect((await history('103')).at(-1)).toMatchObject({ status: 'away', previous_status: 'online', reason: 'queue 700 paused: lunch' });

    await post('/simulator/endpoints/103/unpause');
    await waitFor('103 online', async () => (await statusOf('103')) === 'online', 2000);
    expect((await history('103')).at(-1)).toMatchObject({ status: 'online', previous_status: 'away', reason: 'queue 700 unpaused' });
  });

  it('offline wins over away; registering again shows the pause', async () => {
    await post('/simulator/endpoints/104/pause');
    await waitFor('104 away', async () => (await statusOf('104')) === 'away', 2000);
    await post('/simulator/endpoints/104/unregister');
    await waitFor('104 offline', async () => (await statusOf('104')) === 'offline', 2000);
    await post('/simulator/endpoints/104/register');
    await waitFor('104 away again', async () => (await statusOf('104')) === 'away', 3000);
    await post('/simulator/endpoints/104/unpause');
    await waitFor('104 online', async () => (await statusOf('104')) === 'online', 2000);
    expect((await history('104')).slice(-4).map((h) => h.status)).toEqual(['away', 'offline', 'away', 'online']);
  });

  it('a paused operator in a click-to-call is inuse, and away once it ends', async () => {
    await post('/simulator/endpoints/105/pause');
    await waitFor('105 away', async () => (await statusOf('105')) === 'away', 2000);
    const call = await api('/api/makeCall.json?sip=105&phone=380639920001&order_id=p1');
    expect(call.status).toBe(200);
    await waitFor('105 inuse', async () => (await statusOf('105')) === 'inuse', 3000);
    const last = async () => (await api(`/api/callHistory.json?call_id=${call.body.call_id}`)).body.history.at(-1).status;
    await waitFor('FINISH', async () => (await last()) === 'FINISH', 5000);
    await waitFor('105 away after the call', async () => (await statusOf('105')) === 'away', 2000);
    await post('/simulator/endpoints/105/unpause');
    await waitFor('105 online', async () => (await statusOf('105')) === 'online', 2000);
  });

  it('a pause made while the AMI link was down is read back with QueueStatus after the reconnect', async () => {
    await post('/simulator/disconnect?link=ami&down_ms=500');
    await waitFor('AMI down', () => !daemon.ami.connected, 2000);
    daemon.simulator!.pause('102', true, 'away');
    await waitFor('AMI back', () => daemon.ami.connected, 5000);
    await waitFor('102 away after resync', async () => (await statusOf('102')) === 'away', 3000);
    expect((await history('102')).at(-1)).toMatchObject({ status: 'away', reason: 'resync (AMI): queue 700 paused: away' });

    await post('/simulator/disconnect?link=ami&down_ms=500');
    await waitFor('AMI down', () => !daemon.ami.connected, 2000);
    daemon.simulator!.pause('102', false);
    await waitFor('AMI back', () => daemon.ami.connected, 5000);
    await waitFor('102 online after resync', async () => (await statusOf('102')) === 'online', 3000);
  });
});
