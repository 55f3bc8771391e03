import {
  PBX_TRUNK, RINGTIMER_DEFAULT, TALK_MS, TRUNK_RING_TIMER, dialStep, gosub, macroExtenVm, macroUserCallerid, setStep, setUserfield, sipCallId, step,
  subRecordCheck,
} from './freepbx.js';
import { Dialer, connect, endAbandoned, endAfterDial, endConnected, type LegBehaviour } from './pbx-dial.js';
import { afterExtensionDial } from './pbx-inbound.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

/**
 * Calls an operator places from the phone (E1, E2, E3, E9): the INVITE's
 * digest challenge, the phone's channel in `from-internal` at the dialled
 * number, then the outbound route to the trunk or ext-local to another phone.
 */

/** The phone's INVITE (401 challenge, then with credentials) and its channel in state Ring. */
function phoneCaller(world: World, sip: string, number: string): Channel {
  const ep = world.endpoints.get(sip)!;
  const callId = sipCallId();
  world.emitEvent({ type: 'Security', name: 'ChallengeSent', ep, callId });
  world.emitEvent({ type: 'Security', name: 'SuccessfulAuth', ep, callId });
  const ch = world.createChannel({
    tech: 'PJSIP', resource: sip, endpoint: sip, context: ep.context, exten: number, callerNum: sip, callerName: ep.callerName, state: 'Ring',
  });
  world.setVar(ch, 'SIPDOMAIN', '127.0.0.1');
  return ch;
}

/** While the callee rings, the operator may hang up (CANCEL) from the phone or over AMI. */
function cancellable(caller: Channel, dialer: Dialer): void {
  caller.onHangupRequest = () => dialer.abandon();
  caller.onRemoteHangup = () => dialer.abandon();
}

/**
 * Outbound route `outrt-1` → macro-dialout-trunk → Dial(PJSIP/<number>@clients,60,T);
 * the client behaves as the cast's last digit says.
 */
export function startOutbound(world: World, sip: string, number: string): Channel {
  const caller = phoneCaller(world, sip, number);
  const c = 'from-internal';
  step(world, caller, c, number, 1, 'NoOp', `Outbound route to-clients: ${number}`);
  gosub(world, caller, c, number, 2, 'macro-user-callerid,s,1', []);
  macroUserCallerid(world, caller);
  setStep(world, caller, c, number, 3, '_NODEST', '');
  const amp = caller.vars.get('AMPUSER') ?? sip;
  setUserfield(world, caller, c, number, 4, `out:${number};ext:${amp}`);
  subRecordCheck(world, caller, [c, number, 5], 'out', number, amp);
  const m = 'macro-dialout-trunk';
  gosub(world, caller, c, number, 6, `${m},s,1`, [PBX_TRUNK, number]);
  setStep(world, caller, m, 's', 1, 'DIAL_TRUNK', PBX_TRUNK);
  setStep(world, caller, m, 's', 2, 'OUTNUM', number);
  const data = `PJSIP/${number}@${PBX_TRUNK},${TRUNK_RING_TIMER},T`;
  dialStep(world, caller, m, 's', 3, data);
  const behaviour = world.clientBehaviour(number);
  const dialer = new Dialer(world, {
    caller, app: 'Dial', data, cdrDestination: number, cdrContext: c, timeoutMs: TRUNK_RING_TIMER * 1000,
    targets: [{ kind: 'trunk', number, behaviour }],
    done: (outcome, d) => {
      if (outcome === 'ANSWER') {
        const call = connect({ world, caller, leg: d.winner!, rows: () => d.callerRows() });
        if (behaviour.kind === 'answer' && behaviour.hangupAfterMs !== undefined) {
          world.later(behaviour.hangupAfterMs, () => endConnected(call, 'far', true), d.winner!.phone);
        }
        return;
      }
      if (outcome === 'ABANDON') {
        endAbandoned(world, caller, () => d.emitCallerRows());
        return;
      }
      step(world, caller, m, 's', 4, 'NoOp', `Trunk ${PBX_TRUNK}: DIALSTATUS=${outcome} HANGUPCAUSE=`);
      step(world, caller, m, 's', 5, 'Goto', `s-${outcome},1`);
      const busy = outcome === 'BUSY';
      const exten = busy ? 's-BUSY' : `s-${outcome}`;
      step(world, caller, m, exten, 1, 'NoOp', `Dial failed due to trunk reporting ${outcome} - giving up`);
      step(world, caller, m, exten, 2, busy ? 'Busy' : 'Congestion', '20');
      endAfterDial(world, caller, () => d.emitCallerRows(), { app: busy ? 'Busy' : 'Congestion', destination: number, context: c });
    },
  });
  dialer.start();
  if (!dialer.isFinished) cancellable(caller, dialer);
  return caller;
}

/** ext-local → macro-exten-vm → Dial(PJSIP/<to>,15,Ttr); the callee behaves as its cast entry says and hangs up 3 s after answering. */
export function startInternal(world: World, from: string, to: string): Channel {
  const caller = phoneCaller(world, from, to);
  const data = macroExtenVm(world, caller, ['from-internal', to, 1], to);
  const ep = world.endpoints.get(to)!;
  const op = world.operators.find((o) => o.sip === to)!;
  const behaviour: LegBehaviour = ep.registered ? op.behaviour : { kind: 'unavailable' };
  const dialer = new Dialer(world, {
    caller, app: 'Dial', data, cdrDestination: to, cdrContext: 'from-internal', timeoutMs: RINGTIMER_DEFAULT * 1000,
    targets: [{ kind: 'phone', sip: to, behaviour }],
    done: (outcome, d) => afterExtensionDial(world, d, outcome, to, 'from-internal', (call) => {
      world.later(TALK_MS, () => endConnected(call, 'far', true), d.winner!.phone);
    }),
  });
  dialer.start();
  if (!dialer.isFinished) cancellable(caller, dialer);
  return caller;
}
