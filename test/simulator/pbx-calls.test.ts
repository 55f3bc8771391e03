import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { createApp } from '../../src/http/app.js';
import { simulatorRoutes } from '../../src/http/simulator.js';
import { PbxRequestError } from '../../src/simulator/index.js';
import { RawAmi, sleep, startSim, type Frame, type Running } from './helpers.js';

/**
 * Calls the daemon did not originate, driven through SimulatedAsterisk and
 * watched on the simulated AMI socket: event order, linkedids, causes, CDR
 * rows and recordings as the FreePBX-style traces show them.
 */
const SCALE = 0.02;

describe('calls the daemon did not originate', () => {
  let run: Running;
  let c: RawAmi;
  let monitorDir: string;

  beforeEach(async () => {
    monitorDir = mkdtempSync(join(tmpdir(), 'callbridge-monitor-'));
    run = await startSim({ timeScale: SCALE, monitorDir });
    c = await RawAmi.connect(run.addrs.amiPort);
    await c.login();
  });
  afterEach(async () => {
    c.close();
    await run.close();
    rmSync(monitorDir, { recursive: true, force: true });
  });

  const events = (name: string, linkedid?: string): Frame[] =>
    c.frames().filter((f) => f.get('Event') === name && (linkedid === undefined || f.get('Linkedid') === linkedid));
  const hangupsOf = (linkedid: string): Frame[] => events('Hangup', linkedid);
  const causes = (linkedid: string): Record<string, string> =>
    Object.fromEntries(hangupsOf(linkedid).map((f) => [f.get('Channel')!.replace(/-[0-9a-f]{8}(;\d)?$/, (_m, half: string | undefined) => half ?? ''), f.get('Cause')!]));
  const ended = (linkedid: string, n: number): Promise<Frame> => c.waitFor(() => hangupsOf(linkedid).length >= n, 5000);

  describe('inbound to one extension', () => {
    it('answers: trunk channel at the DID, in-… recording, Dial(PJSIP/101,15,Ttr), client BYE after the talk', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '101', outcome: 'answer' });
      expect(call.channel).toMatch(/^PJSIP\/clients-[0-9a-f]{8}$/);
      await ended(call.linkedid, 2);
      const first = events('Newchannel', call.linkedid)[0]!;
      expect([first.get('Uniqueid'), first.get('Context'), first.get('Exten'), first.get('CallerIDNum'), first.get('ChannelStateDesc')])
        .toEqual([call.linkedid, 'from-pstn', '74950001000', '79001234567', 'Ring']);
      const phone = events('Newchannel', call.linkedid)[1]!;
      expect([phone.get('Channel')?.startsWith('PJSIP/101-'), phone.get('Context'), phone.get('Exten')]).toEqual([true, 'from-internal', 's']);
      const vars = Object.fromEntries(events('VarSet', call.linkedid).filter((f) => f.get('Channel') === call.channel).map((f) => [f.get('Variable'), f.get('Value')]));
      expect(vars.__FROM_DID).toBe('74950001000');
      expect(vars.__REALCALLERIDNUM).toBe('79001234567');
      expect(vars.__REC_STATUS).toBe('RECORDING');
      expect(vars.__CALLFILENAME).toMatch(new RegExp(`^in-74950001000-79001234567-\\d{8}-\\d{6}-${call.linkedid.replace('.', '\\.')}$`));
      const file = vars.MIXMONITOR_FILENAME!;
      expect(file).toBe(join(monitorDir, file.slice(monitorDir.length + 1)));
      expect(file).toMatch(/\/\d{4}\/\d{2}\/\d{2}\/in-74950001000-79001234567-\d{8}-\d{6}-[\d.]+\.wav$/);
      // inherited by the dialled phone
      expect(events('VarSet', call.linkedid).some((f) => f.get('Channel') === phone.get('Channel') && f.get('Variable') === '__CALLFILENAME' && f.get('Value') === vars.__CALLFILENAME)).toBe(true);
      const dial = events('Newexten', call.linkedid).find((f) => f.get('Application') === 'Dial')!;
      expect(dial.get('AppData')).toBe('PJSIP/101,15,Ttr');
      expect(events('DialEnd', call.linkedid).map((f) => f.get('DialStatus'))).toEqual(['ANSWER']);
      expect(events('HangupRequest', call.linkedid)[0]!.get('Channel')).toBe(call.channel);
      expect(causes(call.linkedid)).toEqual({ 'PJSIP/clients': '16', 'PJSIP/101': '16' });
      const cdr = events('Cdr');
      expect(cdr.map((f) => [f.get('Destination'), f.get('DestinationContext'), f.get('Disposition'), f.get('UserField'), f.get('UniqueID')]))
        .toEqual([['101', 'from-did-direct', 'ANSWERED', 'did:74950001000', call.linkedid]]);
      await sleep(20);
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).size).toBeGreaterThan(44);
    });

    it('nobody answers: DialStatus NOANSWER after the ring time, phone cause 0, caller Hangup() 16', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '101', outcome: 'noanswer' });
      await ended(call.linkedid, 2);
      expect(events('DialEnd', call.linkedid).map((f) => f.get('DialStatus'))).toEqual(['NOANSWER']);
      expect(causes(call.linkedid)).toEqual({ 'PJSIP/101': '0', 'PJSIP/clients': '16' });
      expect(events('Cdr').map((f) => [f.get('LastApplication'), f.get('Disposition')])).toEqual([['Dial', 'NO ANSWER'], ['Hangup', 'NO ANSWER']]);
    });

    it('the caller abandons: DialEnd CANCEL, cause 127 on both channels', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '101', outcome: 'abandon' });
      await ended(call.linkedid, 2);
      expect(events('DialEnd', call.linkedid).map((f) => f.get('DialStatus'))).toEqual(['CANCEL']);
      expect(causes(call.linkedid)).toEqual({ 'PJSIP/101': '127', 'PJSIP/clients': '127' });
    });

    it('an offline operator: no phone channel, CHANUNAVAIL', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '106', outcome: 'answer' });
      await ended(call.linkedid, 1);
      expect(events('DialBegin', call.linkedid)).toHaveLength(0);
      expect(events('VarSet', call.linkedid).some((f) => f.get('Variable') === 'DIALSTATUS' && f.get('Value') === 'CHANUNAVAIL')).toBe(true);
    });
  });

  describe('ring group 600', () => {
    it('answered by 102: Local pairs, loser cancelled with 26, two bridges, 4 Cdr rows, rg-600 recording', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950000600', operators: '101,102', outcome: 'answer', answeredBy: '102' });
      await ended(call.linkedid, 7);
      const chans = events('Newchannel', call.linkedid).map((f) => f.get('Channel')!);
      expect(chans).toHaveLength(7);
      expect(chans.filter((n) => n.startsWith('Local/')).every((n) => /^Local\/10[12]@from-internal-ring-[0-9a-f]{8};[12]$/.test(n))).toBe(true);
      expect(events('LocalBridge', call.linkedid)).toHaveLength(0); // LocalBridge carries LocalOneLinkedid
      expect(c.frames().filter((f) => f.get('Event') === 'LocalBridge' && f.get('LocalOneLinkedid') === call.linkedid)).toHaveLength(2);
      const outer = events('DialEnd', call.linkedid).filter((f) => f.get('Channel') === call.channel).map((f) => [f.get('DestChannel')!.slice(0, 10), f.get('DialStatus')]);
      expect(outer).toEqual([['Local/101@', 'CANCEL'], ['Local/102@', 'ANSWER']]);
      const inner = events('DialEnd', call.linkedid).filter((f) => f.get('Channel')?.endsWith(';2')).map((f) => [f.get('DestChannel')!.slice(0, 9), f.get('DialStatus')]);
      expect(inner).toEqual(expect.arrayContaining([['PJSIP/102', 'ANSWER'], ['PJSIP/101', 'CANCEL']]));
      expect(causes(call.linkedid)).toEqual({
        'Local/101@from-internal-ring;1': '26', 'Local/101@from-internal-ring;2': '26', 'PJSIP/101': '26',
        'PJSIP/clients': '16', 'Local/102@from-internal-ring;1': '16', 'Local/102@from-internal-ring;2': '16', 'PJSIP/102': '16',
      });
      expect(events('BridgeCreate')).toHaveLength(2);
      expect(events('Cdr')).toHaveLength(4);
      const file = events('VarSet', call.linkedid).find((f) => f.get('Variable') === 'MIXMONITOR_FILENAME')!.get('Value')!;
      expect(file).toMatch(/\/rg-600-79001234567-\d{8}-\d{6}-[\d.]+\.wav$/);
      expect(events('Newexten', call.linkedid).find((f) => f.get('Application') === 'Dial' && f.get('Channel') === call.channel)!.get('AppData'))
        .toBe('Local/101@from-internal-ring/n&Local/102@from-internal-ring/n,10,Ttr');
    });

    it('nobody answers (E5): outer NOANSWER, inner CANCEL, Local halves 0, phones and caller 16, 5 Cdr rows', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950000600', operators: '101,102', outcome: 'noanswer' });
      await ended(call.linkedid, 7);
      expect(events('DialEnd', call.linkedid).filter((f) => f.get('Channel') === call.channel).map((f) => f.get('DialStatus'))).toEqual(['NOANSWER', 'NOANSWER']);
      expect(events('DialEnd', call.linkedid).filter((f) => f.get('Channel')?.endsWith(';2')).map((f) => f.get('DialStatus'))).toEqual(['CANCEL', 'CANCEL']);
      const cs = causes(call.linkedid);
      expect(Object.entries(cs).filter(([k]) => k.startsWith('Local/')).map(([, v]) => v)).toEqual(['0', '0', '0', '0']);
      expect([cs['PJSIP/101'], cs['PJSIP/102'], cs['PJSIP/clients']]).toEqual(['16', '16', '16']);
      expect(events('Cdr')).toHaveLength(5);
      expect(events('Cdr').at(-1)!.get('Destination')).toBe('hangup');
    });

    it('the caller abandons (E8): CANCEL on every leg, cause 127 on all 7 channels', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950000600', operators: '101,102', outcome: 'abandon' });
      await ended(call.linkedid, 7);
      expect(events('DialEnd', call.linkedid).every((f) => f.get('DialStatus') === 'CANCEL')).toBe(true);
      expect(new Set(Object.values(causes(call.linkedid)))).toEqual(new Set(['127']));
      expect(events('Cdr')).toHaveLength(4);
    });
  });

  describe('queue 700', () => {
    it('answered by 102 (Q1): join, AgentCalled ×2, the loser cancelled with 26, leave, AgentConnect, AgentComplete', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950000700', operators: '101,102', outcome: 'answer', answeredBy: '102', via: 'queue' });
      await ended(call.linkedid, 7);
      const seq = c.frames().map((f) => f.get('Event')).filter((e) => e && /^(QueueCaller|Agent)/.test(e));
      expect(seq).toEqual(['QueueCallerJoin', 'AgentCalled', 'AgentCalled', 'QueueCallerLeave', 'AgentConnect', 'AgentComplete']);
      const connect = events('AgentConnect')[0]!;
      expect([connect.get('Queue'), connect.get('Interface'), connect.get('MemberName')]).toEqual(['700', 'Local/102@from-queue/n', '102']);
      // cast seconds: the member answers after 1 s (more when the machine is slow)
      expect(Number(connect.get('HoldTime'))).toBeGreaterThanOrEqual(1);
      expect(Number(connect.get('RingTime'))).toBeGreaterThanOrEqual(1);
      expect(connect.get('DestChannel')).toMatch(/^Local\/102@from-queue-[0-9a-f]{8};1$/);
      expect(events('AgentComplete')[0]!.get('Reason')).toBe('caller');
      const cs = causes(call.linkedid);
      expect([cs['PJSIP/101'], cs['Local/101@from-queue;1'], cs['Local/101@from-queue;2']]).toEqual(['26', '26', '26']);
      // the caller is answered only when a member answers
      const up = c.frames().findIndex((f) => f.get('Event') === 'Newstate' && f.get('Channel') === call.channel && f.get('ChannelStateDesc') === 'Up');
      const answer = c.frames().findIndex((f) => f.get('Event') === 'DialEnd' && f.get('DialStatus') === 'ANSWER' && f.get('Channel') === call.channel);
      expect(up).toBeGreaterThan(answer);
      expect(events('VarSet', call.linkedid).find((f) => f.get('Variable') === 'MIXMONITOR_FILENAME')!.get('Value')).toMatch(/\/q-700-79001234567-/);
    });

    it('a paused member is not called; QueueStatus shows the pause; QueuePause errors as Q3', async () => {
      c.send([['Action', 'QueuePause'], ['Interface', 'Local/101@from-queue/n'], ['Paused', 'true'], ['Queue', '700'], ['Reason', 'away'], ['ActionID', 'p1']]);
      const ok = await c.waitFor((f) => f.get('ActionID') === 'p1');
      expect(ok.get('Message')).toBe('Interface paused successfully');
      const pause = await c.waitFor((f) => f.get('Event') === 'QueueMemberPause');
      expect([pause.get('Interface'), pause.get('MemberName'), pause.get('Paused'), pause.get('PausedReason')]).toEqual(['Local/101@from-queue/n', '101', '1', 'away']);
      expect(events('DeviceStateChange').some((f) => f.get('Device') === 'Queue:700_pause_Local/101@from-queue/n' && f.get('State') === 'INUSE')).toBe(true);
      for (const [id, iface, queue] of [['e1', 'PJSIP/101', '700'], ['e2', 'Local/101@from-queue/n', '799']] as const) {
        c.send([['Action', 'QueuePause'], ['Interface', iface], ['Paused', 'true'], ['Queue', queue], ['ActionID', id]]);
        const e = await c.waitFor((f) => f.get('ActionID') === id);
        expect([e.get('Response'), e.get('Message')]).toEqual(['Error', 'Interface not found']);
      }
      c.send([['Action', 'QueueStatus'], ['Queue', '700'], ['ActionID', 's1']]);
      await c.waitFor((f) => f.get('ActionID') === 's1' && f.get('Event') === 'QueueStatusComplete');
      const m101 = c.frames().find((f) => f.get('ActionID') === 's1' && f.get('Event') === 'QueueMember' && f.get('Name') === '101')!;
      expect([m101.get('Location'), m101.get('Paused'), m101.get('PausedReason'), m101.get('Status')]).toEqual(['Local/101@from-queue/n', '1', 'away', '1']);
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950000700', operators: '101,102', outcome: 'answer', answeredBy: '102', via: 'queue' });
      await ended(call.linkedid, 4);
      expect(events('AgentCalled').map((f) => f.get('MemberName'))).toEqual(['102']);
      expect(events('Newchannel', call.linkedid).some((f) => f.get('Channel')?.includes('101'))).toBe(false);
      run.sim.pause('101', false);
      const unpause = await c.waitFor((f) => f.get('Event') === 'QueueMemberPause' && f.get('Paused') === '0');
      expect(unpause.get('PausedReason')).toBe('');
    });

    it('the caller abandons: QueueCallerAbandon, then QueueCallerLeave, cause 127', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950000700', operators: '101,102', outcome: 'abandon', via: 'queue' });
      await ended(call.linkedid, 7);
      const seq = c.frames().map((f) => f.get('Event')).filter((e) => e && /^QueueCaller/.test(e));
      expect(seq).toEqual(['QueueCallerJoin', 'QueueCallerAbandon', 'QueueCallerLeave']);
      expect(new Set(Object.values(causes(call.linkedid)))).toEqual(new Set(['127']));
    });

    it('nobody answers: AgentRingNoAnswer after the member timeout, then the next round', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950000700', operators: '101', outcome: 'noanswer', via: 'queue' });
      await c.waitFor(() => events('AgentCalled').length >= 2, 3000);
      expect(events('AgentRingNoAnswer')[0]!.get('MemberName')).toBe('101');
      expect(events('DialEnd', call.linkedid)[0]!.get('DialStatus')).toBe('NOANSWER');
    });
  });

  describe('calls placed from a phone', () => {
    it('outbound (E1): security events, Ring at the number in from-internal, out-… recording, ConnectedLineNum s', async () => {
      const call = run.sim.outboundCall('101', '79001234569');
      expect(call.channel).toMatch(/^PJSIP\/101-[0-9a-f]{8}$/);
      await c.waitFor((f) => f.get('Event') === 'BridgeEnter' && f.get('BridgeNumChannels') === '2');
      expect(run.sim.hangupPhone('101')).toBe(1);
      await ended(call.linkedid, 2);
      const order = c.frames().map((f) => f.get('Event'));
      expect(order.indexOf('ChallengeSent')).toBeLessThan(order.indexOf('SuccessfulAuth', order.indexOf('ChallengeSent')));
      const first = events('Newchannel', call.linkedid)[0]!;
      expect([first.get('Context'), first.get('Exten'), first.get('ChannelStateDesc')]).toEqual(['from-internal', '79001234569', 'Ring']);
      const trunk = events('Newchannel', call.linkedid)[1]!;
      expect([trunk.get('Channel')?.startsWith('PJSIP/clients-'), trunk.get('Context'), trunk.get('Exten')]).toEqual([true, 'from-pstn', 's']);
      expect(events('DialBegin', call.linkedid)[0]!.get('DialString')).toBe('79001234569@clients');
      expect(events('NewConnectedLine', call.linkedid).filter((f) => f.get('Channel') === call.channel).at(-1)!.get('ConnectedLineNum')).toBe('s');
      expect(events('VarSet', call.linkedid).find((f) => f.get('Variable') === 'MIXMONITOR_FILENAME')!.get('Value')).toMatch(/\/out-79001234569-101-\d{8}-\d{6}-[\d.]+\.wav$/);
      expect(events('Newexten', call.linkedid).find((f) => f.get('Application') === 'Dial')!.get('AppData')).toBe('PJSIP/79001234569@clients,60,T');
      expect(events('HangupRequest', call.linkedid)[0]!.get('Channel')).toBe(call.channel);
      expect(events('Cdr').map((f) => [f.get('Destination'), f.get('DestinationContext'), f.get('UserField')])).toEqual([['79001234569', 'from-internal', 'out:79001234569;ext:101']]);
    });

    it('a busy client (E2): DialStatus BUSY, Busy(20), cause 17 on both, 2 Cdr rows', async () => {
      const call = run.sim.outboundCall('101', '79001234565');
      await ended(call.linkedid, 2);
      expect(events('DialEnd', call.linkedid).map((f) => f.get('DialStatus'))).toEqual(['BUSY']);
      expect(causes(call.linkedid)).toEqual({ 'PJSIP/clients': '17', 'PJSIP/101': '17' });
      expect(events('Newstate', call.linkedid).some((f) => f.get('Channel') === call.channel && f.get('ChannelStateDesc') === 'Busy')).toBe(true);
      expect(events('DeviceStateChange').some((f) => f.get('Device') === 'PJSIP/101' && f.get('State') === 'BUSY')).toBe(true);
      expect(events('Cdr').map((f) => [f.get('LastApplication'), f.get('Disposition')])).toEqual([['Dial', 'BUSY'], ['Busy', 'BUSY']]);
    });

    it('a client that never answers rings until the operator hangs up (CANCEL, 127)', async () => {
      const call = run.sim.outboundCall('101', '79001234566');
      await c.waitFor((f) => f.get('Event') === 'DialState' && f.get('Linkedid') === call.linkedid);
      expect(run.sim.hangupPhone('101')).toBe(1);
      await ended(call.linkedid, 2);
      expect(events('DialEnd', call.linkedid).map((f) => f.get('DialStatus'))).toEqual(['CANCEL']);
      expect(causes(call.linkedid)).toEqual({ 'PJSIP/clients': '127', 'PJSIP/101': '127' });
    });

    it('congestion: CONGESTION, Congestion(20), cause 34', async () => {
      const call = run.sim.outboundCall('101', '79001234568');
      await ended(call.linkedid, 2);
      expect(events('DialEnd', call.linkedid).map((f) => f.get('DialStatus'))).toEqual(['CONGESTION']);
      expect(causes(call.linkedid)['PJSIP/101']).toBe('34');
    });

    it('internal (E3): ext-local, internal-<to>-<from> recording, Dial(PJSIP/102,15,Ttr), the callee hangs up', async () => {
      const call = run.sim.internalCall('101', '102');
      await ended(call.linkedid, 2);
      expect(events('VarSet', call.linkedid).find((f) => f.get('Variable') === 'MIXMONITOR_FILENAME')!.get('Value')).toMatch(/\/internal-102-101-/);
      expect(events('Newexten', call.linkedid).find((f) => f.get('Application') === 'Dial')!.get('AppData')).toBe('PJSIP/102,15,Ttr');
      expect(events('HangupRequest', call.linkedid)[0]!.get('Channel')).toMatch(/^PJSIP\/102-/);
      expect(events('Cdr').map((f) => [f.get('Destination'), f.get('UserField')])).toEqual([['102', 'internal:101-102']]);
    });

    it('internal to a busy phone: Busy(20) on the caller', async () => {
      const call = run.sim.internalCall('101', '107');
      await ended(call.linkedid, 2);
      expect(events('DialEnd', call.linkedid).map((f) => f.get('DialStatus'))).toEqual(['BUSY']);
      expect(causes(call.linkedid)).toEqual({ 'PJSIP/107': '17', 'PJSIP/101': '17' });
    });
  });

  describe('blind transfer', () => {
    it('from the control API (E7): BlindTransfer, the transferer hangs up 16, a new DialBegin with the same linkedid, one recording', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '101', outcome: 'answer' });
      await c.waitFor((f) => f.get('Event') === 'BridgeEnter' && f.get('BridgeNumChannels') === '2');
      run.sim.transfer('101', '102');
      await ended(call.linkedid, 3);
      const bt = events('BlindTransfer')[0]!;
      expect([bt.get('Result'), bt.get('TransfererChannel')?.slice(0, 10), bt.get('TransfereeChannel'), bt.get('Context'), bt.get('Extension'), bt.get('IsExternal')])
        .toEqual(['Success', 'PJSIP/101-', call.channel, 'from-internal-xfer', '102', 'Yes']);
      const begins = events('DialBegin', call.linkedid);
      expect(begins.map((f) => f.get('DestChannel')!.slice(0, 10))).toEqual(['PJSIP/101-', 'PJSIP/102-']);
      expect(begins[1]!.get('ChannelStateDesc')).toBe('Up');
      expect(causes(call.linkedid)).toEqual({ 'PJSIP/101': '16', 'PJSIP/clients': '16', 'PJSIP/102': '16' });
      expect(events('MixMonitorStart')).toHaveLength(1);
      expect(events('Cdr').map((f) => [f.get('Destination'), f.get('DestinationChannel')!.slice(0, 10)])).toEqual([['101', 'PJSIP/101-'], ['101', 'PJSIP/102-']]);
    });

    it('AMI BlindTransfer answers as Asterisk for a channel that is not bridged or unknown', async () => {
      c.send([['Action', 'BlindTransfer'], ['Channel', 'PJSIP/101-deadbeef'], ['Exten', '102'], ['ActionID', 'b1']]);
      expect((await c.waitFor((f) => f.get('ActionID') === 'b1')).get('Message')).toBe('No such channel');
      c.send([['Action', 'BlindTransfer'], ['Exten', '102'], ['ActionID', 'b2']]);
      expect((await c.waitFor((f) => f.get('ActionID') === 'b2')).get('Message')).toBe('No channel specified');
    });
  });

  describe('attended transfer (the *2 feature code)', () => {
    const localOf = (f: Frame | undefined) => f?.get('Channel')?.replace(/-[0-9a-f]{8};\d$/, '');

    it('completed while the target rings (X1): the Local ;1 half joins the call, the target answers into it, the Local pair optimizes away', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '101', outcome: 'answer' });
      await c.waitFor((f) => f.get('Event') === 'BridgeEnter' && f.get('BridgeNumChannels') === '2');
      // the transferer hangs up 100 ms (cast) after the consultation dial, while 102 rings (1 s)
      run.sim.transfer('101', '102', 'attended', { consultMs: 100 });
      await ended(call.linkedid, 5);
      const at = events('AttendedTransfer')[0]!;
      expect([at.get('Result'), at.get('OrigTransfererChannel')?.slice(0, 10), at.get('TransfereeChannel'), at.get('TransferTargetChannelStateDesc'), at.get('DestType')])
        .toEqual(['Success', 'PJSIP/101-', call.channel, 'Ringing', 'Bridge']);
      expect(at.get('SecondTransfererChannel')).toBe(at.get('OrigTransfererChannel'));
      const locals = events('Newchannel', call.linkedid).filter((f) => f.get('Channel')!.startsWith('Local/'));
      expect(locals.map(localOf)).toEqual(['Local/102@from-internal-xfer', 'Local/102@from-internal-xfer']);
      // the target answers after the transfer: its phone is swapped into the client's bridge
      const names = c.frames().map((f) => f.get('Event'));
      expect(names.indexOf('AttendedTransfer')).toBeLessThan(names.indexOf('LocalOptimizationBegin'));
      const bridges = events('BridgeEnter', call.linkedid);
      const clientBridge = bridges.find((f) => f.get('Channel') === call.channel)!.get('BridgeUniqueid');
      expect(bridges.some((f) => f.get('Channel')!.startsWith('PJSIP/102-') && f.get('BridgeUniqueid') === clientBridge)).toBe(true);
      expect(causes(call.linkedid)).toEqual({ 'PJSIP/101': '16', 'PJSIP/clients': '16', 'PJSIP/102': '16', 'Local/102@from-internal-xfer;1': '16', 'Local/102@from-internal-xfer;2': '16' });
      expect(events('Hold')).toHaveLength(1);
    });

    it('the target does not answer (busy): the transferer is back with the client (Unhold), no AttendedTransfer', async () => {
      const call = run.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '101', outcome: 'answer' });
      await c.waitFor((f) => f.get('Event') === 'BridgeEnter' && f.get('BridgeNumChannels') === '2');
      run.sim.transfer('101', '107', 'attended');
      await ended(call.linkedid, 5);
      expect(events('AttendedTransfer')).toHaveLength(0);
      expect(events('Unhold').length).toBeGreaterThanOrEqual(1);
      const dialEnds = events('DialEnd', call.linkedid).map((f) => f.get('DialStatus'));
      expect(dialEnds).toContain('BUSY');
      // the call ends as a call between the client and 101
      const last = hangupsOf(call.linkedid).slice(-2).map((f) => f.get('Channel')!.slice(0, 10)).sort();
      expect(last).toEqual(['PJSIP/101-', 'PJSIP/clie']);
    });

    it('AMI Atxfer answers as manager.c', async () => {
      c.send([['Action', 'Atxfer'], ['Channel', 'PJSIP/101-deadbeef'], ['Exten', '102'], ['ActionID', 'a1']]);
      expect((await c.waitFor((f) => f.get('ActionID') === 'a1')).get('Message')).toBe('Channel specified does not exist');
      c.send([['Action', 'Atxfer'], ['Channel', 'PJSIP/101-deadbeef'], ['ActionID', 'a2']]);
      expect((await c.waitFor((f) => f.get('ActionID') === 'a2')).get('Message')).toBe('No extension specified');
    });
  });

  describe('validation', () => {
    it('names the offending field; unknown operators are not found', () => {
      const bad = (fn: () => unknown): [string, string] => {
        try {
          fn();
        } catch (err) {
          const e = err as PbxRequestError;
          return [e.kind, e.field];
        }
        return ['', ''];
      };
      expect(bad(() => run.sim.inboundCall({ from: 'abc', did: '749', operators: '101', outcome: 'answer' }))).toEqual(['invalid', 'from']);
      expect(bad(() => run.sim.inboundCall({ from: '7900', did: 'x', operators: '101', outcome: 'answer' }))).toEqual(['invalid', 'did']);
      expect(bad(() => run.sim.inboundCall({ from: '7900', did: '749', operators: '', outcome: 'answer' }))).toEqual(['invalid', 'operators']);
      expect(bad(() => run.sim.inboundCall({ from: '7900', did: '749', operators: '999', outcome: 'answer' }))).toEqual(['not_found', 'operators']);
      expect(bad(() => run.sim.inboundCall({ from: '7900', did: '749', operators: '101', outcome: 'maybe' }))).toEqual(['invalid', 'outcome']);
      expect(bad(() => run.sim.inboundCall({ from: '7900', did: '749', operators: '101', outcome: 'answer', answeredBy: '102' }))).toEqual(['invalid', 'answered_by']);
      expect(bad(() => run.sim.inboundCall({ from: '7900', did: '749', operators: '101', outcome: 'answer', via: 'ivr' }))).toEqual(['invalid', 'via']);
      expect(bad(() => run.sim.outboundCall('101', '12'))).toEqual(['invalid', 'to']);
      expect(bad(() => run.sim.outboundCall('999', '79001234560'))).toEqual(['not_found', 'sip']);
      expect(bad(() => run.sim.internalCall('101', '101'))).toEqual(['invalid', 'to']);
      expect(bad(() => run.sim.transfer('101', '102'))).toEqual(['not_found', 'sip']);
    });
  });
});

describe('control endpoints for calls', () => {
  let run: Running;
  beforeEach(async () => {
    run = await startSim({ timeScale: SCALE });
  });
  afterEach(async () => {
    await run.close();
  });

  function app() {
    return createApp({
      log: silentLogger(), apiTokens: [], allowedNetworks: [], methods: [], health: () => ({ status: 'ok' }), routes: [simulatorRoutes(run.sim)],
    });
  }

  it('starts calls and answers {linkedid, channel}; bad parameters are 400 naming the field, unknown operators 404', async () => {
    const c = await RawAmi.connect(run.addrs.amiPort);
    await c.login();
    const a = app();
    const post = async (path: string): Promise<[number, Record<string, unknown>]> => {
      const res = await a.request(path, { method: 'POST' });
      return [res.status, (await res.json()) as Record<string, unknown>];
    };
    const [s1, b1] = await post('/simulator/calls/inbound?from=79001234567&did=74950001000&operators=101&outcome=answer');
    expect(s1).toBe(200);
    expect(b1.linkedid).toMatch(/^\d+\.\d+$/);
    const first = await c.waitFor((f) => f.get('Event') === 'Newchannel');
    expect(first.get('Uniqueid')).toBe(b1.linkedid);
    expect(b1.channel).toBe(first.get('Channel'));
    await c.waitFor((f) => f.get('Event') === 'BridgeEnter' && f.get('BridgeNumChannels') === '2');
    const [st, bt] = await post('/simulator/endpoints/101/transfer?to=102');
    expect([st, bt.linkedid]).toEqual([200, b1.linkedid]);
    const [s2, b2] = await post('/simulator/calls/outbound?sip=103&to=79001234560');
    expect(s2).toBe(200);
    expect(b2.channel).toMatch(/^PJSIP\/103-/);
    const [s3] = await post('/simulator/calls/internal?from=104&to=105');
    expect(s3).toBe(200);
    const [s4, b4] = await post('/simulator/endpoints/101/pause?reason=lunch');
    expect([s4, b4.paused, b4.reason]).toEqual([200, true, 'lunch']);
    const [s5, b5] = await post('/simulator/endpoints/101/unpause');
    expect([s5, b5.paused]).toEqual([200, false]);

    expect(await post('/simulator/calls/inbound?from=x&did=749&operators=101&outcome=answer')).toEqual([400, { error: expect.objectContaining({ code: 'INVALID_PARAMETER', field: 'from' }) }]);
    expect((await post('/simulator/calls/inbound?from=7900&did=749&operators=101'))[1]).toEqual({ error: expect.objectContaining({ field: 'outcome' }) });
    expect((await post('/simulator/calls/inbound?from=7900&did=749&operators=101,999&outcome=answer'))[0]).toBe(404);
    expect((await post('/simulator/calls/outbound?to=79001234560'))[1]).toEqual({ error: expect.objectContaining({ field: 'sip' }) });
    expect((await post('/simulator/calls/outbound?sip=999&to=79001234560'))[0]).toBe(404);
    expect((await post('/simulator/calls/internal?from=101&to=999'))[0]).toBe(404);
    expect((await post('/simulator/endpoints/101/transfer'))[1]).toEqual({ error: expect.objectContaining({ field: 'to' }) });
    expect((await post('/simulator/endpoints/101/transfer?to=102&mode=sideways'))[1]).toEqual({ error: expect.objectContaining({ code: 'INVALID_PARAMETER', field: 'mode' }) });
    expect((await post('/simulator/endpoints/108/transfer?to=102'))[0]).toBe(404);
    expect((await post('/simulator/endpoints/999/pause'))[0]).toBe(404);
    c.close();
  });
});
