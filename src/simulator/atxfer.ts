/**
 * An attended transfer by the feature code (FreePBX `*2`, AMI `Atxfer`), as
 * Asterisk 22 does it (traces X1, X3, X4): the code and the extension arrive
 * as DTMF on the transferer's channel, the party it talked to is put on hold,
 * and after the digit timeout the target is dialled through a Local channel
 * (`Local/<ext>@from-internal-xfer`, the call's linkedid) whose `;1` half is
 * bridged with the transferer in a consultation bridge. When the transferer
 * hangs up, the transfer completes (AttendedTransfer, DestType Bridge): the
 * `;1` half moves into the call's bridge, and once the target has answered
 * the Local pair optimizes itself away, leaving the target's phone bridged
 * with the party that was on hold. When the target does not answer while
 * the transferer waits, the transferer goes back to the call.
 */
import { bridgeAdd, bridgeRemove, createBridge, destroyBridge } from './bridging.js';
import { TALK_MS, emitCdrRow, inheritVars, macroExtenVm, type CdrRow } from './freepbx.js';
import { Dialer, connect, connectedCallOf, endConnected, hangupChannel, type Connected, type DialOutcome, type Leg, type LegBehaviour } from './pbx-dial.js';
import { TRANSFER_CONTEXT, endTransferredGroupCall, type TransferResult } from './transfer.js';
import type { Bridge, Channel } from './types.js';
import type { World } from './world.js';

/** Asterisk's `transferdigittimeout` (features.conf, default 3 s): the dial starts this long after the last digit. */
const DIGIT_TIMEOUT_MS = 3000;
/** How long the transferer talks to the target (or waits while it rings) before hanging up to complete the transfer. */
export const CONSULT_MS = 3000;

interface Consultation {
  world: World;
  call: Connected;
  transferer: Channel;
  transferee: Channel;
  orig: Bridge;
  exten: string;
  one?: Channel;
  two?: Channel;
  consult?: Bridge;
  dialer?: Dialer;
  phone?: Channel;
  answered: boolean;
  completed: boolean;
  over: boolean;
}

export function attendedTransfer(world: World, transferer: Channel, exten: string, opts: { consultMs?: number } = {}): TransferResult {
  const call = connectedCallOf(transferer);
  const orig = transferer.bridge;
  if (!call || !orig || orig.channels.length !== 2) return 'invalid';
  if (call.leg.two && transferer !== call.leg.phone) return 'invalid';
  const ep = world.endpoints.get(exten);
  const op = world.operators.find((o) => o.sip === exten);
  if (!ep || !op) return 'failed';
  const transferee = orig.channels.find((c) => c !== transferer)!;
  // the call's own end (the talk timer, the hangups wired to it) is replaced by the consultation's
  call.ended = true;
  const x: Consultation = { world, call, transferer, transferee, orig, exten, answered: false, completed: false, over: false };
  const dtmf = (digit: string): void => {
    world.emitEvent({ type: 'AmiEvent', name: 'DTMFEnd', privilege: 'dtmf', parts: [{ ch: transferer }, { headers: [['Digit', digit], ['DurationMs', '100'], ['Direction', 'Received']] }] });
  };
  dtmf('*');
  dtmf('2');
  world.emitEvent({ type: 'AmiEvent', name: 'Hold', privilege: 'call', parts: [{ ch: transferer }, { headers: [['MusicClass', 'default']] }] });
  for (const d of exten) dtmf(d);
  transferer.onHangupRequest = () => complete(x, false);
  transferer.onRemoteHangup = () => complete(x, true);
  transferee.onHangupRequest = () => abandon(x);
  if (call.leg.two) call.caller.onHangupRequest = () => abandon(x);
  const behaviour: LegBehaviour = ep.registered ? op.behaviour : { kind: 'unavailable' };
  world.later(DIGIT_TIMEOUT_MS, () => dialTarget(x, behaviour, opts.consultMs ?? CONSULT_MS), transferer);
  return 'success';
}

/** The Local pair to the target, the consultation bridge, and the `;2` half's Dial (X4). */
function dialTarget(x: Consultation, behaviour: LegBehaviour, consultMs: number): void {
  const { world, transferer, exten } = x;
  if (x.over || !transferer.alive) return;
  const suffix = world.newNameSuffix();
  const resource = `${exten}@${TRANSFER_CONTEXT}`;
  const one = world.createChannel({ tech: 'Local', resource, context: TRANSFER_CONTEXT, exten, localHalf: 1, localSuffix: suffix, linkedid: transferer.linkedid });
  const two = world.createChannel({ tech: 'Local', resource, context: TRANSFER_CONTEXT, exten, localHalf: 2, localSuffix: suffix, linkedid: transferer.linkedid, state: 'Ring' });
  one.localPartner = two;
  two.localPartner = one;
  x.one = one;
  x.two = two;
  const consult = createBridge(world, { name: '', type: 'basic', amiType: 'basic', creator: '' });
  x.consult = consult;
  inheritVars(world, transferer, two);
  world.setCaller(two, transferer.callerNum, transferer.callerName);
  world.emitEvent({ type: 'LocalBridge', one, two, context: TRANSFER_CONTEXT, exten, optimization: true });
  const data = macroExtenVm(world, two, [TRANSFER_CONTEXT, exten, 1], exten);
  world.setConnected(one, transferer.callerNum, transferer.callerName);
  bridgeAdd(world, consult, one);
  bridgeRemove(world, x.orig, transferer);
  bridgeAdd(world, consult, transferer);
  world.setConnected(transferer, '', '');
  const dialer = new Dialer(world, {
    caller: two, app: 'Dial', data, cdrDestination: exten, cdrContext: TRANSFER_CONTEXT,
    timeoutMs: 15_000, targets: [{ kind: 'phone', sip: exten, behaviour }],
    done: (outcome) => dialDone(x, outcome),
  });
  x.dialer = dialer;
  dialer.start();
  if (!dialer.isFinished && dialer.legs[0]?.state === 'ringing') {
    world.setState(one, 'Ringing');
    world.emitEvent({ type: 'DialState', peer: one, dialstring: exten, status: 'RINGING' });
    world.setConnected(transferer, exten, dialer.legs[0].phone?.callerName ?? '');
  }
  two.onHangupRequest = () => dialer.abandon();
  world.later(consultMs, () => complete(x, true), transferer);
}

function dialDone(x: Consultation, outcome: DialOutcome): void {
  const { world } = x;
  const one = x.one!;
  if (outcome === 'ANSWER') {
    x.answered = true;
    x.phone = x.dialer!.winner!.phone!;
    world.setState(one, 'Up');
    world.setCaller(one, x.phone.callerNum, x.phone.callerName);
    world.emitEvent({ type: 'DialEnd', peer: one, dialstring: x.exten, status: 'ANSWER' });
    if (x.completed) optimize(x);
    return;
  }
  // the target did not answer: the Local pair goes; the transferer (if still there) is back in the call
  const two = x.two!;
  if (x.consult && one.bridge === x.consult) bridgeRemove(world, x.consult, one);
  world.emitEvent({ type: 'SoftHangupRequest', ch: two, cause: 16 });
  hangupChannel(world, two, 16);
  if (one.alive) hangupChannel(world, one, 16);
  if (x.completed) {
    // a transfer completed while the target rang (X1), then no answer: the party on hold is alone
    endAlone(x);
    return;
  }
  resume(x);
}

/** The transferer hangs up: the transfer completes (X1 while the target rings, X4 after it answered). */
function complete(x: Consultation, bye: boolean): void {
  const { world, transferer, transferee, orig } = x;
  if (x.completed || x.over || !transferer.alive) return;
  const one = x.one;
  const consult = x.consult;
  if (!one || !consult) {
    // hung up before the target was dialled: the transfer is abandoned with the call
    abandon(x);
    return;
  }
  x.completed = true;
  if (bye) world.emitEvent({ type: 'HangupRequest', ch: transferer, cause: 16 });
  bridgeRemove(world, consult, transferer);
  world.emitEvent({ type: 'AmiEvent', name: 'BridgeMerge', privilege: 'call', parts: [{ bridge: orig, prefix: 'To' }, { bridge: consult, prefix: 'From' }] });
  bridgeRemove(world, consult, one);
  bridgeAdd(world, orig, one);
  world.emitEvent({
    type: 'AmiEvent', name: 'AttendedTransfer', privilege: 'call',
    parts: [
      { headers: [['Result', 'Success']] },
      { ch: transferer, prefix: 'OrigTransferer' }, { bridge: orig, prefix: 'Orig' },
      { ch: transferer, prefix: 'SecondTransferer' }, { bridge: consult, prefix: 'Second' },
      { ch: transferee, prefix: 'Transferee' }, { ch: one, prefix: 'TransferTarget' },
      { headers: [['IsExternal', 'No'], ['DestType', 'Bridge'], ['DestBridgeUniqueid', orig.id]] },
    ],
  });
  world.setConnected(one, transferee.callerNum, transferee.callerName);
  const first = x.call.rows()[0];
  emitCdrRow(world, {
    channel: transferer, source: transferer.callerNum, callerId: `"${transferer.callerName}" <${transferer.callerNum}>`, destination: '', destinationContext: transferer.context,
    destinationChannel: one.name, lastApplication: 'AppDial', lastData: '(Outgoing Line)', start: transferer.created, answer: transferer.answered ?? first?.answer,
    disposition: 'ANSWERED', userfield: '',
  });
  destroyBridge(world, consult);
  hangupChannel(world, transferer, 16);
  world.setConnected(transferee, x.exten, x.phone?.callerName ?? '');
  if (x.answered) optimize(x);
}

/** The Local pair swaps the target's phone into the call's bridge and hangs up (LocalOptimizationBegin/End, X4). */
function optimize(x: Consultation): void {
  const { world, orig } = x;
  const one = x.one!;
  const two = x.two!;
  const phone = x.phone!;
  const inner = two.bridge;
  const id = String(nextOptimization(world));
  world.emitEvent({
    type: 'AmiEvent', name: 'LocalOptimizationBegin', privilege: 'call',
    parts: [{ ch: one, prefix: 'LocalOne' }, { ch: two, prefix: 'LocalTwo' }, { ch: phone, prefix: 'Source' }, { headers: [['DestUniqueId', two.id], ['Id', id]] }],
  });
  if (inner) bridgeRemove(world, inner, phone);
  bridgeRemove(world, orig, one);
  bridgeAdd(world, orig, phone);
  world.setConnected(phone, x.transferee.callerNum, x.transferee.callerName);
  emitCdrRow(world, {
    channel: one, source: one.callerNum, callerId: `"${one.callerName}" <${one.callerNum}>`, destination: x.exten, destinationContext: TRANSFER_CONTEXT,
    destinationChannel: '', lastApplication: 'AppDial', lastData: '(Outgoing Line)', start: one.created, answer: x.dialer!.answeredAt, disposition: 'ANSWERED', userfield: '',
  });
  world.emitEvent({ type: 'AmiEvent', name: 'LocalOptimizationEnd', privilege: 'call', parts: [{ ch: one, prefix: 'LocalOne' }, { ch: two, prefix: 'LocalTwo' }, { headers: [['Success', 'No'], ['Id', id]] }] });
  if (inner) bridgeRemove(world, inner, two);
  world.emitEvent({ type: 'HangupRequest', ch: two, cause: 16 });
  two.onHangupRequest = undefined;
  hangupChannel(world, one, 16);
  if (inner) destroyBridge(world, inner);
  world.emitEvent({ type: 'SoftHangupRequest', ch: two, cause: 16 });
  for (const r of x.dialer!.callerRows()) emitCdrRow(world, r);
  hangupChannel(world, two, 16);
  // the party that was on hold talks to the target now; the caller ends the call after talking
  x.over = true;
  const { call } = x;
  const grouped = call.leg.two !== undefined;
  const leg: Leg = grouped
    ? { ...call.leg, phone, innerRow: undefined }
    : { target: { kind: 'phone', sip: x.exten, behaviour: { kind: 'answer', ringMs: 0 } }, outer: phone, phone, dialstring: x.exten, state: 'answered', calledAt: Date.now() };
  // the caller's rows: one per party it was bridged with (X4: the first operator, the Local half, the target's phone)
  const callerRows = call.rows();
  const extra: CdrRow[] = callerRows.length > 0 && !grouped ? [one.name, phone.name].map((destinationChannel) => ({ ...callerRows.at(-1)!, destinationChannel })) : [];
  const rows = (): CdrRow[] => [...callerRows, ...extra];
  const phoneRow: CdrRow = {
    channel: phone, source: phone.callerNum, callerId: `"${phone.callerName}" <${phone.callerNum}>`, destination: '', destinationContext: phone.context,
    destinationChannel: '', lastApplication: 'AppDial', lastData: '(Outgoing Line)', start: phone.created, answer: x.dialer!.answeredAt, disposition: 'ANSWERED', userfield: '',
  };
  const next: Connected = connect({
    world, caller: call.caller, leg, rows,
    end: (first: 'caller' | 'far', bye: boolean) =>
      first === 'caller' && (grouped ? endTransferredGroupCall(world, call.caller, leg, rows(), bye) : endAfterAttended(world, call.caller, phone, phoneRow, rows(), bye)),
  });
  world.later(TALK_MS, () => endConnected(next, 'caller', true), call.caller);
}

/** The target did not answer and the transferer is still in the consultation: it goes back to the call (Unhold). */
function resume(x: Consultation): void {
  const { world, transferer, orig, call } = x;
  x.over = true;
  if (x.consult) {
    if (transferer.bridge === x.consult) bridgeRemove(world, x.consult, transferer);
    destroyBridge(world, x.consult);
  }
  if (!transferer.alive) return;
  bridgeAdd(world, orig, transferer);
  world.emitEvent({ type: 'AmiEvent', name: 'Unhold', privilege: 'call', parts: [{ ch: transferer }] });
  world.setConnected(transferer, x.transferee.callerNum, x.transferee.callerName);
  const again: Connected = connect({ ...call, ended: false });
  world.later(TALK_MS, () => endConnected(again, 'caller', true), call.caller);
}

/** The party on hold hung up during the consultation: everything ends. */
function abandon(x: Consultation): void {
  const { world } = x;
  if (x.over) return;
  x.over = true;
  x.dialer?.abandon();
  for (const ch of [x.transferer, x.one, x.two]) if (ch?.alive) hangupChannel(world, ch, 16);
  if (x.consult) destroyBridge(world, x.consult);
  endAlone(x);
}

/** The call's bridge with nobody to talk to: the party left in it hangs up (and a ring group's Local pair and caller with it). */
function endAlone(x: Consultation): void {
  const { world, orig, call } = x;
  x.over = true;
  for (const r of call.rows()) emitCdrRow(world, r);
  for (const ch of [...orig.channels]) bridgeRemove(world, orig, ch);
  destroyBridge(world, orig);
  for (const ch of [x.transferee, call.leg.two ? call.leg.outer : undefined, call.leg.two ? call.caller : undefined]) {
    if (ch?.alive) {
      world.emitEvent({ type: 'SoftHangupRequest', ch, cause: 16 });
      hangupChannel(world, ch, 16);
    }
  }
}

/** The caller hangs up after an attended transfer (X4): both leave the bridge, the phone's row and hangup, then the caller's. */
function endAfterAttended(world: World, caller: Channel, phone: Channel, phoneRow: CdrRow, rows: CdrRow[], bye: boolean): boolean {
  const bridge = caller.bridge;
  if (bye) world.emitEvent({ type: 'HangupRequest', ch: caller, cause: 16 });
  if (bridge) {
    bridgeRemove(world, bridge, caller);
    if (phone.bridge === bridge) bridgeRemove(world, bridge, phone);
  }
  world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16 });
  if (bridge) destroyBridge(world, bridge);
  emitCdrRow(world, phoneRow);
  hangupChannel(world, phone, 16);
  for (const r of rows) emitCdrRow(world, r);
  hangupChannel(world, caller, 16);
  return true;
}

const optimizationSeq = new WeakMap<World, number>();

/** The `Id` of a Local channel optimization, counted per simulated PBX from 0 (X4: `Id: 0`). */
function nextOptimization(world: World): number {
  const n = optimizationSeq.get(world) ?? 0;
  optimizationSeq.set(world, n + 1);
  return n;
}
