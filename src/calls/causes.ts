/**
 * What Asterisk's hangup causes, dial statuses and originate reasons mean for
 * a leg, as one table each. Taken from the recorded Asterisk 22 traces:
 *
 * - operator leg, AMI: OriginateResponse Reason 4 = answered; Reason 3 = no
 *   answer (Hangup cause 19, no DialEnd); Reason 0 = busy (DialEnd BUSY,
 *   Hangup cause 17) or offline (no channel at all, Uniqueid `<unknown>`).
 * - operator leg, ARI: POST /channels → 500 "Allocation failed" = offline;
 *   ChannelDestroyed cause 19 = no answer; Dial BUSY + cause 17 = busy.
 * - client leg: DialEnd DialStatus decides (a Dial timeout hangs the client
 *   channel up with cause 0 "Unknown", so the cause alone cannot tell).
 * - cause 32 on ChannelHangupRequest after an ARI DELETE is the soft-hangup
 *   flag, not a Q.850 cause: it is never used to classify.
 */
import type { ClientFailure, OperatorFailure } from './chain.js';
import { q850Text } from '../asterisk/q850.js';

/** Q.850 causes → operator-leg outcome (before the operator answered). */
const OPERATOR_BY_CAUSE: ReadonlyMap<number, OperatorFailure> = new Map([
  [1, 'offline'], // unallocated number: no such endpoint
  [3, 'offline'], // no route to destination
  [17, 'busy'], // user busy (486)
  [18, 'noanswer'], // no user responding
  [19, 'noanswer'], // user alerting, no answer (ring timeout)
  [20, 'offline'], // subscriber absent (no contact / unreachable)
  [21, 'busy'], // call rejected (603 Decline on the phone)
  [27, 'offline'], // destination out of order
  [16, 'noanswer'], // normal clearing before answer: the ringing stopped
  [0, 'noanswer'],
]);

/** Q.850 causes → client-leg outcome when no dial status is known (ARI). */
const CLIENT_BY_CAUSE: ReadonlyMap<number, ClientFailure> = new Map([
  [17, 'busy'],
  [21, 'busy'],
  [18, 'noanswer'],
  [19, 'noanswer'],
  [0, 'noanswer'],
  [16, 'noanswer'],
  [1, 'error'], // unallocated number
  [3, 'error'], // no route
  [27, 'error'],
  [28, 'error'], // invalid number format
  [34, 'error'], // no circuit available (congestion)
  [38, 'error'], // network out of order
  [41, 'error'], // temporary failure
  [42, 'error'], // switching equipment congestion
  [44, 'error'],
  [58, 'error'],
  [66, 'error'],
  [127, 'error'], // interworking, unspecified
]);

/** Dial() DIALSTATUS of a leg → outcome (ANSWER is not a failure). */
const CLIENT_BY_DIAL_STATUS: Readonly<Record<string, ClientFailure>> = {
  NOANSWER: 'noanswer',
  BUSY: 'busy',
  CANCEL: 'cancel',
  CONGESTION: 'error',
  CHANUNAVAIL: 'error',
  DONTCALL: 'error',
  TORTURE: 'error',
  INVALIDARGS: 'error',
};

const OPERATOR_BY_DIAL_STATUS: Readonly<Record<string, OperatorFailure>> = {
  NOANSWER: 'noanswer',
  BUSY: 'busy',
  CANCEL: 'noanswer',
  CONGESTION: 'error',
  CHANUNAVAIL: 'offline',
  DONTCALL: 'error',
  INVALIDARGS: 'error',
};

/** AMI OriginateResponse `Reason` codes (Asterisk's AST_CONTROL_*): 4 = answered. */
export const ORIGINATE_ANSWERED = 4;

export function operatorOutcome(p: {
  cause?: number | undefined;
  dialStatus?: string | undefined;
  /** AMI OriginateResponse Reason, when that is all there is */
  originateReason?: number | undefined;
  /** false when Asterisk never created a channel for the leg */
  channelCreated: boolean;
}): OperatorFailure {
  if (!p.channelCreated) {
    // Reason 0 without a channel: nothing was there to ring (not registered).
    if (p.originateReason === 5) return 'busy';
    if (p.originateReason === 3) return 'noanswer';
    if (p.originateReason === 8) return 'error'; // congestion
    return 'offline';
  }
  const byDial = p.dialStatus ? OPERATOR_BY_DIAL_STATUS[p.dialStatus.toUpperCase()] : undefined;
  if (byDial) return byDial;
  if (p.cause !== undefined) {
    const byCause = OPERATOR_BY_CAUSE.get(p.cause);
    if (byCause) return byCause;
    return 'error';
  }
  if (p.originateReason === 3) return 'noanswer';
  if (p.originateReason === 5) return 'busy';
  return 'error';
}

export function clientOutcome(p: { cause?: number | undefined; dialStatus?: string | undefined }): ClientFailure {
  const byDial = p.dialStatus ? CLIENT_BY_DIAL_STATUS[p.dialStatus.toUpperCase()] : undefined;
  if (byDial) return byDial;
  if (p.cause !== undefined) return CLIENT_BY_CAUSE.get(p.cause) ?? 'error';
  return 'error';
}

/** Asterisk's text for a cause, for the details of a status. */
export function causeText(cause: number | undefined): string | undefined {
  return cause === undefined ? undefined : q850Text(cause);
}
