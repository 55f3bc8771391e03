/** The status chain machine and the cause tables, one case per row. */
import { describe, expect, it } from 'vitest';
import { chainOf, step, type CallEvent } from '../../src/calls/chain.js';
import { clientOutcome, operatorOutcome } from '../../src/calls/causes.js';

const E = {
  ring: { type: 'operator_ringing' },
  pickup: { type: 'operator_answered' },
  dial: { type: 'client_dialing' },
  answer: { type: 'client_answered' },
  opHangup: { type: 'operator_hangup', cause: 16 },
  clHangup: { type: 'client_hangup', cause: 16 },
} as const satisfies Record<string, CallEvent>;

describe('chainOf', () => {
  it.each<[string, CallEvent[], string[]]>([
    ['success, client hangs up', [E.ring, E.pickup, E.dial, E.answer, E.clHangup, E.opHangup], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']],
    ['success, operator hangs up', [E.ring, E.pickup, E.dial, E.answer, E.opHangup], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']],
    ['operator offline', [{ type: 'operator_failed', outcome: 'offline' }], ['CALL', 'OPERATOR_OFFLINE']],
    ['operator no answer', [E.ring, { type: 'operator_failed', outcome: 'noanswer', cause: 19 }], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_NOANSWER']],
    ['operator busy without ringing first', [{ type: 'operator_failed', outcome: 'busy', cause: 17 }], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_BUSY']],
    ['operator cancels while the client rings', [E.ring, E.pickup, E.dial, E.opHangup, E.clHangup], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'OPERATOR_CANCEL']],
    ['client cancel via dial status', [E.ring, E.pickup, E.dial, { type: 'client_failed', outcome: 'cancel', dialStatus: 'CANCEL' }], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'OPERATOR_CANCEL']],
    ['client no answer', [E.ring, E.pickup, E.dial, { type: 'client_failed', outcome: 'noanswer', dialStatus: 'NOANSWER' }], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_NOANSWER']],
    ['client busy', [E.ring, E.pickup, E.dial, { type: 'client_failed', outcome: 'busy', cause: 17 }], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_BUSY']],
    ['client congestion', [E.ring, E.pickup, E.dial, { type: 'client_failed', outcome: 'error', dialStatus: 'CONGESTION' }], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'ERROR']],
    ['client leg hangs up while ringing', [E.ring, E.pickup, E.dial, E.clHangup], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_CANCEL']],
    ['missing steps are filled in', [E.answer, E.clHangup], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']],
    ['repeated events add nothing', [E.ring, E.ring, E.pickup, E.ring, E.pickup], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP']],
    ['lost before talk', [E.ring, { type: 'lost', reason: 'PBX lost' }], ['CALL', 'OPERATOR_CALLTO', 'ERROR']],
    ['lost during talk', [E.ring, E.pickup, E.dial, E.answer, { type: 'lost' }], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']],
    ['nothing after the final status', [{ type: 'operator_failed', outcome: 'busy' }, E.pickup, E.answer, { type: 'lost' }], ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_BUSY']],
  ])('%s', (_name, events, expected) => {
    expect(chainOf(events)).toEqual(expected);
  });

  it('keeps the cause and who hung up in the final status details', () => {
    expect(step({ last: 'CLIENT_PICKUP' }, { type: 'client_hangup', cause: 16, causeText: 'Normal Clearing' })).toEqual([
      { status: 'FINISH', details: { cause: 16, causeText: 'Normal Clearing', by: 'client' } },
    ]);
    expect(step({ last: undefined }, E.ring)).toEqual([]);
  });
});

describe('operatorOutcome (AMI OriginateResponse and ARI causes from the traces)', () => {
  it.each<[string, Parameters<typeof operatorOutcome>[0], string]>([
    ['A2: Reason 3, Hangup cause 19', { originateReason: 3, cause: 19, channelCreated: true }, 'noanswer'],
    ['A3: Reason 0, DialEnd BUSY, cause 17', { originateReason: 0, cause: 17, dialStatus: 'BUSY', channelCreated: true }, 'busy'],
    ['A4: Reason 0, no channel at all', { originateReason: 0, channelCreated: false }, 'offline'],
    ['B2: ChannelDestroyed cause 19', { cause: 19, channelCreated: true }, 'noanswer'],
    ['B3: Dial BUSY, cause 17', { dialStatus: 'BUSY', cause: 17, channelCreated: true }, 'busy'],
    ['B4: POST /channels 500 Allocation failed', { channelCreated: false }, 'offline'],
    ['603 Decline on the phone (cause 21)', { cause: 21, channelCreated: true }, 'busy'],
    ['subscriber absent (cause 20)', { cause: 20, channelCreated: true }, 'offline'],
    ['CHANUNAVAIL', { dialStatus: 'CHANUNAVAIL', channelCreated: true }, 'offline'],
    ['congestion (cause 34)', { cause: 34, channelCreated: true }, 'error'],
  ])('%s', (_name, input, expected) => {
    expect(operatorOutcome(input)).toBe(expected);
  });
});

describe('clientOutcome (DialEnd DialStatus first: a Dial timeout hangs up with cause 0)', () => {
  it.each<[string, Parameters<typeof clientOutcome>[0], string]>([
    ['A5: DialEnd NOANSWER, Hangup cause 0', { dialStatus: 'NOANSWER', cause: 0 }, 'noanswer'],
    ['A7: DialEnd CANCEL (operator hung up)', { dialStatus: 'CANCEL', cause: 16 }, 'cancel'],
    ['BUSY', { dialStatus: 'BUSY', cause: 17 }, 'busy'],
    ['CONGESTION', { dialStatus: 'CONGESTION', cause: 34 }, 'error'],
    ['CHANUNAVAIL', { dialStatus: 'CHANUNAVAIL' }, 'error'],
    ['B5: ARI client ChannelDestroyed cause 19', { cause: 19 }, 'noanswer'],
    ['ARI client busy cause 17', { cause: 17 }, 'busy'],
    ['ARI client congestion cause 34', { cause: 34 }, 'error'],
    ['ARI no route cause 3', { cause: 3 }, 'error'],
    ['nothing known', {}, 'error'],
  ])('%s', (_name, input, expected) => {
    expect(clientOutcome(input)).toBe(expected);
  });
});
