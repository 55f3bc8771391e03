import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawAmi, startSim, type Running } from './helpers.js';
import { ratio, shape, withoutQueryAnswers } from './shape.js';

/**
 * The AMI text the simulator writes compared with the recorded Asterisk 22 streams
 * (copies of the traces in test/fixtures), with the measure of the shared
 * ami-shape.py tool. Set SIM_SHAPE_OUT=<dir> to keep the simulator's streams.
 */
const fixture = (p: string): string => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'latin1');

function keep(name: string, text: string): void {
  const dir = process.env.SIM_SHAPE_OUT;
  if (dir) writeFileSync(join(dir, `${name}.txt`), text);
}

interface Click2Call {
  op: string;
  phone: string;
  timeoutMs?: number;
  clientTimeout?: number;
}

describe('AMI streams have the shape of the recorded traces', () => {
  let run: Running;
  let c: RawAmi;

  beforeEach(async () => {
    run = await startSim({ timeScale: 0.02 });
    c = await RawAmi.connect(run.addrs.amiPort);
  });
  afterEach(async () => {
    c.close();
    await run.close();
  });

  async function login(): Promise<void> {
    c.send([['Action', 'Login'], ['Username', 'callbridge'], ['Secret', 'amisecret'], ['ActionID', 'rec-1']]);
    await c.waitFor((f) => f.get('Event') === 'SuccessfulAuth');
  }

  async function logoff(): Promise<string> {
    c.send([['Action', 'Logoff'], ['ActionID', 'rec-9']]);
    await c.waitClosed();
    return c.text;
  }

  function originate(call: Click2Call): void {
    c.send([
      ['Action', 'Originate'], ['ActionID', 'orig-1'], ['Channel', `PJSIP/${call.op}`], ['Context', 'callbridge-click2call'],
      ['Exten', call.phone], ['Priority', '1'], ['CallerID', `"${call.phone}" <${call.phone}>`], ['Timeout', String(call.timeoutMs ?? 30000)],
      ['Variable', 'CALLBRIDGE_CALL_ID=12'], ['Variable', 'CALLBRIDGE_RECORDING=order-15-call-12'],
      ['Variable', `CALLBRIDGE_CLIENT_DIAL=PJSIP/${call.phone}@clients`], ['Variable', `CALLBRIDGE_CLIENT_TIMEOUT=${call.clientTimeout ?? 30}`],
      ['Async', 'true'],
    ]);
  }

  /** All channels hung up and the device states settled. */
  async function callOver(hangups: number): Promise<void> {
    await c.waitFor(() => c.frames().filter((f) => f.get('Event') === 'Hangup').length >= hangups);
    await c.waitFor((f) => f.get('Event') === 'DeviceStateChange' && f.get('Device') === 'PJSIP/101' && f.get('State') === 'NOT_INUSE');
  }

  it('register → un-register matches C1 (events, noise included) up to the device-state race', async () => {
    run.sim.unregister('101');
    await login();
    run.sim.register('101');
    run.sim.unregister('101');
    const ours = await logoff();
    keep('C1', ours);
    const real = withoutQueryAnswers(fixture('C1/ami.txt'));
    // the same events; only DeviceStateChange may trade places with its neighbour (Asterisk publishes it from another thread)
    expect([...shape(ours, true)].sort()).toEqual([...shape(real, true)].sort());
    expect(ratio(shape(real, true), shape(ours, true))).toBeGreaterThanOrEqual(0.85);
  });

  it('a successful click-to-call resembles A1 (ratio ≥ 0.91; full stream ≥ 0.85 with the daemon\'s own dialplan)', async () => {
    await login();
    originate({ op: '101', phone: '79001234560' });
    await c.waitFor((f) => f.get('Event') === 'BridgeEnter' && f.get('BridgeNumChannels') === '2');
    // the A1 recorder listed the channels mid-call
    c.send([['Action', 'CoreShowChannels'], ['ActionID', 'rec-3']]);
    await c.waitFor((f) => f.get('Event') === 'BridgeDestroy');
    await callOver(2);
    const ours = await logoff();
    keep('A1', ours);
    const r = ratio(shape(fixture('A1/ami.txt')), shape(ours));
    expect(r).toBeGreaterThanOrEqual(0.91);
    expect(ratio(shape(fixture('A1/ami.txt'), true), shape(ours, true))).toBeGreaterThanOrEqual(0.85);
  });

  it.each([
    ['A2', { op: '108', phone: '79001234567', timeoutMs: 8000 }, 1],
    ['A3', { op: '107', phone: '79001234567' }, 1],
  ] as const)('a failed operator leg matches %s exactly', async (scenario, call, hangups) => {
    await login();
    originate(call);
    await c.waitFor((f) => f.get('Event') === 'OriginateResponse');
    await c.waitFor(() => c.frames().filter((f) => f.get('Event') === 'Hangup').length >= hangups);
    await c.waitFor((f) => f.get('Event') === 'Cdr');
    if (scenario === 'A2') await c.waitFor((f) => f.get('Event') === 'DeviceStateChange' && f.get('State') === 'NOT_INUSE');
    const ours = await logoff();
    keep(scenario, ours);
    expect(shape(ours)).toEqual(shape(fixture(`${scenario}/ami.txt`)));
  });

  it('an offline operator matches A4 exactly (only the failed OriginateResponse)', async () => {
    await login();
    originate({ op: '106', phone: '79001234567' });
    await c.waitFor((f) => f.get('Event') === 'OriginateResponse');
    const ours = await logoff();
    keep('A4', ours);
    expect(shape(ours)).toEqual(shape(fixture('A4/ami.txt')));
  });

  it('a client that does not answer resembles A5 (ratio ≥ 0.84, full stream ≥ 0.86)', async () => {
    await login();
    originate({ op: '101', phone: '79001234566', clientTimeout: 12 });
    await callOver(2);
    const ours = await logoff();
    keep('A5', ours);
    expect(ratio(shape(fixture('A5/ami.txt')), shape(ours))).toBeGreaterThanOrEqual(0.84);
    expect(ratio(shape(fixture('A5/ami.txt'), true), shape(ours, true))).toBeGreaterThanOrEqual(0.86);
  });

  it('the operator hanging up while the client rings resembles A7 (ratio ≥ 0.86, full stream ≥ 0.8)', async () => {
    await login();
    originate({ op: '101', phone: '79001234566' });
    const ringing = await c.waitFor((f) => f.get('Event') === 'DialState' && f.get('Channel') !== undefined);
    c.send([['Action', 'Hangup'], ['Channel', ringing.get('Channel')!], ['ActionID', 'rec-5']]);
    await callOver(2);
    const ours = await logoff();
    keep('A7', ours);
    const hangups = c.frames().filter((f) => f.get('Event') === 'Hangup').map((f) => f.get('Cause'));
    expect(hangups).toEqual(['16', '0']);
    expect(ratio(shape(fixture('A7/ami.txt')), shape(ours))).toBeGreaterThanOrEqual(0.86);
    expect(ratio(shape(fixture('A7/ami.txt'), true), shape(ours, true))).toBeGreaterThanOrEqual(0.8);
  });
});
