import { failureCause } from './cast.js';
import { runClick2Call } from './click2call.js';
import { createTargetChannel, emitCdr, formatCallerId, parseCallerId, resolveTarget, runRemote, STEP_MS, techCauseOf, unavailable } from './dial.js';
import { pushHangupHandler } from './hangup-handlers.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

export interface AmiOriginate {
  actionId?: string;
  /** dial string of the first leg, e.g. `PJSIP/101` */
  channel: string;
  context: string;
  exten: string;
  priority: number;
  callerId?: string;
  /** ring timeout requested by the client, in (unscaled) milliseconds */
  timeoutMs: number;
  variables: Array<[string, string]>;
  /** `ChannelId`: the uniqueid (and so the linkedid) of the first leg */
  channelId?: string;
}

/**
 * AMI `Originate` (Async): rings the first leg; once answered the channel runs the
 * dialplan (see {@link runClick2Call}). The outcome is one `OriginateResponse` with
 * the action's ActionID: Reason 4 answered, 3 no answer, 0 busy or offline (as A1–A4).
 * `done` reports the outcome for a synchronous Originate.
 */
export function amiOriginate(world: World, p: AmiOriginate, done: (ok: boolean) => void): void {
  const cid = parseCallerId(p.callerId);
  const respond = (response: 'Success' | 'Failure', reason: number, ch?: Channel): void => {
    world.emitEvent({
      type: 'OriginateResponse',
      actionId: p.actionId,
      response,
      channel: ch ? ch.name : p.channel,
      context: p.context,
      exten: p.exten,
      reason,
      uniqueid: ch ? ch.id : '<unknown>',
      callerNum: cid?.num || '<unknown>',
      callerName: cid?.name || cid?.num || '<unknown>',
    });
    done(response === 'Success');
  };

  const target = resolveTarget(world, p.channel);
  if (!target || unavailable(target)) {
    // offline or unknown endpoint: nothing but the failed OriginateResponse (A4)
    world.later(STEP_MS, () => respond('Failure', 0));
    return;
  }
  const ch = createTargetChannel(world, target, p.channelId ? { id: p.channelId, linkedid: p.channelId } : {});
  world.newexten(ch, ch.context, ch.exten, 1, 'AppDial2', '(Outgoing Line)');
  for (const [k, v] of [...p.variables].reverse()) if (!pushHangupHandler(world, ch, k, v)) world.setVar(ch, k, v);
  if (cid) {
    world.setCaller(ch, cid.num, cid.name || cid.num);
    world.setConnected(ch, cid.num, cid.name || cid.num);
  }
  const dialstring = target.dialstring;
  const started = ch.created;
  const failedCdr = (disposition: 'NO ANSWER' | 'BUSY' | 'FAILED'): void =>
    emitCdr(world, {
      source: ch.callerNum, destination: 's', destinationContext: target.kind === 'operator' ? target.ep.context : ch.context,
      callerId: formatCallerId(ch), channel: ch, destinationChannel: '', lastApplication: 'AppDial2',
      lastData: '(Outgoing Line)', start: started, disposition,
    });

  world.emitEvent({ type: 'DialBegin', peer: ch, dialstring });
  const timeout = world.later(p.timeoutMs, () => {
    // A2: CEL HANGUP, the Cdr, the other CEL records, the OriginateResponse, then the Hangup
    world.cel(ch, 'HANGUP', { extra: JSON.stringify({ hangupcause: 19, hangupsource: '', dialstatus: '' }), early: true });
    failedCdr('NO ANSWER');
    world.destroyChannel(ch, 19, techCauseOf(ch, 480), () => respond('Failure', 3));
  }, ch);
  ch.onHangupRequest = () => {
    world.cancel(timeout);
    failedCdr('NO ANSWER');
    respond('Failure', 1);
    world.destroyChannel(ch, 16);
  };
  let responded = false;
  const success = (): void => {
    if (responded) return;
    responded = true;
    respond('Success', 4, ch);
  };
  const dialplan = { onRemoteHangup: (): void => void world.destroyChannel(ch, 16), originated: success };
  runRemote(world, ch, target.behaviour, {
    ringing: () => {
      world.setState(ch, 'Ringing');
      world.emitEvent({ type: 'DialState', peer: ch, dialstring, status: 'RINGING' });
    },
    answered: () => {
      world.cancel(timeout);
      ch.onHangupRequest = undefined;
      world.setState(ch, 'Up', true);
      world.emitEvent({ type: 'DialEnd', peer: ch, dialstring, status: 'ANSWER' });
      // the answered channel starts its dialplan on its own thread a moment later
      world.later(1, () => {
        if (ch.alive) runClick2Call(world, ch, p, dialplan);
        success();
      });
    },
    rejected: () => {
      world.cancel(timeout);
      const f = failureCause(target.behaviour);
      const tech = techCauseOf(ch, f.techCause);
      world.emitEvent({ type: 'HangupRequest', ch, cause: f.cause, techCause: tech });
      world.emitEvent({ type: 'DialEnd', peer: ch, dialstring, status: f.dialStatus });
      respond('Failure', 0);
      failedCdr(f.dialStatus === 'BUSY' ? 'BUSY' : 'FAILED');
      // A3: the Hangup first, its CEL records after it
      world.destroyChannel(ch, f.cause, tech, undefined, true);
    },
    remoteHangup: () => dialplan.onRemoteHangup(),
  });
}
