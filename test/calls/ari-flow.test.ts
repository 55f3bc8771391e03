/**
 * The ARI click-to-call flow fed with the recorded Asterisk 22 ARI streams of
 * scenarios B1–B8: the REST answers it gets are the recorded ones, the events
 * are the recorded websocket messages in order. Each must give the documented
 * chain, and the flow must ask Asterisk for what the scenario needs.
 */
import { describe, expect, it, vi } from 'vitest';
import { AriCallFlow, type AriOps } from '../../src/calls/ari-flow.js';
import { chainOf, type CallEvent } from '../../src/calls/chain.js';
import type { CallSink } from '../../src/calls/controller.js';
import { silentLogger } from '../../src/log.js';
import { readJsonl } from '../helpers/traces.js';

interface RestRecord {
  method: string;
  path: string;
  status: number;
  response_body: any;
}

async function replay(scenario: string, opts: { drop?: (type: string) => boolean; ops?: Partial<AriOps> } = {}) {
  const rest = readJsonl<RestRecord>(`${scenario}/ari-rest.jsonl`);
  const events = readJsonl<{ event?: { type: string; [k: string]: unknown } }>(`${scenario}/ari-events.jsonl`).flatMap((e) => (e.event ? [e.event] : []));
  const originates = rest.filter((r) => r.method === 'POST' && r.path.startsWith('/ari/channels?'));
  const bridge = rest.find((r) => r.method === 'POST' && r.path.startsWith('/ari/bridges?'));
  const recordName = rest.find((r) => /\/record\?/.test(r.path))?.response_body?.name as string | undefined;
  const asked: string[] = [];
  let n = 0;
  const ops: AriOps = {
    async originate(p) {
      asked.push(`originate ${p.endpoint}`);
      const r = originates[n++];
      if (!r) throw new Error('unexpected originate');
      if (r.status !== 200) throw Object.assign(new Error(r.response_body?.error ?? 'failed'), { status: r.status, body: r.response_body });
      return r.response_body;
    },
    async hangup(id) {
      asked.push(`hangup ${id}`);
      return true;
    },
    async createBridge() {
      asked.push('createBridge');
      return bridge!.response_body;
    },
    async addChannel(_b, ch) {
      asked.push(`addChannel ${ch}`);
    },
    async destroyBridge() {
      asked.push('destroyBridge');
      return true;
    },
    async playOnBridge() {
      asked.push('ringback');
      return { id: 'pb-1' };
    },
    async stopPlayback() {
      asked.push('stopRingback');
      return true;
    },
    async recordBridge(_b, p) {
      asked.push(`record ${p.name}`);
      return {};
    },
    async listChannels() {
      return [];
    },
    ...opts.ops,
  };
  const got: CallEvent[] = [];
  const recordings: string[] = [];
  const sink: CallSink = {
    event: (_id, ev) => {
      got.push(ev);
    },
    keep: () => undefined,
    recordingStarted: (_id, r) => recordings.push(`start ${r.name}`),
    recordingFinished: (_id, r) => recordings.push(`finish ${r.name} ${r.duration ?? ''}`),
  };
  const flow = new AriCallFlow(ops, sink, '/var/spool/asterisk/recording', silentLogger());
  await flow.start({
    callId: 7,
    orderId: '15',
    sip: '1000',
    phone: '79001234567',
    operatorEndpoint: 'PJSIP/1000',
    clientEndpoint: 'PJSIP/79001234567@clients',
    operatorCallerId: '"79001234567" <79001234567>',
    operatorTimeoutSec: 30,
    clientTimeoutSec: 30,
    recordingName: recordName ?? 'order-15-call-7',
  });
  for (const ev of events) {
    if (opts.drop?.(ev.type)) continue;
    flow.handle(ev);
    await new Promise((r) => setImmediate(r));
  }
  return { chain: chainOf(got), got, asked, recordings, flow };
}

describe('ARI click-to-call traces', () => {
  it('B1: success; bridge, ringback, client, record, cleanup', async () => {
    const r = await replay('B1');
    expect(r.chain).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']);
    expect(r.asked.slice(0, 5)).toEqual(['originate PJSIP/1000', 'createBridge', 'addChannel 1795492816.12', 'ringback', 'originate PJSIP/79001234567@clients']);
    expect(r.asked).toContain('stopRingback');
    expect(r.asked.filter((a) => a.startsWith('record '))).toHaveLength(1);
    expect(r.asked).toContain('destroyBridge');
    expect(r.recordings[0]).toMatch(/^start order-15-/);
    // no duration from RecordingFinished: the call service measures it from the file, as in AMI mode
    expect(r.recordings[1]).toMatch(/^finish order-15-\d+ $/);
    expect(r.flow.size).toBe(0);
  });

  it('B1 without RecordingFinished: the file is measured only once the PBX has stopped the recording, asked again while ARI does not answer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const stops: string[] = [];
      const r = await replay('B1', {
        drop: (type) => type === 'RecordingFinished',
        ops: {
          async stopRecording(name) {
            stops.push(name);
            // the cleanup's stop and the first asking again get no answer (the link is down)
            if (stops.length <= 2) throw new Error('socket hang up');
            return true;
          },
        },
      });
      expect(r.chain.at(-1)).toBe('FINISH');
      expect(stops).toHaveLength(1);
      expect(r.recordings.filter((x) => x.startsWith('finish'))).toEqual([]);
      // the grace runs out: asked again, no answer; not finished from the file yet
      await vi.advanceTimersByTimeAsync(5000);
      expect(stops).toHaveLength(2);
      expect(r.recordings.filter((x) => x.startsWith('finish'))).toEqual([]);
      // asked again: stopped; the file is measured once the recorder closed it
      await vi.advanceTimersByTimeAsync(5000);
      expect(stops).toHaveLength(3);
      expect(r.recordings.filter((x) => x.startsWith('finish'))).toEqual([]);
      await vi.advanceTimersByTimeAsync(300);
      expect(r.recordings.filter((x) => x.startsWith('finish'))).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    ['B2', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_NOANSWER']],
    ['B3', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_BUSY']],
    ['B4', ['CALL', 'OPERATOR_OFFLINE']],
    ['B5', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_NOANSWER']],
    ['B7', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'OPERATOR_CANCEL']],
    ['B8', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']],
  ])('%s gives %j', async (scenario, expected) => {
    const r = await replay(scenario);
    expect(r.chain).toEqual(expected);
  });

  it('keeps the deciding causes: B2 19, B3 17, B8 hung up by the operator', async () => {
    expect((await replay('B2')).got.at(-1)).toMatchObject({ type: 'operator_failed', outcome: 'noanswer', cause: 19 });
    expect((await replay('B3')).got.at(-1)).toMatchObject({ type: 'operator_failed', outcome: 'busy', cause: 17 });
    const b8 = await replay('B8');
    expect(b8.got.find((e) => e.type === 'operator_hangup')).toMatchObject({ cause: 16 });
    // the client left in the bridge is hung up by the daemon
    expect(b8.asked.some((a) => a.startsWith('hangup '))).toBe(true);
  });
});

describe('ARI reconciliation', () => {
  const start = {
    callId: 9,
    orderId: '1',
    sip: '101',
    phone: '380639920000',
    operatorEndpoint: 'PJSIP/101',
    clientEndpoint: 'Local/380639920000@from-internal',
    operatorCallerId: '',
    operatorTimeoutSec: 30,
    clientTimeoutSec: 30,
    recordingName: 'order-1-call-9',
  };
  const open = { callId: 9, status: 'CALL', operatorChannel: null, clientChannel: null, bridgeId: null, linkedid: null, recordingName: 'order-1-call-9', start };

  function setup(channels: string[]) {
    const got: CallEvent[] = [];
    let release: (v: { id: string }) => void = () => undefined;
    const ops = {
      originate: (p: { channelId?: string }) => new Promise<{ id: string }>((r) => (release = () => r({ id: p.channelId! }))),
      listChannels: async () => channels.map((id) => ({ id })),
      hangup: async () => true,
    } as unknown as AriOps;
    const sink: CallSink = { event: (_id, ev) => void got.push(ev), keep: () => undefined, recordingStarted: () => undefined, recordingFinished: () => undefined };
    return { got, flow: new AriCallFlow(ops, sink, '/tmp', silentLogger()), release: (v: { id: string }) => release(v) };
  }

  it('leaves a call alone while its originate is in flight', async () => {
    const s = setup([]);
    const started = s.flow.start(start);
    await s.flow.reconcile([open]);
    expect(s.got).toEqual([]);
    s.release({ id: 'x' });
    await started;
    expect(s.got.map((e) => e.type)).toEqual(['operator_ringing']);
  });

  it('after a restart finds a leg by its own channel id even if the database never got it', async () => {
    const s = setup(['cb-9-op-0a1b2c3d']);
    await s.flow.reconcile([open]);
    expect(s.got).toEqual([]);
    expect(s.flow.size).toBe(1);
    s.flow.handle({ type: 'ChannelDestroyed', channel: { id: 'cb-9-op-0a1b2c3d' }, cause: 19, cause_txt: 'User alerting, no answer' });
    expect(s.got).toEqual([{ type: 'operator_failed', outcome: 'noanswer', cause: 19, causeText: 'User alerting, no answer' }]);
  });

  it("a channel of the daemon's own whose call is over is hung up at the reconciliation; an open call's and a starting call's are not", async () => {
    const hungUp: string[] = [];
    let release: (v: { id: string }) => void = () => undefined;
    const ops = {
      originate: (p: { channelId?: string }) => new Promise<{ id: string }>((r) => (release = () => r({ id: p.channelId! }))),
      listChannels: async () => ['cb-3-op-0000aaaa', 'cb-9-op-0a1b2c3d', 'cb-4-client-0000bbbb', 'PJSIP/101-00000001'].map((id) => ({ id, state: 'Up' })),
      hangup: async (id: string) => {
        hungUp.push(id);
        return true;
      },
    } as unknown as AriOps;
    const sink: CallSink = { event: () => undefined, keep: () => undefined, recordingStarted: () => undefined, recordingFinished: () => undefined };
    const flow = new AriCallFlow(ops, sink, '/tmp', silentLogger());
    // call 4 is being set up (its originate in flight): in memory, not yet in the open list the store gave
    const starting = flow.start({ ...start, callId: 4, recordingName: 'order-1-call-4' });
    await flow.reconcile([open]);
    expect(hungUp).toEqual(['cb-3-op-0000aaaa']);
    release({ id: 'x' });
    await starting;
  });

  it('the hangup of a leg left alone is sent again when the link loses it', async () => {
    vi.useFakeTimers();
    try {
      let fails = 2;
      const asked: string[] = [];
      const ops = {
        originate: async (p: { channelId?: string }) => ({ id: p.channelId! }),
        // the client is gone, the operator is still Up in the app's bridge
        listChannels: async () => [{ id: 'cb-9-op-0a1b2c3d', state: 'Up', dialplan: { app_name: 'Stasis' } }],
        hangup: async (id: string) => {
          asked.push(id);
          if (fails-- > 0) throw new Error('other side closed');
          return true;
        },
        destroyBridge: async () => true,
      } as unknown as AriOps;
      const got: CallEvent[] = [];
      const sink: CallSink = { event: (_id, ev) => void got.push(ev), keep: () => undefined, recordingStarted: () => undefined, recordingFinished: () => undefined };
      const flow = new AriCallFlow(ops, sink, '/tmp', silentLogger());
      await flow.reconcile([{ ...open, status: 'CLIENT_PICKUP', operatorChannel: 'cb-9-op-0a1b2c3d', clientChannel: 'cb-9-client-0a1b2c3d' }]);
      expect(got.map((e) => e.type)).toEqual(['client_hangup']);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(asked).toEqual(['cb-9-op-0a1b2c3d', 'cb-9-op-0a1b2c3d', 'cb-9-op-0a1b2c3d']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a call with nothing left on the PBX is lost', async () => {
    const s = setup(['cb-8-op-ffffffff']);
    await s.flow.reconcile([open]);
    expect(s.got.map((e) => e.type)).toEqual(['lost']);
  });
});
