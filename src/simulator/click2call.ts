import { failureCause } from './cast.js';
import { bridgeAdd, bridgeRemove, createBridge, destroyBridge } from './bridging.js';
import { createTargetChannel, emitCdr, formatCallerId, resolveTarget, runRemote, techCauseOf, unavailable } from './dial.js';
import { startMixMonitor } from './mixmonitor.js';
import type { AmiOriginate } from './originate.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

/**
 * The dialplan context shipped in asterisk-config/extensions_custom.conf for AMI-only installations:
 *
 *   [callbridge-click2call]
 *   exten => _[+0-9].,1,NoOp(callbridge call ${CALLBRIDGE_CALL_ID} order ${CALLBRIDGE_ORDER_ID} client ${EXTEN})
 *    same => n,Set(__CALLBRIDGE_CALL_ID=${CALLBRIDGE_CALL_ID})
 *    same => n,Set(CDR(userfield)=callbridge:${CALLBRIDGE_CALL_ID})
 *    same => n,MixMonitor(${CALLBRIDGE_RECORDING}.wav,b)
 *    same => n,Dial(${CALLBRIDGE_CLIENT_DIAL},${CALLBRIDGE_CLIENT_TIMEOUT})
 *    same => n,Hangup()
 */
export const CLICK2CALL_CONTEXT = 'callbridge-click2call';

/** Priorities of the steps above. */
const PRIO = { mixMonitor: 4, dial: 5, hangup: 6 };

/** Variables app_dial resets before dialling (they show up as VarSet in the traces). */
const DIAL_VARS = ['DIALSTATUS', 'DIALEDPEERNUMBER', 'DIALEDPEERNAME', 'ANSWEREDTIME', 'ANSWEREDTIME_MS', 'DIALEDTIME', 'DIALEDTIME_MS', 'RINGTIME', 'RINGTIME_MS', 'PROGRESSTIME', 'PROGRESSTIME_MS'];

export interface DialplanHooks {
  /** what a BYE from the operator's phone does at the current dialplan step */
  onRemoteHangup: () => void;
}

/** Runs the answered operator channel through the click-to-call context. */
export function runClick2Call(world: World, op: Channel, p: AmiOriginate, hooks: DialplanHooks): void {
  if (p.context !== CLICK2CALL_CONTEXT || !/^[+0-9]./.test(p.exten)) {
    // no such extension in the simulated dialplan: the PBX hangs the channel up
    world.destroyChannel(op, 16);
    return;
  }
  const v = (name: string): string => op.vars.get(name) ?? '';
  const { context, exten } = p;
  const callId = v('CALLBRIDGE_CALL_ID');
  world.newexten(op, context, exten, 1, 'NoOp', `callbridge call ${callId} order ${v('CALLBRIDGE_ORDER_ID')} client ${exten}`);
  world.newexten(op, context, exten, 2, 'Set', `__CALLBRIDGE_CALL_ID=${callId}`);
  world.setVar(op, '__CALLBRIDGE_CALL_ID', callId);
  world.newexten(op, context, exten, 3, 'Set', `CDR(userfield)=callbridge:${callId}`);
  op.userfield = `callbridge:${callId}`;
  const rec = v('CALLBRIDGE_RECORDING');
  world.newexten(op, context, exten, PRIO.mixMonitor, 'MixMonitor', `${rec}.wav,b`);
  if (rec) startMixMonitor(world, op, `${rec}.wav`, true);
  const dial = v('CALLBRIDGE_CLIENT_DIAL');
  const timeoutRaw = v('CALLBRIDGE_CLIENT_TIMEOUT');
  const dialData = `${dial},${timeoutRaw}`;
  world.newexten(op, context, exten, PRIO.dial, 'Dial', dialData);
  for (const name of DIAL_VARS) world.setVar(op, name, '');
  dialClient(world, op, p, hooks, dial, Number(timeoutRaw) || 0, dialData);
}

function dialClient(world: World, op: Channel, p: AmiOriginate, hooks: DialplanHooks, dial: string, timeoutSec: number, dialData: string): void {
  const cdr = (peer: Channel | undefined, answer: Date | undefined, disposition: 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED'): void =>
    emitCdr(world, {
      source: op.callerNum, destination: p.exten, destinationContext: p.context, callerId: formatCallerId(op), channel: op,
      destinationChannel: peer?.name ?? '', lastApplication: 'Dial', lastData: dialData, start: op.created, answer, disposition,
    });

  /** Dial returned without a conversation: the dialplan goes on to Hangup() (A5). */
  const afterDial = (status: string, peer?: Channel): void => {
    world.setVar(op, 'DIALSTATUS', status);
    world.newexten(op, p.context, p.exten, PRIO.hangup, 'Hangup', '');
    world.emitEvent({ type: 'SoftHangupRequest', ch: op, cause: 16 });
    world.destroyChannel(op, 16);
    cdr(peer, undefined, status === 'BUSY' ? 'BUSY' : status === 'NOANSWER' || status === 'CANCEL' ? 'NO ANSWER' : 'FAILED');
    // the answered operator leg gets its own row for the Hangup() step (A5)
    emitCdr(world, {
      source: op.callerNum, destination: p.exten, destinationContext: p.context, callerId: formatCallerId(op), channel: op,
      destinationChannel: '', lastApplication: 'Hangup', lastData: '', start: new Date(), answer: new Date(), disposition: 'ANSWERED',
    });
  };

  const target = resolveTarget(world, dial);
  if (!target || unavailable(target)) {
    afterDial('CHANUNAVAIL');
    return;
  }
  const peer = createTargetChannel(world, target, { linkedid: op.linkedid });
  const dialstring = target.dialstring;
  world.setVar(peer, 'DIALEDPEERNUMBER', dialstring);
  world.inherit(op, peer);
  if (peer.localPartner) world.inherit(op, peer.localPartner);
  world.newexten(peer, peer.context, target.kind === 'operator' ? 's' : target.number, 1, 'AppDial', '(Outgoing Line)');
  world.setCaller(peer, op.callerNum, op.callerName);
  world.setConnected(peer, op.callerNum, op.callerName);
  world.emitEvent({ type: 'DialBegin', caller: op, peer, dialstring });

  const dialEnd = (status: string): void => world.emitEvent({ type: 'DialEnd', caller: op, peer, dialstring, status });
  const timeout = timeoutSec > 0
    ? world.later(timeoutSec * 1000, () => {
      // Dial timeout: the client leg dies with cause 0 "Unknown" (A5)
      dialEnd('NOANSWER');
      world.destroyChannel(peer, 0);
      afterDial('NOANSWER', peer);
    }, peer)
    : undefined;

  /** The operator hangs up while the client still rings (A7): CANCEL, operator cause 0. */
  const cancelWhileRinging = (bye: boolean): void => {
    world.cancel(timeout);
    if (bye) world.emitEvent({ type: 'HangupRequest', ch: op });
    dialEnd('CANCEL');
    world.setVar(op, 'DIALSTATUS', 'CANCEL');
    world.emitEvent({ type: 'SoftHangupRequest', ch: op, cause: 16 });
    world.destroyChannel(peer, 16);
    cdr(peer, undefined, 'NO ANSWER');
    world.destroyChannel(op, 0);
  };
  op.onHangupRequest = () => cancelWhileRinging(false);
  hooks.onRemoteHangup = () => cancelWhileRinging(true);
  peer.onHangupRequest = () => {
    world.cancel(timeout);
    dialEnd('NOANSWER');
    world.destroyChannel(peer, 16);
    afterDial('NOANSWER', peer);
  };

  let peerBye = (): void => undefined;
  runRemote(world, peer, target.behaviour, {
    ringing: () => {
      world.setState(peer, 'Ringing');
      world.emitEvent({ type: 'DialState', caller: op, peer, dialstring, status: 'RINGING' });
    },
    answered: () => {
      world.cancel(timeout);
      world.setState(peer, 'Up');
      world.setVar(op, 'DIALSTATUS', 'ANSWER');
      dialEnd('ANSWER');
      peer.exten = '';
      peerBye = talk(world, op, peer, hooks, (answeredAt) => cdr(peer, answeredAt, 'ANSWERED'));
    },
    rejected: () => {
      world.cancel(timeout);
      const f = failureCause(target.behaviour);
      const tech = techCauseOf(peer, f.techCause);
      world.emitEvent({ type: 'HangupRequest', ch: peer, cause: f.cause, techCause: tech });
      dialEnd(f.dialStatus);
      world.destroyChannel(peer, f.cause, tech);
      afterDial(f.dialStatus, peer);
    },
    remoteHangup: () => peerBye(),
  });
}

/**
 * Operator and client bridged by Dial; whoever hangs up first ends the call for both (A1).
 * Returns what the client's own BYE does.
 */
function talk(world: World, op: Channel, peer: Channel, hooks: DialplanHooks, cdr: (answeredAt: Date | undefined) => void): () => void {
  const bridge = createBridge(world, { name: '', type: 'basic', amiType: 'basic', creator: '' });
  bridgeAdd(world, bridge, peer);
  bridgeAdd(world, bridge, op);
  const answeredAt = peer.answered;
  const end = (first: Channel, bye: boolean): void => {
    op.onHangupRequest = undefined;
    peer.onHangupRequest = undefined;
    hooks.onRemoteHangup = () => undefined;
    const second = first === peer ? op : peer;
    if (bye) world.emitEvent({ type: 'HangupRequest', ch: first, cause: 16 });
    bridgeRemove(world, bridge, first);
    bridgeRemove(world, bridge, second);
    const talkMs = Date.now() - (answeredAt?.getTime() ?? Date.now());
    const dialMs = Date.now() - peer.created.getTime();
    world.setVar(op, 'ANSWEREDTIME', String(Math.floor(talkMs / 1000)));
    world.setVar(op, 'ANSWEREDTIME_MS', String(talkMs));
    world.setVar(op, 'DIALEDTIME', String(Math.floor(dialMs / 1000)));
    world.setVar(op, 'DIALEDTIME_MS', String(dialMs));
    world.setVar(op, 'DIALSTATUS', 'ANSWER');
    if (first === peer) world.emitEvent({ type: 'SoftHangupRequest', ch: op, cause: 16 });
    world.destroyChannel(peer, 16);
    cdr(answeredAt);
    world.destroyChannel(op, 16);
    world.later(1, () => destroyBridge(world, bridge));
  };
  op.onHangupRequest = () => end(op, false);
  peer.onHangupRequest = () => end(peer, false);
  hooks.onRemoteHangup = () => end(op, true);
  return () => end(peer, true);
}
