/** An AMI user without the `system` class: PJSIP lists refused, endpoints from DeviceStateList. */
import { describe, expect, it } from 'vitest';
import { amiSnapshot } from '../../src/asterisk/presence-signals.js';

const dev = (device: string, state: string) => ({ event: 'DeviceStateChange', device, state });

describe('presence resync when Asterisk refuses PJSIPShowEndpoints', () => {
  it('takes the PJSIP devices of DeviceStateList as the endpoints', () => {
    const snap = amiSnapshot({
      endpoints: [],
      contacts: [],
      deviceStates: [dev('PJSIP/1000', 'NOT_INUSE'), dev('PJSIP/1001', 'UNAVAILABLE'), dev('PJSIP/1002', 'INUSE'), dev('Local/1000@from-queue', 'NOT_INUSE'), dev('Queue:700_pause_Local/1000@from-queue/n', 'INUSE')],
      endpointsRefused: true,
    });
    expect(snap.map((s) => [s.sip, s.device, s.reachable])).toEqual([
      ['1000', 'NOT_INUSE', true],
      ['1001', 'UNAVAILABLE', false],
      ['1002', 'INUSE', true],
    ]);
  });

  it('without the refusal an empty endpoint list stays empty', () => {
    expect(amiSnapshot({ endpoints: [], contacts: [], deviceStates: [dev('PJSIP/1000', 'NOT_INUSE')] })).toEqual([]);
  });
});
