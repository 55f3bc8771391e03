/** The hosted-PBX call history record (seed 003) from stored calls, and the query-string rules of company / missed / users.api. */
import { describe, expect, it } from 'vitest';
import {
  HistoryParamError,
  dispositionOf,
  historyRecord,
  parseHistoryQuery,
  pauseRecord,
  transferHistoryOf,
  type HistoryCall,
  type HistoryDeps,
  type LgDirection,
} from '../../src/rest/history.js';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

const USERS: Record<string, { id: number; displayName: string }> = {
  '1000': { id: 1000, displayName: 'Vasiliev Andrey' },
  '1001': { id: 1001, displayName: 'Operator 1' },
  '1002': { id: 1002, displayName: 'Operator 2' },
};

const deps: HistoryDeps = {
  group: (kind, ext) => ({ id: ext ? Number(ext) : null, displayName: `${kind === 'queue' ? 'Queue' : 'Ring group'} ${ext ?? ''}`.trim(), ext }),
  uuidOf: (id) => `uuid-${id}`,
  user: (sip) => ({ id: USERS[sip]?.id ?? 9999, displayName: USERS[sip]?.displayName ?? sip, ext: sip }),
  contactName: (phone) => (phone === '79001234567' ? 'Ivan Petrov' : undefined),
  audioUrl: (uuid) => `https://pbx.example/rest/public/calls/${uuid}/audio`,
  trunk: '74950000001',
};

/** An answered inbound PBX call; each case overrides what it is about. */
function call(over: Partial<HistoryCall> = {}): HistoryCall {
  return {
    id: 7,
    origin: 'pbx',
    direction: 'incoming',
    control: null,
    externalKey: null,
    requestFingerprint: null,
    orderId: null,
    sip: '1001',
    phone: '79001234567',
    status: 'FINISH',
    final: true,
    linkedid: '1700000000.1',
    operatorChannel: null,
    clientChannel: null,
    bridgeId: null,
    createdAt: T0,
    operatorRingAt: null,
    operatorAnswerAt: null,
    clientRingAt: null,
    clientAnswerAt: null,
    endedAt: T0 + 15_400,
    billsec: 11,
    hangupCause: 16,
    hangupCauseText: 'Normal Clearing',
    did: '74950000600',
    answeredAt: T0 + 4_000,
    operators: ['1001'],
    transfers: null,
    legs: null,
    recordingFile: '/var/spool/asterisk/monitor/2026/11/24/in-7.wav',
    groupKind: null,
    groupExt: null,
    ...over,
  };
}

const unanswered = { answeredAt: null, clientAnswerAt: null, billsec: 0, recordingFile: null } as const;

describe('historyRecord: the seed fields', () => {
  it('gives every field of an answered inbound call, in the seed order, with the seed types', () => {
    const r = historyRecord(call(), deps);
    expect(Object.keys(r)).toEqual([
      'parentUuid', 'uuid', 'endAt', 'lgDirection', 'otherLegNum', 'otherLegName', 'leg', 'leg2',
      'billSecs', 'duration', 'disposition', 'transferHistory', 'audioRecUrl', 'trunk',
    ]);
    expect(r).toEqual({
      parentUuid: null,
      uuid: 'uuid-7',
      endAt: T0 + 15_400,
      lgDirection: 4,
      otherLegNum: '79001234567',
      otherLegName: 'Ivan Petrov',
      leg: { id: 1001, type: 1, displayName: 'Operator 1', ext: '1001' },
      leg2: null,
      billSecs: 11,
      duration: 15,
      disposition: 0,
      transferHistory: '1001',
      audioRecUrl: 'https://pbx.example/rest/public/calls/uuid-7/audio',
      trunk: '74950000600',
    });
  });

  const directions: Array<{ name: string; c: Partial<HistoryCall>; expect: Record<string, unknown> }> = [
    {
      name: 'incoming, number not in the contact book',
      c: { phone: '79005550001' },
      expect: { lgDirection: 4, otherLegNum: '79005550001', otherLegName: '79005550001', leg2: null, trunk: '74950000600' },
    },
    {
      name: 'incoming without a DID',
      c: { did: null },
      expect: { lgDirection: 4, trunk: null },
    },
    {
      name: 'outgoing from a phone: the company trunk',
      c: { direction: 'outgoing', sip: '1002', operators: ['1002'], phone: '79005550003', did: null },
      expect: { lgDirection: 2, otherLegNum: '79005550003', otherLegName: '79005550003', leg: { id: 1002, type: 1, displayName: 'Operator 2', ext: '1002' }, leg2: null, trunk: '74950000001', transferHistory: '1002' },
    },
    {
      name: 'click-to-call: the operator is the leg',
      c: { origin: 'api', direction: 'outgoing', sip: '1000', operators: null, phone: '380639920000', did: null, answeredAt: null, clientAnswerAt: T0 + 9_000, orderId: '15' },
      expect: { lgDirection: 2, otherLegNum: '380639920000', leg: { id: 1000, type: 1, displayName: 'Vasiliev Andrey', ext: '1000' }, trunk: '74950000001', disposition: 0, transferHistory: '1000' },
    },
    {
      name: 'internal: the caller is leg, the called extension leg2, no number or trunk',
      c: { direction: 'internal', phone: '1000', sip: '1001', operators: ['1001'], did: null },
      expect: {
        lgDirection: 1,
        otherLegNum: null,
        otherLegName: null,
        leg: { id: 1000, type: 1, displayName: 'Vasiliev Andrey', ext: '1000' },
        leg2: { id: 1001, type: 1, displayName: 'Operator 1', ext: '1001' },
        trunk: null,
      },
    },
    {
      name: 'internal, not answered: leg2 is the extension rung',
      c: { direction: 'internal', phone: '1000', sip: null, operators: ['1002'], did: null, status: 'OPERATOR_NOANSWER', ...unanswered },
      expect: { lgDirection: 1, leg2: { id: 1002, type: 1, displayName: 'Operator 2', ext: '1002' }, disposition: 1, transferHistory: null, audioRecUrl: null },
    },
    {
      name: 'ring group, the second operator answered',
      c: { operators: ['1000', '1001'], sip: '1001' },
      expect: { leg: { id: 1001, type: 1, displayName: 'Operator 1', ext: '1001' }, transferHistory: '1001' },
    },
    {
      name: 'ring group nobody answered: the first phone rung',
      c: { operators: ['1000', '1001'], sip: null, status: 'CLIENT_CANCEL', ...unanswered },
      expect: { leg: { id: 1000, type: 1, displayName: 'Vasiliev Andrey', ext: '1000' }, transferHistory: null, disposition: 1, billSecs: 0, audioRecUrl: null },
    },
    {
      name: 'abandoned before any phone rang: no leg',
      c: { operators: [], sip: null, status: 'CLIENT_CANCEL', ...unanswered },
      expect: { leg: null, leg2: null, transferHistory: null },
    },
    {
      name: 'anonymous caller: no number',
      c: { phone: null },
      expect: { otherLegNum: null, otherLegName: null },
    },
  ];
  it.each(directions)('$name', ({ c, expect: want }) => {
    expect(historyRecord(call(c), deps)).toMatchObject(want);
  });

  const times: Array<{ name: string; c: Partial<HistoryCall>; endAt: number; duration: number; billSecs: number }> = [
    { name: 'rounds the duration to the nearest second', c: { endedAt: T0 + 15_499 }, endAt: T0 + 15_499, duration: 15, billSecs: 11 },
    { name: 'half a second rounds up', c: { endedAt: T0 + 15_500 }, endAt: T0 + 15_500, duration: 16, billSecs: 11 },
    { name: 'billsec null is 0', c: { billsec: null }, endAt: T0 + 15_400, duration: 15, billSecs: 0 },
    { name: 'a refused call (ended at its start)', c: { endedAt: T0, billsec: 0 }, endAt: T0, duration: 0, billSecs: 0 },
    { name: 'no end stored: endAt is the start, duration 0', c: { endedAt: null }, endAt: T0, duration: 0, billSecs: 11 },
  ];
  it.each(times)('$name', ({ c, endAt, duration, billSecs }) => {
    const r = historyRecord(call(c), deps);
    expect({ endAt: r.endAt, duration: r.duration, billSecs: r.billSecs }).toEqual({ endAt, duration, billSecs });
    expect(Number.isInteger(r.duration) && Number.isInteger(r.billSecs)).toBe(true);
  });

  const audio: Array<{ name: string; c: Partial<HistoryCall>; deps?: Partial<HistoryDeps>; url: string | null }> = [
    { name: 'answered, plain row: the link from deps', c: {}, url: 'https://pbx.example/rest/public/calls/uuid-7/audio' },
    { name: 'not answered: null whatever deps says', c: { status: 'CLIENT_CANCEL', ...unanswered }, url: null },
    { name: 'answered, read with no recording row and no PBX file: null', c: { recordingFile: null, recordingId: null }, url: null },
    { name: 'answered click-to-call with a recording row', c: { origin: 'api', recordingFile: null, recordingId: 3 }, url: 'https://pbx.example/rest/public/calls/uuid-7/audio' },
    { name: 'answered PBX call with its own file, no row', c: { recordingId: null }, url: 'https://pbx.example/rest/public/calls/uuid-7/audio' },
    { name: 'deps knows of no recording', c: {}, deps: { audioUrl: () => null }, url: null },
  ];
  it.each(audio)('audioRecUrl: $name', ({ c, deps: over, url }) => {
    expect(historyRecord(call(c), { ...deps, ...over }).audioRecUrl).toBe(url);
  });

  it('passes the uuid and the call to audioUrl', () => {
    const seen: Array<[string, number]> = [];
    historyRecord(call({ id: 42 }), { ...deps, audioUrl: (uuid, c) => (seen.push([uuid, c.id]), 'x') });
    expect(seen).toEqual([['uuid-42', 42]]);
  });

  it('outgoing without a configured trunk: null', () => {
    const { trunk, ...rest } = deps;
    void trunk;
    expect(historyRecord(call({ direction: 'outgoing', did: null }), rest).trunk).toBeNull();
  });
});

describe('disposition', () => {
  const failed = (status: string, over: Partial<HistoryCall> = {}): HistoryCall => call({ status, ...unanswered, hangupCause: null, ...over });
  const cases: Array<{ name: string; c: HistoryCall; want: 0 | 1 | 2 | 3 | 4 }> = [
    { name: 'FINISH', c: call(), want: 0 },
    { name: 'FINISH of a click-to-call (client answer only)', c: call({ origin: 'api', answeredAt: null, clientAnswerAt: T0 + 1 }), want: 0 },
    { name: 'ERROR after a conversation (lost mid-call)', c: call({ status: 'ERROR' }), want: 0 },
    { name: 'OPERATOR_NOANSWER', c: failed('OPERATOR_NOANSWER'), want: 1 },
    { name: 'CLIENT_NOANSWER', c: failed('CLIENT_NOANSWER'), want: 1 },
    { name: 'CLIENT_CANCEL', c: failed('CLIENT_CANCEL'), want: 1 },
    { name: 'OPERATOR_CANCEL', c: failed('OPERATOR_CANCEL'), want: 1 },
    { name: 'OPERATOR_BUSY', c: failed('OPERATOR_BUSY', { hangupCause: 17 }), want: 4 },
    { name: 'CLIENT_BUSY', c: failed('CLIENT_BUSY', { hangupCause: 17, finalDetails: { dialStatus: 'BUSY' } }), want: 4 },
    { name: 'ERROR, hangup cause 34', c: failed('ERROR', { hangupCause: 34 }), want: 2 },
    { name: 'ERROR, hangup cause 38', c: failed('ERROR', { hangupCause: 38 }), want: 2 },
    { name: 'ERROR, hangup cause 41', c: failed('ERROR', { hangupCause: 41 }), want: 2 },
    { name: 'ERROR, hangup cause 42', c: failed('ERROR', { hangupCause: 42 }), want: 2 },
    { name: 'ERROR, hangup cause 44', c: failed('ERROR', { hangupCause: 44 }), want: 2 },
    { name: 'ERROR, cause 34 in the final details only', c: failed('ERROR', { finalDetails: { cause: 34 } }), want: 2 },
    { name: 'ERROR, dial status CONGESTION', c: failed('ERROR', { finalDetails: { dialStatus: 'CONGESTION', reason: 'congestion' } }), want: 2 },
    { name: 'ERROR, dial status CHANUNAVAIL', c: failed('ERROR', { finalDetails: { dialStatus: 'CHANUNAVAIL', reason: 'the trunk is unavailable' } }), want: 2 },
    { name: 'ERROR, a trunk leg ended CONGESTION', c: failed('ERROR', { legs: [{ role: 'operator', sip: '1002', dial_status: null }, { role: 'client', number: '79005550003', dial_status: 'CONGESTION' }] }), want: 2 },
    { name: 'ERROR, only a phone leg CHANUNAVAIL (not the route)', c: failed('ERROR', { legs: [{ role: 'operator', sip: '1002', dial_status: 'CHANUNAVAIL' }] }), want: 3 },
    { name: 'OPERATOR_OFFLINE (the phone is unreachable, dial status CHANUNAVAIL)', c: failed('OPERATOR_OFFLINE', { finalDetails: { dialStatus: 'CHANUNAVAIL' } }), want: 3 },
    { name: 'ERROR UNKNOWN_OPERATOR', c: failed('ERROR', { origin: 'api', finalDetails: { reason: 'UNKNOWN_OPERATOR' } }), want: 3 },
    { name: 'ERROR PBX_UNAVAILABLE', c: failed('ERROR', { origin: 'api', finalDetails: { reason: 'PBX_UNAVAILABLE' } }), want: 3 },
    { name: 'ERROR, normal clearing', c: failed('ERROR', { hangupCause: 16 }), want: 3 },
    { name: 'ERROR, nothing known', c: failed('ERROR'), want: 3 },
    { name: 'a status it does not know', c: failed('SOMETHING_ELSE'), want: 3 },
  ];
  it.each(cases)('$name → $want', ({ c, want }) => {
    expect(dispositionOf(c)).toBe(want);
    expect(historyRecord(c, deps).disposition).toBe(want);
  });
});

describe('transferHistory', () => {
  const at = T0 + 8_000;
  const cases: Array<{ name: string; c: Partial<HistoryCall>; want: string | null }> = [
    { name: 'no transfer: the single operator', c: {}, want: '1001' },
    { name: 'blind transfer', c: { sip: '1001', operators: ['1000', '1001'], transfers: [{ from: '1000', to: '1001', kind: 'blind', at }] }, want: '1000 > 1001' },
    {
      name: 'two transfers',
      c: { sip: '1002', operators: ['1000', '1001', '1002'], transfers: [{ from: '1000', to: '1001', kind: 'blind', at }, { from: '1001', to: '1002', kind: 'attended', at: at + 5_000 }] },
      want: '1000 > 1001 > 1002',
    },
    {
      name: 'transfer of unknown origin: the first operator who answered',
      c: {
        sip: '1001',
        transfers: [{ from: null, to: '1001', kind: 'blind', at }],
        legs: [
          { role: 'client', number: '79001234567', dialed_by: null, answer_at: T0 },
          { role: 'operator', sip: '1002', dialed_by: 'a', answer_at: T0 + 6_000 },
          { role: 'operator', sip: '1000', dialed_by: 'a', answer_at: T0 + 4_000 },
        ],
      },
      want: '1000 > 1001',
    },
    { name: 'transfer target unknown', c: { transfers: [{ from: '1000', to: null, kind: 'blind', at }] }, want: '1000 > ?' },
    { name: 'nobody answered', c: { status: 'CLIENT_CANCEL', ...unanswered, sip: null, operators: ['1000'] }, want: null },
    { name: 'answered click-to-call', c: { origin: 'api', direction: 'outgoing', sip: '1002', operators: null }, want: '1002' },
  ];
  it.each(cases)('$name', ({ c, want }) => {
    expect(transferHistoryOf(call(c))).toBe(want);
    expect(historyRecord(call(c), deps).transferHistory).toBe(want);
  });
});

describe('pauseRecord', () => {
  it.each([
    { kind: 'pause' as const, lg: 32, uuid: 'pause-12' },
    { kind: 'unpause' as const, lg: 64, uuid: 'unpause-12' },
  ])('$kind: stable id, the time, the operator, the rest null or 0', ({ kind, lg, uuid }) => {
    expect(pauseRecord({ kind, id: 12, sip: '1000', time: T0 + 1, reason: 'queue 700 paused: lunch' }, deps)).toEqual({
      parentUuid: null,
      uuid,
      endAt: T0 + 1,
      lgDirection: lg,
      otherLegNum: null,
      otherLegName: null,
      leg: { id: 1000, type: 1, displayName: 'Vasiliev Andrey', ext: '1000' },
      leg2: null,
      billSecs: 0,
      duration: 0,
      disposition: 0,
      transferHistory: null,
      audioRecUrl: null,
      trunk: null,
    });
  });
});

describe('parseHistoryQuery', () => {
  const base = { timeFrom: '1435310000000', timeTo: '1435320000000' };
  const set = (...xs: LgDirection[]) => new Set<LgDirection>(xs);
  const valid: Array<{ name: string; params: Record<string, string | string[]>; pauses?: boolean; want: Record<string, unknown> }> = [
    { name: 'defaults', params: base, want: { timeFrom: 1435310000000, timeTo: 1435320000000, directions: undefined, limit: 50, offset: 0 } },
    { name: 'equal bounds', params: { timeFrom: '5', timeTo: '5' }, want: { timeFrom: 5, timeTo: 5 } },
    { name: 'zero', params: { timeFrom: '0', timeTo: '0' }, want: { timeFrom: 0, timeTo: 0 } },
    { name: 'values given as one-element lists', params: { timeFrom: ['1'], timeTo: ['2'], limit: ['10'] }, want: { timeFrom: 1, timeTo: 2, limit: 10 } },
    { name: 'directions repeated', params: { ...base, directions: ['1', '4'] }, want: { directions: set(1, 4) } },
    { name: 'directions comma list', params: { ...base, directions: '1,4' }, want: { directions: set(1, 4) } },
    { name: 'directions bitmask', params: { ...base, directions: '5' }, want: { directions: set(1, 4) } },
    { name: 'directions all three as a mask', params: { ...base, directions: '7' }, want: { directions: set(1, 2, 4) } },
    { name: 'directions mixed forms', params: { ...base, directions: ['2', '1,4'] }, want: { directions: set(1, 2, 4) } },
    { name: 'directions repeated value', params: { ...base, directions: '2,2' }, want: { directions: set(2) } },
    { name: 'users.api: pause', params: { ...base, directions: '32' }, pauses: true, want: { directions: set(32) } },
    { name: 'users.api: pause and unpause as a mask', params: { ...base, directions: '96' }, pauses: true, want: { directions: set(32, 64) } },
    { name: 'users.api: everything as a mask', params: { ...base, directions: '103' }, pauses: true, want: { directions: set(1, 2, 4, 32, 64) } },
    { name: 'users.api: list with calls', params: { ...base, directions: ['4', '64'] }, pauses: true, want: { directions: set(4, 64) } },
    { name: 'limit 1', params: { ...base, limit: '1' }, want: { limit: 1 } },
    { name: 'limit 50', params: { ...base, limit: '50' }, want: { limit: 50 } },
    { name: 'offset', params: { ...base, offset: '1000' }, want: { offset: 1000 } },
    { name: 'other parameters are ignored', params: { ...base, foo: 'bar' }, want: { limit: 50 } },
  ];
  it.each(valid)('$name', ({ params, pauses, want }) => {
    expect(parseHistoryQuery(params, { pauses: pauses ?? false })).toMatchObject(want);
  });

  const invalid: Array<{ name: string; params: Record<string, string | string[] | undefined>; pauses?: boolean; field: string }> = [
    { name: 'timeFrom missing', params: { timeTo: '1' }, field: 'timeFrom' },
    { name: 'timeTo missing', params: { timeFrom: '1' }, field: 'timeTo' },
    { name: 'timeFrom empty', params: { timeFrom: '', timeTo: '1' }, field: 'timeFrom' },
    { name: 'timeFrom text', params: { timeFrom: 'yesterday', timeTo: '1' }, field: 'timeFrom' },
    { name: 'timeFrom fraction', params: { timeFrom: '1.5', timeTo: '2' }, field: 'timeFrom' },
    { name: 'timeFrom negative', params: { timeFrom: '-1', timeTo: '2' }, field: 'timeFrom' },
    { name: 'timeFrom exponent', params: { timeFrom: '1e3', timeTo: '2000' }, field: 'timeFrom' },
    { name: 'timeTo ISO date', params: { timeFrom: '1', timeTo: '2026-11-24' }, field: 'timeTo' },
    { name: 'timeTo with CR LF', params: { timeFrom: '1', timeTo: '2\r\n' }, field: 'timeTo' },
    { name: 'timeTo with NUL', params: { timeFrom: '1', timeTo: '2\u0000' }, field: 'timeTo' },
    { name: 'timeTo too long', params: { timeFrom: '1', timeTo: '1234567890123456' }, field: 'timeTo' },
    { name: 'timeFrom after timeTo', params: { timeFrom: '2', timeTo: '1' }, field: 'timeFrom' },
    { name: 'timeFrom twice', params: { timeFrom: ['1', '2'], timeTo: '3' }, field: 'timeFrom' },
    { name: 'directions 8', params: { ...base, directions: '8' }, field: 'directions' },
    { name: 'directions 0', params: { ...base, directions: '0' }, field: 'directions' },
    { name: 'directions 32 on company.api', params: { ...base, directions: '32' }, field: 'directions' },
    { name: 'directions 64 in a list on company.api', params: { ...base, directions: '1,64' }, field: 'directions' },
    { name: 'directions mask with a pause bit on company.api', params: { ...base, directions: '36' }, field: 'directions' },
    { name: 'directions 128 on users.api', params: { ...base, directions: '128' }, pauses: true, field: 'directions' },
    { name: 'directions 16 on users.api', params: { ...base, directions: '16' }, pauses: true, field: 'directions' },
    { name: 'directions text', params: { ...base, directions: 'incoming' }, field: 'directions' },
    { name: 'directions empty', params: { ...base, directions: '' }, field: 'directions' },
    { name: 'directions empty item', params: { ...base, directions: '1,,4' }, field: 'directions' },
    { name: 'directions with a space', params: { ...base, directions: '1, 4' }, field: 'directions' },
    { name: 'limit 0', params: { ...base, limit: '0' }, field: 'limit' },
    { name: 'limit 51', params: { ...base, limit: '51' }, field: 'limit' },
    { name: 'limit 1000', params: { ...base, limit: '1000' }, field: 'limit' },
    { name: 'limit text', params: { ...base, limit: 'all' }, field: 'limit' },
    { name: 'limit empty', params: { ...base, limit: '' }, field: 'limit' },
    { name: 'limit twice', params: { ...base, limit: ['10', '20'] }, field: 'limit' },
    { name: 'offset negative', params: { ...base, offset: '-50' }, field: 'offset' },
    { name: 'offset fraction', params: { ...base, offset: '1.5' }, field: 'offset' },
    { name: 'offset text', params: { ...base, offset: 'next' }, field: 'offset' },
  ];
  it.each(invalid)('refuses $name, naming $field', ({ params, pauses, field }) => {
    let err: unknown;
    try {
      parseHistoryQuery(params, { pauses: pauses ?? false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HistoryParamError);
    expect((err as HistoryParamError).field).toBe(field);
    expect((err as HistoryParamError).message.startsWith(`${field}: `)).toBe(true);
  });

  it('says what a limit over 50 breaks', () => {
    expect(() => parseHistoryQuery({ ...base, limit: '51' }, { pauses: false })).toThrow('limit: must not exceed 50');
  });
});
