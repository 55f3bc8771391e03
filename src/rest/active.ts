/**
 * A call in progress as `GET /rest/calls/active/v3` shows it (seed 003), pure:
 * uuid, parentUuid, lastEvent (call.dial until the conversation begins, then
 * call.bridge), dialAt / bridgeAt (epoch ms), lgDirection (1 internal,
 * 2 outgoing, 4 incoming), leg (the operator; of an internal call the caller),
 * leg2 (the called extension of an internal call), otherLegs (the client, with
 * the contact book's name when it knows the number), trunkNum / trunkName.
 *
 * A call to a group (ring group, queue) is listed as its parent, whose leg is
 * the group, followed by a row for each operator whose phone rings or who
 * talks now (a child call: its own uuid, parentUuid = the parent's, leg = the
 * operator, dialAt / bridgeAt its own); operators whose phones stopped
 * ringing are no longer listed.
 */
import type { CallRow } from '../db/schema.js';
import { membersOf, type Member } from '../calls/children.js';

export const LG_DIRECTION = { internal: 1, outgoing: 2, incoming: 4 } as const;

export interface LegUser {
  id: number;
  ext: string;
  displayName: string;
}

export interface Contact {
  id: number;
  name: string | null;
  companyName: string | null;
  num: string;
}

export interface ActiveDeps {
  uuidOf(callId: number): string;
  user(ext: string): LegUser;
  /** a ring group or queue as the leg of a group call */
  group(kind: 'ringgroup' | 'queue', ext: string | null): { id: number | null; ext: string | null; displayName: string };
  contact(phone: string): Contact | undefined;
  /** the contact's link (the contact book's API path) */
  contactUrl(id: number): string | null;
  /** the company number of outgoing calls */
  trunk: string | undefined;
}

/** When the conversation began: the client's answer of a click-to-call, the answer of the party that talked of a PBX call. */
export function bridgeAtOf(call: CallRow): number | null {
  return call.origin === 'api' ? call.clientAnswerAt : call.answeredAt;
}

/** The operator a call is shown under: who talked, else the click-to-call's operator, else the first whose phone rang. */
export function operatorOf(call: CallRow): string | null {
  return call.sip ?? call.operators?.[0] ?? null;
}

export function otherLegsOf(phone: string | null, deps: Pick<ActiveDeps, 'contact' | 'contactUrl'>): Array<Record<string, unknown>> | null {
  if (!phone) return null;
  const c = deps.contact(phone);
  return [{ id: c ? String(c.id) : null, name: c?.name ?? null, num: phone, companyName: c?.companyName ?? null, url: c ? deps.contactUrl(c.id) : null }];
}

/** The row of a call (of a group call: its parent). */
export function activeCall(call: CallRow, deps: ActiveDeps): Record<string, unknown> {
  const internal = call.direction === 'internal';
  const leg = (ext: string | null) => (ext ? deps.user(ext) : null);
  const callee = call.groupKind ? deps.group(call.groupKind, call.groupExt) : leg(operatorOf(call));
  const bridgeAt = bridgeAtOf(call);
  const trunkNum = internal ? null : call.direction === 'incoming' ? call.did : (deps.trunk ?? null);
  const legs = call.legs ?? [];
  const firstRing = legs.map((l) => l.ring_at).filter((t): t is number => typeof t === 'number');
  return {
    uuid: deps.uuidOf(call.id),
    parentUuid: null,
    lastEvent: bridgeAt !== null ? 'call.bridge' : 'call.dial',
    dialAt: call.operatorRingAt ?? call.clientRingAt ?? (call.origin === 'pbx' && firstRing.length > 0 ? Math.min(...firstRing) : call.createdAt),
    bridgeAt,
    lgDirection: LG_DIRECTION[call.direction],
    leg: internal ? leg(call.phone) : callee,
    leg2: internal ? callee : null,
    otherLegs: internal ? null : otherLegsOf(call.phone, deps),
    trunkNum,
    trunkName: trunkNum,
  };
}

/** The row of an operator a group call rings or talks to now (`parent`: the call's own row). */
export function activeChild(call: CallRow, parent: Record<string, unknown>, m: Member, deps: ActiveDeps): Record<string, unknown> {
  const internal = call.direction === 'internal';
  const member = deps.user(m.sip);
  return {
    ...parent,
    uuid: m.uuid,
    parentUuid: parent.uuid,
    lastEvent: m.answer_at !== null ? 'call.bridge' : 'call.dial',
    dialAt: m.ring_at,
    bridgeAt: m.answer_at,
    leg: internal ? parent.leg : member,
    leg2: internal ? member : null,
  };
}

/** The rows of a call in progress: the call, and of a group call the operators it rings or talks to now. */
export function activeRows(call: CallRow, deps: ActiveDeps): Array<Record<string, unknown>> {
  const parent = activeCall(call, deps);
  if (!call.groupKind) return [parent];
  const rows = [parent];
  for (const m of membersOf(call, String(parent.uuid))) if (m.end_at === null) rows.push(activeChild(call, parent, m, deps));
  return rows;
}
