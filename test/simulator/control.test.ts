import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { ARI_PASSWORD, ARI_USER, RawAmi, startSim, until, type Running } from './helpers.js';
import { connectAri, EventLog } from './ari-client.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

describe('simulator control', () => {
  let run: Running | undefined;
  afterEach(async () => {
    await run?.close();
    run = undefined;
  });

  it('logs its ports at start', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) });
    run = await startSim({ logger: createLogger({ level: 'info', destination: sink }) });
    const line = JSON.parse(lines.find((l) => l.includes('simulated Asterisk listening'))!) as Record<string, unknown>;
    expect([line.amiPort, line.ariPort]).toEqual([run.addrs.amiPort, run.addrs.ariPort]);
    expect(run.addrs.ariUrl).toBe(`http://127.0.0.1:${run.addrs.ariPort}`);
  });

  it("disconnect('ami') cuts every AMI session; the server keeps listening", async () => {
    run = await startSim();
    const a = await RawAmi.connect(run.addrs.amiPort);
    const b = await RawAmi.connect(run.addrs.amiPort);
    await a.login();
    await b.login();
    expect(run.sim.disconnect('ami')).toBe(2);
    await a.waitClosed();
    await b.waitClosed();
    const again = await RawAmi.connect(run.addrs.amiPort);
    await again.login();
    run.sim.unregister('101');
    await again.waitFor((f) => f.get('Event') === 'PeerStatus' && f.get('PeerStatus') === 'Unreachable');
    expect(run.sim.disconnect('ami')).toBe(1);
    expect(run.sim.disconnect('ami')).toBe(0);
  });

  it('disconnect with downMs keeps the link cut: new AMI sessions and ARI requests are dropped until it is over', async () => {
    run = await startSim();
    const a = await RawAmi.connect(run.addrs.amiPort);
    await a.login();
    expect(run.sim.disconnect('ami', 400)).toBe(1);
    await a.waitClosed();
    const during = await RawAmi.connect(run.addrs.amiPort);
    await during.waitClosed();
    run.sim.disconnect('ari', 400);
    const auth = { authorization: `Basic ${Buffer.from(`${ARI_USER}:${ARI_PASSWORD}`).toString('base64')}` };
    await expect(fetch(`${run.addrs.ariUrl}/ari/asterisk/info`, { headers: auth })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 450));
    const after = await RawAmi.connect(run.addrs.amiPort);
    await after.login();
    expect((await fetch(`${run.addrs.ariUrl}/ari/asterisk/info`, { headers: auth })).status).toBe(200);
    expect(run.sim.disconnect('ami')).toBe(1);
  });

  it("disconnect('ari') cuts the websockets; ari-client reconnects and gets events again", async () => {
    run = await startSim();
    const client = await connectAri(run.addrs.ariUrl, ARI_USER, ARI_PASSWORD);
    const log = new EventLog(client);
    let reconnected = 0;
    client.on('WebSocketConnected', () => reconnected++);
    await client.start('callbridge');
    await client.applications.subscribe!({ applicationName: 'callbridge', eventSource: 'endpoint:PJSIP/104' });
    expect(run.sim.disconnect('ari')).toBe(1);
    await until(() => reconnected >= 2, 5000);
    run.sim.unregister('104');
    const e = await log.waitFor((x) => x.type === 'PeerStatusChange');
    expect(e.peer.peer_status).toBe('Unreachable');
    // REST was never cut
    expect((await client.endpoints.get!({ tech: 'PJSIP', resource: '104' })).state).toBe('offline');
    client.stop();
  });

  it('stop() closes every connection and both servers, and clears the call timers', async () => {
    run = await startSim({ timeScale: 1 });
    const { amiPort, ariPort } = run.addrs;
    const c = await RawAmi.connect(amiPort);
    await c.login();
    c.send([['Action', 'Originate'], ['Channel', 'PJSIP/101'], ['Context', 'callbridge-click2call'], ['Exten', '380639920000'], ['Async', 'true'], ['ActionID', 'o']]);
    await c.waitFor((f) => f.get('Event') === 'DialBegin');
    await run.close();
    run = undefined;
    await c.waitClosed();
    expect(await refused(amiPort)).toBe(true);
    expect(await refused(ariPort)).toBe(true);
  });
});
