import { failureCause } from './cast.js';
import { bridgeRemove } from './bridging.js';
import { createTargetChannel, emitCdr, formatCallerId, parseCallerId, resolveTarget, runRemote, STEP_MS, techCauseOf, unavailable } from './dial.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

/** An ARI answer that is not a success: HTTP status and JSON body. */
export interface AriError {
  status: number;
  body: unknown;
}

export type AriResult<T> = { ok: true; value: T } | ({ ok: false } & AriError);

export function fail(status: number, message: string): { ok: false } & AriError {
  return { ok: false, status, body: { message } };
}

export interface AriOriginate {
  endpoint: string;
  app?: string;
  appArgs?: string;
  callerId?: string;
  /** seconds; -1 = no timeout */
  timeoutSec: number;
  channelId?: string;
  otherChannelId?: string;
  originator?: string;
  variables: Record<string, string>;
}

/** Puts an answered channel into its Stasis app: STASISSTATUS, then StasisStart with the app args (B1). */
function enterStasis(world: World, ch: Channel, app: string, args: string[]): void {
  ch.stasis = { app, args };
  ch.appName = 'Stasis';
  ch.appData = [app, ...args].join(',');
  world.setVar(ch, 'STASISSTATUS', '');
  world.emitEvent({ type: 'StasisStart', ch, app, args });
}

function leaveStasis(world: World, ch: Channel): void {
  if (!ch.stasis) return;
  world.emitEvent({ type: 'StasisEnd', ch, app: ch.stasis.app });
  ch.stasis = undefined;
  world.setVar(ch, 'STASISSTATUS', 'SUCCESS');
  ch.appName = 'AppDial2';
  ch.appData = '(Outgoing Line)';
}

/**
 * POST /ari/channels: creates the channel at once (state Down) and dials it; the app
 * sees Dial, ChannelStateChange, then StasisStart on answer, or ChannelDestroyed with
 * cause 19 (no answer), 17 (busy) or 34 (no route). An offline operator fails the
 * request itself with HTTP 500 "Allocation failed" (B4).
 */
export function ariOriginate(world: World, p: AriOriginate): AriResult<Channel> {
  if (!p.app) return fail(400, 'Application or extension must be specified');
  const target = resolveTarget(world, p.endpoint);
  if (!target || unavailable(target)) return { ok: false, status: 500, body: { error: 'Allocation failed' } };
  if (p.channelId && world.channels.has(p.channelId)) return fail(409, 'Channel with given unique ID already exists');
  const app = p.app;
  const args = p.appArgs ? p.appArgs.split(',') : [];
  const originator = p.originator ? world.findChannel(p.originator) : undefined;
  const ch = createTargetChannel(world, target, { linkedid: originator?.linkedid, id: p.channelId, otherId: p.otherChannelId });
  world.newexten(ch, ch.context, ch.exten, 1, 'AppDial2', '(Outgoing Line)');
  const cid = parseCallerId(p.callerId);
  if (cid) {
    world.setCaller(ch, cid.num, cid.name);
    world.setConnected(ch, cid.num, cid.name || (target.kind === 'operator' ? cid.num : target.number));
  }
  for (const [k, v] of Object.entries(p.variables)) world.setVar(ch, k, String(v));
  ch.apps.add(app);
  const dialstring = target.dialstring;
  const cdr = (disposition: 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED'): void => {
    const peer = ch.bridge?.channels.find((c) => c !== ch);
    const inStasis = disposition === 'ANSWERED';
    emitCdr(world, {
      source: ch.callerNum, destination: 's', destinationContext: ch.context, callerId: formatCallerId(ch), channel: ch,
      destinationChannel: peer?.name ?? '', lastApplication: inStasis ? 'Stasis' : 'AppDial2',
      lastData: inStasis ? [app, ...args].join(',') : '(Outgoing Line)', start: ch.created, answer: ch.answered, disposition,
    });
  };
  /** the far end hung up (BYE) or the channel was hung up from ARI/AMI after answer */
  const endAnswered = (cause: number): void => {
    if (ch.bridge) bridgeRemove(world, ch.bridge, ch);
    leaveStasis(world, ch);
    cdr('ANSWERED');
    world.destroyChannel(ch, cause);
  };
  let timeout: NodeJS.Timeout | undefined;
  ch.onHangupRequest = (req) => {
    // DELETE of a still-ringing originated channel: Dial NOANSWER, then destroyed (B7)
    world.cancel(timeout);
    if (ch.ariVisible) world.emitEvent({ type: 'DialEnd', peer: ch, dialstring, status: 'NOANSWER' });
    cdr('NO ANSWER');
    world.destroyChannel(ch, req.cause ?? 16);
  };
  world.later(STEP_MS / 2, () => {
    ch.ariVisible = true;
    world.emitEvent({ type: 'DialBegin', peer: ch, dialstring });
    if (p.timeoutSec > 0) {
      timeout = world.later(p.timeoutSec * 1000, () => {
        // no answer: only ChannelDestroyed cause 19 (B2)
        cdr('NO ANSWER');
        world.destroyChannel(ch, 19, techCauseOf(ch, 480));
      }, ch);
    }
    runRemote(world, ch, target.behaviour, {
      ringing: () => {
        world.setState(ch, 'Ringing');
        world.emitEvent({ type: 'DialState', peer: ch, dialstring, status: 'RINGING' });
      },
      answered: () => {
        world.cancel(timeout);
        world.setState(ch, 'Up');
        world.emitEvent({ type: 'DialEnd', peer: ch, dialstring, status: 'ANSWER' });
        ch.onHangupRequest = (req) => endAnswered(req.cause ?? 16);
        enterStasis(world, ch, app, args);
      },
      rejected: () => {
        world.cancel(timeout);
        const f = failureCause(target.behaviour);
        const tech = techCauseOf(ch, f.techCause);
        world.emitEvent({ type: 'HangupRequest', ch, cause: f.cause, techCause: tech });
        world.emitEvent({ type: 'DialEnd', peer: ch, dialstring, status: f.dialStatus });
        cdr(f.dialStatus === 'BUSY' ? 'BUSY' : 'FAILED');
        world.destroyChannel(ch, f.cause, tech);
      },
      remoteHangup: () => {
        ch.onHangupRequest = undefined;
        world.emitEvent({ type: 'HangupRequest', ch });
        endAnswered(16);
      },
    });
  }, ch);
  return { ok: true, value: ch };
}

/** POST /ari/channels/{id}/answer. */
export function ariAnswer(world: World, ch: Channel): void {
  if (ch.state !== 'Up') world.setState(ch, 'Up');
}
