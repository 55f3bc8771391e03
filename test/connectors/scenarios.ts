/**
 * Domain events of typical calls, built the way the outbox builds them (the
 * real derivation, a snapshot cut at each event's status), for the payload
 * tables of the connector modules.
 */
import { deriveCallEvents } from '../../src/outbox/derive.js';
import type { CallSnapshot, Direction, OutboundEvent, RecordingFacts } from '../../src/connectors/types.js';

export const T0 = Date.parse('2026-12-01T10:00:00.000Z');
export const UUID = '0f8e0c59-7a61-4c9f-9a1e-3f5c1b2a9d10';

interface Scenario {
  origin: 'api' | 'pbx';
  direction: Direction;
  phone: string;
  did?: string;
  /** the operator of the call (after it talked) */
  sip: string | null;
  orderId?: string;
  /** statuses with their offset from T0 (ms) and details */
  chain: Array<[string, number, Record<string, unknown>?]>;
  billsec?: number;
  recording?: boolean;
}

export const RECORDING: RecordingFacts = {
  id: 7,
  file: '/var/spool/asterisk/recording/order-15-call-12.wav',
  format: 'wav',
  size: 32044,
  duration: 35,
  url: 'http://pbx.local:8095/recordings/7',
  started_at: T0 + 9000,
  ended_at: T0 + 45000,
};

const FINAL = new Set(['FINISH', 'CLIENT_BUSY', 'CLIENT_CANCEL', 'OPERATOR_NOANSWER', 'CLIENT_NOANSWER', 'OPERATOR_BUSY', 'OPERATOR_OFFLINE', 'OPERATOR_CANCEL', 'ERROR']);

export function eventsOf(s: Scenario): OutboundEvent[] {
  const chain = s.chain.map(([status, dt, details]) => ({ status, time: T0 + dt, details: { ...(s.sip ? { sip: s.sip } : {}), phone: s.phone, ...details } }));
  const final = chain.at(-1)!;
  const derived = deriveCallEvents({
    origin: s.origin,
    direction: s.direction,
    before: [],
    steps: chain.map((c) => ({ status: c.status, at: c.time, details: c.details })),
    transfersBefore: 0,
    transfers: [],
    billsec: s.billsec ?? 0,
    cause: 16,
    causeText: 'Normal Clearing',
    hasRecordingFile: s.origin === 'pbx' && s.recording === true,
    recordingReady: false,
    at: final.time,
  });
  let n = 0;
  const snap = (upTo: number, recordings: RecordingFacts[]): CallSnapshot => {
    const cut = chain.slice(0, upTo + 1);
    const last = cut.at(-1)!;
    const isFinal = FINAL.has(last.status);
    const answer = cut.find((c) => c.status === (s.origin === 'pbx' && s.direction !== 'outgoing' ? 'OPERATOR_PICKUP' : 'CLIENT_PICKUP'));
    return {
      call_id: 12,
      uuid: UUID,
      origin: s.origin === 'api' ? 'click-to-call' : 'pbx',
      direction: s.direction,
      phone: s.phone,
      did: s.did ?? null,
      sip: s.sip,
      operators: [...new Set(cut.filter((c) => c.status === 'OPERATOR_CALLTO' || (c.status === 'CLIENT_CALLTO' && s.direction === 'outgoing')).map((c) => String(c.details.sip)))],
      order_id: s.orderId ?? null,
      external_key: null,
      linkedid: null,
      status: last.status,
      final: isFinal,
      started_at: T0,
      answered_at: answer?.time ?? null,
      ended_at: isFinal ? last.time : null,
      billsec: isFinal ? (s.billsec ?? 0) : null,
      recording_file: null,
      chain: cut,
      recordings,
    };
  };
  const out: OutboundEvent[] = derived.map((d) => {
    const idx = chain.map((c) => c.status).lastIndexOf(d.status!);
    return { id: `ev-${++n}`, type: d.type, time: d.time, call: snap(idx, []), data: d.data };
  });
  if (s.recording) {
    out.push({ id: `ev-${++n}`, type: 'recording.ready', time: RECORDING.ended_at!, call: snap(chain.length - 1, [RECORDING]), data: { recording: RECORDING, call_ended: true } });
  }
  return out;
}

export const SCENARIOS = {
  /** click-to-call 101 → 79001234567, talked 35 s */
  clickToCall: eventsOf({
    origin: 'api',
    direction: 'outgoing',
    phone: '79001234567',
    sip: '101',
    orderId: '15',
    chain: [['CALL', 0], ['OPERATOR_CALLTO', 100], ['OPERATOR_PICKUP', 1100], ['CLIENT_CALLTO', 1200], ['CLIENT_PICKUP', 9000], ['FINISH', 44000, { by: 'client', cause: 16 }]],
    billsec: 35,
    recording: true,
  }),
  /** click-to-call 101 → a busy client */
  busyClient: eventsOf({
    origin: 'api',
    direction: 'outgoing',
    phone: '79001234565',
    sip: '101',
    orderId: '16',
    chain: [['CALL', 0], ['OPERATOR_CALLTO', 100], ['OPERATOR_PICKUP', 1100], ['CLIENT_CALLTO', 1200], ['CLIENT_BUSY', 1500, { cause: 17, dialStatus: 'BUSY' }]],
  }),
  /** a client calls DID 74950001000, 101 answers, 20 s talk */
  inboundAnswered: eventsOf({
    origin: 'pbx',
    direction: 'incoming',
    phone: '79001234567',
    did: '74950001000',
    sip: '101',
    chain: [['CALL', 0], ['OPERATOR_CALLTO', 50], ['OPERATOR_PICKUP', 3000], ['FINISH', 23000, { by: 'client' }]],
    billsec: 20,
    recording: true,
  }),
  /** a client calls, 101 rings, the client hangs up */
  inboundAbandoned: eventsOf({
    origin: 'pbx',
    direction: 'incoming',
    phone: '79001234567',
    did: '74950001000',
    sip: null,
    chain: [['CALL', 0], ['OPERATOR_CALLTO', 50, { sip: '101' }], ['CLIENT_CANCEL', 4000, { cause: 16 }]],
  }),
};

/** Child uuids of the ring-group scenario's two operators. */
export const CHILD = { '101': '1a2b3c4d5e6f80718293a4b5c6d7e8f9', '102': '9f8e7d6c5b4a83928170f6e5d4c3b2a1' } as const;

/**
 * A client calls ring group 600 (DID 74950000600): 101 and 102 ring at 50 ms,
 * 102 answers at 3 s (101 is cancelled, answered elsewhere), 20 s talk. The
 * call's own events as for any inbound call, and the members' events between
 * them, before call.finished.
 */
function ringGroupAnswered(): OutboundEvent[] {
  const base = eventsOf({
    origin: 'pbx',
    direction: 'incoming',
    phone: '79001234567',
    did: '74950000600',
    sip: '102',
    chain: [['CALL', 0], ['OPERATOR_CALLTO', 50, { sip: '101' }], ['OPERATOR_PICKUP', 3000], ['FINISH', 23000, { by: 'client' }]],
    billsec: 20,
  });
  const m101 = { uuid: CHILD['101'], sip: '101', ring_at: T0 + 50, answer_at: null, end_at: null, dial_status: null, cause: null };
  const m102 = { uuid: CHILD['102'], sip: '102', ring_at: T0 + 50, answer_at: null, end_at: null, dial_status: null, cause: null };
  const steps: Array<[number, 'member.ringing' | 'member.answered' | 'member.ended', Record<string, unknown>]> = [];
  steps.push([T0 + 50, 'member.ringing', { ...m101 }], [T0 + 50, 'member.ringing', { ...m102 }]);
  const a102 = { ...m102, answer_at: T0 + 3000, dial_status: 'ANSWER' };
  const e101 = { ...m101, end_at: T0 + 3000, dial_status: 'CANCEL', cause: 26 };
  steps.push([T0 + 3000, 'member.answered', a102], [T0 + 3000, 'member.ended', e101], [T0 + 23000, 'member.ended', { ...a102, end_at: T0 + 23000, cause: 16 }]);
  const group = { kind: 'ringgroup' as const, ext: '600' };
  const members = (at: number) => steps.filter(([t]) => t <= at).reduce((acc, [, , m]) => ({ ...acc, [String(m.uuid)]: m }), {} as Record<string, Record<string, unknown>>);
  const out: OutboundEvent[] = [];
  const calls = base.filter((e) => e.type !== 'call.finished');
  const finished = base.filter((e) => e.type === 'call.finished');
  const memberEvents: OutboundEvent[] = steps.map(([t, type, m], i) => ({ id: `m-${i}`, type, time: t, call: { ...calls.filter((e) => e.time <= t).at(-1)!.call! }, data: { member: m } }));
  // in time order, the call's own news first at one moment, its end last
  for (const e of [...calls, ...memberEvents].sort((a, b) => a.time - b.time || (a.type.startsWith('member.') ? 1 : 0) - (b.type.startsWith('member.') ? 1 : 0))) out.push(e);
  out.push(...finished);
  return out.map((e) => ({ ...e, call: e.call && { ...e.call, group, members: Object.values(members(e.time)) as never } }));
}

export const GROUP_SCENARIOS = { ringGroupAnswered: ringGroupAnswered() };
