/**
 * The status chain of a click-to-call, pure: normalized call events in,
 * statuses out. The ARI and AMI flows translate what Asterisk sends into these
 * events (see causes.ts for the hangup-cause and dial-status tables); this
 * machine alone decides which statuses a call gets, so both modes produce the
 * same chains, and it guarantees exactly one final status per call.
 */

export const STATUSES = [
  'CALL',
  'OPERATOR_CALLTO',
  'OPERATOR_OFFLINE',
  'OPERATOR_NOANSWER',
  'OPERATOR_BUSY',
  'OPERATOR_PICKUP',
  'CLIENT_CALLTO',
  'CLIENT_NOANSWER',
  'CLIENT_BUSY',
  'CLIENT_CANCEL',
  'CLIENT_PICKUP',
  'OPERATOR_CANCEL',
  'ERROR',
  'FINISH',
] as const;
export type CallStatus = (typeof STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<CallStatus> = new Set([
  'OPERATOR_OFFLINE',
  'OPERATOR_NOANSWER',
  'OPERATOR_BUSY',
  'CLIENT_NOANSWER',
  'CLIENT_BUSY',
  'CLIENT_CANCEL',
  'OPERATOR_CANCEL',
  'ERROR',
  'FINISH',
]);

export type OperatorFailure = 'offline' | 'noanswer' | 'busy' | 'error';
export type ClientFailure = 'noanswer' | 'busy' | 'cancel' | 'error';

/** Hangup cause as Asterisk reports it (Q.850 code and its text), plus free-form details. */
export interface Cause {
  cause?: number;
  causeText?: string;
  dialStatus?: string;
  reason?: string;
}

export type CallEvent =
  | ({ type: 'operator_ringing' } & Cause)
  | ({ type: 'operator_answered' } & Cause)
  | ({ type: 'operator_failed'; outcome: OperatorFailure } & Cause)
  | ({ type: 'client_dialing' } & Cause)
  | ({ type: 'client_answered' } & Cause)
  | ({ type: 'client_failed'; outcome: ClientFailure } & Cause)
  | ({ type: 'operator_hangup' } & Cause)
  | ({ type: 'client_hangup' } & Cause)
  /** the call's channels are gone and nothing said how it ended (PBX lost, daemon restarted) */
  | ({ type: 'lost' } & Cause);

/** Where a call stands: its last status (undefined before CALL). */
export interface ChainState {
  last: CallStatus | undefined;
}

export interface StatusStep {
  status: CallStatus;
  details: Cause & { by?: 'operator' | 'client'; sip?: string; phone?: string; externalKey?: string };
}

const OPERATOR_FAILURE: Record<OperatorFailure, CallStatus> = {
  offline: 'OPERATOR_OFFLINE',
  noanswer: 'OPERATOR_NOANSWER',
  busy: 'OPERATOR_BUSY',
  error: 'ERROR',
};

const CLIENT_FAILURE: Record<ClientFailure, CallStatus> = {
  noanswer: 'CLIENT_NOANSWER',
  busy: 'CLIENT_BUSY',
  cancel: 'OPERATOR_CANCEL',
  error: 'ERROR',
};

/** Statuses reached at or after a point in the chain, for idempotence of repeated events. */
const ORDER: Partial<Record<CallStatus, number>> = {
  CALL: 0,
  OPERATOR_CALLTO: 1,
  OPERATOR_PICKUP: 2,
  CLIENT_CALLTO: 3,
  CLIENT_PICKUP: 4,
};

const reached = (s: ChainState, status: CallStatus): boolean =>
  s.last !== undefined && (ORDER[s.last] ?? 99) >= (ORDER[status] ?? 99);

function cause(e: Cause): Cause {
  const out: Cause = {};
  if (e.cause !== undefined) out.cause = e.cause;
  if (e.causeText !== undefined) out.causeText = e.causeText;
  if (e.dialStatus !== undefined) out.dialStatus = e.dialStatus;
  if (e.reason !== undefined) out.reason = e.reason;
  return out;
}

/**
 * The statuses one event adds (possibly none). Events after the final status
 * add nothing; missing intermediate steps are filled in (an operator who
 * answers is first rung), so a chain always reads in order.
 */
export function step(state: ChainState, ev: CallEvent): StatusStep[] {
  if (state.last === undefined || FINAL_STATUSES.has(state.last)) return [];
  const out: StatusStep[] = [];
  const add = (status: CallStatus, details: StatusStep['details'] = {}) => {
    if (!reached({ last: out.at(-1)?.status ?? state.last }, status)) out.push({ status, details });
  };
  const upTo = (status: CallStatus) => {
    for (const s of ['OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP'] as const) {
      if ((ORDER[s] ?? 0) > (ORDER[status] ?? 0)) break;
      add(s);
    }
  };
  const talking = state.last === 'CLIENT_PICKUP';
  const operatorUp = reached(state, 'OPERATOR_PICKUP');
  const final = (status: CallStatus, details: StatusStep['details']) => out.push({ status, details });

  switch (ev.type) {
    case 'operator_ringing':
      upTo('OPERATOR_CALLTO');
      break;
    case 'operator_answered':
      upTo('OPERATOR_PICKUP');
      break;
    case 'client_dialing':
      upTo('CLIENT_CALLTO');
      break;
    case 'client_answered':
      upTo('CLIENT_PICKUP');
      break;
    case 'operator_failed':
      if (operatorUp) final(talking ? 'FINISH' : 'ERROR', { ...cause(ev), by: 'operator' });
      else {
        if (ev.outcome !== 'offline') upTo('OPERATOR_CALLTO');
        final(OPERATOR_FAILURE[ev.outcome], cause(ev));
      }
      break;
    case 'client_failed':
      if (talking) final('FINISH', { ...cause(ev), by: 'client' });
      else {
        upTo('CLIENT_CALLTO');
        final(CLIENT_FAILURE[ev.outcome], cause(ev));
      }
      break;
    case 'operator_hangup':
      if (talking) final('FINISH', { ...cause(ev), by: 'operator' });
      else if (state.last === 'CLIENT_CALLTO') final('OPERATOR_CANCEL', cause(ev));
      else if (operatorUp) final('OPERATOR_CANCEL', cause(ev));
      else final('OPERATOR_NOANSWER', cause(ev));
      break;
    case 'client_hangup':
      if (talking) final('FINISH', { ...cause(ev), by: 'client' });
      else if (state.last === 'CLIENT_CALLTO') final('CLIENT_CANCEL', cause(ev));
      else final('ERROR', { ...cause(ev), reason: ev.reason ?? 'client leg ended before it was dialled' });
      break;
    case 'lost':
      final(talking ? 'FINISH' : 'ERROR', { ...cause(ev), reason: ev.reason ?? 'call lost' });
      break;
  }
  return out;
}

/** Runs a whole sequence of events from CALL; handy for tests and replays. */
export function chainOf(events: readonly CallEvent[]): CallStatus[] {
  const statuses: CallStatus[] = ['CALL'];
  for (const ev of events) {
    for (const s of step({ last: statuses.at(-1) }, ev)) statuses.push(s.status);
  }
  return statuses;
}
