import { failureCause, type RemoteBehaviour } from './cast.js';
import { bridgeAdd, bridgeRemove, createBridge, destroyBridge } from './bridging.js';
import { TRUNK_CONTEXT } from './dial.js';
import {
  PBX_TRUNK, RING_CONTEXT, RING_GROUP, cdrCallerId, emitCdrRow, inheritVars, macroExtenVm, setStep, step, type CdrRow,
} from './freepbx.js';
import type { World } from './world.js';
import type { Bridge, Channel } from './types.js';

/**
 * app_dial / app_queue as the FreePBX-style traces show them (D1, E1–E4, E7,
 * E9, Q1, Q3): direct legs to a phone or the trunk, and Local member legs
 * (`Local/<ext>@from-internal-ring/n`, `Local/<ext>@from-queue/n`) whose `;2`
 * half runs its own Dial to the phone.
 */

/** What the simulator has a dialled party do (the cast's behaviour, narrowed by the requested outcome). */
export type LegBehaviour = RemoteBehaviour | { kind: 'unavailable' };

export type LegTarget =
  | { kind: 'phone'; sip: string; behaviour: LegBehaviour }
  | { kind: 'trunk'; number: string; behaviour: LegBehaviour }
  | { kind: 'member'; sip: string; behaviour: LegBehaviour };

export interface Leg {
  target: LegTarget;
  /** the channel the caller's Dial events name (`DestChannel`): the phone / trunk channel, or the Local `;1` half */
  outer?: Channel;
  /** the Local `;2` half (member legs) */
  two?: Channel;
  /** the channel that rings: the phone or trunk channel */
  phone?: Channel;
  dialstring: string;
  innerData?: string;
  state: 'calling' | 'ringing' | 'answered' | 'done';
  status?: string;
  calledAt: number;
  /** the caller's CDR row for this leg */
  row?: CdrRow;
  /** the `;2` half's CDR row (member legs) */
  innerRow?: CdrRow;
}

export type DialOutcome = 'ANSWER' | 'NOANSWER' | 'BUSY' | 'CHANUNAVAIL' | 'CONGESTION' | 'ABANDON';

export interface DialSpec {
  caller: Channel;
  app: 'Dial' | 'Queue';
  data: string;
  /** Cdr Destination / DestinationContext of the caller's rows */
  cdrDestination: string;
  cdrContext: string;
  timeoutMs?: number;
  targets: LegTarget[];
  /** Local member legs: FreePBX ring group or queue member */
  flavour?: 'ringgroup' | 'queue';
  /** caller ID the Local `;1` halves show (the ring group number, or the DID for queues) */
  localCallerNum?: string;
  /** app_queue: AgentCalled just before the leg's DialBegin */
  onLegCalled?(leg: Leg): void;
  /** app_queue: the member did not answer within the ring time (AgentRingNoAnswer) */
  onLegNoAnswer?(leg: Leg): void;
  /** app_queue: just before the caller is answered (QueueCallerLeave, AgentConnect) */
  onConnect?(leg: Leg): void;
  /** start of the caller's rows when it dials again while already answered (after a transfer, E7) */
  rowStart?: Date;
  /** the Dial / Queue application returned */
  done(outcome: DialOutcome, dial: Dialer): void;
}

/** Local channel name part of a member leg. */
function memberContext(spec: DialSpec): string {
  return spec.flavour === 'queue' ? 'from-queue' : RING_CONTEXT;
}

/** Hangup without taking the other half of a Local pair along (the traces order those hangups themselves). */
export function hangupChannel(world: World, ch: Channel | undefined, cause: number, techCause?: number): void {
  if (!ch || !ch.alive) return;
  const partner = ch.localPartner;
  if (partner) {
    partner.localPartner = undefined;
    ch.localPartner = undefined;
  }
  ch.onHangupRequest = undefined;
  ch.onRemoteHangup = undefined;
  world.destroyChannel(ch, cause, techCause);
  world.refreshDevice(ch.device, true);
}

/** One execution of Dial() or Queue() by a caller channel. */
export class Dialer {
  readonly legs: Leg[] = [];
  winner?: Leg;
  answeredAt?: Date;
  private finished = false;
  private timeout?: NodeJS.Timeout;

  constructor(readonly world: World, readonly spec: DialSpec) {}

  get caller(): Channel {
    return this.spec.caller;
  }

  start(): void {
    const { world, spec } = this;
    for (const t of spec.targets) {
      const leg: Leg = {
        target: t,
        dialstring: t.kind === 'phone' ? t.sip : t.kind === 'trunk' ? `${t.number}@${PBX_TRUNK}` : `Local/${t.sip}@${memberContext(spec)}/n`,
        state: 'calling',
        calledAt: Date.now(),
      };
      this.legs.push(leg);
    }
    const direct = this.legs.filter((l) => l.target.kind !== 'member');
    const members = this.legs.filter((l) => l.target.kind === 'member');
    for (const leg of direct) this.createDirect(leg);
    for (const leg of members) this.createMember(leg);
    for (const leg of members) this.announceMember(leg);
    for (const leg of members) this.runMemberDialplan(leg);
    if (members.length) world.refreshDevice(this.caller.device, true);
    for (const leg of direct) if (leg.state === 'calling' && leg.phone) this.play(leg);
    for (const leg of members) {
      if (leg.state !== 'calling' || !leg.phone) continue;
      this.innerDialBegin(leg);
      if (spec.flavour === 'queue') this.memberAlerting(leg);
      else this.play(leg);
    }
    // app_queue sees each member's phone ring after all of them were called (Q1)
    if (spec.flavour === 'queue') for (const leg of members) if (leg.state === 'calling' && leg.phone) this.play(leg);
    if (spec.timeoutMs !== undefined) this.timeout = world.later(spec.timeoutMs, () => this.noAnswer(), this.caller);
    this.checkAllFailed();
  }

  private cdrRow(leg: Leg): CdrRow {
    const c = this.caller;
    return {
      channel: c, source: c.callerNum, callerId: cdrCallerId(c), destination: this.spec.cdrDestination, destinationContext: this.spec.cdrContext,
      destinationChannel: leg.outer?.name ?? '', lastApplication: this.spec.app, lastData: this.spec.data, start: this.spec.rowStart ?? c.created,
      disposition: 'NO ANSWER', userfield: '',
    };
  }

  private createDirect(leg: Leg): void {
    const { world } = this;
    const caller = this.caller;
    const t = leg.target;
    if (t.kind === 'member') return;
    if (t.behaviour.kind === 'unavailable') {
      // no channel can be allocated for an offline phone: no events at all (A4)
      leg.state = 'done';
      leg.status = 'CHANUNAVAIL';
      return;
    }
    let ch: Channel;
    if (t.kind === 'phone') {
      const ep = world.endpoints.get(t.sip)!;
      ch = world.createChannel({
        tech: 'PJSIP', resource: t.sip, endpoint: t.sip, context: ep.context, exten: 's', callerNum: t.sip, callerName: ep.callerName, linkedid: caller.linkedid,
      });
    } else {
      ch = world.createChannel({ tech: 'PJSIP', resource: PBX_TRUNK, context: TRUNK_CONTEXT, exten: 's', linkedid: caller.linkedid });
    }
    leg.outer = ch;
    leg.phone = ch;
    leg.row = this.cdrRow(leg);
    world.setVar(ch, 'DIALEDPEERNUMBER', leg.dialstring);
    inheritVars(world, caller, ch);
    world.newexten(ch, ch.context, 's', 1, 'AppDial', '(Outgoing Line)');
    if (t.kind === 'trunk') world.setCaller(ch, 's', '');
    world.setConnected(ch, caller.callerNum, caller.callerName);
    world.emitEvent({ type: 'DialBegin', caller, peer: ch, dialstring: leg.dialstring });
    // an outbound trunk call shows the trunk's `s` as the caller's connected line for good (E1, E2, E9)
    if (t.kind === 'trunk') world.setConnected(caller, 's', '');
    else world.setConnected(caller, t.sip, ch.callerName);
  }

  private createMember(leg: Leg): void {
    const { world, spec } = this;
    const caller = this.caller;
    const t = leg.target as Extract<LegTarget, { kind: 'member' }>;
    const ctx = memberContext(spec);
    const suffix = world.newNameSuffix();
    const resource = `${t.sip}@${ctx}`;
    const one = world.createChannel({ tech: 'Local', resource, context: ctx, exten: t.sip, localHalf: 1, localSuffix: suffix, linkedid: caller.linkedid });
    const two = world.createChannel({
      tech: 'Local', resource, context: ctx, exten: t.sip, localHalf: 2, localSuffix: suffix, linkedid: caller.linkedid, state: 'Ring',
    });
    one.localPartner = two;
    two.localPartner = one;
    leg.outer = one;
    leg.two = two;
    leg.row = this.cdrRow(leg);
    const localNum = spec.localCallerNum ?? '';
    if (spec.flavour === 'queue') {
      world.newexten(one, ctx, t.sip, 1, 'AppQueue', '(Outgoing Line)');
      world.setCaller(one, localNum, '');
    } else {
      world.newexten(one, ctx, RING_GROUP, 1, 'AppDial', '(Outgoing Line)');
      world.setCaller(one, localNum, '');
      world.setConnected(one, caller.callerNum, caller.callerName);
    }
    inheritVars(world, caller, one);
    world.setVar(one, 'DIALEDPEERNUMBER', leg.dialstring.slice('Local/'.length));
    world.setVar(two, 'DIALEDPEERNUMBER', leg.dialstring.slice('Local/'.length));
    inheritVars(world, caller, two);
    world.setCaller(two, caller.callerNum, caller.callerName);
    world.setConnected(two, localNum, '');
  }

  /** LocalBridge and the caller's DialBegin of a member leg, once every member's channels exist (E4). */
  private announceMember(leg: Leg): void {
    const { world, spec } = this;
    const caller = this.caller;
    const one = leg.outer!;
    const two = leg.two!;
    const t = leg.target as Extract<LegTarget, { kind: 'member' }>;
    world.emitEvent({ type: 'LocalBridge', one, two, context: memberContext(spec), exten: t.sip });
    spec.onLegCalled?.(leg);
    world.emitEvent({ type: 'DialBegin', caller, peer: one, dialstring: leg.dialstring });
    if (spec.flavour === 'queue') one.exten = caller.exten;
  }

  /** The `;2` half's own dialplan up to its Dial(PJSIP/<ext>) and the phone channel it creates. */
  private runMemberDialplan(leg: Leg): void {
    const { world, spec } = this;
    const t = leg.target as Extract<LegTarget, { kind: 'member' }>;
    const two = leg.two!;
    if (spec.flavour === 'queue') {
      setStep(world, two, 'from-queue', t.sip, 1, 'QAGENT', t.sip);
      step(world, two, 'from-queue', t.sip, 2, 'Goto', `${spec.caller.exten},1`);
      step(world, two, 'from-queue', spec.caller.exten, 1, 'Goto', `from-internal,${t.sip},1`);
      leg.innerData = macroExtenVm(world, two, ['from-internal', t.sip, 1], t.sip);
    } else {
      step(world, two, RING_CONTEXT, t.sip, 1, 'NoOp', `Ring group ${RING_GROUP}: ringing member ${t.sip}`);
      setStep(world, two, RING_CONTEXT, t.sip, 2, '__EXTTOCALL', t.sip);
      leg.innerData = `PJSIP/${t.sip},,Tt`;
      step(world, two, RING_CONTEXT, t.sip, 3, 'Dial', leg.innerData);
    }
    if (t.behaviour.kind === 'unavailable') {
      world.setVar(two, 'DIALSTATUS', 'CHANUNAVAIL');
      this.memberGone(leg, 'CHANUNAVAIL', 16);
      return;
    }
    const ep = world.endpoints.get(t.sip)!;
    const phone = world.createChannel({
      tech: 'PJSIP', resource: t.sip, endpoint: t.sip, context: ep.context, exten: 's', callerNum: t.sip, callerName: ep.callerName, linkedid: two.linkedid,
    });
    leg.phone = phone;
    leg.innerRow = {
      channel: two, source: two.callerNum, callerId: cdrCallerId(two), destination: t.sip,
      destinationContext: spec.flavour === 'queue' ? 'from-internal' : RING_CONTEXT, destinationChannel: phone.name, lastApplication: 'Dial',
      lastData: leg.innerData, start: two.created, disposition: 'NO ANSWER', userfield: '',
    };
    world.setVar(phone, 'DIALEDPEERNUMBER', t.sip);
    inheritVars(world, two, phone);
    world.newexten(phone, phone.context, spec.flavour === 'queue' ? 's' : t.sip, 1, 'AppDial', '(Outgoing Line)');
    world.setConnected(phone, spec.caller.callerNum, spec.caller.callerName);
  }

  private innerDialBegin(leg: Leg): void {
    const { world } = this;
    const t = leg.target as Extract<LegTarget, { kind: 'member' }>;
    world.emitEvent({ type: 'DialBegin', caller: leg.two, peer: leg.phone!, dialstring: t.sip });
    world.setConnected(leg.two!, t.sip, leg.phone!.callerName);
  }

  /** The far end's part: ringing at once, then answer / reject as its behaviour says. */
  private play(leg: Leg): void {
    const { world } = this;
    const b = leg.target.behaviour;
    const phone = leg.phone!;
    if (b.kind === 'busy' || b.kind === 'congestion') {
      world.later(4, () => this.rejected(leg), phone);
      return;
    }
    this.ringing(leg);
    if (b.kind === 'answer') world.later(b.ringMs, () => this.answer(leg), phone);
  }

  /** The `;1` half reports the member's ringing to the caller. */
  private memberAlerting(leg: Leg): void {
    const { world } = this;
    const one = leg.outer!;
    if (one.state === 'Ringing') return;
    world.setState(one, 'Ringing', true);
    if (this.spec.flavour === 'queue') {
      world.setConnected(one, this.caller.callerNum, this.caller.callerName);
      world.refreshDevice(one.device, true);
    } else {
      world.setCaller(one, leg.phone!.callerNum, leg.phone!.callerName);
    }
    world.emitEvent({ type: 'DialState', caller: this.caller, peer: one, dialstring: leg.dialstring, status: 'RINGING' });
  }

  /** The phone rings (180): Newstate Ringing, DialState RINGING, then the device states (D1, E4, Q1). */
  private ringing(leg: Leg): void {
    const { world } = this;
    const caller = this.caller;
    const phone = leg.phone!;
    leg.state = 'ringing';
    if (!leg.two && leg.target.kind === 'phone') {
      // a phone: the caller's device is in use from the DialBegin, the phone's rings before DialState (E3, E7, E9)
      world.refreshDevice(caller.device, true);
      world.setState(phone, 'Ringing');
      world.setVar(caller, 'RINGTIME', '0');
      world.emitEvent({ type: 'DialState', caller, peer: phone, dialstring: leg.dialstring, status: 'RINGING' });
      return;
    }
    if (!leg.two) {
      world.setState(phone, 'Ringing', true);
      world.setVar(caller, 'RINGTIME', '0');
      world.emitEvent({ type: 'DialState', caller, peer: phone, dialstring: leg.dialstring, status: 'RINGING' });
      world.refreshDevice(phone.device, true);
      world.refreshDevice(caller.device, true);
      return;
    }
    const queue = this.spec.flavour === 'queue';
    if (!queue) this.memberAlerting(leg);
    world.setState(phone, 'Ringing', true);
    if (queue) world.emitEvent({ type: 'DialState', caller, peer: leg.outer!, dialstring: leg.dialstring, status: 'RINGING' });
    else world.refreshDevice(leg.outer!.device, true);
    if (!queue) world.refreshDevice(phone.device, true);
    world.setVar(leg.two, 'RINGTIME', '0');
    world.emitEvent({ type: 'DialState', caller: leg.two, peer: phone, dialstring: phone.callerNum, status: 'RINGING' });
    if (queue) world.refreshDevice(phone.device, true);
  }

  /** Busy (486) or no route from the far end. */
  private rejected(leg: Leg): void {
    if (this.finished || leg.state === 'done') return;
    const { world } = this;
    const b = leg.target.behaviour as RemoteBehaviour;
    const f = failureCause(b);
    const phone = leg.phone!;
    const tech = f.techCause;
    world.emitEvent({ type: 'HangupRequest', ch: phone, cause: f.cause, techCause: tech });
    if (leg.two) {
      world.emitEvent({ type: 'DialEnd', caller: leg.two, peer: phone, dialstring: phone.exten, status: f.dialStatus });
      hangupChannel(world, phone, f.cause, tech);
      world.setVar(leg.two, 'DIALSTATUS', f.dialStatus);
      if (leg.innerRow) emitCdrRow(world, { ...leg.innerRow, disposition: f.dialStatus === 'BUSY' ? 'BUSY' : 'FAILED' });
      leg.innerRow = undefined;
      this.memberGone(leg, f.dialStatus, 16);
    } else {
      world.emitEvent({ type: 'DialEnd', caller: this.caller, peer: phone, dialstring: leg.dialstring, status: f.dialStatus });
      hangupChannel(world, phone, f.cause, tech);
      leg.state = 'done';
      leg.status = f.dialStatus;
      if (leg.row) leg.row.disposition = f.dialStatus === 'BUSY' ? 'BUSY' : 'FAILED';
      leg.row && (leg.row.end = new Date());
    }
    this.checkAllFailed();
  }

  /** A member whose `;2` Dial failed: its dialplan ends with Hangup(), the `;1` half follows. */
  private memberGone(leg: Leg, status: string, cause: number): void {
    const { world, spec } = this;
    const two = leg.two!;
    const t = leg.target as Extract<LegTarget, { kind: 'member' }>;
    if (spec.flavour === 'queue') {
      step(world, two, 'macro-exten-vm', 's', 11, 'NoOp', `ext-local ${t.sip}: DIALSTATUS=${status} HANGUPCAUSE=`);
    } else {
      step(world, two, RING_CONTEXT, t.sip, 4, 'NoOp', `Ring group member ${t.sip}: DIALSTATUS=${status}`);
      step(world, two, RING_CONTEXT, t.sip, 5, 'Hangup', '');
    }
    world.emitEvent({ type: 'SoftHangupRequest', ch: two, cause: 16 });
    hangupChannel(world, two, cause);
    world.emitEvent({ type: 'DialEnd', caller: this.caller, peer: leg.outer!, dialstring: leg.dialstring, status });
    if (spec.flavour === 'queue') spec.onLegNoAnswer?.(leg);
    hangupChannel(world, leg.outer, cause);
    leg.state = 'done';
    leg.status = status;
    if (leg.row) leg.row.end = new Date();
  }

  private checkAllFailed(): void {
    if (this.finished || this.legs.some((l) => l.state !== 'done')) return;
    if (this.spec.app === 'Queue') return; // app_queue keeps the caller waiting until its timeout
    const statuses = this.legs.map((l) => l.status);
    const outcome: DialOutcome = statuses.includes('BUSY') ? 'BUSY' : statuses.includes('CONGESTION') ? 'CONGESTION' : statuses.length ? 'CHANUNAVAIL' : 'CHANUNAVAIL';
    this.finish(outcome);
  }

  private finish(outcome: DialOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.world.cancel(this.timeout);
    if (outcome !== 'ANSWER' && outcome !== 'ABANDON') this.world.setVar(this.caller, 'DIALSTATUS', outcome);
    this.spec.done(outcome, this);
  }

  /** The caller's CDR rows of this Dial (one per leg that had a channel, or one without a peer). */
  callerRows(): CdrRow[] {
    const rows = this.legs.map((l) => l.row).filter((r): r is CdrRow => r !== undefined);
    if (rows.length === 0) rows.push({ ...this.cdrRow({} as Leg), disposition: 'FAILED', end: new Date() });
    for (const r of rows) r.userfield = this.caller.userfield;
    return rows;
  }

  /** Publishes the caller's rows. */
  emitCallerRows(): void {
    for (const r of this.callerRows()) emitCdrRow(this.world, r);
  }

  /** A leg answered: the others are cancelled (answered elsewhere, cause 26) and the caller is bridged (E4, Q1, D1). */
  private answer(leg: Leg): void {
    if (this.finished || leg.state !== 'ringing') return;
    const { world, spec } = this;
    const caller = this.caller;
    const phone = leg.phone!;
    this.winner = leg;
    leg.state = 'answered';
    this.world.cancel(this.timeout);
    world.setState(phone, 'Up', !leg.two);
    const answeredAt = phone.answered ?? new Date();
    this.answeredAt = answeredAt;
    if (leg.row) {
      leg.row.answer = this.spec.rowStart ?? answeredAt;
      leg.row.disposition = 'ANSWERED';
    }
    const losers = this.legs.filter((l) => l !== leg && l.state !== 'done');
    if (!leg.two) {
      world.setVar(caller, 'DIALSTATUS', 'ANSWER');
      world.setVar(caller, 'DIALEDPEERNAME', phone.name);
      world.setVar(caller, 'DIALEDPEERNUMBER', leg.dialstring);
      world.emitEvent({ type: 'DialEnd', caller, peer: phone, dialstring: leg.dialstring, status: 'ANSWER' });
      for (const l of losers) this.cancelLeg(l, 26, 'CANCEL');
      this.connectCaller(leg);
      world.refreshDevice(phone.device, true);
      const bridge = createBridge(world, { name: '', type: 'basic', amiType: 'basic', creator: '' });
      phone.exten = '';
      world.newexten(phone, phone.context, '', 1, 'AppDial', '(Outgoing Line)');
      bridgeAdd(world, bridge, phone);
      bridgeAdd(world, bridge, caller);
      this.finish('ANSWER');
      return;
    }
    const two = leg.two;
    const one = leg.outer!;
    if (leg.innerRow) {
      leg.innerRow.answer = answeredAt;
      leg.innerRow.disposition = 'ANSWERED';
    }
    world.setVar(two, 'DIALSTATUS', 'ANSWER');
    world.setVar(two, 'DIALEDPEERNAME', phone.name);
    world.setVar(two, 'DIALEDPEERNUMBER', phone.callerNum);
    world.emitEvent({ type: 'DialEnd', caller: two, peer: phone, dialstring: phone.callerNum, status: 'ANSWER' });
    // the two halves report Up one after the other, with the bridge of the inner Dial in between (E4, Q1)
    two.localPartner = undefined;
    world.setState(two, 'Up');
    two.localPartner = one;
    const inner = createBridge(world, { name: '', type: 'basic', amiType: 'basic', creator: '' });
    const enterPhone = (): void => {
      phone.exten = '';
      world.newexten(phone, phone.context, '', 1, 'AppDial', '(Outgoing Line)');
      bridgeAdd(world, inner, phone);
    };
    if (spec.flavour === 'queue') enterPhone();
    world.setState(one, 'Up');
    world.setCaller(one, phone.callerNum, phone.callerName);
    world.setConnected(caller, phone.callerNum, phone.callerName);
    if (spec.flavour === 'queue') {
      world.emitEvent({ type: 'DialEnd', caller, peer: one, dialstring: leg.dialstring, status: 'ANSWER' });
      for (const l of losers) this.cancelLeg(l, 26, 'CANCEL', 26, 26, () => bridgeAdd(world, inner, two));
      if (two.bridge !== inner) bridgeAdd(world, inner, two);
      this.connectCaller(leg);
    } else {
      const later: Array<() => void> = [];
      for (const l of losers) later.push(this.cancelLegStaged(l));
      world.emitEvent({ type: 'DialEnd', caller, peer: one, dialstring: leg.dialstring, status: 'ANSWER' });
      this.connectCaller(leg);
      for (const f of later) f();
      enterPhone();
      bridgeAdd(world, inner, two);
    }
    const outerBridge = createBridge(world, { name: '', type: 'basic', amiType: 'basic', creator: '' });
    one.exten = '';
    world.newexten(one, one.context, '', 1, spec.flavour === 'queue' ? 'AppQueue' : 'AppDial', '(Outgoing Line)');
    bridgeAdd(world, outerBridge, one);
    bridgeAdd(world, outerBridge, caller);
    this.finish('ANSWER');
  }

  /**
   * A ring-group member cancelled because another answered, in two stages as
   * E4 shows: DialEnd CANCEL and the `;1` half at once, the `;2` half and the
   * phone after the caller was answered. Returns the second stage.
   */
  private cancelLegStaged(leg: Leg): () => void {
    const { world } = this;
    if (leg.state === 'done' || !leg.two) {
      this.cancelLeg(leg, 26, 'CANCEL');
      return () => undefined;
    }
    leg.state = 'done';
    leg.status = 'CANCEL';
    if (leg.row) leg.row.end = new Date();
    const one = leg.outer!;
    const two = leg.two;
    world.emitEvent({ type: 'DialEnd', caller: this.caller, peer: one, dialstring: leg.dialstring, status: 'CANCEL' });
    world.emitEvent({ type: 'HangupRequest', ch: two, cause: 26 });
    hangupChannel(world, one, 26);
    return () => {
      if (leg.innerRow) emitCdrRow(world, leg.innerRow);
      leg.innerRow = undefined;
      if (leg.phone?.alive) world.emitEvent({ type: 'DialEnd', caller: two, peer: leg.phone, dialstring: leg.phone.callerNum, status: 'CANCEL' });
      world.setVar(two, 'DIALSTATUS', 'CANCEL');
      world.emitEvent({ type: 'SoftHangupRequest', ch: two, cause: 16 });
      hangupChannel(world, two, 26);
      hangupChannel(world, leg.phone, 26);
    };
  }

  private connectCaller(leg: Leg): void {
    this.spec.onConnect?.(leg);
    if (this.caller.state !== 'Up') this.world.setState(this.caller, 'Up');
  }

  /**
   * Ends a leg that did not answer: `status` is the caller's DialEnd for it
   * (CANCEL: answered elsewhere or abandoned, NOANSWER: ring time over).
   */
  private cancelLeg(leg: Leg, cause: number, status: 'CANCEL' | 'NOANSWER', localCause = cause, phoneCause = cause, between?: () => void): void {
    const { world, spec } = this;
    const caller = this.caller;
    if (leg.state === 'done') return;
    leg.state = 'done';
    leg.status = status;
    if (leg.row) leg.row.end = new Date();
    if (!leg.two) {
      world.emitEvent({ type: 'DialEnd', caller, peer: leg.phone!, dialstring: leg.dialstring, status });
      hangupChannel(world, leg.phone, phoneCause);
      return;
    }
    const one = leg.outer!;
    const two = leg.two;
    if (spec.flavour === 'queue' && leg.innerRow) {
      emitCdrRow(world, leg.innerRow);
      leg.innerRow = undefined;
    }
    world.emitEvent({ type: 'DialEnd', caller, peer: one, dialstring: leg.dialstring, status });
    // app_queue reports the cancelled member leg twice (Q1)
    if (spec.flavour === 'queue' && status === 'CANCEL' && cause === 26) world.emitEvent({ type: 'DialEnd', caller, peer: one, dialstring: leg.dialstring, status });
    if (status === 'NOANSWER' && spec.flavour === 'queue') spec.onLegNoAnswer?.(leg);
    world.emitEvent({ type: 'HangupRequest', ch: two, cause: cause === 0 ? undefined : cause });
    if (spec.flavour !== 'queue') hangupChannel(world, one, localCause);
    if (leg.innerRow) emitCdrRow(world, leg.innerRow);
    leg.innerRow = undefined;
    if (leg.phone?.alive) world.emitEvent({ type: 'DialEnd', caller: two, peer: leg.phone, dialstring: leg.phone.callerNum, status: 'CANCEL' });
    world.setVar(two, 'DIALSTATUS', 'CANCEL');
    world.emitEvent({ type: 'SoftHangupRequest', ch: two, cause: 16 });
    hangupChannel(world, two, localCause);
    between?.();
    hangupChannel(world, leg.phone, phoneCause);
    hangupChannel(world, one, localCause);
  }

  /** The ring time ran out (Dial timeout): NOANSWER; Local halves die with cause 0, phones with 16 (E5); a direct leg with 0 (A5). */
  private noAnswer(): void {
    if (this.finished) return;
    for (const leg of this.legs) {
      if (leg.two) this.cancelLeg(leg, 0, 'NOANSWER', 0, 16);
      else this.cancelLeg(leg, 0, 'NOANSWER');
    }
    this.finish('NOANSWER');
  }

  /** The caller hung up (CANCEL) while it rang: every leg CANCEL, cause 127 on every channel (E8). */
  abandon(): void {
    if (this.finished) return;
    const { world } = this;
    world.emitEvent({ type: 'HangupRequest', ch: this.caller, cause: 127 });
    for (const leg of this.legs) this.cancelLeg(leg, 127, 'CANCEL');
    this.finish('ABANDON');
  }

  get isFinished(): boolean {
    return this.finished;
  }
}

/**
 * An answered call: `caller` bridged to the winning leg (and for member legs,
 * the `;2` half bridged to the phone). Ends when either side hangs up.
 */
export interface Connected {
  world: World;
  caller: Channel;
  leg: Leg;
  /** every CDR row still to publish, in the order they go out */
  rows: () => CdrRow[];
  /** app_queue: AgentComplete when the call ends (reason caller / agent) */
  onComplete?(reason: 'caller' | 'agent'): void;
  /** without a cause on the caller's HangupRequest (app_queue's caller BYE, Q1) */
  bareCallerHangupRequest?: boolean;
  /** an end in another order than endConnected's (a ring-group call transferred onward: X2); returns false to leave it to endConnected */
  end?(first: 'caller' | 'far', bye: boolean): boolean;
  ended?: boolean;
}

function leaveAndDestroy(world: World, bridge: Bridge | undefined, first: Channel | undefined, second: Channel | undefined): void {
  if (!bridge) return;
  if (first) bridgeRemove(world, bridge, first);
  if (second) bridgeRemove(world, bridge, second);
  destroyBridge(world, bridge);
}

/** Wires hangups of an answered call: the caller's side and the far end's side. */
export function wireConnected(c: Connected): void {
  const { caller, leg } = c;
  caller.onHangupRequest = () => endConnected(c, 'caller', false);
  caller.onRemoteHangup = caller.endpoint ? () => endConnected(c, 'caller', true) : undefined;
  const phone = leg.phone!;
  phone.onHangupRequest = () => endConnected(c, 'far', false);
  phone.onRemoteHangup = () => endConnected(c, 'far', true);
  for (const ch of [leg.outer, leg.two]) if (ch && ch !== phone) ch.onHangupRequest = () => endConnected(c, 'far', false);
}

/**
 * The end of an answered call, in the order of the traces: the side that hung
 * up first leaves its bridge, the rest follows leg by leg (D1, E1, E3, E4, Q1).
 */
export function endConnected(c: Connected, first: 'caller' | 'far', bye: boolean): void {
  if (c.ended) return;
  c.ended = true;
  if (c.end?.(first, bye)) return;
  const { world, caller, leg } = c;
  const phone = leg.phone!;
  const one = leg.two ? leg.outer : undefined;
  const two = leg.two;
  const outerBridge = caller.bridge;
  const innerBridge = two?.bridge;
  const rows = (): void => {
    for (const r of c.rows()) emitCdrRow(world, r);
  };
  if (first === 'caller' && !two) {
    if (bye) world.emitEvent({ type: 'HangupRequest', ch: caller, cause: 16 });
    if (outerBridge) bridgeRemove(world, outerBridge, caller);
    world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16 });
    leaveAndDestroy(world, outerBridge, phone, undefined);
    rows();
    hangupChannel(world, caller, 16);
    hangupChannel(world, phone, 16);
    return;
  }
  if (first === 'caller' && c.bareCallerHangupRequest) {
    // app_queue (Q1): AgentComplete right after the caller's BYE; the rows once the caller left the bridge
    if (bye) world.emitEvent({ type: 'HangupRequest', ch: caller });
    c.onComplete?.('caller');
    if (outerBridge) bridgeRemove(world, outerBridge, caller);
    world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16 });
    if (outerBridge && one) bridgeRemove(world, outerBridge, one);
    rows();
    world.emitEvent({ type: 'HangupRequest', ch: two!, cause: 16 });
    hangupChannel(world, one, 16);
    if (outerBridge) destroyBridge(world, outerBridge);
    if (innerBridge) bridgeRemove(world, innerBridge, two!);
    world.emitEvent({ type: 'SoftHangupRequest', ch: two!, cause: 16 });
    hangupChannel(world, two, 16);
    hangupChannel(world, caller, 16);
    leaveAndDestroy(world, innerBridge, phone, undefined);
    hangupChannel(world, phone, 16);
    return;
  }
  if (first === 'caller') {
    // ring group (E4): the caller's rows go out first, the member's row once the caller left the bridge
    const all = c.rows();
    const inner = leg.innerRow;
    for (const r of all) if (r !== inner) emitCdrRow(world, r);
    if (bye) world.emitEvent({ type: 'HangupRequest', ch: caller, cause: 16 });
    if (outerBridge) bridgeRemove(world, outerBridge, caller);
    if (inner && all.includes(inner)) emitCdrRow(world, inner);
    world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16 });
    hangupChannel(world, caller, 16);
    leaveAndDestroy(world, outerBridge, one, undefined);
    world.emitEvent({ type: 'HangupRequest', ch: two!, cause: 16 });
    hangupChannel(world, one, 16);
    if (innerBridge) bridgeRemove(world, innerBridge, two!);
    world.emitEvent({ type: 'SoftHangupRequest', ch: two!, cause: 16 });
    hangupChannel(world, two, 16);
    leaveAndDestroy(world, innerBridge, phone, undefined);
    hangupChannel(world, phone, 16);
    return;
  }
  if (bye) world.emitEvent({ type: 'HangupRequest', ch: phone, cause: 16 });
  c.onComplete?.('agent');
  if (!two) {
    leaveAndDestroy(world, outerBridge, phone, caller);
    world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16 });
    hangupChannel(world, phone, 16);
    rows();
    hangupChannel(world, caller, 16);
    return;
  }
  leaveAndDestroy(world, innerBridge, phone, two);
  world.emitEvent({ type: 'SoftHangupRequest', ch: two, cause: 16 });
  hangupChannel(world, phone, 16);
  hangupChannel(world, two, 16);
  leaveAndDestroy(world, outerBridge, one, caller);
  hangupChannel(world, one, 16);
  world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16 });
  rows();
  hangupChannel(world, caller, 16);
}

/** Answered calls by the channels in them (for transfers). */
const connectedCalls = new WeakMap<Channel, Connected>();

export function connectedCallOf(ch: Channel): Connected | undefined {
  const c = connectedCalls.get(ch);
  return c && !c.ended ? c : undefined;
}

/** Registers and wires an answered call. */
export function connect(c: Connected): Connected {
  for (const ch of [c.caller, c.leg.outer, c.leg.two, c.leg.phone]) if (ch) connectedCalls.set(ch, c);
  wireConnected(c);
  return c;
}

export interface AfterDial {
  /** the dialplan application that ends the call: Hangup(), Busy(20) or Congestion(20) */
  app: 'Hangup' | 'Busy' | 'Congestion';
  destination: string;
  context: string;
}

/**
 * A Dial that did not connect, then the dialplan's last application (E2, E5):
 * the caller's rows, one more row for that application, and the caller's hangup.
 */
export function endAfterDial(world: World, caller: Channel, emitRows: () => void, after: AfterDial): void {
  const extra: CdrRow = {
    channel: caller, source: caller.callerNum, callerId: cdrCallerId(caller), destination: after.destination, destinationContext: after.context,
    destinationChannel: '', lastApplication: after.app, lastData: after.app === 'Hangup' ? '' : '20', start: new Date(),
    disposition: caller.state === 'Up' ? 'ANSWERED' : after.app === 'Busy' ? 'BUSY' : after.app === 'Congestion' ? 'FAILED' : 'NO ANSWER', userfield: '',
  };
  const rows = (): void => {
    emitRows();
    emitCdrRow(world, { ...extra, userfield: caller.userfield, callerId: cdrCallerId(caller) });
  };
  if (after.app === 'Hangup') {
    world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16 });
    rows();
    hangupChannel(world, caller, 16);
    return;
  }
  const [cause, tech] = after.app === 'Busy' ? [17, 486] : [34, 503];
  if (after.app === 'Busy') world.setState(caller, 'Busy');
  world.emitEvent({ type: 'HangupRequest', ch: caller, cause, techCause: tech });
  world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16, techCause: tech });
  rows();
  hangupChannel(world, caller, cause, tech);
}

/** The caller hung up while it rang: its rows and its hangup with cause 127 (E8). */
export function endAbandoned(world: World, caller: Channel, emitRows: () => void): void {
  emitRows();
  hangupChannel(world, caller, 127);
}
