/**
 * Presence end to end: the daemon in simulated mode (the simulated Asterisk
 * speaking real AMI and ARI on loopback), driven through its HTTP API and the
 * simulator's control endpoints; assertions on HTTP answers and SQLite rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { operatorHistory } from '../../src/db/schema.js';
import { waitFor } from '../helpers/daemon.js';

let daemon: Daemon;
let dir: string;
const api = async (path: string, init?: RequestInit) => {
  const res = await fetch(`http://127.0.0.1:${daemon.port}${path}`, init);
  return { status: res.status, body: (await res.json()) as any };
};
const historyRows = () => daemon.db.select().from(operatorHistory).all();
const sips = async () => Object.fromEntries((await api('/api/sipList.json?per_page=100')).body.sips.map((s: { sip: string; status: string }) => [s.sip, s.status]));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-presence-'));
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

describe('presence through the simulated Asterisk', () => {
  it('lists the cast with its statuses, and health is ok', async () => {
    expect(await sips()).toEqual({ '101': 'online', '102': 'online', '103': 'online', '104': 'online', '105': 'online', '106': 'offline', '107': 'online', '108': 'online' });
    const one = (await api('/api/sipList.json?status=online&per_page=1')).body;
    expect(one).toMatchObject({ page: 1, per_page: 1, total: 7 });
    expect(one.sips[0].contact).toMatch(/^sip:101@127\.0\.0\.1/);
    expect(one.sips[0].user_agent).toBeTruthy();
    expect((await api('/health')).body).toMatchObject({ status: 'ok', ami: 'connected', ari: 'connected', db: 'ok' });
  });

  it('un-registering 102 shows it offline within a second, with one history row', async () => {
    const before = historyRows().length;
    const res = await api('/simulator/endpoints/102/unregister', { method: 'POST' });
    expect(res.status).toBe(200);
    const t0 = Date.now();
    await waitFor('102 offline', async () => (await sips())['102'] === 'offline', 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    await waitFor('102 without contact', async () => (await api('/api/sipList.json?per_page=100')).body.sips.find((x: { sip: string }) => x.sip === '102').contact === null, 1000);
    await new Promise((r) => setTimeout(r, 200)); // the rest of Asterisk's events for it (PeerStatus, ContactStatus Removed)
    const added = historyRows().slice(before);
    expect(added.map((r) => [r.sip, r.status, r.previousStatus])).toEqual([['102', 'offline', 'online']]);
    const hist = (await api('/api/operatorHistory.json?sip=102')).body;
    expect(hist.history[0]).toMatchObject({ sip: '102', status: 'offline', previous_status: 'online' });

    await api('/simulator/endpoints/102/register', { method: 'POST' });
    await waitFor('102 online', async () => (await sips())['102'] === 'online', 1000);
    // the user agent, which live events do not carry, is read back shortly after the registration
    await waitFor('102 user agent', async () => {
      const row = (await api('/api/sipList.json?per_page=100')).body.sips.find((x: { sip: string }) => x.sip === '102');
      return row.user_agent !== null && row.contact !== null;
    }, 3000);
    expect((await api('/simulator/endpoints/999/register', { method: 'POST' })).status).toBe(404);
  });

  it('a dropped AMI link comes back with statuses intact and no spurious rows; what changed meanwhile is caught up', async () => {
    const before = historyRows().length;
    // kept down half a second: the daemon reconnects at once after a healed drop
    const cut = await api('/simulator/disconnect?link=ami&down_ms=500', { method: 'POST' });
    expect(cut.body.disconnected).toBeGreaterThanOrEqual(1);
    await waitFor('AMI down', () => !daemon.ami.connected, 2000);
    // a change while the daemon cannot see it
    daemon.simulator!.unregister('103');
    await waitFor('AMI back', () => daemon.ami.connected, 5000);
    await waitFor('103 offline after resync', async () => (await sips())['103'] === 'offline', 3000);
    const added = historyRows().slice(before);
    expect(added.map((r) => [r.sip, r.status])).toEqual([['103', 'offline']]);
    expect(added[0]!.reason).toMatch(/resync|UNAVAILABLE/);
    const now = await sips();
    expect(now).toMatchObject({ '101': 'online', '102': 'online', '104': 'online', '106': 'offline' });
    daemon.simulator!.register('103');
    await waitFor('103 online', async () => (await sips())['103'] === 'online', 2000);
  });

  it('a dropped ARI link comes back and adds no history', async () => {
    const before = historyRows().length;
    await api('/simulator/disconnect?link=ari&down_ms=1000', { method: 'POST' });
    await waitFor('ARI down', () => !daemon.ari!.connected, 2000);
    expect((await api('/health')).body).toMatchObject({ status: 'degraded', ari: 'disconnected' });
    await waitFor('ARI back', () => daemon.ari!.connected, 5000);
    await new Promise((r) => setTimeout(r, 200));
    expect(historyRows().length).toBe(before);
    expect((await api('/health')).body.status).toBe('ok');
  });

  it("hangs up an operator's phone on request, and says when it is in no call", async () => {
    const res = await api('/api/makeCall.json?sip=105&phone=380639920009&order_id=h1');
    expect(res.status).toBe(200);
    const last = async () => (await api(`/api/callHistory.json?call_id=${res.body.call_id}`)).body.history.at(-1).status;
    await waitFor('talking', async () => (await last()) === 'CLIENT_PICKUP');
    const hung = await api('/simulator/endpoints/105/hangup', { method: 'POST' });
    expect(hung.body).toEqual({ sip: '105', action: 'hangup', calls: 1 });
    await waitFor('FINISH', async () => (await last()) === 'FINISH');
    expect((await api('/simulator/endpoints/105/hangup', { method: 'POST' })).status).toBe(404);
  });

  it('refuses a bad link name', async () => {
    const res = await api('/simulator/disconnect?link=sip', { method: 'POST' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'link' });
  });
});
