import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RawAmi, sleep, type Running } from './helpers.js';
import {
  AriSocket, LAB_CLIENT, fixture, fixtureAri, keep, labOriginate, logoff, recorderAmi, settled, startLab, stasisCall, stopStasis,
} from './lab.js';
import { ariShape, pyRatio, shape } from './shape.js';
import { clientBehaviour } from '../../src/simulator/cast.js';

/**
 * The whole AMI stream (CEL, VarSet, Newexten, security events included: ami-shape.py
 * --all) and the ARI websocket events of the simulator, compared with the recorded A, B
 * and C traces. Each scenario is replayed as the recorder drove the real Asterisk.
 * SIM_SHAPE_OUT=<dir> keeps the simulator's streams and prints the table of ratios.
 */

const results: Array<[string, string, number]> = [];
/** the simulator's B streams, for the comparison with the repeated recordings below */
const simulated = new Map<string, { ami: string; ari: Array<Record<string, any>> }>();

function measure(name: string, kind: 'ami' | 'ari', real: string[], ours: string[]): number {
  const r = pyRatio(real, ours);
  results.push([name, kind, r]);
  return r;
}

function amiRatio(name: string, ours: string): number {
  keep(`${name}.txt`, ours);
  return measure(name, 'ami', shape(fixture(`${name}/ami.txt`), true), shape(ours, true));
}

function ariRatio(name: string, events: Array<Record<string, any>>): number {
  keep(`${name}-ari.jsonl`, events.map((e) => JSON.stringify({ event: e })).join('\n') + '\n');
  return measure(name, 'ari', ariShape(fixtureAri(`${name}/ari-events.jsonl`)), ariShape(events));
}

afterAll(() => {
  if (process.env.SIM_SHAPE_OUT) console.log(results.map(([n, k, r]) => `${n} ${k} ${r.toFixed(3)}`).join('\n'));
});

/**
 * Minimum ratios per scenario: what the simulator reaches (printed with SIM_SHAPE_OUT), rounded
 * down, with a margin of at most one event where the recorder's own actions race the call (A1:
 * MixMonitor and CoreShowChannels mid-call; the B scenarios: the app's REST requests). What keeps
 * a scenario below 1 is the order of events Asterisk publishes from different threads (CEL, Cdr,
 * DeviceStateChange around an answer or a hangup, Newstate against Dial RINGING), which differs
 * from one recording of the same call to the next: B1 and B7 recorded six times each compare with
 * each other at 0.79-0.91 (test/fixtures/B-repeats). The simulator publishes, at each such point,
 * the order most of those twelve recordings show; the one recording of B5 and of B8 went the other
 * way at the client's ringing, which leaves them a little lower than they would be otherwise.
 * Where the fifteen B recordings split evenly (the operator's CEL BRIDGE_ENTER against its
 * BridgeEnter, 7 to 7), the order taken is the one that leaves the lowest scenario highest:
 * B1 and B8 then keep 94 of 99 events in place (0.9495), B5 and B7 53 of 55 and 55 of 57.
 * Of all the orders the recordings show at the racing points of an operator's and a client's
 * start, ringing, answer and bridge entry, none puts every B scenario at 0.95 or more at once.
 */
const MIN: Record<string, { ami: number; ari?: number }> = {
  A1: { ami: 0.95 }, A2: { ami: 0.95 }, A3: { ami: 1 }, A4: { ami: 1 }, A5: { ami: 0.98 }, A7: { ami: 0.97 },
  B1: { ami: 0.949, ari: 1 }, B2: { ami: 0.95, ari: 1 }, B3: { ami: 1, ari: 1 }, B4: { ami: 1, ari: 1 },
  B5: { ami: 0.96, ari: 0.95 }, B7: { ami: 0.96, ari: 1 }, B8: { ami: 0.949, ari: 0.98 },
  C1: { ami: 0.98 }, C2: { ami: 1 }, C3: { ami: 0.96 }, C4: { ami: 1 },
};

describe('the full AMI stream of AMI click-to-call (A traces)', () => {
  let run: Running;
  afterEach(async () => run.close());

  it('A1: answered call, MixMonitor at the bridge, CoreShowChannels mid-call', async () => {
    // a slower clock: the recorder's actions must land while the 3 s call lasts
    run = await startLab(undefined, true, 0.1);
    const c = await recorderAmi(run);
    labOriginate(c, { id: 'A1', client: '79001234560' });
    const op = await c.waitFor((f) => f.get('Event') === 'OriginateResponse');
    await c.waitFor((f) => f.get('Event') === 'BridgeEnter' && f.get('BridgeNumChannels') === '2');
    c.send([['Action', 'MixMonitor'], ['Channel', op.get('Channel')!], ['File', 'order-15-1.wav'], ['Options', 'b'], ['ActionID', 'rec-2']]);
    await c.waitFor((f) => f.get('Event') === 'MixMonitorStart');
    c.send([['Action', 'CoreShowChannels'], ['ActionID', 'rec-3']]);
    await settled(c, 2);
    expect(amiRatio('A1', await logoff(c, 'rec-4'))).toBeGreaterThanOrEqual(MIN.A1!.ami);
  });

  it.each([
    ['A2', { kind: 'noanswer' }, 8000],
    ['A3', { kind: 'busy' }, 30000],
  ] as const)('%s: the operator leg fails', async (name, behaviour, timeoutMs) => {
    run = await startLab(behaviour);
    const c = await recorderAmi(run);
    labOriginate(c, { id: name, client: '79001234560', timeoutMs });
    await settled(c, 1);
    expect(amiRatio(name, await logoff(c, 'rec-2'))).toBeGreaterThanOrEqual(MIN[name]!.ami);
  });

  it('A4: the operator is offline', async () => {
    run = await startLab(undefined, false);
    const c = await recorderAmi(run);
    labOriginate(c, { id: 'A4', client: '79001234560' });
    await c.waitFor((f) => f.get('Event') === 'OriginateResponse');
    expect(amiRatio('A4', await logoff(c, 'rec-2'))).toBeGreaterThanOrEqual(MIN.A4!.ami);
  });

  it('A5: the client does not answer (DIAL_TIMEOUT=12)', async () => {
    run = await startLab();
    const c = await recorderAmi(run);
    labOriginate(c, { id: 'A5', client: '79001234566', dialTimeout: 12 });
    await settled(c, 2);
    expect(amiRatio('A5', await logoff(c, 'rec-2'))).toBeGreaterThanOrEqual(MIN.A5!.ami);
  });

  it('A7: the operator hangs up while the client rings', async () => {
    run = await startLab();
    const c = await recorderAmi(run);
    labOriginate(c, { id: 'A7', client: '79001234566' });
    await c.waitFor((f) => f.get('Event') === 'DialState' && f.get('Channel') !== undefined);
    expect(run.sim.hangupPhone('1000')).toBe(1);
    await settled(c, 2);
    expect(c.frames().filter((f) => f.get('Event') === 'Hangup').map((f) => f.get('Cause'))).toEqual(['16', '0']);
    expect(amiRatio('A7', await logoff(c, 'rec-2'))).toBeGreaterThanOrEqual(MIN.A7!.ami);
  });
});

describe('the full AMI stream and the ARI events of Stasis click-to-call (B traces)', () => {
  let run: Running;
  afterEach(async () => run.close());

  async function b(name: string, opts: {
    behaviour?: Parameters<typeof startLab>[0]; registered?: boolean; client: string; opTimeout?: number; clientTimeout?: number;
    during?: (ws: AriSocket, c: RawAmi) => Promise<void>; hangupCount: number; timeScale?: number;
  }): Promise<{ ami: number; ari: number }> {
    // a slower clock than elsewhere: the app's REST requests must land while the call lasts
    // the recorded number, behaving as the cast's number `opts.client` does
    run = await startLab(opts.behaviour, opts.registered ?? true, opts.timeScale ?? 0.1, clientBehaviour(opts.client));
    const c = await recorderAmi(run);
    const ws = await AriSocket.open(run);
    const call = await stasisCall(run, ws, { client: LAB_CLIENT, opTimeout: opts.opTimeout, clientTimeout: opts.clientTimeout });
    await opts.during?.(ws, c);
    if (opts.hangupCount > 0) {
      await settled(c, opts.hangupCount);
      if (call.bridge) await ws.waitFor((e) => e.type === 'BridgeDestroyed');
      await sleep(40);
    } else {
      await sleep(60);
    }
    stopStasis(call);
    await ws.close();
    const ami = await logoff(c, 'rec-2');
    simulated.set(name, { ami, ari: ws.events });
    return { ami: amiRatio(name, ami), ari: ariRatio(name, ws.events) };
  }

  it('B1: answered call in a mixing bridge with a bridge recording; the client hangs up', async () => {
    const r = await b('B1', { client: '79001234560', hangupCount: 2 });
    expect(r.ami).toBeGreaterThanOrEqual(MIN.B1!.ami);
    expect(r.ari).toBeGreaterThanOrEqual(MIN.B1!.ari!);
  });

  it('B2: the operator does not answer (timeout=8)', async () => {
    const r = await b('B2', { behaviour: { kind: 'noanswer' }, client: '79001234560', opTimeout: 8, hangupCount: 1, timeScale: 0.04 });
    expect(r.ami).toBeGreaterThanOrEqual(MIN.B2!.ami);
    expect(r.ari).toBeGreaterThanOrEqual(MIN.B2!.ari!);
  });

  it('B3: the operator is busy', async () => {
    const r = await b('B3', { behaviour: { kind: 'busy' }, client: '79001234560', hangupCount: 1 });
    expect(r.ami).toBeGreaterThanOrEqual(MIN.B3!.ami);
    expect(r.ari).toBeGreaterThanOrEqual(MIN.B3!.ari!);
  });

  it('B4: the operator is offline (the POST fails, nothing else happens)', async () => {
    const r = await b('B4', { registered: false, client: '79001234560', hangupCount: 0 });
    expect(r.ami).toBeGreaterThanOrEqual(MIN.B4!.ami);
    expect(r.ari).toBeGreaterThanOrEqual(MIN.B4!.ari!);
  });

  it('B5: the client does not answer (timeout=12)', async () => {
    const r = await b('B5', { client: '79001234566', clientTimeout: 12, hangupCount: 2, timeScale: 0.04 });
    expect(r.ami).toBeGreaterThanOrEqual(MIN.B5!.ami);
    expect(r.ari).toBeGreaterThanOrEqual(MIN.B5!.ari!);
  });

  it('B7: the operator hangs up while the client rings', async () => {
    const r = await b('B7', {
      client: '79001234566', hangupCount: 2,
      during: async (ws) => {
        await ws.waitFor((e) => e.type === 'Dial' && e.dialstatus === 'RINGING' && e.peer?.name?.startsWith('PJSIP/clients'));
        expect(run.sim.hangupPhone('1000')).toBe(1);
      },
    });
    expect(r.ami).toBeGreaterThanOrEqual(MIN.B7!.ami);
    expect(r.ari).toBeGreaterThanOrEqual(MIN.B7!.ari!);
  });

  it('B8: the client answered, then the operator hangs up', async () => {
    const r = await b('B8', {
      client: '79001234569', hangupCount: 2,
      during: async (ws) => {
        await ws.waitFor((e) => e.type === 'RecordingStarted');
        await sleep(40);
        expect(run.sim.hangupPhone('1000')).toBe(1);
      },
    });
    expect(r.ami).toBeGreaterThanOrEqual(MIN.B8!.ami);
    expect(r.ari).toBeGreaterThanOrEqual(MIN.B8!.ari!);
  });
});

/**
 * B1 and B7 against the same calls recorded six times each (the original and test/fixtures/B-repeats):
 * Asterisk orders the events of its threads differently from one run to the next, so no stream,
 * the real one included, matches every recording. The simulator's must be as close to a recording
 * as the recordings are to each other: its median ratio to the six at least their median ratio to
 * one another, and never below their worst pair. The repeats carry the lab's later hints and queue
 * (ExtensionStatus, QueueMemberStatus): those two event types are left out of every stream.
 */
describe('B1 and B7 against their repeated recordings', () => {
  const LAB_EXTRA = /^(ExtensionStatus|QueueMemberStatus)\b/;
  const amiOf = (text: string) => shape(text, true).filter((t) => !LAB_EXTRA.test(t));
  const ariOf = (events: Array<Record<string, any>>) => ariShape(events);
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const recordings = (name: string) => [
    { ami: fixture(`${name}/ami.txt`), ari: fixtureAri(`${name}/ari-events.jsonl`) },
    ...[1, 2, 3, 4, 5].map((i) => ({ ami: fixture(`B-repeats/${name}-r${i}/ami.txt`), ari: fixtureAri(`B-repeats/${name}-r${i}/ari-events.jsonl`) })),
  ];

  it.each(['B1', 'B7'])('%s: the simulator is as close to each recording as they are to each other', (name) => {
    const sim = simulated.get(name);
    expect(sim, `${name} ran above`).toBeDefined();
    const recs = recordings(name);
    for (const kind of ['ami', 'ari'] as const) {
      const streams = recs.map((r) => (kind === 'ami' ? amiOf(r.ami) : ariOf(r.ari)));
      const ours = kind === 'ami' ? amiOf(sim!.ami) : ariOf(sim!.ari);
      const between: number[] = [];
      for (let i = 0; i < streams.length; i++) for (let j = i + 1; j < streams.length; j++) between.push(pyRatio(streams[i]!, streams[j]!));
      const toOurs = streams.map((r) => pyRatio(r, ours));
      results.push([`${name}-repeats`, `${kind} median sim ${median(toOurs).toFixed(3)} / recordings ${median(between).toFixed(3)} (worst ${Math.min(...toOurs).toFixed(3)} / ${Math.min(...between).toFixed(3)})`, median(toOurs)]);
      expect(median(toOurs), `${name} ${kind}`).toBeGreaterThanOrEqual(median(between));
      expect(Math.min(...toOurs), `${name} ${kind} worst`).toBeGreaterThanOrEqual(Math.min(...between));
    }
  });
});

describe('the full AMI stream of presence (C traces)', () => {
  let run: Running;
  afterEach(async () => run.close());

  const QUERIES = ['Ping', 'PJSIPShowEndpoints', 'PJSIPShowEndpoint', 'PJSIPShowContacts', 'PJSIPShowAors', 'PJSIPShowRegistrationsInbound',
    'DeviceStateList', 'ExtensionStateList', 'CoreShowChannels'];

  async function queries(c: RawAmi, prefix: string, actions = QUERIES): Promise<void> {
    for (const a of actions) {
      const id = `${prefix}-${a}`;
      c.send([['Action', a], ...(a === 'PJSIPShowEndpoint' ? [['Endpoint', '1000'] as [string, string]] : []), ['ActionID', id]]);
      await c.waitFor((f) => f.get('ActionID') === id && (f.get('EventList') === 'Complete' || (f.get('Response') !== undefined && f.get('EventList') === undefined)));
    }
  }

  it('C1: register, queries, un-register', async () => {
    run = await startLab(undefined, false);
    const c = await recorderAmi(run);
    await queries(c, 'offline');
    run.sim.register('1000');
    await queries(c, 'online');
    run.sim.unregister('1000');
    await queries(c, 'after-unregister');
    expect(amiRatio('C1', await logoff(c, 'rec-2'))).toBeGreaterThanOrEqual(MIN.C1!.ami);
  });

  it('C2: the registration expires', async () => {
    run = await startLab(undefined, false);
    const c = await recorderAmi(run);
    run.sim.register('1000');
    await queries(c, 'registered', ['PJSIPShowContacts']);
    run.sim.expireRegistration('1000');
    await queries(c, 'expired', ['PJSIPShowContacts']);
    expect(amiRatio('C2', await logoff(c, 'rec-2'))).toBeGreaterThanOrEqual(MIN.C2!.ami);
  });

  it('C3: qualify timeout, the phone comes back, un-registers', async () => {
    run = await startLab(undefined, false);
    const c = await recorderAmi(run);
    run.sim.register('1000');
    run.sim.loseContact('1000');
    await queries(c, 'unreachable', ['PJSIPShowContacts', 'DeviceStateList']);
    run.sim.register('1000');
    run.sim.unregister('1000');
    expect(amiRatio('C3', await logoff(c, 'rec-2'))).toBeGreaterThanOrEqual(MIN.C3!.ami);
  });

  it('C4: action answers, errors and a failed login from another session', async () => {
    run = await startLab(undefined, false);
    const c = await recorderAmi(run);
    run.sim.register('1000');
    await queries(c, 'actions');
    const send = async (id: string, h: Array<[string, string]>): Promise<void> => {
      c.send([...h, ['ActionID', id]]);
      await c.waitFor((f) => f.get('ActionID') === id);
    };
    await send('bad-endpoint', [['Action', 'PJSIPShowEndpoint'], ['Endpoint', '9999']]);
    await send('bad-action', [['Action', 'NoSuchAction']]);
    await c.waitFor((f) => f.get('Event') === 'RequestBadFormat');
    await send('getvar', [['Action', 'Getvar'], ['Variable', 'DEFAULT_DIAL_TIMEOUT']]);
    await send('coresettings', [['Action', 'CoreSettings']]);
    await send('corestatus', [['Action', 'CoreStatus']]);
    const bad = await RawAmi.connect(run.addrs.amiPort);
    await bad.login('callbridge', 'wrong');
    await c.waitFor((f) => f.get('Event') === 'InvalidPassword');
    bad.close();
    run.sim.unregister('1000');
    expect(amiRatio('C4', await logoff(c, 'rec-2'))).toBeGreaterThanOrEqual(MIN.C4!.ami);
  });
});


