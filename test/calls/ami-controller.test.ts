/** AMI-mode reconciliation: an Originate still waiting is left alone; one whose answer was lost is closed. */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AmiCallController } from '../../src/calls/controllers.js';
import type { CallSink, OpenCall } from '../../src/calls/controller.js';
import type { CallEvent } from '../../src/calls/chain.js';
import type { AmiClient } from '../../src/asterisk/ami/index.js';
import { silentLogger } from '../../src/log.js';

afterEach(() => vi.useRealTimers());

const start = {
  callId: 5,
  orderId: '1',
  sip: '101',
  phone: '380639920000',
  operatorEndpoint: 'PJSIP/101',
  clientEndpoint: 'Local/380639920000@from-internal',
  operatorCallerId: '"380639920000" <380639920000>',
  operatorTimeoutSec: 30,
  clientTimeoutSec: 30,
  recordingName: 'order-1-call-5',
};
const open: OpenCall = { callId: 5, status: 'CALL', operatorChannel: null, clientChannel: null, bridgeId: null, linkedid: null, recordingName: start.recordingName, start };

describe('AmiCallController.reconcile', () => {
  it('waits for a queued Originate up to the ring timeout plus a grace period, then closes the call', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sent: Array<Record<string, unknown>> = [];
    const ami = Object.assign(new EventEmitter(), {
      connected: true,
      action: async (f: Record<string, unknown>) => {
        sent.push(f);
        return { response: 'Success', actionid: 'cb-1' };
      },
      listAction: async () => ({ events: [], response: {}, complete: {} }),
    }) as unknown as AmiClient;
    const got: CallEvent[] = [];
    const sink: CallSink = { event: (_id, ev) => void got.push(ev), keep: () => undefined, recordingStarted: () => undefined, recordingFinished: () => undefined };
    const c = new AmiCallController(ami, '/tmp', silentLogger());
    await c.start(start, sink);
    expect(sent[0]).toMatchObject({ Action: 'Originate', Channel: 'PJSIP/101', Context: 'callbridge-click2call', Exten: '380639920000', Timeout: 30000 });

    await c.reconcile([open], sink);
    expect(got).toEqual([]);
    vi.setSystemTime(Date.now() + 59_000);
    await c.reconcile([open], sink);
    expect(got).toEqual([]);
    vi.setSystemTime(Date.now() + 2_000);
    await c.reconcile([open], sink);
    expect(got.map((e) => e.type)).toEqual(['lost']);
  });
});
