/**
 * A call in progress as `GET /rest/calls/active/v3` shows it (seed 003), pure:
 * uuid, parentUuid, lastEvent (call.dial until the conversation begins, then
 * call.bridge), dialAt / bridgeAt (epoch ms), lgDirection (1 internal,
 * 2 outgoing, 4 incoming), leg (the operator; of an internal call the caller),
 * leg2 (the called extension of an internal call), otherLegs (the client, with
 * the contact book's name when it knows the number), trunkNum / trunkName.
 */
import type { CallRow } from '../db/schema.js';

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

export function activeCall(call: CallRow, deps: ActiveDeps): Record<string, unknown> {
  const internal = call.direction === 'internal';
  const operator = operatorOf(call);
  const leg = (ext: string | null) => (ext ? deps.user(ext) : null);
  const bridgeAt = bridgeAtOf(call);
  const trunkNum = internal ? null : call.direction === 'incoming' ? call.did : (deps.trunk ?? null);
  return {
    uuid: deps.uuidOf(call.id),
    parentUuid: null,
    lastEvent: bridgeAt !== null ? 'call.bridge' : 'call.dial',
    dialAt: call.operatorRingAt ?? call.clientRingAt ?? call.createdAt,
    bridgeAt,
    lgDirection: LG_DIRECTION[call.direction],
    leg: internal ? leg(call.phone) : leg(operator),
    leg2: internal ? leg(operator) : null,
    otherLegs: internal ? null : otherLegsOf(call.phone, deps),
    trunkNum,
    trunkName: trunkNum,
  };
}
