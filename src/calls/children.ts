/**
 * The calls to each operator of a call to a group (a ring group or a queue),
 * as the hosted-PBX formats see them: the group call is the parent, and every
 * operator phone the group rang is a child call with its own uuid and
 * `parentUuid` = the group call's uuid.
 *
 * - `childUuid` makes a child's uuid from the parent's and the leg's channel:
 *   the same leg always gets the same uuid, before and after a restart;
 * - `membersOf` reads the children of a stored call from its legs (pure);
 * - `ChildCalls` keeps table call_children in line with the legs (called in
 *   the transaction that stores them) and finds the call a child uuid names.
 */
import { createHash } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/index.js';
import type { CallRow } from '../db/schema.js';

export interface Member {
  /** the child call's uuid, 32 hex digits */
  uuid: string;
  /** the operator leg's channel: Uniqueid and name */
  uniqueid: string;
  channel: string;
  sip: string;
  /** epoch ms: when its phone began to ring, answered, hung up */
  ring_at: number;
  answer_at: number | null;
  end_at: number | null;
  dial_status: string | null;
  cause: number | null;
}

/** 32 hex digits, shaped as a version-8 (name-based) uuid: sha256 of the parent's uuid and the leg's Uniqueid. */
export function childUuid(parentUuid: string, uniqueid: string): string {
  const h = createHash('sha256').update(`${parentUuid.replaceAll('-', '').toLowerCase()}/${uniqueid}`).digest('hex').slice(0, 32).split('');
  h[12] = '8';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return h.join('');
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The children of a group call, in the order their phones rang: every operator
 * leg the call rang (not the phone that placed an internal call). A call to
 * one operator has none.
 */
export function membersOf(call: Pick<CallRow, 'groupKind' | 'legs' | 'linkedid'>, parentUuid: string): Member[] {
  if (!call.groupKind) return [];
  const out: Member[] = [];
  for (const leg of call.legs ?? []) {
    const sip = str(leg.sip);
    const uniqueid = str(leg.uniqueid);
    if (leg.role !== 'operator' || sip === null || uniqueid === null || uniqueid === call.linkedid) continue;
    const dialedBy = str(leg.dialed_by);
    const ringAt = num(leg.ring_at);
    if (dialedBy === null && ringAt === null) continue;
    out.push({
      uuid: childUuid(parentUuid, uniqueid),
      uniqueid,
      channel: str(leg.channel) ?? '',
      sip,
      ring_at: ringAt ?? num(leg.created_at) ?? 0,
      answer_at: num(leg.answer_at),
      end_at: num(leg.end_at),
      dial_status: str(leg.dial_status),
      cause: num(leg.cause),
    });
  }
  return out.sort((a, b) => a.ring_at - b.ring_at || (a.uniqueid < b.uniqueid ? -1 : 1));
}

export interface ChildRef {
  callId: number;
  uniqueid: string;
}

export class ChildCalls {
  private readonly s: {
    row: Statement<[number], { groupKind: CallRow['groupKind']; legs: string | null; linkedid: string | null; final: number; direction: CallRow['direction'] }>;
    upsert: Statement;
    find: Statement<[string], { callId: number; uniqueid: string }>;
  };

  constructor(
    db: Db,
    private readonly uuidOf: (callId: number) => string,
  ) {
    const c = db.$client;
    this.s = {
      row: c.prepare('SELECT group_kind AS groupKind, legs, linkedid, final, direction FROM calls WHERE id = ?'),
      upsert: c.prepare(
        `INSERT INTO call_children (uuid, call_id, uniqueid, sip, created_at, answer_at, ended_at, dial_status, cause, final, direction)
         VALUES (@uuid, @callId, @uniqueid, @sip, @createdAt, @answerAt, @endedAt, @dialStatus, @cause, @final, @direction)
         ON CONFLICT (uuid) DO UPDATE SET sip = excluded.sip, created_at = excluded.created_at, answer_at = excluded.answer_at,
           ended_at = excluded.ended_at, dial_status = excluded.dial_status, cause = excluded.cause, final = excluded.final, direction = excluded.direction`,
      ),
      find: c.prepare('SELECT call_id AS callId, uniqueid FROM call_children WHERE uuid = ?'),
    };
  }

  /**
   * Writes the children of a call as its legs say (nothing for a call to one operator): the legs
   * just written when the caller has them, else the stored ones.
   */
  sync(callId: number, written?: Pick<CallRow, 'groupKind' | 'legs'>): void {
    const row = this.s.row.get(callId);
    const groupKind = written?.groupKind ?? row?.groupKind;
    if (!row || !groupKind) return;
    let legs: CallRow['legs'] = written?.legs ?? null;
    if (!written?.legs && row.legs) {
      try {
        legs = JSON.parse(row.legs) as CallRow['legs'];
      } catch {
        legs = null;
      }
    }
    const members = membersOf({ groupKind, legs, linkedid: row.linkedid }, this.uuidOf(callId));
    for (const m of members) {
      this.s.upsert.run({
        uuid: m.uuid,
        callId,
        uniqueid: m.uniqueid,
        sip: m.sip,
        createdAt: m.ring_at,
        answerAt: m.answer_at,
        endedAt: m.end_at,
        dialStatus: m.dial_status,
        cause: m.cause,
        final: row.final,
        direction: row.direction,
      });
    }
  }

  /** The call and leg a child uuid (32 hex digits) names, or undefined. */
  find(uuidHex: string): ChildRef | undefined {
    return this.s.find.get(uuidHex);
  }
}
