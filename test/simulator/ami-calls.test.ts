import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawAmi, startSim, type Frame, type Running } from './helpers.js';

/** AMI-mode click-to-call through the shipped `callbridge-click2call` context, for every kind of cast member. */
describe('simulated AMI click-to-call', () => {
  let run: Running;
  let c: RawAmi;

  beforeEach(async () => {
    // 0.1: a 3 s conversation lasts 300 ms, room enough for a CoreShowChannels round trip on a loaded machine
    run = await startSim({ timeScale: 0.1 });
    c = await RawAmi.connect(run.addrs.amiPort);
    await c.login();
  });
  afterEach(async () => {
    c.close();
    await run.close();
  });

  function originate(op: string, phone: string, opts: { id?: string; timeoutMs?: number; clientTimeout?: number; dial?: string } = {}): string {
    const id = opts.id ?? `orig-${op}-${phone}`;
    c.send([
      ['Action', 'Originate'], ['Channel', `PJSIP/${op}`], ['Context', 'callbridge-click2call'], ['Exten', phone], ['Priority', '1'],
      ['CallerID', `"Client" <${phone}>`], ['Timeout', String(opts.timeoutMs ?? 30000)], ['Async', 'true'], ['ActionID', id],
      ['Variable', 'CALLBRIDGE_CALL_ID=12'], ['Variable', 'CALLBRIDGE_ORDER_ID=15'],
      ['Variable', `CALLBRIDGE_CLIENT_DIAL=${opts.dial ?? `Local/${phone}@from-internal`}`],
      ['Variable', `CALLBRIDGE_CLIENT_TIMEOUT=${opts.clientTimeout ?? 30}`], ['Variable', 'CALLBRIDGE_RECORDING=order-15-call-12'],
    ]);
    return id;
  }

  const events = (name: string): Frame[] => c.frames().filter((f) => f.get('Event') === name);
  const hangups = (): string[] => events('Hangup').map((f) => `${f.get('Channel')!.replace(/-[0-9a-f]{8}/, '')} ${f.get('Cause')}`);

  it('connects operator and client, records the bridged part, and hangs up both when the client leaves', async () => {
    const id = originate('101', '380639920000');
    const queued = await c.waitFor((f) => f.get('ActionID') === id && f.get('Response') !== undefined);
    expect(queued.get('Message')).toBe('Originate successfully queued');
    const resp = await c.waitFor((f) => f.get('Event') === 'OriginateResponse');
    expect([resp.get('ActionID'), resp.get('Response'), resp.get('Reason')]).toEqual([id, 'Success', '4']);
    const op = resp.get('Channel')!;
    expect(op).toMatch(/^PJSIP\/101-[0-9a-f]{8}$/);

    const begin = await c.waitFor((f) => f.get('Event') === 'DialBegin' && f.get('Channel') === op);
    expect(begin.get('DestChannel')).toMatch(/^Local\/380639920000@from-internal-[0-9a-f]{8};1$/);
    expect(begin.get('DialString')).toBe('380639920000@from-internal');
    expect(begin.get('DestLinkedid')).toBe(resp.get('Uniqueid'));
    await c.waitFor((f) => f.get('Event') === 'BridgeEnter' && f.get('BridgeNumChannels') === '2');

    c.send([['Action', 'CoreShowChannels'], ['ActionID', 'list']]);
    const listed = await c.waitFor((f) => f.get('Event') === 'CoreShowChannelsComplete');
    expect(listed.get('ListItems')).toBe('3');
    const rows = c.frames().filter((f) => f.get('Event') === 'CoreShowChannel');
    expect(new Set(rows.map((f) => f.get('Linkedid')))).toEqual(new Set([resp.get('Uniqueid')]));
    expect(rows.find((f) => f.get('Channel') === op)!.get('Application')).toBe('Dial');

    await c.waitFor((f) => f.get('Event') === 'Hangup' && f.get('Channel') === op);
    expect(hangups()).toEqual(['Local/380639920000@from-internal;1 16', 'Local/380639920000@from-internal;2 16', 'PJSIP/101 16']);
    expect(events('DialEnd').map((f) => f.get('DialStatus'))).toEqual(['ANSWER', 'ANSWER']);
    const mm = events('VarSet').find((f) => f.get('Variable') === 'MIXMONITOR_FILENAME')!;
    expect(mm.get('Value')).toBe(join(run.dir, 'order-15-call-12.wav'));
    expect(events('MixMonitorStart')).toHaveLength(1);
    const cdr = events('Cdr').find((f) => f.get('Disposition') === 'ANSWERED')!;
    expect([cdr.get('LastApplication'), cdr.get('LastData')]).toEqual(['Dial', 'Local/380639920000@from-internal,30']);

    const wav = readFileSync(mm.get('Value')!);
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.subarray(8, 12).toString()).toBe('WAVE');
    expect(wav.readUInt32LE(24)).toBe(8000);
    // about 3 s of talk at 8 kHz, 16 bit
    expect(wav.readUInt32LE(40)).toBeGreaterThan(2 * 16000);
    expect(wav.readUInt32LE(40)).toBeLessThan(6 * 16000);

    const devices = events('DeviceStateChange').filter((f) => f.get('Device') === 'PJSIP/101').map((f) => f.get('State'));
    expect(devices).toEqual(['RINGING', 'INUSE', 'NOT_INUSE']);
  });

  it.each([
    ['107', 'busy', '0', 'PJSIP/107 17'],
    ['108', 'no answer', '3', 'PJSIP/108 19'],
  ])('operator %s (%s): failed OriginateResponse reason %s and the recorded hangup cause', async (op, _what, reason, hangup) => {
    originate(op, '380639920000', { timeoutMs: 3000 });
    const resp = await c.waitFor((f) => f.get('Event') === 'OriginateResponse');
    expect([resp.get('Response'), resp.get('Reason'), resp.get('Channel'), resp.get('Uniqueid')]).toEqual(['Failure', reason, `PJSIP/${op}`, '<unknown>']);
    await c.waitFor((f) => f.get('Event') === 'Hangup');
    expect(hangups()).toEqual([hangup]);
  });

  it('an offline operator gives only a failed OriginateResponse, and so does an unregistered one', async () => {
    originate('106', '380639920000', { id: 'o1' });
    run.sim.unregister('102');
    originate('102', '380639920000', { id: 'o2' });
    await c.waitFor((f) => f.get('Event') === 'OriginateResponse' && f.get('ActionID') === 'o2');
    await c.waitFor((f) => f.get('Event') === 'OriginateResponse' && f.get('ActionID') === 'o1');
    expect(events('OriginateResponse').map((f) => f.get('Reason'))).toEqual(['0', '0']);
    expect(events('Newchannel')).toEqual([]);
  });

  it.each([
    ['380639920005', 'BUSY', 'Local/380639920005@from-internal;1 17'],
    ['380639920008', 'CONGESTION', 'Local/380639920008@from-internal;1 34'],
    ['380639920006', 'NOANSWER', 'Local/380639920006@from-internal;1 0'],
  ])('client %s ends the Dial with %s, then the operator leg is hung up', async (phone, status, clientHangup) => {
    originate('101', phone, { clientTimeout: 2 });
    await c.waitFor((f) => f.get('Event') === 'Hangup' && f.get('Channel')!.startsWith('PJSIP/101'));
    const end = events('DialEnd').find((f) => f.get('Channel') !== undefined)!;
    expect(end.get('DialStatus')).toBe(status);
    expect(hangups()[0]).toBe(clientHangup);
    expect(hangups().at(-1)).toBe('PJSIP/101 16');
    expect(events('Newexten').map((f) => f.get('Application'))).toContain('Hangup');
    // MixMonitor with option b recorded nothing; the shipped hangup handler removed its header-only WAV
    expect(existsSync(join(run.dir, 'order-15-call-12.wav'))).toBe(false);
  });

  it('AMI Hangup works on live channels: CANCEL while the client rings, both legs when talking', async () => {
    originate('101', '380639920006', { id: 'ring' });
    const ringing = await c.waitFor((f) => f.get('Event') === 'DialState' && f.get('Channel') !== undefined);
    c.send([['Action', 'Hangup'], ['Channel', ringing.get('Channel')!], ['ActionID', 'h1']]);
    expect((await c.waitFor((f) => f.get('ActionID') === 'h1')).get('Message')).toBe('Channel Hungup');
    await c.waitFor((f) => f.get('Event') === 'Hangup' && f.get('Channel') === ringing.get('Channel'));
    expect(events('DialEnd').at(-1)!.get('DialStatus')).toBe('CANCEL');
    expect(events('SoftHangupRequest')[0]!.get('Cause')).toBe('32');
    expect(hangups().at(-1)).toBe('PJSIP/101 0');

    originate('102', '380639920009', { id: 'talk' });
    const bridged = await c.waitFor((f) => f.get('Event') === 'BridgeEnter' && f.get('BridgeNumChannels') === '2' && f.get('Channel')!.startsWith('PJSIP/102'));
    c.send([['Action', 'Hangup'], ['Channel', bridged.get('Channel')!], ['ActionID', 'h2']]);
    await c.waitFor((f) => f.get('Event') === 'Hangup' && f.get('Channel') === bridged.get('Channel'));
    expect(hangups().slice(-3)).toEqual(['Local/380639920009@from-internal;1 16', 'Local/380639920009@from-internal;2 16', 'PJSIP/102 16']);

    c.send([['Action', 'Hangup'], ['Channel', 'PJSIP/101-ffffffff'], ['ActionID', 'h3']]);
    expect((await c.waitFor((f) => f.get('ActionID') === 'h3')).raw).toBe('Response: Error\r\nActionID: h3\r\nMessage: No such channel');
  });

  it('gives every channel a unique name and uniqueid', async () => {
    originate('101', '380639920000', { id: 'a' });
    originate('102', '380639920001', { id: 'b' });
    await c.waitFor(() => events('Hangup').length >= 6, 5000);
    const names = events('Newchannel').map((f) => f.get('Channel'));
    const ids = events('Newchannel').map((f) => f.get('Uniqueid'));
    expect(names).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    expect(new Set(names.map((n) => n!.replace(/;[12]$/, ''))).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^\d{10}\.\d+$/);
  });
});
