/**
 * Calls the daemon did not originate, end to end: the recorded AMI bytes of
 * real FreePBX-style calls are written to the daemon's AMI socket, and the
 * calls are read back over HTTP (callList) and from SQLite. Also a daemon
 * restart in the middle of a call, with Asterisk still carrying it and with
 * the call gone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { FakeAmiServer, standardAnswer, type FakeAmiConnection } from '../asterisk/ami/fake-ami.js';
import { readJsonl, type TraceMessage } from '../helpers/traces.js';
import { waitFor } from '../helpers/daemon.js';

const events = (scenario: string): TraceMessage[] => readJsonl<TraceMessage>(`${scenario}/ami.jsonl`).filter((m) => m.kind === 'event' && m.name !== 'FullyBooted');

/** Channels Asterisk still has, as CoreShowChannels lists them. */
let liveChannels: Array<Record<string, string>> = [];
/** While set, CoreShowChannels is answered only once it settles (a reconnect whose snapshot comes later). */
let snapshotGate: Promise<unknown> | undefined;

function answer(conn: FakeAmiConnection, action: { get(n: string): string | undefined }): void {
  if (standardAnswer(conn, action as never)) return;
  const id = action.get('actionid') ?? '';
  const name = action.get('action') ?? '';
  if (name.toLowerCase() === 'coreshowchannels') {
    if (snapshotGate) {
      const gate = snapshotGate;
      void gate.then(() => answer(conn, action));
      snapshotGate = undefined;
      return;
    }
    let out = `Response: Success\r\nActionID: ${id}\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n`;
    for (const ch of liveChannels) {
      out += `Event: CoreShowChannel\r\nActionID: ${id}\r\n${Object.entries(ch).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    }
    out += `Event: CoreShowChannelsComplete\r\nActionID: ${id}\r\nEventList: Complete\r\nListItems: ${liveChannels.length}\r\n\r\n`;
    void conn.write(out);
    return;
  }
  // Everything else answers as an empty list (presence resync) or a plain success.
  void conn.write(`Response: Success\r\nActionID: ${id}\r\nEventList: start\r\nMessage: will follow\r\n\r\nEvent: ${name}Complete\r\nActionID: ${id}\r\nEventList: Complete\r\nListItems: 0\r\n\r\n`);
}

let dir: string;
let server: FakeAmiServer;
let daemon: Daemon | undefined;

async function start(): Promise<Daemon> {
  const config = loadConfig(
    {
      CALLBRIDGE_DB_PATH: join(dir, 'callbridge.db'),
      CALLBRIDGE_RECORDINGS_DIR: join(dir, 'recordings'),
      CALLBRIDGE_MONITOR_DIR: join(dir, 'monitor'),
      CALLBRIDGE_HTTP_PORT: '0',
      CALLBRIDGE_AMI_PORT: String(server.port),
      CALLBRIDGE_AMI_SECRET: 'secret-secret-123',
      CALLBRIDGE_ARI_URL: 'off',
      CALLBRIDGE_CONTROL: 'ami',
      CALLBRIDGE_LOG_LEVEL: 'silent',
    },
    [],
  );
  const d = await startDaemon(config, silentLogger());
  await waitFor('AMI connected', () => d.ami.connected);
  return d;
}

async function api(path: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${daemon!.port}${path}`);
  return res.json();
}

async function play(conn: FakeAmiConnection, msgs: readonly TraceMessage[]): Promise<void> {
  for (const m of msgs) await conn.write(m.raw);
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-pbx-'));
  liveChannels = [];
  snapshotGate = undefined;
  server = await FakeAmiServer.start(answer);
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PBX calls end to end (recorded AMI bytes → daemon → HTTP and SQLite)', () => {
  it('E4 ring group: one incoming call, answered by 1001, FINISH; rows in SQLite', async () => {
    daemon = await start();
    const conn = await server.waitForConnections(1);
    await play(conn, events('E4'));
    const body = await waitFor('a final call', async () => {
      const b = await api('/api/callList.json');
      return b.calls?.[0]?.final ? b : undefined;
    });
    expect(body.calls).toHaveLength(1);
    expect(body.calls[0]).toMatchObject({
      direction: 'incoming',
      origin: 'pbx',
      phone: '79001234567',
      did: '74950000600',
      sip: '1001',
      operators: ['1000', '1001'],
      status: 'FINISH',
      transfers: null,
      linkedid: '1795494166.6',
    });
    const history = await api(`/api/callHistory.json?call_id=${body.calls[0].call_id}`);
    expect(history.history.map((h: { status: string }) => h.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH']);
    const db = daemon.db.$client;
    expect(db.prepare("SELECT count(*) AS n FROM calls WHERE origin = 'pbx'").get()).toEqual({ n: 1 });
    const channels = db.prepare('SELECT uniqueid FROM call_channels ORDER BY uniqueid').all() as Array<{ uniqueid: string }>;
    // the trunk channel, both Local pairs and both phones
    expect(channels.map((c) => c.uniqueid)).toEqual(expect.arrayContaining(['1795494166.6', '1795494166.7', '1795494166.8', '1795494166.11', '1795494166.12']));
    const statuses = db.prepare('SELECT status FROM call_statuses ORDER BY id').all() as Array<{ status: string }>;
    expect(statuses.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH']);
  });

  it('E9 two overlapping calls and E7 a blind transfer; filters and the before_id cursor', async () => {
    daemon = await start();
    const conn = await server.waitForConnections(1);
    await play(conn, events('E9'));
    await play(conn, events('E7'));
    const all = await waitFor('three final calls', async () => {
      const b = await api('/api/callList.json');
      return b.calls?.length === 3 && b.calls.every((c: { final: boolean }) => c.final) ? b : undefined;
    });
    // newest first
    expect(all.calls.map((c: { direction: string }) => c.direction)).toEqual(['incoming', 'outgoing', 'incoming']);
    expect(all.calls[0]).toMatchObject({ sip: '1001', transfers: '1000 > 1001', operators: ['1000', '1001'], status: 'FINISH' });
    // (billsec is the daemon's clock between answer and end; these bytes arrive in one burst, the recorded timings are checked by the replay tests)
    expect(all.calls[1]).toMatchObject({ sip: '1001', phone: '79007654321', status: 'FINISH' });
    const outgoing = await api('/api/callList.json?direction=outgoing');
    expect(outgoing.calls).toHaveLength(1);
    const by1000 = await api('/api/CallsList.json?sip=1000');
    expect(by1000.calls).toHaveLength(2);
    const page1 = await api('/api/callList.json?per_page=2');
    expect(page1.calls).toHaveLength(2);
    const page2 = await api(`/api/callList.json?per_page=2&before_id=${page1.next_before_id}`);
    expect(page2.calls.map((c: { call_id: number }) => c.call_id)).toEqual([all.calls[2].call_id]);
    const byPhone = await api('/api/callList.json?phone=%2B79007654321');
    expect(byPhone.calls).toHaveLength(1);
    const bad = await fetch(`http://127.0.0.1:${daemon.port}/api/callList.json?direction=sideways`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.field).toBe('direction');
  });

  it('daemon restarted mid-call while Asterisk still carries it: followed again, one FINISH', async () => {
    daemon = await start();
    let conn = await server.waitForConnections(1);
    const all = events('D1');
    const cut = all.findIndex((m) => m.name === 'BridgeEnter') + 2;
    await play(conn, all.slice(0, cut));
    await waitFor('OPERATOR_PICKUP', async () => (await api('/api/callList.json')).calls?.[0]?.status === 'OPERATOR_PICKUP');
    await daemon.stop();
    // what Asterisk lists now: both channels of the call, Up and bridged
    liveChannels = [
      { Channel: 'PJSIP/clients-00000016', Uniqueid: '1795492897.28', Linkedid: '1795492897.28', ChannelState: '6', ChannelStateDesc: 'Up', Context: 'from-clients', Exten: '74950000000', CallerIDNum: '79001234567', Duration: '00:00:02' },
      { Channel: 'PJSIP/1000-00000017', Uniqueid: '1795492897.29', Linkedid: '1795492897.28', ChannelState: '6', ChannelStateDesc: 'Up', Context: 'from-operators', Exten: '', CallerIDNum: '1000', Duration: '00:00:01' },
    ];
    daemon = await start();
    conn = await server.waitForConnections(2);
    await play(conn, all.slice(cut));
    const body = await waitFor('FINISH', async () => {
      const b = await api('/api/callList.json');
      return b.calls?.[0]?.final ? b : undefined;
    });
    expect(body.calls).toHaveLength(1);
    expect(body.calls[0]).toMatchObject({ status: 'FINISH', sip: '1000', direction: 'incoming' });
    const statuses = daemon.db.$client.prepare('SELECT status FROM call_statuses ORDER BY id').all() as Array<{ status: string }>;
    expect(statuses.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH']);
  });

  it('a call that ended while the daemon was down gets its one final status at the next start', async () => {
    daemon = await start();
    const conn = await server.waitForConnections(1);
    const all = events('D1');
    await play(conn, all.slice(0, all.findIndex((m) => m.name === 'BridgeEnter') + 2));
    await waitFor('OPERATOR_PICKUP', async () => (await api('/api/callList.json')).calls?.[0]?.status === 'OPERATOR_PICKUP');
    await daemon.stop();
    liveChannels = [];
    daemon = await start();
    const body = await waitFor('a final status', async () => {
      const b = await api('/api/callList.json');
      return b.calls?.[0]?.final ? b : undefined;
    });
    expect(body.calls[0]).toMatchObject({ status: 'FINISH', sip: '1000' });
    const statuses = daemon.db.$client.prepare("SELECT count(*) AS n FROM call_statuses WHERE status = 'FINISH'").get();
    expect(statuses).toEqual({ n: 1 });
  });
});

describe('a PBX call that ends while AMI is down (trace F4b: nothing is replayed after the reconnect)', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const postCdr = (params: Record<string, string>) =>
    fetch(`http://127.0.0.1:${daemon!.port}/api/events/callDetailRecord.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
  const finalRow = () =>
    daemon!.db.$client.prepare("SELECT status, billsec, answered_at AS answeredAt, ended_at AS endedAt, sip FROM calls WHERE origin = 'pbx'").get() as {
      status: string; billsec: number; answeredAt: number | null; endedAt: number; sip: string | null;
    };
  const finishDetails = () =>
    JSON.parse((daemon!.db.$client.prepare('SELECT details FROM call_statuses ORDER BY id DESC LIMIT 1').get() as { details: string }).details);

  it('answered before the gap: the end and billsec come from the CDR the hook posted, not from the reconnect', async () => {
    daemon = await start();
    const conn = await server.waitForConnections(1);
    const all = events('D1');
    const t0 = Date.now();
    await play(conn, all.slice(0, all.findIndex((m) => m.name === 'BridgeEnter') + 2));
    await waitFor('OPERATOR_PICKUP', async () => (await api('/api/callList.json')).calls?.[0]?.status === 'OPERATOR_PICKUP');
    const answeredAt = finalRow().answeredAt!;
    // the call ends 1 s after this moment (whole seconds after its start, as a CDR has it); the hook posts the
    // CDR over HTTP while AMI is cut, and the reconnect's snapshot comes after the end
    const end = Date.now() + 1000;
    const seconds = Math.ceil((end - t0) / 1000);
    const callAt = end - seconds * 1000;
    liveChannels = [];
    snapshotGate = sleep(end + 300 - Date.now());
    conn.socket.destroy();
    const posted = await postCdr({ event_id: '1795492897.28', linkedid: '1795492897.28', phone: '79001234567', extension: '1000', call_at: new Date(callAt).toISOString(), duration: String(seconds), billsec: '1', disposition: 'ANSWERED', type: 'incoming', path: '' });
    expect(posted.status).toBe(200);
    await waitFor('a final status', () => finalRow().status === 'FINISH');
    const row = finalRow();
    expect(row.endedAt).toBe(end);
    expect(row.billsec).toBe(Math.round((end - answeredAt) / 1000));
    expect(finishDetails()).toMatchObject({ end: 'cdr', sip: '1000' });
  });

  it('answered during the gap: the CDR (ANSWERED, billsec, extension) gives the pickup, the operator and the end', async () => {
    daemon = await start();
    const conn = await server.waitForConnections(1);
    const all = events('D1');
    // up to the phone ringing: the answer and the end fall in the gap
    await play(conn, all.slice(0, all.findIndex((m) => m.name === 'DialState') + 1));
    await waitFor('OPERATOR_CALLTO', async () => (await api('/api/callList.json')).calls?.[0]?.status === 'OPERATOR_CALLTO');
    // answered 1 s before the end, which comes 2 s after this moment; the snapshot after the end
    const end = Date.now() + 2000;
    const callAt = end - 3000;
    liveChannels = [];
    snapshotGate = sleep(end + 300 - Date.now());
    conn.socket.destroy();
    const posted = await postCdr({ event_id: '1795492897.28', linkedid: '1795492897.28', phone: '79001234567', extension: '1000', call_at: new Date(callAt).toISOString(), duration: '3', billsec: '1', disposition: 'ANSWERED', type: 'incoming', path: '' });
    expect(posted.status).toBe(200);
    await waitFor('a final status', () => finalRow()?.status === 'FINISH', 10_000);
    const row = finalRow();
    expect(row).toMatchObject({ status: 'FINISH', sip: '1000', endedAt: end, answeredAt: end - 1000, billsec: 1 });
    const chain = (daemon.db.$client.prepare('SELECT status FROM call_statuses ORDER BY id').all() as Array<{ status: string }>).map((s) => s.status);
    expect(chain).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH']);
  });

  it('without a CDR from the hook the end is the moment the snapshot showed the channels gone, and says so', async () => {
    daemon = await start();
    const conn = await server.waitForConnections(1);
    const all = events('D1');
    await play(conn, all.slice(0, all.findIndex((m) => m.name === 'BridgeEnter') + 2));
    await waitFor('OPERATOR_PICKUP', async () => (await api('/api/callList.json')).calls?.[0]?.status === 'OPERATOR_PICKUP');
    liveChannels = [];
    conn.socket.destroy();
    await waitFor('a final status', () => finalRow().status === 'FINISH');
    expect(finishDetails()).toMatchObject({ end: 'resync' });
  });
});

describe('click-to-calls are not PBX calls', () => {
  it.each(['ari', 'ami'] as const)('%s mode: a click-to-call through the simulator is one call in callList, origin click-to-call', async (control) => {
    const { startHarness } = await import('../helpers/daemon.js');
    const h = await startHarness({ control });
    try {
      const made = await h.api('/api/makeCall.json?sip=101&phone=380639920001&order_id=15');
      expect(made.status).toBe(200);
      await waitFor('FINISH', async () => (await h.api(`/api/callList.json`)).body.calls?.[0]?.status === 'FINISH', 15_000);
      // give the PBX tracker every event of the call
      await new Promise((r) => setTimeout(r, 300));
      const list = (await h.api('/api/callList.json')).body;
      expect(list.calls).toHaveLength(1);
      expect(list.calls[0]).toMatchObject({ call_id: made.body.call_id, origin: 'click-to-call', direction: 'outgoing', sip: '101', order_id: '15' });
      expect(h.daemon.db.$client.prepare("SELECT count(*) AS n FROM calls WHERE origin = 'pbx'").get()).toEqual({ n: 0 });
    } finally {
      await h.close();
    }
  });
});
