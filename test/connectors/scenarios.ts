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
