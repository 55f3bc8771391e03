import { startInbound, type InboundOutcome, type InboundRequest } from './pbx-inbound.js';
import { startInternal, startOutbound } from './pbx-phone.js';
import { pauseMember } from './queue.js';
import { startQueueCall } from './queue.js';
import { blindTransfer, transferableChannel } from './transfer.js';
import { attendedTransfer } from './atxfer.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

/**
 * Calls the daemon did not originate, started from outside (the control
 * endpoints): validation of the request and the entry into the dialplan.
 */

/** A refused request: `invalid` names the offending field, `not_found` an unknown operator or call. */
export class PbxRequestError extends Error {
  constructor(readonly kind: 'invalid' | 'not_found', readonly field: string, message: string) {
    super(message);
    this.name = 'PbxRequestError';
  }
}

export interface InboundCallParams {
  from?: string;
  did?: string;
  /** comma-separated list or array of operator SIP names */
  operators?: string | string[];
  outcome?: string;
  answeredBy?: string;
  via?: string;
}

export interface StartedCall {
  /** the Uniqueid of the call's first channel, shared by all its channels as Linkedid */
  linkedid: string;
  /** name of that first channel */
  channel: string;
}

const NUMBER = /^\+?[0-9]{1,32}$/;
const OUTCOMES: readonly InboundOutcome[] = ['answer', 'noanswer', 'abandon'];

function started(ch: Channel): StartedCall {
  return { linkedid: ch.linkedid, channel: ch.name };
}

function operator(world: World, sip: string | undefined, field: string): string {
  if (sip === undefined || sip === '') throw new PbxRequestError('invalid', field, `${field}: required`);
  if (!world.operators.some((o) => o.sip === sip)) throw new PbxRequestError('not_found', field, `no simulated operator "${sip.slice(0, 40)}"`);
  return sip;
}

export function inboundCall(world: World, p: InboundCallParams): StartedCall {
  const from = p.from ?? '';
  if (!NUMBER.test(from)) throw new PbxRequestError('invalid', 'from', 'from: must be a phone number (digits, optional leading +)');
  const did = p.did ?? '';
  if (!/^[0-9]{3,32}$/.test(did)) throw new PbxRequestError('invalid', 'did', 'did: must be 3 to 32 digits');
  const list = (Array.isArray(p.operators) ? p.operators.join(',') : p.operators ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new PbxRequestError('invalid', 'operators', 'operators: at least one operator SIP name is required');
  if (new Set(list).size !== list.length) throw new PbxRequestError('invalid', 'operators', 'operators: each operator may appear once');
  for (const sip of list) operator(world, sip, 'operators');
  const outcome = p.outcome as InboundOutcome;
  if (!OUTCOMES.includes(outcome)) throw new PbxRequestError('invalid', 'outcome', 'outcome: must be "answer", "noanswer" or "abandon"');
  if (p.via !== undefined && p.via !== '' && p.via !== 'ringgroup' && p.via !== 'queue') {
    throw new PbxRequestError('invalid', 'via', 'via: must be "ringgroup" or "queue"');
  }
  const answeredBy = p.answeredBy === '' ? undefined : p.answeredBy;
  if (answeredBy !== undefined && !list.includes(answeredBy)) {
    throw new PbxRequestError('invalid', 'answered_by', 'answered_by: must be one of the operators');
  }
  const req: InboundRequest = { from, did, operators: list, outcome, answeredBy, via: p.via === '' ? undefined : (p.via as InboundRequest['via']) };
  return started(req.via === 'queue' ? startQueueCall(world, req) : startInbound(world, req));
}

export function outboundCall(world: World, sip: string | undefined, to: string | undefined): StartedCall {
  const op = operator(world, sip, 'sip');
  if (to === undefined || !/^\+?[0-9]{5,32}$/.test(to)) {
    throw new PbxRequestError('invalid', 'to', 'to: must be a phone number of at least 5 digits (the outbound route)');
  }
  return started(startOutbound(world, op, to));
}

export function internalCall(world: World, from: string | undefined, to: string | undefined): StartedCall {
  const a = operator(world, from, 'from');
  const b = operator(world, to, 'to');
  if (a === b) throw new PbxRequestError('invalid', 'to', 'to: must differ from from');
  return started(startInternal(world, a, b));
}

/** The phone of `sip` transfers its answered call to `to`: blind (BlindTransfer) or attended (the *2 feature code). */
export function transferCall(world: World, sip: string, to: string | undefined, mode: 'blind' | 'attended' = 'blind', opts: { consultMs?: number } = {}): StartedCall {
  const op = operator(world, sip, 'sip');
  const target = operator(world, to, 'to');
  const ch = transferableChannel(world, op);
  if (!ch) throw new PbxRequestError('not_found', 'sip', `operator "${op}" is not in an answered call`);
  const result = mode === 'attended' ? attendedTransfer(world, ch, target, opts) : blindTransfer(world, ch, target);
  if (result !== 'success') throw new PbxRequestError('not_found', 'sip', `operator "${op}" has no call that can be transferred`);
  return started(ch);
}

/** Pauses (or unpauses) the operator's queue member `Local/<sip>@from-queue/n`. */
export function pauseOperator(world: World, sip: string, paused: boolean, reason: string): void {
  operator(world, sip, 'sip');
  pauseMember(world, sip, paused, reason);
}
