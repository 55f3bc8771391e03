/** The status → domain event table (src/outbox/derive.ts), row by row. */
import { describe, expect, it } from 'vitest';
import { deriveCallEvents, type DeriveInput } from '../../src/outbox/derive.js';

const base: DeriveInput = {
  origin: 'api',
  direction: 'outgoing',
  before: [],
  steps: [],
  transfersBefore: 0,
  transfers: [],
  billsec: null,
  cause: null,
  causeText: null,
  hasRecordingFile: false,
  recordingReady: false,
  at: 1000,
};

const steps = (...statuses: string[]) => statuses.map((status, i) => ({ status, at: 1000 + i, details: { sip: '101', phone: '79001234567' } }));
const types = (input: Partial<DeriveInput>) => deriveCallEvents({ ...base, ...input }).map((e) => (e.data.leg ? `${e.type}:${e.data.leg}` : e.type));

describe('deriveCallEvents', () => {
  it.each([
    ['click-to-call, CALL', { steps: steps('CALL') }, ['call.started']],
    ['click-to-call, operator rung', { before: ['CALL'], steps: steps('OPERATOR_CALLTO') }, ['call.ringing:operator']],
    ['click-to-call, operator answered', { before: ['CALL', 'OPERATOR_CALLTO'], steps: steps('OPERATOR_PICKUP') }, ['call.answered:operator']],
    ['click-to-call, client dialled', { before: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP'], steps: steps('CLIENT_CALLTO') }, ['call.ringing:client']],
    ['click-to-call, client answered = bridged', { before: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO'], steps: steps('CLIENT_PICKUP') }, ['call.answered:client', 'call.bridged']],
    ['click-to-call, FINISH', { before: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP'], steps: steps('FINISH') }, ['call.finished']],
    ['click-to-call, busy client', { before: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO'], steps: steps('CLIENT_BUSY') }, ['call.finished']],
    ['refused up front (first status final)', { steps: steps('OPERATOR_OFFLINE') }, ['call.started', 'call.finished']],
    ['PBX incoming, several at once', { origin: 'pbx', direction: 'incoming', steps: steps('CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP') }, ['call.started', 'call.ringing:operator', 'call.answered:operator', 'call.bridged']],
    ['PBX incoming, abandoned', { origin: 'pbx', direction: 'incoming', before: ['CALL', 'OPERATOR_CALLTO'], steps: steps('CLIENT_CANCEL') }, ['call.finished']],
    ['PBX internal answered = bridged', { origin: 'pbx', direction: 'internal', before: ['CALL', 'OPERATOR_CALLTO'], steps: steps('OPERATOR_PICKUP') }, ['call.answered:operator', 'call.bridged']],
    ['PBX outgoing, client answered = bridged', { origin: 'pbx', direction: 'outgoing', before: ['CALL'], steps: steps('CLIENT_CALLTO', 'CLIENT_PICKUP') }, ['call.ringing:client', 'call.answered:client', 'call.bridged']],
    ['PBX transfer (summary only)', { origin: 'pbx', direction: 'incoming', before: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP'], transfersBefore: 0, transfers: [{ from: '101', to: '102', kind: 'blind', at: 5 }] }, ['call.transferred']],
    ['PBX second transfer: only the new one', { origin: 'pbx', direction: 'incoming', before: ['CALL'], transfersBefore: 1, transfers: [{ from: '101', to: '102' }, { from: '102', to: '103' }] }, ['call.transferred']],
  ] as Array<[string, Partial<DeriveInput>, string[]]>)('%s', (_name, input, want) => {
    expect(types(input)).toEqual(want);
  });

  it('call.finished carries the final status, billsec, cause, who hung up and whether a recording follows', () => {
    const [fin] = deriveCallEvents({
      ...base,
      before: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP'],
      steps: [{ status: 'FINISH', at: 9000, details: { sip: '101', phone: '79001234567', by: 'client', cause: 16, causeText: 'Normal Clearing' } }],
      billsec: 35,
    });
    expect(fin).toEqual({
      type: 'call.finished',
      time: 9000,
      status: 'FINISH',
      data: { status: 'FINISH', billsec: 35, cause: 16, cause_text: 'Normal Clearing', by: 'client', reason: null, dial_status: null, talked: true, recording_expected: true, sip: '101', phone: '79001234567' },
    });
  });

  it.each([
    ['click-to-call that talked, recording not ready yet', { origin: 'api' }, true],
    ['click-to-call whose recording is already ready', { origin: 'api', recordingReady: true }, false],
    ['PBX call that talked with a recording file', { origin: 'pbx', direction: 'incoming', hasRecordingFile: true }, true],
    ['PBX call that talked without one', { origin: 'pbx', direction: 'incoming', hasRecordingFile: false }, false],
  ] as Array<[string, Partial<DeriveInput>, boolean]>)('recording_expected: %s', (_n, input, want) => {
    const talk = input.origin === 'pbx' ? ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP'] : ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP'];
    const fin = deriveCallEvents({ ...base, ...input, before: talk, steps: steps('FINISH') }).find((e) => e.type === 'call.finished');
    expect(fin?.data.recording_expected).toBe(want);
  });

  it('a call that never talked expects no recording and says talked: false', () => {
    const fin = deriveCallEvents({ ...base, before: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO'], steps: steps('CLIENT_NOANSWER') })[0]!;
    expect(fin.data).toMatchObject({ status: 'CLIENT_NOANSWER', talked: false, recording_expected: false, billsec: 0 });
  });
});
