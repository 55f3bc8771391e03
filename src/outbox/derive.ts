/**
 * Domain events from the statuses the call service writes. Pure: the same
 * statuses always give the same events.
 *
 * | status | click-to-call (origin api) | PBX incoming / internal | PBX outgoing |
 * | --- | --- | --- | --- |
 * | first status of a call | call.started | call.started | call.started |
 * | OPERATOR_CALLTO | call.ringing, leg operator | call.ringing, leg operator | - |
 * | OPERATOR_PICKUP | call.answered, leg operator | call.answered, leg operator + call.bridged | - |
 * | CLIENT_CALLTO | call.ringing, leg client | - | call.ringing, leg client |
 * | CLIENT_PICKUP | call.answered, leg client + call.bridged | - | call.answered, leg client + call.bridged |
 * | a final status | call.finished | call.finished | call.finished |
 *
 * `call.bridged` is the start of the conversation (operator and client
 * connected). A call refused up front (a first status that is already final)
 * gives call.started and call.finished. Transfers of PBX calls give
 * call.transferred, one per new transfer.
 *
 * A call to a group (ring group, queue) also gives, for each operator the
 * group rings (a child call with its own uuid, src/calls/children.ts),
 * member.ringing when the phone begins to ring, member.answered when that
 * operator answers, and member.ended when the phone leaves the call
 * (answered elsewhere, rang out, or hung up after talking): deriveMemberEvents.
 */
import type { CallEventType, Direction, MemberFacts } from '../connectors/types.js';
import { FINAL_STATUSES } from '../calls/chain.js';

/** the final statuses (calls/chain.ts), for status names read as plain strings */
const FINAL: ReadonlySet<string> = FINAL_STATUSES;

export interface StatusWrite {
  status: string;
  /** epoch ms */
  at: number;
  details: Record<string, unknown>;
}

export interface DeriveInput {
  origin: 'api' | 'pbx';
  direction: Direction;
  /** statuses the call had before this write, in order */
  before: readonly string[];
  steps: readonly StatusWrite[];
  /** transfers known before this write, and now */
  transfersBefore: number;
  transfers: ReadonlyArray<Record<string, unknown>>;
  /** the call row after the write */
  billsec: number | null;
  cause: number | null;
  causeText: string | null;
  /** the PBX names a recording file for the call (PBX calls) */
  hasRecordingFile: boolean;
  /** a recording of the call is already complete (size and duration stored) */
  recordingReady: boolean;
  /** epoch ms of the write (for transfers) */
  at: number;
}

export interface DerivedEvent {
  type: CallEventType;
  time: number;
  /** the status that caused it (the call's chain is cut after it) */
  status: string | undefined;
  data: Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function deriveCallEvents(input: DeriveInput): DerivedEvent[] {
  const out: DerivedEvent[] = [];
  const seen = [...input.before];
  const api = input.origin === 'api';
  const conversationOnOperator = !api && input.direction !== 'outgoing';
  for (const s of input.steps) {
    const first = seen.length === 0;
    seen.push(s.status);
    const d = s.details;
    const party = { sip: str(d.sip), phone: str(d.phone) };
    if (first) out.push({ type: 'call.started', time: s.at, status: s.status, data: { ...party } });
    switch (s.status) {
      case 'OPERATOR_CALLTO':
        out.push({ type: 'call.ringing', time: s.at, status: s.status, data: { leg: 'operator', ...party } });
        break;
      case 'CLIENT_CALLTO':
        out.push({ type: 'call.ringing', time: s.at, status: s.status, data: { leg: 'client', ...party } });
        break;
      case 'OPERATOR_PICKUP':
        out.push({ type: 'call.answered', time: s.at, status: s.status, data: { leg: 'operator', ...party } });
        if (conversationOnOperator) out.push({ type: 'call.bridged', time: s.at, status: s.status, data: { ...party } });
        break;
      case 'CLIENT_PICKUP':
        out.push({ type: 'call.answered', time: s.at, status: s.status, data: { leg: 'client', ...party } });
        if (!conversationOnOperator) out.push({ type: 'call.bridged', time: s.at, status: s.status, data: { ...party } });
        break;
      default:
        break;
    }
    if (FINAL.has(s.status)) {
      const talked = seen.includes(conversationOnOperator ? 'OPERATOR_PICKUP' : 'CLIENT_PICKUP');
      out.push({
        type: 'call.finished',
        time: s.at,
        status: s.status,
        data: {
          status: s.status,
          billsec: input.billsec ?? 0,
          cause: typeof d.cause === 'number' ? d.cause : input.cause,
          cause_text: str(d.causeText) ?? input.causeText,
          by: str(d.by),
          reason: str(d.reason),
          dial_status: str(d.dialStatus),
          talked,
          // a recording.ready follows: click-to-calls record from the client's answer, PBX calls when the PBX names a file
          recording_expected: talked && !input.recordingReady && (api || input.hasRecordingFile),
          ...party,
        },
      });
    }
  }
  for (const t of input.transfers.slice(input.transfersBefore)) {
    out.push({
      type: 'call.transferred',
      time: typeof t.at === 'number' ? t.at : input.at,
      status: undefined,
      data: { from: str(t.from), to: str(t.to), kind: str(t.kind) },
    });
  }
  return out;
}

/** What became new for the members of a group call between two writes, in time order (ringing, answered, ended). */
export function deriveMemberEvents(before: readonly MemberFacts[], after: readonly MemberFacts[]): DerivedEvent[] {
  const was = new Map(before.map((m) => [m.uuid, m]));
  const out: DerivedEvent[] = [];
  for (const m of after) {
    const b = was.get(m.uuid);
    const data = (): Record<string, unknown> => ({ member: { ...m } });
    if (!b) out.push({ type: 'member.ringing', time: m.ring_at, status: undefined, data: data() });
    if (m.answer_at !== null && (!b || b.answer_at === null)) out.push({ type: 'member.answered', time: m.answer_at, status: undefined, data: data() });
    if (m.end_at !== null && (!b || b.end_at === null)) out.push({ type: 'member.ended', time: m.end_at, status: undefined, data: data() });
  }
  const rank: Record<string, number> = { 'member.ringing': 0, 'member.answered': 1, 'member.ended': 2 };
  return out.sort((a, b) => a.time - b.time || rank[a.type]! - rank[b.type]!);
}
