import { randomUUID } from 'node:crypto';
import { failureCause } from './cast.js';
import { bridgeAdd, bridgeRemove, clearPeerVars, createBridge, destroyBridge } from './bridging.js';
import { createTargetChannel, emitCdr, formatCallerId, resolveTarget, runRemote, techCauseOf, unavailable } from './dial.js';
import { startMixMonitor } from './mixmonitor.js';
import { click2callFacts } from './click2call-facts.js';
import { LAB_BRIDGE_CONTEXT, runLabBridge } from './lab-dialplan.js';
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
 *    same => n,Set(DB(callbridge/${CALLBRIDGE_CALL_ID}/pickup)=...)           ; 4-6: the facts in AstDB
 *    same => n,Set(CHANNEL(hangup_handler_push)=callbridge-click2call-hangup,...)
 *    same => n,DBdeltree(callbridge/${MATH(${CALLBRIDGE_CALL_ID}-1000,int)})
 *    same => n,MixMonitor(${CALLBRIDGE_RECORDING}.wav,b)
 *    same => n,Dial(${CALLBRIDGE_CLIENT_DIAL},${CALLBRIDGE_CLIENT_TIMEOUT},B(...)U(...))
 *    same => n,Hangup()
 *
 * Steps 4-6 and the B()/U() subroutines only keep facts in AstDB (see
 * click2call-facts.ts): their effects are modelled, their Newexten events are
 * left out, so the stream stays the one recorded in the A traces.
 */
export const CLICK2CALL_CONTEXT = 'callbridge-click2call';

/** Priorities of the steps above. */
const PRIO = { mixMonitor: 7, dial: 8, hangup: 9 };

/** Variables app_dial resets before dialling (they show up as VarSet in the traces). */
export const DIAL_VARS = ['DIALSTATUS', 'DIALEDPEERNUMBER', 'DIALEDPEERNAME', 'ANSWEREDTIME', 'ANSWEREDTIME_MS', 'DIALEDTIME', 'DIALEDTIME_MS', 'RINGTIME', 'RINGTIME_MS', 'PROGRESSTIME', 'PROGRESSTIME_MS'];

export interface DialplanHooks {
  /** what a BYE from the operator's phone does at the current dialplan step */
  onRemoteHangup: () => void;
  /**
   * The Originate's outcome goes out from the originating thread while the answered
   * channel already runs its dialplan; A5 and A7 show it just before the client is dialled.
   */
  originated?: () => void;
}

/** Runs the answered operator channel through the click-to-call context. */
export function runClick2Call(world: World, op: Channel, p: AmiOriginate, hooks: DialplanHooks): void {
  if (p.context === LAB_BRIDGE_CONTEXT && /^[0-9]+$/.test(p.exten)) {
    runLabBridge(world, op, p, hooks);
    return;
  }
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
  const facts = click2callFacts(world, op, callId);
  const rec = v('CALLBRIDGE_RECORDING');
  world.newexten(op, context, exten, PRIO.mixMonitor, 'MixMonitor', `${rec}.wav,b`);
  if (rec) startMixMonitor(world, op, `${rec}.wav`, true);
  const dial = v('CALLBRIDGE_CLIENT_DIAL');
  const timeoutRaw = v('CALLBRIDGE_CLIENT_TIMEOUT');
  const dialData = `${dial},${timeoutRaw}`;
  world.newexten(op, context, exten, PRIO.dial, 'Dial', dialData);
  for (const name of DIAL_VARS) world.setVar(op, name, '');
  dialClient(world, op, p, hooks, dial, Number(timeoutRaw) || 0, dialData, facts);
}

/** Priorities of the steps after Dial when Dial returns: an optional NoOp, then Hangup(). */
export interface AfterDialSteps {
  noop?: { priority: number; data: () => string };
  hangup: number;
}

export function dialClient(world: World, op: Channel, p: AmiOriginate, hooks: DialplanHooks, dial: string, timeoutSec: number, dialData: string, facts: ReturnType<typeof click2callFacts>, after?: AfterDialSteps): void {
  const cdr = (peer: Channel | undefined, answer: Date | undefined, disposition: 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED'): void =>
    emitCdr(world, {
      source: op.callerNum, destination: p.exten, destinationContext: p.context, callerId: formatCallerId(op), channel: op,
      destinationChannel: peer?.name ?? '', lastApplication: 'Dial', lastData: dialData, start: op.created, answer, disposition,
    });

  /** Dial returned without a conversation: the dialplan goes on to Hangup() (A5). */
  const afterDial = (status: string, peer?: Channel, endPeer?: () => () => void): void => {
    world.setVar(op, 'DIALSTATUS', status);
    if (after?.noop) world.newexten(op, p.context, p.exten, after.noop.priority, 'NoOp', after.noop.data());
    // the timed-out client leg is hung up by app_dial while the dialplan goes on; its device state
    // and its CEL records come once the operator's Hangup() step has begun (A5)
    const peerCel = endPeer?.();
    world.newexten(op, p.context, p.exten, after?.hangup ?? PRIO.hangup, 'Hangup', '');
    world.emitEvent({ type: 'SoftHangupRequest', ch: op, cause: 16 });
    if (peer && peerCel) {
      world.refreshDevice(peer.device, true);
      peerCel();
    }
    // the operator's Hangup, its Cdr row for the Dial, its device state, then its CEL records (A5)
    const disposition = status === 'BUSY' ? 'BUSY' : status === 'NOANSWER' || status === 'CANCEL' ? 'NO ANSWER' : 'FAILED';
    world.destroyChannel(op, 16, undefined, undefined, true, { afterHangup: () => cdr(peer, undefined, disposition), deviceNow: true });
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
  hooks.originated?.();
  const peer = createTargetChannel(world, target, { linkedid: op.linkedid });
  facts.dialled();
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
      afterDial('NOANSWER', peer, () => world.destroyChannel(peer, 0, undefined, undefined, true, { holdCel: true }));
    }, peer)
    : undefined;

  /** The operator hangs up while the client still rings (A7): CANCEL, operator cause 0. */
  const cancelWhileRinging = (bye: boolean): void => {
    world.cancel(timeout);
    let cdrDone = false;
    if (bye) {
      // the BYE's CEL records and the Cdr overtake the AMI events of the unwinding Dial (A7)
      world.rtpStats(op, true, () => {
        world.cel(peer, 'HANGUP', { extra: JSON.stringify({ hangupcause: 16, hangupsource: op.name, dialstatus: 'CANCEL' }), early: true });
        cdr(peer, undefined, 'NO ANSWER');
        cdrDone = true;
        world.cel(peer, 'CHAN_END', { early: true });
        world.cel(op, 'HANGUP', { extra: JSON.stringify({ hangupcause: 0, hangupsource: op.name, dialstatus: 'CANCEL' }), early: true });
        world.cel(op, 'CHAN_END', { early: true });
        world.cel(op, 'LINKEDID_END', { early: true });
      });
      world.emitEvent({ type: 'HangupRequest', ch: op });
    }
    dialEnd('CANCEL');
    world.setVar(op, 'DIALSTATUS', 'CANCEL');
    world.emitEvent({ type: 'SoftHangupRequest', ch: op, cause: 16 });
    world.destroyChannel(peer, 16);
    if (!cdrDone) cdr(peer, undefined, 'NO ANSWER');
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
  let ringback: NodeJS.Timeout | undefined;
  runRemote(world, peer, target.behaviour, {
    ringing: () => {
      world.setState(peer, 'Ringing');
      const ringMs = Date.now() - peer.created.getTime();
      world.setVar(op, 'RINGTIME', String(Math.floor(ringMs / 1000)));
      world.setVar(op, 'RINGTIME_MS', String(ringMs));
      world.emitEvent({ type: 'DialState', caller: op, peer, dialstring, status: 'RINGING' });
      ringback = rtcpWhileRinging(world, op, peer);
    },
    answered: () => {
      world.cancel(timeout);
      world.cancel(ringback);
      world.setState(peer, 'Up');
      // both channels' CEL BRIDGE_ENTER overtake the AMI events of app_dial's bridge (A1)
      const bridgeId = randomUUID();
      const celBridge = JSON.stringify({ bridge_id: bridgeId, bridge_technology: 'simple_bridge' });
      world.cel(peer, 'BRIDGE_ENTER', { extra: celBridge, early: true });
      world.setVar(op, 'DIALSTATUS', 'ANSWER');
      facts.answered();
      world.cel(op, 'BRIDGE_ENTER', { extra: celBridge, early: true });
      world.setVar(op, 'DIALEDPEERNAME', peer.name);
      world.setVar(op, 'DIALEDPEERNUMBER', dialstring);
      dialEnd('ANSWER');
      peer.exten = '';
      peerBye = talk(world, op, peer, hooks, (answeredAt) => cdr(peer, answeredAt, 'ANSWERED'), bridgeId);
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
 * The answered operator hears ringback generated by Asterisk while the client rings, so
 * RTP flows to the phone and an RTCP sender report goes out every 5 s (A5: RTCPSent at 5 s and 10 s).
 */
function rtcpWhileRinging(world: World, op: Channel, peer: Channel): NodeJS.Timeout {
  let packets = 0;
  const tick = (): NodeJS.Timeout => world.later(5000, () => {
    if (!op.alive || peer.state !== 'Ringing') return;
    packets += 250;
    world.emitEvent({
      type: 'AmiEvent', name: 'RTCPSent', privilege: 'reporting', parts: [{ ch: op }, {
        headers: [
          ['To', `127.0.0.1:${16000 + (Number(op.id.split('.')[1]) % 1000) * 2}`], ['From', '127.0.0.1:10000'], ['MES', '100.0'],
          ['SSRC', `0x${op.protocolId.replace(/-/g, '').slice(0, 8)}`], ['PT', '200(SR)'], ['ReportCount', '0'],
          ['SentNTP', (Date.now() / 1000).toFixed(6)], ['SentRTP', String(packets * 160)], ['SentPackets', String(packets)],
          ['SentOctets', String(packets * 160)],
        ],
      }],
    });
    tick();
  }, peer);
  return tick();
}

/**
 * Operator and client bridged by Dial; whoever hangs up first ends the call for both (A1).
 * Returns what the client's own BYE does.
 */
function talk(world: World, op: Channel, peer: Channel, hooks: DialplanHooks, cdr: (answeredAt: Date | undefined) => void, bridgeId?: string): () => void {
  const bridge = createBridge(world, { id: bridgeId, name: '', type: 'basic', amiType: 'basic', creator: '' });
  world.newexten(peer, peer.context, '', 1, 'AppDial', '(Outgoing Line)');
  bridgeAdd(world, bridge, peer);
  bridgeAdd(world, bridge, op);
  const answeredAt = peer.answered;
  const end = (first: Channel, bye: boolean): void => {
    op.onHangupRequest = undefined;
    peer.onHangupRequest = undefined;
    hooks.onRemoteHangup = () => undefined;
    const second = first === peer ? op : peer;
    if (bye) world.emitEvent({ type: 'HangupRequest', ch: first, cause: 16 });
    // a basic bridge dissolves: both channels lose their peer variables, then both leave (A1)
    clearPeerVars(world, first);
    clearPeerVars(world, second);
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
    world.destroyChannel(op, 16, undefined, () => cdr(answeredAt));
    world.later(1, () => destroyBridge(world, bridge));
  };
  op.onHangupRequest = () => end(op, false);
  peer.onHangupRequest = () => end(peer, false);
  hooks.onRemoteHangup = () => end(op, true);
  return () => end(peer, true);
}
