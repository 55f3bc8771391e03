/**
 * The recorded FreePBX-style Asterisk 22 streams (D1, E1-E9, Q1, Q3, X1-X8) through
 * the channel mirror and the derivation: one call per linkedid, with the right
 * direction, numbers, operators and status chain.
 */
import { describe, expect, it } from 'vitest';
import { ChannelMirror, kindOfDialString } from '../../src/pbx/mirror.js';
import { summarize, transferPath, type PbxCallSummary } from '../../src/pbx/derive.js';
import { membersOf } from '../../src/calls/children.js';
import { lowerCased, readJsonl, type TraceMessage } from '../helpers/traces.js';

function replay(scenario: string, opts: { ownLinkedids?: string[] } = {}): { calls: PbxCallSummary[]; ended: string[] } {
  const mirror = new ChannelMirror({ operatorContexts: new Set(['from-internal']), isOwnLinkedid: (l) => opts.ownLinkedids?.includes(l) ?? false });
  const ended: string[] = [];
  const summaries = new Map<string, PbxCallSummary>();
  for (const m of readJsonl<TraceMessage>(`${scenario}/ami.jsonl`)) {
    if (m.kind !== 'event') continue;
    for (const c of mirror.handle(lowerCased(m), m.recv_ms)) {
      if (c.type === 'ended') {
        ended.push(c.call.linkedid);
        summaries.set(c.call.linkedid, summarize(c.call));
      }
    }
  }
  for (const call of mirror.calls.values()) if (call.open && !call.own && !summaries.has(call.linkedid)) summaries.set(call.linkedid, summarize(call));
  return { calls: [...summaries.values()].sort((a, b) => a.startedAt - b.startedAt), ended };
}

const chainOf = (s: PbxCallSummary) => s.chain.map((c) => c.status);

const CASES: Array<{
  scenario: string;
  what: string;
  calls: Array<{ direction: string; phone: string; did?: string | null; sip: string | null; operators: string[]; chain: string[]; by?: string; billsec: number; transfers?: string; recording?: RegExp; group?: { kind: string; ext: string | null } }>;
}> = [
  {
    scenario: 'D1', what: 'inbound to one extension, answered, the client hangs up',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950000000', sip: '1000', operators: ['1000'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 3, recording: /inbound-/ }],
  },
  {
    scenario: 'E1', what: 'outbound from a phone, answered, the operator hangs up',
    calls: [{ direction: 'outgoing', phone: '79001234567', did: null, sip: '1000', operators: ['1000'], chain: ['CALL', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'], by: 'operator', billsec: 3, recording: /\/out-79001234567-1000-/ }],
  },
  {
    scenario: 'E2', what: 'outbound from a phone, the client is busy',
    calls: [{ direction: 'outgoing', phone: '79001234567', sip: '1000', operators: ['1000'], chain: ['CALL', 'CLIENT_CALLTO', 'CLIENT_BUSY'], billsec: 0 }],
  },
  {
    scenario: 'E3', what: 'internal call 1000 -> 1001',
    calls: [{ direction: 'internal', phone: '1000', sip: '1001', operators: ['1001'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'operator', billsec: 3, recording: /internal-1001-1000-/ }],
  },
  {
    scenario: 'E4', what: 'ring group 600: 1001 answers, 1000 is cancelled',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950000600', sip: '1001', operators: ['1000', '1001'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 3, recording: /rg-600-/, group: { kind: 'ringgroup', ext: '600' } }],
  },
  {
    scenario: 'E7', what: 'inbound to 1000, blind transfer to 1001',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950001000', sip: '1001', operators: ['1000', '1001'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 9, transfers: '1000 > 1001' }],
  },
  {
    scenario: 'E9', what: 'two overlapping calls in one stream',
    calls: [
      { direction: 'incoming', phone: '79001234567', did: '74950001000', sip: '1000', operators: ['1000'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 6 },
      { direction: 'outgoing', phone: '79007654321', sip: '1001', operators: ['1001'], chain: ['CALL', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'], by: 'operator', billsec: 4 },
    ],
  },
  {
    scenario: 'Q1', what: 'queue 700: 1001 answers, 1000 is cancelled',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950000700', sip: '1001', operators: ['1000', '1001'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 3, group: { kind: 'queue', ext: '700' } }],
  },
  {
    scenario: 'Q3', what: 'queue call while 1000 is paused: only 1001 rings',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950000700', sip: '1001', operators: ['1001'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 2, group: { kind: 'queue', ext: '700' } }],
  },
  {
    scenario: 'X1', what: 'inbound to 1000, attended transfer by feature code (*2) to 1001, completed while 1001 rings',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950001000', sip: '1001', operators: ['1000', '1001'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 14, transfers: '1000 > 1001' }],
  },
  {
    scenario: 'X4', what: 'inbound to 1000, attended transfer by feature code (*2) to 1001 after a consultation',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950001000', sip: '1001', operators: ['1000', '1001'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 16, transfers: '1000 > 1001' }],
  },
  {
    scenario: 'X2', what: 'ring group 600 answered by 1001, blind transfer to 1002',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950000600', sip: '1002', operators: ['1000', '1001', '1002'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 9, transfers: '1001 > 1002', group: { kind: 'ringgroup', ext: '600' } }],
  },
  {
    scenario: 'X3', what: 'ring group 600 answered by 1001, attended transfer (*2) to 1002',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950000600', sip: '1002', operators: ['1000', '1001', '1002'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH'], by: 'client', billsec: 14, transfers: '1001 > 1002', group: { kind: 'ringgroup', ext: '600' } }],
  },
  {
    scenario: 'X5', what: 'ring group 600, nobody answers within the ring time',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950000600', sip: null, operators: ['1000', '1001'], chain: ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_NOANSWER'], billsec: 0, group: { kind: 'ringgroup', ext: '600' } }],
  },
  {
    scenario: 'X6', what: 'ring group 600, the caller gives up while it rings (1001 happened to ring first)',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950000600', sip: null, operators: ['1001', '1000'], chain: ['CALL', 'OPERATOR_CALLTO', 'CLIENT_CANCEL'], billsec: 0, group: { kind: 'ringgroup', ext: '600' } }],
  },
  {
    scenario: 'X7', what: 'inbound to 1000, the caller gives up while it rings',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950001000', sip: null, operators: ['1000'], chain: ['CALL', 'OPERATOR_CALLTO', 'CLIENT_CANCEL'], billsec: 0 }],
  },
  {
    scenario: 'X8', what: 'queue 700, the caller gives up in the second round',
    calls: [{ direction: 'incoming', phone: '79001234567', did: '74950000700', sip: null, operators: ['1000', '1001'], chain: ['CALL', 'OPERATOR_CALLTO', 'CLIENT_CANCEL'], billsec: 0, group: { kind: 'queue', ext: '700' } }],
  },
];

describe('PBX calls from the recorded traces', () => {
  it.each(CASES)('$scenario: $what', ({ scenario, calls }) => {
    const { calls: got, ended } = replay(scenario);
    expect(got).toHaveLength(calls.length);
    // every call ended exactly once, at its last Hangup
    expect(new Set(ended).size).toBe(ended.length);
    expect(ended).toHaveLength(calls.length);
    for (const [i, want] of calls.entries()) {
      const s = got[i]!;
      expect(s.direction).toBe(want.direction);
      expect(s.phone).toBe(want.phone);
      if (want.did !== undefined) expect(s.did).toBe(want.did);
      expect(s.sip).toBe(want.sip);
      expect(s.operators).toEqual(want.operators);
      expect(chainOf(s)).toEqual(want.chain);
      expect(s.final).toBe(true);
      expect(s.billsec).toBe(want.billsec);
      if (want.by) expect(s.chain.at(-1)!.details.by).toBe(want.by);
      expect(transferPath(s.transfers)).toBe(want.transfers ?? null);
      if (want.recording) expect(s.recordingFile).toMatch(want.recording);
      // a ring group or queue makes a group call (the parent of one call per operator rung); the rest go to one operator
      expect(s.group).toEqual(want.group ?? null);
      // times read in order, and the end is the last Hangup of the linkedid
      const times = s.chain.map((c) => c.at);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(s.endedAt).toBe(Math.max(...s.legs.map((l) => l.end_at ?? 0)));
      expect(s.answeredAt === null).toBe(want.billsec === 0 && !want.chain.includes('FINISH'));
    }
  });

  it('E4: the losing member leg ends with DialEnd CANCEL and cause 26, the winner is the call\'s operator', () => {
    const s = replay('E4').calls[0]!;
    const loser = s.legs.find((l) => l.sip === '1000')!;
    const winner = s.legs.find((l) => l.sip === '1001')!;
    expect(loser).toMatchObject({ dial_status: 'CANCEL', cause: 26, answer_at: null });
    expect(winner).toMatchObject({ dial_status: 'ANSWER', cause: 16 });
    expect(s.answeredAt).toBe(winner.answer_at);
  });

  it('E4: the group call has one child per member rung, with stable uuids and their own times', () => {
    const s = replay('E4').calls[0]!;
    const row = { groupKind: s.group!.kind, legs: s.legs as unknown as Array<Record<string, unknown>>, linkedid: s.linkedid };
    const parent = 'ab'.repeat(16);
    const members = membersOf(row, parent);
    expect(members.map((m) => m.sip).sort()).toEqual(['1000', '1001']);
    const loser = members.find((m) => m.sip === '1000')!;
    const winner = members.find((m) => m.sip === '1001')!;
    expect(loser).toMatchObject({ dial_status: 'CANCEL', cause: 26, answer_at: null });
    expect(winner.answer_at).toBe(s.answeredAt);
    expect(winner.end_at).not.toBeNull();
    for (const m of members) {
      expect(m.uuid).toMatch(/^[0-9a-f]{12}8[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
      expect(m.uuid).not.toBe(parent);
      expect(m.ring_at).toBeGreaterThanOrEqual(s.startedAt);
    }
    expect(new Set(members.map((m) => m.uuid)).size).toBe(2);
    // the same call read again (a restart) names its children the same way; another parent names them otherwise
    expect(membersOf(row, parent).map((m) => m.uuid)).toEqual(members.map((m) => m.uuid));
    expect(membersOf(row, 'cd'.repeat(16)).map((m) => m.uuid)).not.toContain(winner.uuid);
    // a call to one operator has no children
    expect(membersOf({ ...row, groupKind: null }, parent)).toEqual([]);
  });

  it('E2: a busy client gives cause 17 and no answer time', () => {
    const s = replay('E2').calls[0]!;
    expect(s.chain.at(-1)!.details).toMatchObject({ cause: 17, dialStatus: 'BUSY' });
    expect(s.answeredAt).toBeNull();
  });

  it('a click-to-call (its linkedid is the daemon\'s own) makes no PBX call', () => {
    const own = replay('E1').calls[0]!.linkedid;
    expect(replay('E1', { ownLinkedids: [own] }).calls).toHaveLength(0);
  });

  it('the channels of an AMI-mode click-to-call (CALLBRIDGE_CALL_ID set on the operator leg) make no PBX call', () => {
    const mirror = new ChannelMirror({ operatorContexts: new Set(['from-internal']) });
    let opened = 0;
    for (const m of readJsonl<TraceMessage>('A1/ami.jsonl')) {
      if (m.kind !== 'event') continue;
      const msg = lowerCased(m);
      for (const c of mirror.handle(msg, m.recv_ms)) if (c.type === 'opened') opened++;
      // the daemon's Originate sets this variable right after Newchannel
      if (msg.event === 'Newchannel' && msg.uniqueid === msg.linkedid && String(msg.channel).startsWith('PJSIP/1000')) {
        mirror.handle({ event: 'VarSet', channel: msg.channel!, uniqueid: msg.uniqueid!, linkedid: msg.linkedid!, variable: 'CALLBRIDGE_CALL_ID', value: '7' }, m.recv_ms);
      }
    }
    expect(opened).toBe(0);
  });

  it('channels named by the daemon over ARI (cb-…) make no PBX call', () => {
    const mirror = new ChannelMirror({ operatorContexts: new Set(['from-internal']) });
    const base = { channelstatedesc: 'Down', context: 'from-internal', exten: 's', calleridnum: '101' };
    expect(mirror.handle({ event: 'Newchannel', channel: 'PJSIP/101-00000001', uniqueid: 'cb-5-op-1', linkedid: 'cb-5-op-1', ...base }, 1)).toHaveLength(1);
    const changes = mirror.handle({ event: 'DialBegin', channel: 'PJSIP/101-00000001', uniqueid: 'cb-5-op-1', linkedid: 'cb-5-op-1', destchannel: 'PJSIP/clients-00000002', destuniqueid: 'x.1', destlinkedid: 'cb-5-op-1', destcontext: 'from-pstn', dialstring: '380@clients', ...base }, 2);
    expect(changes.some((c) => c.type === 'opened' || c.type === 'dial')).toBe(false);
  });

  it('attended transfer: the colleague of the consultation call joins the transferred call, 1000 > 1001', () => {
    const mirror = new ChannelMirror({ operatorContexts: new Set(['from-internal']) });
    const ch = (name: string, uniqueid: string, linkedid: string, state: string, context: string, extra: Record<string, string> = {}) =>
      ({ channel: name, uniqueid, linkedid, channelstatedesc: state, context, exten: 's', calleridnum: '', ...extra });
    const client = ch('PJSIP/clients-00000001', 'L1', 'L1', 'Ring', 'from-pstn', { exten: '74950001000', calleridnum: '79001234567' });
    const op1 = ch('PJSIP/1000-00000002', 'L1.1', 'L1', 'Down', 'from-internal');
    const consult = ch('PJSIP/1000-00000003', 'L2', 'L2', 'Ring', 'from-internal', { exten: '1001' });
    const colleague = ch('PJSIP/1001-00000004', 'L2.1', 'L2', 'Down', 'from-internal');
    const dest = (c: Record<string, string>) => Object.fromEntries(Object.entries(c).map(([k, v]) => [`dest${k}`, v]));
    const pre = (p: string, c: Record<string, string>) => Object.fromEntries(Object.entries(c).map(([k, v]) => [`${p}${k}`, v]));
    const feed: Array<[Record<string, string>, number]> = [
      [{ event: 'Newchannel', ...client }, 0],
      [{ event: 'Newchannel', ...op1 }, 10],
      [{ event: 'DialBegin', ...client, ...dest(op1), dialstring: '1000' }, 10],
      [{ event: 'DialEnd', ...client, ...dest({ ...op1, channelstatedesc: 'Up' }), dialstatus: 'ANSWER' }, 1000],
      [{ event: 'Newchannel', ...consult }, 3000],
      [{ event: 'Newchannel', ...colleague }, 3010],
      [{ event: 'DialBegin', ...consult, ...dest(colleague), dialstring: '1001' }, 3010],
      [{ event: 'DialEnd', ...consult, ...dest({ ...colleague, channelstatedesc: 'Up' }), dialstatus: 'ANSWER' }, 5000],
      [{ event: 'AttendedTransfer', result: 'Success', ...pre('origtransferer', op1), ...pre('secondtransferer', { ...consult, connectedlinenum: '1001' }), desttype: 'Bridge' }, 7000],
      [{ event: 'Hangup', ...op1, cause: '16' }, 7001],
      [{ event: 'Hangup', ...consult, cause: '16' }, 7002],
      [{ event: 'Hangup', ...client, linkedid: 'L1', cause: '16' }, 12_000],
      [{ event: 'Hangup', ...colleague, linkedid: 'L1', cause: '16' }, 12_001],
    ];
    const ended: string[] = [];
    for (const [m, at] of feed) for (const c of mirror.handle(m, at)) if (c.type === 'ended') ended.push(c.call.linkedid);
    expect(ended.sort()).toEqual(['L1', 'L2']);
    const main = summarize(mirror.calls.get('L1')!);
    expect(main).toMatchObject({ direction: 'incoming', sip: '1001', operators: ['1000', '1001'], billsec: 11 });
    expect(transferPath(main.transfers)).toBe('1000 > 1001');
    expect(main.chain.map((c) => c.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH']);
    expect(main.chain.at(-1)!.details.by).toBe('client');
    // the consultation is an internal call of its own that took place
    const side = summarize(mirror.calls.get('L2')!);
    expect(side).toMatchObject({ direction: 'internal', phone: '1000', sip: '1001' });
    expect(side.chain.at(-1)!.status).toBe('FINISH');
  });

  it.each([
    ['1000', { kind: 'phone', endpoint: '1000' }],
    ['PJSIP/1000', { kind: 'phone', endpoint: '1000' }],
    ['1000/sip:1000@10.0.0.5:5060', { kind: 'phone', endpoint: '1000' }],
    ['79001234567@clients', { kind: 'trunk', endpoint: 'clients' }],
    ['PJSIP/79001234567@trunk-1', { kind: 'trunk', endpoint: 'trunk-1' }],
    ['Local/1000@from-queue/n', undefined],
    ['1001@from-internal-ring/n', { kind: 'trunk', endpoint: 'from-internal-ring' }],
  ] as const)('dial string %s', (s, want) => {
    expect(kindOfDialString(s)).toEqual(want);
  });
});
