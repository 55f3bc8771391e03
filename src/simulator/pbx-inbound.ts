import { TRUNK_CONTEXT } from './dial.js';
import {
  ABANDON_AFTER_MS, PBX_TRUNK, RG_RINGTIME, RING_CONTEXT, RING_GROUP, RINGTIMER_DEFAULT, TALK_MS, dialStep, gosub, macroExtenVm, macroExtenVmAfter,
  macroUserCallerid, setStep, setUserfield, step, subRecordCheck,
} from './freepbx.js';
import { Dialer, connect, endAbandoned, endAfterDial, endConnected, type DialOutcome, type LegBehaviour } from './pbx-dial.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

/**
 * Calls from the trunk to a DID (D1, E4, E7): the FreePBX inbound route
 * `ext-did` sends them to one extension (`from-did-direct`, recording `in-…`)
 * or to ring group 600 (`ext-group`, recording `rg-600-…`).
 */

export type InboundOutcome = 'answer' | 'noanswer' | 'abandon';

export interface InboundRequest {
  from: string;
  did: string;
  operators: string[];
  outcome: InboundOutcome;
  /** the operator who answers (outcome answer); default the first */
  answeredBy?: string;
  via?: 'ringgroup' | 'queue';
}

/**
 * What an operator's phone does on this call: offline phones cannot be
 * called, 107/108 keep their cast behaviour (busy / ringing), the others ring
 * and only the one who answers picks up, after the cast's answer delay.
 */
export function legBehaviour(world: World, sip: string, outcome: InboundOutcome, answeredBy: string | undefined): LegBehaviour {
  const ep = world.endpoints.get(sip);
  const op = world.operators.find((o) => o.sip === sip);
  if (!ep || !op || !ep.registered) return { kind: 'unavailable' };
  const cast = op.behaviour;
  if (cast.kind === 'busy' || cast.kind === 'congestion') return cast;
  if (outcome === 'answer' && sip === answeredBy && cast.kind === 'answer') return { kind: 'answer', ringMs: cast.ringMs };
  return { kind: 'noanswer' };
}

/** The trunk channel of a call from outside, in state Ring at the DID, with the ext-did steps every inbound route shares. */
export function inboundCaller(world: World, from: string, did: string, destination: string): Channel {
  const ch = world.createChannel({ tech: 'PJSIP', resource: PBX_TRUNK, context: TRUNK_CONTEXT, exten: did, callerNum: from, callerName: '', state: 'Ring' });
  world.setVar(ch, 'SIPDOMAIN', '127.0.0.1');
  const c = TRUNK_CONTEXT;
  step(world, ch, c, did, 1, 'NoOp', `Inbound route ${did} -> ${destination}`);
  setStep(world, ch, c, did, 2, '__FROM_DID', did);
  step(world, ch, c, did, 3, 'Set', `CDR(did)=${did}`);
  setStep(world, ch, c, did, 4, '__REALCALLERIDNUM', from);
  const noName = ch.callerName === '';
  step(world, ch, c, did, 5, 'ExecIf', `${noName ? 1 : 0}?Set(CALLERID(name)=${from})`);
  if (noName) world.setCaller(ch, from, from);
  setUserfield(world, ch, c, did, 6, `did:${did}`);
  return ch;
}

/** Runs the caller's part once its Dial rang: abandon timer for outcome abandon, hangup handlers while ringing. */
export function whileRinging(world: World, caller: Channel, dialer: Dialer, outcome: InboundOutcome): void {
  caller.onHangupRequest = () => dialer.abandon();
  if (outcome === 'abandon') world.later(ABANDON_AFTER_MS, () => dialer.abandon(), caller);
}

/** An answered inbound call: the client talks, then hangs up (BYE). */
export function talkThenClientHangs(world: World, caller: Channel, c: Parameters<typeof connect>[0]): void {
  const call = connect(c);
  world.later(TALK_MS, () => endConnected(call, 'caller', true), caller);
}

export function startInbound(world: World, req: InboundRequest): Channel {
  const multi = req.operators.length > 1 || req.via === 'ringgroup';
  return multi ? ringGroupCall(world, req) : directCall(world, req);
}

/** DID → one extension: `in-<DID>-<from>-…` recording, Dial(PJSIP/<ext>,15,Ttr) from macro-exten-vm (E7, D1). */
function directCall(world: World, req: InboundRequest): Channel {
  const ext = req.operators[0]!;
  const caller = inboundCaller(world, req.from, req.did, `extension ${ext}`);
  subRecordCheck(world, caller, [TRUNK_CONTEXT, req.did, 7], 'in', req.did, req.from);
  step(world, caller, TRUNK_CONTEXT, req.did, 8, 'Goto', `from-did-direct,${ext},1`);
  const data = macroExtenVm(world, caller, ['from-did-direct', ext, 1], ext);
  const dialer = new Dialer(world, {
    caller, app: 'Dial', data, cdrDestination: ext, cdrContext: 'from-did-direct', timeoutMs: RINGTIMER_DEFAULT * 1000,
    targets: [{ kind: 'phone', sip: ext, behaviour: legBehaviour(world, ext, req.outcome, req.answeredBy ?? ext) }],
    done: (outcome, d) => afterExtensionDial(world, d, outcome, ext, 'from-did-direct'),
  });
  dialer.start();
  if (!dialer.isFinished) whileRinging(world, caller, dialer, req.outcome);
  return caller;
}

/** What the caller's dialplan does after Dial(PJSIP/<ext>) in macro-exten-vm returned. */
export function afterExtensionDial(world: World, d: Dialer, outcome: DialOutcome, ext: string, context: string, onAnswer?: (c: ReturnType<typeof connect>) => void): void {
  const caller = d.caller;
  if (outcome === 'ANSWER') {
    const c = { world, caller, leg: d.winner!, rows: () => d.callerRows() };
    if (onAnswer) onAnswer(connect(c));
    else talkThenClientHangs(world, caller, c);
    return;
  }
  if (outcome === 'ABANDON') {
    endAbandoned(world, caller, () => d.emitCallerRows());
    return;
  }
  if (macroExtenVmAfter(world, caller, ext, outcome)) {
    endAfterDial(world, caller, () => d.emitCallerRows(), { app: 'Busy', destination: ext, context });
    return;
  }
  step(world, caller, context, ext, 2, 'Hangup', '');
  endAfterDial(world, caller, () => d.emitCallerRows(), { app: 'Hangup', destination: ext, context });
}

/** DID → ring group 600: ringall through `Local/<ext>@from-internal-ring/n` for RG600_RINGTIME, then app-blackhole (E4, E5, E8). */
function ringGroupCall(world: World, req: InboundRequest): Channel {
  const caller = inboundCaller(world, req.from, req.did, `ring group ${RING_GROUP}`);
  const c = 'ext-group';
  const g = RING_GROUP;
  step(world, caller, TRUNK_CONTEXT, req.did, 7, 'Goto', `${c},${g},1`);
  step(world, caller, c, g, 1, 'NoOp', `Ring group ${g} (ringall ${req.operators.join('-')})`);
  gosub(world, caller, c, g, 2, 'macro-user-callerid,s,1', []);
  macroUserCallerid(world, caller);
  setStep(world, caller, c, g, 3, '__RINGGROUP_INDEX', g);
  setStep(world, caller, c, g, 4, '__NODEST', g);
  setStep(world, caller, c, g, 5, 'RecordMethod', 'Group');
  setUserfield(world, caller, c, g, 6, `did:${req.did};rg:${g}`);
  subRecordCheck(world, caller, [c, g, 7], 'rg', g, req.from);
  setStep(world, caller, c, g, 8, 'RingGroupMethod', 'ringall');
  const data = `${req.operators.map((s) => `Local/${s}@${RING_CONTEXT}/n`).join('&')},${RG_RINGTIME},Ttr`;
  dialStep(world, caller, c, g, 9, data);
  const answeredBy = req.answeredBy ?? req.operators[0];
  const dialer = new Dialer(world, {
    caller, app: 'Dial', data, cdrDestination: g, cdrContext: c, timeoutMs: RG_RINGTIME * 1000, flavour: 'ringgroup', localCallerNum: g,
    targets: req.operators.map((sip) => ({ kind: 'member' as const, sip, behaviour: legBehaviour(world, sip, req.outcome, answeredBy) })),
    done: (outcome, d) => {
      if (outcome === 'ANSWER') {
        const inner = d.winner!.innerRow;
        talkThenClientHangs(world, caller, { world, caller, leg: d.winner!, rows: () => [...d.callerRows(), ...(inner ? [inner] : [])] });
        return;
      }
      if (outcome === 'ABANDON') {
        endAbandoned(world, caller, () => d.emitCallerRows());
        return;
      }
      setStep(world, caller, c, g, 10, 'RingGroupMethod', '');
      step(world, caller, c, g, 11, 'NoOp', `Ring group ${g}: DIALSTATUS=${outcome} HANGUPCAUSE=`);
      step(world, caller, c, g, 12, 'Goto', 'app-blackhole,hangup,1');
      step(world, caller, 'app-blackhole', 'hangup', 1, 'NoOp', 'Blackhole Dest: Hangup');
      step(world, caller, 'app-blackhole', 'hangup', 2, 'Hangup', '');
      endAfterDial(world, caller, () => d.emitCallerRows(), { app: 'Hangup', destination: 'hangup', context: 'app-blackhole' });
    },
  });
  dialer.start();
  if (!dialer.isFinished) whileRinging(world, caller, dialer, req.outcome);
  return caller;
}
