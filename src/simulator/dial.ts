import type { RemoteBehaviour } from './cast.js';
import type { World } from './world.js';
import type { Channel, Endpoint } from './types.js';

/** Context of the trunk endpoint that client legs dialled as `PJSIP/<number>@<trunk>` land in. */
export const TRUNK_CONTEXT = 'from-pstn';

/** Where a dial string leads. */
export type Target =
  | { kind: 'operator'; sip: string; ep: Endpoint; behaviour: RemoteBehaviour; dialstring: string }
  | { kind: 'trunk'; number: string; trunk: string; behaviour: RemoteBehaviour; dialstring: string }
  | { kind: 'local'; number: string; context: string; behaviour: RemoteBehaviour; dialstring: string };

/**
 * Resolves `PJSIP/101`, `PJSIP/<number>@<trunk>` and `Local/<number>@<context>[/n]`.
 * Returns undefined for anything the simulated PBX cannot create a channel for.
 */
export function resolveTarget(world: World, dial: string): Target | undefined {
  const slash = dial.indexOf('/');
  if (slash < 0) return undefined;
  const tech = dial.slice(0, slash).toUpperCase();
  const rest = dial.slice(slash + 1);
  if (tech === 'PJSIP') {
    const m = /^([^@/]+)@([A-Za-z0-9_.-]+)$/.exec(rest);
    if (m) {
      const number = m[1]!;
      return { kind: 'trunk', number, trunk: m[2]!, behaviour: world.clientBehaviour(number), dialstring: rest };
    }
    const ep = world.endpoints.get(rest);
    const op = world.operators.find((o) => o.sip === rest);
    if (!ep || !op) return undefined;
    return { kind: 'operator', sip: rest, ep, behaviour: op.behaviour, dialstring: rest };
  }
  if (tech === 'LOCAL') {
    const m = /^([^@/]+)@([A-Za-z0-9_.-]+)(\/n)?$/.exec(rest);
    if (!m) return undefined;
    const number = m[1]!;
    const ep = world.endpoints.get(number);
    const op = world.operators.find((o) => o.sip === number);
    // Local/101@from-internal rings the operator phone; anything else is an outside number
    const behaviour: RemoteBehaviour = ep && op ? (ep.registered ? op.behaviour : { kind: 'congestion' }) : world.clientBehaviour(number);
    return { kind: 'local', number, context: m[2]!, behaviour, dialstring: rest };
  }
  return undefined;
}

/** SIP channels report the SIP response code as TechCause; Local channels have none. */
export function techCauseOf(ch: Channel, code: number | undefined): number | undefined {
  return ch.name.startsWith('PJSIP/') ? code : undefined;
}

/** True when the target cannot even be allocated (offline operator): no channel, no events. */
export function unavailable(t: Target | undefined): boolean {
  return !t || (t.kind === 'operator' && !t.ep.registered);
}

/** Creates the channel(s) of a target; Local targets get both halves and a LocalBridge event. */
export function createTargetChannel(world: World, t: Target, opts: { linkedid?: string; id?: string; otherId?: string }): Channel {
  if (t.kind === 'operator') {
    return world.createChannel({
      tech: 'PJSIP', resource: t.sip, endpoint: t.sip, context: t.ep.context, exten: 's',
      callerNum: t.sip, callerName: t.ep.callerName, linkedid: opts.linkedid, id: opts.id,
    });
  }
  if (t.kind === 'trunk') {
    return world.createChannel({ tech: 'PJSIP', resource: t.trunk, context: TRUNK_CONTEXT, exten: 's', linkedid: opts.linkedid, id: opts.id });
  }
  const suffix = world.newNameSuffix();
  const resource = `${t.number}@${t.context}`;
  const one = world.createChannel({
    tech: 'Local', resource, context: t.context, exten: t.number, localHalf: 1, localSuffix: suffix, linkedid: opts.linkedid, id: opts.id,
  });
  const two = world.createChannel({
    tech: 'Local', resource, context: t.context, exten: t.number, localHalf: 2, localSuffix: suffix,
    linkedid: one.linkedid, id: opts.otherId, state: 'Ring',
  });
  one.localPartner = two;
  two.localPartner = one;
  world.emitEvent({ type: 'LocalBridge', one, two, context: t.context, exten: t.number });
  return one;
}

export interface RemoteHandlers {
  /** the far end is alerting (180) */
  ringing(): void;
  /** the far end answered (200) */
  answered(): void;
  /** the far end rejected the call (486 busy, or no route) */
  rejected(): void;
  /** the far end hung up after answering (BYE) */
  remoteHangup(): void;
}

/** Gap between a request and the far end's first reaction, in cast milliseconds. */
export const STEP_MS = 4;

/** Plays the far end's part on a dialled channel; its timers die with the channel. */
export function runRemote(world: World, ch: Channel, b: RemoteBehaviour, h: RemoteHandlers): void {
  if (b.kind === 'busy' || b.kind === 'congestion') {
    world.later(STEP_MS, () => h.rejected(), ch);
    return;
  }
  world.later(STEP_MS, () => h.ringing(), ch);
  if (b.kind !== 'answer') return;
  world.later(b.ringMs, () => {
    h.answered();
    if (!ch.alive) return;
    ch.onRemoteHangup = () => h.remoteHangup();
    if (b.hangupAfterMs !== undefined) world.later(b.hangupAfterMs, () => h.remoteHangup(), ch);
  }, ch);
}

/** Parses `"Name" <number>`, `Name <number>`, `<number>` or a bare number. */
export function parseCallerId(raw: string | undefined): { num: string; name: string } | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const m = /^\s*(?:"([^"]*)"|([^<]*?))\s*<([^>]*)>\s*$/.exec(raw);
  if (m) return { name: (m[1] ?? m[2] ?? '').trim(), num: m[3]!.trim() };
  return { name: '', num: raw.trim() };
}

function cdrTime(d: Date | undefined): string {
  if (!d) return '';
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

export interface CdrSpec {
  source: string;
  destination: string;
  destinationContext: string;
  callerId: string;
  channel: Channel;
  destinationChannel: string;
  lastApplication: string;
  lastData: string;
  start: Date;
  answer?: Date;
  disposition: 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED';
}

/** Publishes a `Cdr` event with the header order of cdr_manager. */
export function emitCdr(world: World, c: CdrSpec): void {
  const end = new Date();
  const duration = Math.floor((end.getTime() - c.start.getTime()) / 1000);
  const billable = c.answer ? Math.floor((end.getTime() - c.answer.getTime()) / 1000) : 0;
  world.emitEvent({
    type: 'Cdr',
    fields: [
      ['AccountCode', ''],
      ['Source', c.source],
      ['Destination', c.destination],
      ['DestinationContext', c.destinationContext],
      ['CallerID', c.callerId],
      ['Channel', c.channel.name],
      ['DestinationChannel', c.destinationChannel],
      ['LastApplication', c.lastApplication],
      ['LastData', c.lastData],
      ['StartTime', cdrTime(c.start)],
      ['AnswerTime', cdrTime(c.answer)],
      ['EndTime', cdrTime(end)],
      ['Duration', String(duration)],
      ['BillableSeconds', String(billable)],
      ['Disposition', c.disposition],
      ['AMAFlags', 'DOCUMENTATION'],
      ['UniqueID', c.channel.id],
      ['UserField', c.channel.userfield],
    ],
  });
}

/** `"name" <num>` as Cdr and AMI print a caller ID. */
export function formatCallerId(ch: Channel): string {
  const num = ch.callerNum || '';
  const name = ch.callerName || '';
  if (!num && !name) return '';
  return name ? `"${name}" <${num}>` : `<${num}>`;
}
