/**
 * What a PBX call is, derived from its mirrored channels: direction, the
 * client's number, the DID, the operators rung and the one who talked, leg
 * times, transfers, billsec, and the status chain. Pure; the same channels
 * always give the same answer, and a call that goes on only ever extends its
 * chain (so the service appends what is new).
 *
 * Chains:
 * - incoming (the first channel came in over a trunk) and internal (a phone
 *   called a phone): CALL, OPERATOR_CALLTO (a phone rings), OPERATOR_PICKUP
 *   (a phone answered), then FINISH, or CLIENT_CANCEL (the caller gave up),
 *   OPERATOR_NOANSWER (nobody answered in time), OPERATOR_BUSY,
 *   OPERATOR_OFFLINE (the phone is not reachable), ERROR;
 * - outgoing (a phone dialled out over a trunk): CALL, CLIENT_CALLTO,
 *   CLIENT_PICKUP, then FINISH, or CLIENT_NOANSWER, CLIENT_BUSY,
 *   OPERATOR_CANCEL (the operator hung up while it rang), ERROR.
 */
import type { CallStatus } from '../calls/chain.js';
import { causeText as q850Text } from '../calls/causes.js';
import type { MirrorCall, MirrorChannel, Transfer } from './mirror.js';

export type Direction = 'incoming' | 'outgoing' | 'internal';

export interface Leg {
  uniqueid: string;
  channel: string;
  role: 'client' | 'operator';
  sip?: string;
  number?: string;
  created_at: number;
  /** the leg that dialled this one */
  dialed_by: string | null;
  ring_at: number | null;
  answer_at: number | null;
  end_at: number | null;
  cause: number | null;
  dial_status: string | null;
}

export interface DerivedStatus {
  status: CallStatus;
  at: number;
  details: Record<string, unknown>;
}

/** A call to a group of operators: a FreePBX ring group (or any dial of several phones at once), or an app_queue queue. */
export interface CallGroup {
  kind: 'ringgroup' | 'queue';
  /** the ring group's number or the queue's name; null when the PBX did not name it */
  ext: string | null;
}

export interface PbxCallSummary {
  linkedid: string;
  direction: Direction;
  /** the group the call went to; null for a call to one operator (and for outgoing calls) */
  group: CallGroup | null;
  phone: string | null;
  did: string | null;
  /** the operator who talked (the last one to answer, after transfers) */
  sip: string | null;
  operators: string[];
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  billsec: number | null;
  legs: Leg[];
  transfers: Transfer[];
  recordingFile: string | null;
  chain: DerivedStatus[];
  final: boolean;
  cause: number | null;
  causeText: string | null;
}

const byTime = (a: MirrorChannel, b: MirrorChannel): number => a.createdAt - b.createdAt;

function firstChannel(call: MirrorCall): MirrorChannel | undefined {
  return call.channels.get(call.linkedid) ?? [...call.channels.values()].sort(byTime)[0];
}

/** Where the dialled number sits in a dial string: `79001234567@clients` → `79001234567`. */
function numberOfDialString(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const m = /^(?:[A-Za-z0-9]+\/)?([^@/]+)@/.exec(s);
  return m ? m[1] : undefined;
}

export function directionOf(call: MirrorCall): Direction {
  const first = firstChannel(call);
  if (!first || first.kind === 'trunk') return 'incoming';
  for (const c of call.channels.values()) if (c.kind === 'trunk') return 'outgoing';
  return 'internal';
}

function clientSide(call: MirrorCall, direction: Direction, ch: MirrorChannel): boolean {
  if (direction === 'internal') return ch.uniqueid === call.linkedid;
  return ch.kind === 'trunk';
}

/** Phones the call rang (not the one that placed it), in the order they rang. */
function rungPhones(call: MirrorCall): MirrorChannel[] {
  return [...call.channels.values()]
    .filter((c) => c.kind === 'phone' && c.uniqueid !== call.linkedid && (c.dialedBy !== undefined || c.dialString !== undefined))
    .sort((a, b) => (a.ringAt ?? a.createdAt) - (b.ringAt ?? b.createdAt));
}

/**
 * Whether an incoming or internal call went to a group: the PBX named a queue
 * (QueueCallerJoin) or a ring group (RINGGROUP_INDEX), or a phone was rung
 * through a Local channel (how FreePBX rings group members). Each is known
 * before the first phone rings, so a call is a group call from its first ring
 * on; phones rung after the first answer (transfers) do not make one. A plain
 * Dial of several phones (`Dial(PJSIP/1000&PJSIP/1001)`) is one call to the
 * phones it rings, as is a transfer to another operator.
 */
export function groupOf(call: MirrorCall, direction: Direction, phones: readonly MirrorChannel[]): CallGroup | null {
  if (direction === 'outgoing') return null;
  if (call.queue) return { kind: 'queue', ext: call.queue.name || null };
  if (call.ringGroup !== undefined) return { kind: 'ringgroup', ext: call.ringGroup || null };
  // Only the phones rung before anyone answered: a transfer rings its target through a Local channel too
  // (a feature transfer, *2, dials Local/<ext>@from-internal-xfer: X1), and that makes no ring group.
  const firstAnswer = Math.min(...phones.map((p) => p.answerAt ?? Infinity));
  const throughLocal = (p: MirrorChannel) => p.dialedBy !== undefined && call.channels.get(p.dialedBy)?.kind === 'local';
  if (phones.some((p) => (p.ringAt ?? p.createdAt) < firstAnswer && throughLocal(p))) return { kind: 'ringgroup', ext: null };
  return null;
}

/** A rung leg that answered (its DialEnd said so, or it was seen Up). */
export const answered = (c: MirrorChannel): boolean => c.dialStatus === 'ANSWER' || (c.answerAt !== undefined && c.dialedBy !== undefined);

function outerDialStatuses(call: MirrorCall, first: MirrorChannel | undefined): string[] {
  const out: string[] = [];
  for (const c of call.channels.values()) {
    if (c.dialedBy !== undefined && c.dialedBy === first?.uniqueid && c.dialStatus) out.push(c.dialStatus);
  }
  return out;
}

function withCause(details: Record<string, unknown>, ch: MirrorChannel | undefined): Record<string, unknown> {
  if (ch?.cause !== undefined) {
    details.cause = ch.cause;
    details.causeText = ch.causeText ?? q850Text(ch.cause) ?? undefined;
  }
  return details;
}

export function summarize(call: MirrorCall): PbxCallSummary {
  const first = firstChannel(call);
  const direction = directionOf(call);
  const channels = [...call.channels.values()].sort(byTime);
  const phones = rungPhones(call);
  const trunks = channels.filter((c) => c.kind === 'trunk' && c.uniqueid !== call.linkedid);
  const dialledTrunk = trunks.find((c) => c.dialedBy !== undefined || c.dialString !== undefined);

  let phone: string | null;
  let sip: string | null;
  let operators: string[];
  let talkAt: number | null = null;
  const chain: DerivedStatus[] = [{ status: 'CALL', at: call.startedAt, details: {} }];

  const answeredPhones = phones.filter(answered).sort((a, b) => (a.answerAt ?? 0) - (b.answerAt ?? 0));
  if (direction === 'outgoing') {
    phone = numberOfDialString(dialledTrunk?.dialString) ?? (first?.exten0 || null);
    sip = first?.endpoint ?? null;
    operators = sip ? [sip] : [];
    const details = { sip, phone };
    chain[0]!.details = { ...details, direction };
    if (dialledTrunk) {
      chain.push({ status: 'CLIENT_CALLTO', at: dialledTrunk.ringAt ?? dialledTrunk.createdAt, details: { ...details } });
      if (answered(dialledTrunk)) {
        talkAt = dialledTrunk.answerAt ?? null;
        chain.push({ status: 'CLIENT_PICKUP', at: talkAt ?? dialledTrunk.createdAt, details: { ...details } });
      }
    }
  } else {
    phone = direction === 'incoming' ? first?.callerNum || null : (first?.endpoint ?? null);
    operators = [...new Set(phones.map((c) => c.endpoint ?? '').filter((s) => s !== ''))];
    const lastTalker = answeredPhones.at(-1);
    sip = lastTalker?.endpoint ?? null;
    chain[0]!.details = { phone, direction };
    if (phones[0]) chain.push({ status: 'OPERATOR_CALLTO', at: phones[0].ringAt ?? phones[0].createdAt, details: { sip: phones[0].endpoint, phone } });
    const firstTalker = answeredPhones[0];
    if (firstTalker) {
      talkAt = firstTalker.answerAt ?? null;
      chain.push({ status: 'OPERATOR_PICKUP', at: talkAt ?? firstTalker.createdAt, details: { sip: firstTalker.endpoint, phone } });
    }
  }

  const endedAt = call.ended ? Math.max(...channels.map((c) => c.endAt ?? 0)) : null;
  let cause: MirrorChannel | undefined;
  if (call.ended && endedAt !== null) {
    const fin = finalOf(call, direction, first, phones, dialledTrunk, talkAt !== null);
    cause = fin.causeOf;
    const details = withCause({ ...fin.details, sip: sip ?? undefined, phone }, fin.causeOf);
    if (call.endSource) details.end = call.endSource;
    chain.push({ status: fin.status, at: endedAt, details });
  }

  const legs: Leg[] = channels
    .filter((c) => c.kind === 'phone' || c.kind === 'trunk')
    .map((c) => ({
      uniqueid: c.uniqueid,
      channel: c.name,
      role: c.kind === 'trunk' ? 'client' : 'operator',
      ...(c.kind === 'phone' && c.endpoint ? { sip: c.endpoint } : {}),
      ...(c.kind === 'trunk' ? { number: (c.uniqueid === call.linkedid ? c.callerNum : numberOfDialString(c.dialString)) || undefined } : {}),
      created_at: c.createdAt,
      dialed_by: c.dialedBy ?? null,
      ring_at: c.ringAt ?? null,
      answer_at: c.answerAt ?? null,
      end_at: c.endAt ?? null,
      cause: c.cause ?? null,
      dial_status: c.dialStatus ?? null,
    }));

  const did = call.did ?? (first?.kind === 'trunk' && first.exten0 && first.exten0 !== 's' ? first.exten0 : null);
  return {
    linkedid: call.linkedid,
    direction,
    group: groupOf(call, direction, phones),
    phone,
    did: direction === 'incoming' ? did : null,
    sip,
    operators,
    startedAt: call.startedAt,
    answeredAt: talkAt,
    endedAt,
    billsec: endedAt === null ? null : talkAt === null ? 0 : Math.max(0, Math.round((endedAt - talkAt) / 1000)),
    legs,
    transfers: call.transfers,
    recordingFile: call.recordingFile ?? null,
    chain,
    final: call.ended,
    cause: cause?.cause ?? null,
    causeText: cause?.cause !== undefined ? (cause.causeText ?? q850Text(cause.cause) ?? null) : null,
  };
}

interface Final {
  status: CallStatus;
  details: Record<string, unknown>;
  causeOf: MirrorChannel | undefined;
}

function finalOf(
  call: MirrorCall,
  direction: Direction,
  first: MirrorChannel | undefined,
  phones: MirrorChannel[],
  trunk: MirrorChannel | undefined,
  talked: boolean,
): Final {
  if (talked) {
    const ender = call.firstHangup ? call.channels.get(call.firstHangup.uniqueid) : undefined;
    const by = ender ? (clientSide(call, direction, ender) ? 'client' : 'operator') : undefined;
    return { status: 'FINISH', details: by ? { by } : {}, causeOf: ender ?? first };
  }
  if (direction === 'outgoing') {
    const dial = trunk?.dialStatus;
    const details = dial ? { dialStatus: dial } : {};
    switch (dial) {
      case 'BUSY':
        return { status: 'CLIENT_BUSY', details, causeOf: trunk };
      case 'NOANSWER':
        return { status: 'CLIENT_NOANSWER', details, causeOf: trunk };
      case 'CONGESTION':
      case 'CHANUNAVAIL':
        return { status: 'ERROR', details: { ...details, reason: dial === 'CONGESTION' ? 'congestion: the trunk or route refused the call' : 'the trunk is unavailable' }, causeOf: trunk };
      case undefined:
      case '':
        return trunk
          ? { status: 'OPERATOR_CANCEL', details, causeOf: first }
          : { status: 'ERROR', details: { reason: 'the call ended before a trunk was dialled' }, causeOf: first };
      default:
        return { status: 'OPERATOR_CANCEL', details, causeOf: first };
    }
  }
  if (call.queue?.abandoned) return { status: 'CLIENT_CANCEL', details: { reason: `caller abandoned queue ${call.queue.name}` }, causeOf: first };
  const statuses = outerDialStatuses(call, first);
  const details = statuses.length > 0 ? { dialStatus: pick(statuses) } : {};
  if (call.queue && call.queue.left && !call.queue.connected) return { status: 'OPERATOR_NOANSWER', details: { ...details, reason: `queue ${call.queue.name}: no member answered` }, causeOf: first };
  if (statuses.includes('NOANSWER')) return { status: 'OPERATOR_NOANSWER', details, causeOf: phones[0] ?? first };
  if (statuses.includes('BUSY')) return { status: 'OPERATOR_BUSY', details, causeOf: phones.find((p) => p.dialStatus === 'BUSY') ?? first };
  if (statuses.length > 0 && statuses.every((s) => s === 'CHANUNAVAIL')) return { status: 'OPERATOR_OFFLINE', details, causeOf: first };
  if (statuses.includes('CONGESTION')) return { status: 'ERROR', details: { ...details, reason: 'congestion' }, causeOf: first };
  // Nobody answered and nothing timed out: the caller hung up (while it rang, or before anyone was rung).
  return { status: 'CLIENT_CANCEL', details, causeOf: first };
}

function pick(statuses: string[]): string {
  for (const s of ['ANSWER', 'NOANSWER', 'BUSY', 'CONGESTION', 'CHANUNAVAIL', 'CANCEL']) if (statuses.includes(s)) return s;
  return statuses[0]!;
}

/** `1000 > 1001 > 1002`, or null without transfers. */
export function transferPath(transfers: readonly Transfer[]): string | null {
  if (transfers.length === 0) return null;
  const path: string[] = [transfers[0]!.from ?? '?'];
  for (const t of transfers) path.push(t.to ?? '?');
  return path.join(' > ');
}
