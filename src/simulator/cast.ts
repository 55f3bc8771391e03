import { q850Text } from '../asterisk/q850.js';

/**
 * The fixed cast of the simulated PBX (SPEC section 1): operator phones 101–108
 * and client numbers whose behaviour depends on their last digit.
 */

/** What the far end of a dialled channel does. Delays are in unscaled milliseconds. */
export type RemoteBehaviour =
  | { kind: 'answer'; ringMs: number; hangupAfterMs?: number }
  | { kind: 'busy' }
  | { kind: 'noanswer' }
  | { kind: 'congestion' };

export interface CastOperator {
  sip: string;
  registeredAtStart: boolean;
  behaviour: RemoteBehaviour;
  userAgent: string;
}

const ANSWER_AFTER_MS = 1000;

export const CAST_OPERATORS: CastOperator[] = [
  { sip: '101', registeredAtStart: true, behaviour: { kind: 'answer', ringMs: ANSWER_AFTER_MS }, userAgent: 'Yealink SIP-T46S 66.86.0.15' },
  { sip: '102', registeredAtStart: true, behaviour: { kind: 'answer', ringMs: ANSWER_AFTER_MS }, userAgent: 'Yealink SIP-T54W 96.86.0.70' },
  { sip: '103', registeredAtStart: true, behaviour: { kind: 'answer', ringMs: ANSWER_AFTER_MS }, userAgent: 'Grandstream GXP2170 1.0.11.23' },
  { sip: '104', registeredAtStart: true, behaviour: { kind: 'answer', ringMs: ANSWER_AFTER_MS }, userAgent: 'Cisco/SPA504G-7.6.2c' },
  { sip: '105', registeredAtStart: true, behaviour: { kind: 'answer', ringMs: ANSWER_AFTER_MS }, userAgent: 'Z 5.6.2 v2.10.19.9' },
  { sip: '106', registeredAtStart: false, behaviour: { kind: 'answer', ringMs: ANSWER_AFTER_MS }, userAgent: 'Linphone/5.2.5 (belle-sip/5.2.94)' },
  { sip: '107', registeredAtStart: true, behaviour: { kind: 'busy' }, userAgent: 'snomD735/10.1.159.12' },
  { sip: '108', registeredAtStart: true, behaviour: { kind: 'noanswer' }, userAgent: 'Fanvil X4U 2.12.2.7' },
];

/**
 * The cast plus `extra` more operators 201, 202, … (registered, answering
 * after 1 s like 101), for load tests and benchmarks with many calls at once.
 */
export function operatorsWith(extra: number): CastOperator[] {
  if (!Number.isInteger(extra) || extra < 0 || extra > 799) throw new RangeError(`extra operators must be 0..799, got ${extra}`);
  const more = Array.from({ length: extra }, (_, i): CastOperator => ({
    sip: String(201 + i),
    registeredAtStart: true,
    behaviour: { kind: 'answer', ringMs: ANSWER_AFTER_MS },
    userAgent: 'Yealink SIP-T46S 66.86.0.15',
  }));
  return [...CAST_OPERATORS, ...more];
}

/** Endpoint context of the operator phones (FreePBX extensions). */
export const OPERATOR_CONTEXT = 'from-internal';

/** Client behaviour by the last digit of the dialled number. */
export function clientBehaviour(number: string): RemoteBehaviour {
  const last = Number(number.replace(/\D/g, '').slice(-1) || '0');
  switch (last) {
    case 5:
      return { kind: 'busy' };
    case 6:
      return { kind: 'noanswer' };
    case 7:
      return { kind: 'answer', ringMs: ANSWER_AFTER_MS, hangupAfterMs: 1000 };
    case 8:
      return { kind: 'congestion' };
    case 9:
      return { kind: 'answer', ringMs: ANSWER_AFTER_MS };
    default:
      return { kind: 'answer', ringMs: ANSWER_AFTER_MS, hangupAfterMs: 3000 };
  }
}

/** Q.850 cause texts as Asterisk prints them (ast_cause2str); "Unknown" for the rest, as Asterisk does. */
export function causeText(cause: number): string {
  return q850Text(cause) ?? 'Unknown';
}

/** ARI `reason` values of DELETE /channels/{id} mapped to hangup causes. */
export const ARI_HANGUP_REASONS: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};

/** Hangup cause and SIP code the far end produces for a failed attempt. */
export function failureCause(b: RemoteBehaviour): { cause: number; techCause?: number; dialStatus: string } {
  if (b.kind === 'busy') return { cause: 17, techCause: 486, dialStatus: 'BUSY' };
  return { cause: 34, dialStatus: 'CONGESTION' };
}
