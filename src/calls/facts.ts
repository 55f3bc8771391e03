/**
 * The facts the PBX itself keeps per click-to-call, read back when the daemon
 * could not see how a call went (an AMI gap, a restart): the shipped
 * [callbridge-click2call] dialplan writes them to AstDB under
 * callbridge/<call id>/ (asterisk-config/extensions_custom.conf), the daemon
 * reads them with the AMI action DBGetTree. Pure: facts in, call events with
 * their real times out, so a call that ended unseen gets the status, billsec
 * and end time it really had, never the time the daemon noticed.
 */
import type { CallEvent } from './chain.js';
import { clientOutcome, operatorOutcome } from './causes.js';

export const FACTS_FAMILY = 'callbridge';

export interface CallFacts {
  /** the operator answered (epoch ms) */
  pickup?: number;
  /** the client was dialled */
  dialled?: number;
  linkedid?: string;
  /** the client answered */
  answered?: number;
  /** Dial's DIALSTATUS at the end (empty when Dial never ran) */
  dialStatus?: string;
  /** Dial's ANSWEREDTIME, whole seconds */
  answeredTime?: number;
  hangupCause?: number;
  /** CHANNEL(hangupsource): the channel whose hangup ended the call */
  hangupSource?: string;
  /** the operator channel hung up */
  ended?: number;
  /**
   * How the operator's channel ended, kept by [callbridge-ari-hangup] pushed at the Originate
   * (also for a phone that never answered, which runs no dialplan): its HANGUPCAUSE and end.
   */
  opCause?: number;
  opEnded?: number;
}

const time = (v: string | undefined): number | undefined => {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
};
const int = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

/**
 * DBGetTree items (`Key: /callbridge/<id>/<fact>`, `Val`) → the facts of call `callId`;
 * undefined when the PBX kept none.
 */
export function parseFacts(items: ReadonlyArray<{ key: string; val: string }>, callId: number): CallFacts | undefined {
  const prefix = `/${FACTS_FAMILY}/${callId}/`;
  const raw = new Map<string, string>();
  for (const { key, val } of items) if (key.startsWith(prefix)) raw.set(key.slice(prefix.length), val);
  if (raw.size === 0) return undefined;
  const f: CallFacts = {};
  const set = <K extends keyof CallFacts>(k: K, v: CallFacts[K] | undefined) => {
    if (v !== undefined && v !== '') f[k] = v;
  };
  set('pickup', time(raw.get('pickup')));
  set('dialled', time(raw.get('dialled')));
  set('linkedid', raw.get('linkedid'));
  set('answered', time(raw.get('answered')));
  if (raw.has('dialstatus')) f.dialStatus = raw.get('dialstatus') ?? '';
  set('answeredTime', int(raw.get('answeredtime')));
  set('hangupCause', int(raw.get('hangupcause')));
  set('hangupSource', raw.get('hangupsource'));
  set('ended', time(raw.get('ended')));
  set('opCause', int(raw.get('op_cause')));
  set('opEnded', time(raw.get('op_ended')));
  return f;
}

/** The facts say the operator's channel is gone: the call is over for the PBX. */
export const operatorGone = (f: CallFacts | undefined): boolean => f?.ended !== undefined || f?.opEnded !== undefined;

export interface TimedEvent {
  ev: CallEvent;
  at: number;
}

/**
 * The events a call's facts stand for, in order and each at its own time.
 * `operatorEndpoint` (e.g. PJSIP/101) tells an operator's hangup from a
 * client's. A call whose facts stop before its end (the operator channel has
 * not hung up yet) gets only the events up to where they stop.
 */
export function factEvents(f: CallFacts, operatorEndpoint: string): TimedEvent[] {
  const out: TimedEvent[] = [];
  const reason = 'ended while callbridge could not see it; outcome from the facts the PBX kept';
  if (f.pickup !== undefined) out.push({ ev: { type: 'operator_answered' }, at: f.pickup });
  if (f.dialled !== undefined) out.push({ ev: { type: 'client_dialing' }, at: f.dialled });
  if (f.answered !== undefined) out.push({ ev: { type: 'client_answered', dialStatus: 'ANSWER' }, at: f.answered });
  if (f.pickup === undefined && f.ended === undefined && f.opEnded !== undefined) {
    // the operator's phone never answered: rung, then busy, unanswered or failed, as its hangup cause says
    const opCause = f.opCause !== undefined ? { cause: f.opCause } : {};
    const outcome = operatorOutcome({ cause: f.opCause, channelCreated: true });
    out.push({ ev: { type: 'operator_failed', outcome, ...opCause, reason }, at: f.opEnded });
    return out;
  }
  const endedAt = f.ended ?? f.opEnded;
  if (endedAt === undefined) return out;
  const hangupCause = f.hangupCause ?? f.opCause;
  const cause = hangupCause !== undefined ? { cause: hangupCause } : {};
  const status = f.dialStatus ?? '';
  if (f.answered !== undefined || status === 'ANSWER') {
    const byOperator = f.hangupSource !== undefined && f.hangupSource.startsWith(`${operatorEndpoint}-`);
    const byClient = f.hangupSource !== undefined && f.hangupSource !== '' && !byOperator;
    if (f.answered === undefined) {
      // answered, but the U() fact is missing: the talk time Dial measured puts the answer before the end
      out.push({ ev: { type: 'client_answered', dialStatus: 'ANSWER' }, at: endedAt - (f.answeredTime ?? 0) * 1000 });
    }
    if (byOperator) out.push({ ev: { type: 'operator_hangup', ...cause, reason }, at: endedAt });
    else if (byClient) out.push({ ev: { type: 'client_hangup', ...cause, reason }, at: endedAt });
    else out.push({ ev: { type: 'lost', ...cause, reason }, at: endedAt });
    return out;
  }
  if (status === '') {
    // the operator hung up before the client was dialled
    out.push({ ev: { type: 'operator_hangup', ...cause, reason }, at: endedAt });
  } else if (status === 'CANCEL') {
    out.push({ ev: { type: 'operator_hangup', ...cause, dialStatus: status, reason }, at: endedAt });
  } else {
    out.push({ ev: { type: 'client_failed', outcome: clientOutcome({ dialStatus: status }), dialStatus: status, ...cause, reason }, at: endedAt });
  }
  return out;
}

/** How one leg of an ARI-mode click-to-call ended, as [callbridge-ari-hangup] keeps it. */
export interface AriLegFacts {
  answeredAt?: number;
  hangupAt?: number;
  cause?: number;
}

/**
 * DBGetTree items of an ARI-mode call (`<leg>_answered` = CDR(answer,u) epoch
 * seconds, 0 or empty when never answered; `<leg>_cause`; `<leg>_ended`) →
 * the facts per leg; undefined when the PBX kept none.
 */
export function parseAriLegFacts(items: ReadonlyArray<{ key: string; val: string }>, callId: number): { op?: AriLegFacts; client?: AriLegFacts } | undefined {
  const prefix = `/${FACTS_FAMILY}/${callId}/`;
  const out: { op?: AriLegFacts; client?: AriLegFacts } = {};
  for (const { key, val } of items) {
    if (!key.startsWith(prefix)) continue;
    const m = /^(op|client)_(answered|cause|ended)$/.exec(key.slice(prefix.length));
    if (!m) continue;
    const leg = (out[m[1] as 'op' | 'client'] ??= {});
    if (m[2] === 'answered') {
      const secs = Number(val);
      if (val !== '' && Number.isFinite(secs) && secs > 0) leg.answeredAt = Math.round(secs * 1000);
    } else if (m[2] === 'cause') {
      const cause = int(val);
      if (cause !== undefined) leg.cause = cause;
    } else {
      const t = time(val);
      if (t !== undefined) leg.hangupAt = t;
    }
  }
  return out.op || out.client ? out : undefined;
}
