/**
 * phonet (seed 003, the PBX calling the CRM): JSON POST of `call.dial` (the
 * call's first ringing), `call.bridge` (the conversation begins) and
 * `call.hangup` (the end of a call that rang), with the seed's fields:
 * event, accountDomain, uuid (the call's uuid, 32 hex digits), parentUuid,
 * dialAt, bridgeAt, serverTime (epoch ms), lgDirection (1 internal,
 * 2 outgoing, 4 incoming), leg {id, ext, displayName} (the operator; of an
 * internal call the caller), leg2 (the called extension of an internal call),
 * otherLegs (the client, named by the contact book when it has the number), trunkNum and trunkName (the DID of an incoming call).
 *
 * A call to a group (ring group, queue) is the parent: each operator the group
 * rings is a child call with its own uuid and `parentUuid` = the group call's
 * uuid, and gets its own call.dial (its phone rings), call.bridge (it
 * answered) and call.hangup (its phone left the call: answered elsewhere,
 * rang out, or the conversation ended), from the member.* events. The parent
 * itself sends none: its leg would be a group, not a user.
 *
 * `call_settings_url` (optional) is asked for the caller name before an
 * operator's phone rings (src/connectors/call-settings.ts).
 */
import { z } from 'zod';
import { defineConnector } from './module.js';
import { chainHas, isFirstRinging, type CallSnapshot, type MemberFacts, type OutboundEvent } from './types.js';

export type PhonetOptions = {
  account_domain: string;
  /** extension → the name shown as displayName */
  display_names?: Record<string, string> | undefined;
  /** trunkName of outgoing calls (the company number), and of incoming ones instead of the DID */
  trunk_name?: string | undefined;
  call_settings_url?: string | undefined;
  call_settings_timeout_ms: number;
};

const LG_DIRECTION = { internal: 1, outgoing: 2, incoming: 4 } as const;

/** The moment of the conversation's start in the chain: the operator's answer (incoming, internal) or the client's. */
function bridgeAt(call: CallSnapshot): number | null {
  const want = call.origin === 'pbx' && call.direction !== 'outgoing' ? 'OPERATOR_PICKUP' : 'CLIENT_PICKUP';
  return call.chain.find((c) => c.status === want)?.time ?? null;
}

function dialAt(call: CallSnapshot): number | null {
  return call.chain.find((c) => c.status === 'OPERATOR_CALLTO' || c.status === 'CLIENT_CALLTO')?.time ?? null;
}

const MEMBER_EVENT = { 'member.ringing': 'call.dial', 'member.answered': 'call.bridge', 'member.ended': 'call.hangup' } as const;

function memberOf(ev: OutboundEvent): MemberFacts | null {
  const m = ev.data.member as MemberFacts | undefined;
  return m && typeof m.uuid === 'string' && typeof m.sip === 'string' ? m : null;
}

export function phonetEventName(ev: OutboundEvent): 'call.dial' | 'call.bridge' | 'call.hangup' | null {
  if (!ev.call) return null;
  if (ev.type in MEMBER_EVENT) return memberOf(ev) ? MEMBER_EVENT[ev.type as keyof typeof MEMBER_EVENT] : null;
  // a group call speaks through its members
  if (ev.call.group) return null;
  if (isFirstRinging(ev)) return 'call.dial';
  if (ev.type === 'call.bridged') return 'call.bridge';
  if (ev.type === 'call.finished' && chainHas(ev, 'OPERATOR_CALLTO', 'CLIENT_CALLTO')) return 'call.hangup';
  return null;
}

export function phonetBody(ev: OutboundEvent, opts: PhonetOptions, serverTime: number): Record<string, unknown> | null {
  const event = phonetEventName(ev);
  const call = ev.call;
  if (!event || !call) return null;
  const legOf = (ext: string | null) =>
    ext === null ? null : { id: /^[1-9]\d{0,14}$/.test(ext) ? Number(ext) : null, ext, displayName: opts.display_names?.[ext] ?? ext };
  const rung = typeof ev.data.sip === 'string' && ev.data.sip !== '' ? ev.data.sip : null;
  const operator = event === 'call.dial' ? (rung ?? call.sip ?? call.operators[0] ?? null) : (call.sip ?? rung ?? call.operators[0] ?? null);
  const internal = call.direction === 'internal';
  const trunkNum = internal ? null : call.direction === 'incoming' ? call.did : null;
  const member = memberOf(ev);
  const callee = member ? member.sip : operator;
  return {
    event,
    accountDomain: opts.account_domain,
    uuid: member ? member.uuid : call.uuid.replaceAll('-', ''),
    parentUuid: member ? call.uuid.replaceAll('-', '') : null,
    dialAt: member ? member.ring_at : dialAt(call),
    bridgeAt: event === 'call.dial' ? null : member ? member.answer_at : bridgeAt(call),
    serverTime,
    lgDirection: LG_DIRECTION[call.direction],
    leg: internal ? legOf(call.phone) : legOf(callee),
    leg2: internal ? legOf(callee) : null,
    otherLegs: internal
      ? null
      : [{ id: call.contact ? String(call.contact.id) : null, name: call.contact?.name ?? null, num: call.phone, companyName: call.contact?.company_name ?? null, url: call.contact?.url ?? null }],
    trunkNum,
    trunkName: internal ? null : (opts.trunk_name ?? trunkNum),
  };
}

export const phonet = defineConnector<PhonetOptions>({
  type: 'phonet',
  options: {
    account_domain: z.string({ message: 'is required' }).regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a domain name'),
    display_names: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/), z.string().max(80).regex(/^[^\r\n]*$/)).optional(),
    trunk_name: z.string().max(80).regex(/^[^\r\n]*$/, 'must not contain CR or LF').optional(),
    call_settings_url: z
      .string()
      .refine((v) => /^https?:\/\//i.test(v) && URL.canParse(v), 'must be an http:// or https:// URL')
      .optional(),
    call_settings_timeout_ms: z.number({ message: 'must be a number' }).int().min(100).max(10_000).default(1500),
  },
  create: (settings) => ({
    settings,
    accepts: (ev) => phonetEventName(ev) !== null,
    request: (ev, ctx) => {
      const body = phonetBody(ev, settings, ctx.now());
      return body ? { url: settings.url, contentType: 'application/json', body: JSON.stringify(body) } : null;
    },
  }),
});
