import { failureCause } from './cast.js';
import { bridgeRemove } from './bridging.js';
import { finishBridgeRecordings } from './ari-bridges.js';
import { createTargetChannel, emitCdr, formatCallerId, parseCallerId, resolveTarget, runRemote, STEP_MS, techCauseOf, unavailable } from './dial.js';
import { pushHangupHandler } from './hangup-handlers.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

/** The shipped dialplan context ARI-mode legs are originated into, and how often it tries Stasis(). */
export const ARI_CONTEXT = 'callbridge-ari';
const ARI_CONTEXT_TRIES = 40;

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
  /** instead of app: the dialplan the answered channel runs (only [callbridge-ari] is known) */
  context?: string;
  extension?: string;
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

/**
 * res_stasis with no websocket connected for the app ("Stasis app 'calld' not active",
 * F1): STASISSTATUS FAILED, and the answered channel is hung up at once with cause 0,
 * no HangupRequest; its Cdr is ANSWERED with LastApplication Stasis.
 */
function refuseStasis(world: World, ch: Channel, app: string, args: string[]): void {
  ch.appName = 'Stasis';
  ch.appData = [app, ...args].join(',');
  ch.onHangupRequest = undefined;
  ch.onRemoteHangup = undefined;
  world.setVar(ch, 'STASISSTATUS', '');
  world.setVar(ch, 'STASISSTATUS', 'FAILED');
  world.logger.warn({ app, channel: ch.name }, `Stasis app '${app}' not active`);
  world.destroyChannel(ch, 0);
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
  if (!p.app && !p.extension) return fail(400, 'Application or extension must be specified');
  const target = resolveTarget(world, p.endpoint);
  if (!target || unavailable(target)) return { ok: false, status: 500, body: { error: 'Allocation failed' } };
  if (p.channelId && world.channels.has(p.channelId)) return fail(409, 'Channel with given unique ID already exists');
  // [callbridge-ari] (asterisk-config/extensions_custom.conf): Stasis(${CALLBRIDGE_ARI_APP},${CALLBRIDGE_LEG},${CALLBRIDGE_CALL_ID}),
  // waiting while the app has no websocket instead of failing the answered channel
  const viaDialplan = !p.app;
  const app = p.app ?? (p.context === ARI_CONTEXT ? (p.variables.CALLBRIDGE_ARI_APP ?? '') : '');
  const args = viaDialplan ? [p.variables.CALLBRIDGE_LEG ?? '', p.variables.CALLBRIDGE_CALL_ID ?? ''] : p.appArgs ? p.appArgs.split(',') : [];
  const originator = p.originator ? world.findChannel(p.originator) : undefined;
  const ch = createTargetChannel(world, target, { linkedid: originator?.linkedid, id: p.channelId, otherId: p.otherChannelId });
  world.newexten(ch, ch.context, ch.exten, 1, 'AppDial2', '(Outgoing Line)');
  if (!originator) ch.exitCelFirst = true;
  const cid = parseCallerId(p.callerId);
  // a channel originated for an originator takes its connected line first (B1: NewConnectedLine, NewCallerid, NewConnectedLine)
  if (originator) world.setConnected(ch, originator.callerNum, originator.callerName);
  if (cid) {
    world.setCaller(ch, cid.num, cid.name);
    world.setConnected(ch, cid.num, cid.name || (target.kind === 'operator' ? cid.num : target.number));
  }
  for (const [k, v] of Object.entries(p.variables)) if (!pushHangupHandler(world, ch, k, String(v))) world.setVar(ch, k, String(v));
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
  const endAnswered = (cause: number, bye = false): void => {
    const alone = ch.bridge !== undefined && ch.bridge.channels.length === 1;
    const bridged = ch.bridge !== undefined && !alone;
    ch.leavingStasis = true;
    // an operator's BYE: the client's connected line changes once the operator has left Stasis (B8)
    ch.connectedAfterLeave = bye && !originator;
    if (ch.bridge) bridgeRemove(world, ch.bridge, ch);
    leaveStasis(world, ch);
    ch.leavingStasis = false;
    ch.connectedAfterLeave = false;
    const connected = ch.pendingConnected;
    ch.pendingConnected = undefined;
    connected?.();
    const emptied = ch.pendingRecordings;
    ch.pendingRecordings = undefined;
    // the bridge recording stops as the last channel leaves; with the client leg last it is
    // only seen after that channel is gone (B8), with the operator last before (B1)
    const recordingsLater = emptied !== undefined && originator !== undefined;
    if (emptied && !recordingsLater) finishBridgeRecordings(world, emptied);
    if (bye && alone) {
      // an operator alone in the bridge (the client still rings): Hangup, device state, Cdr, then its CEL records (B7)
      world.destroyChannel(ch, cause, undefined, undefined, true, { deviceNow: true, afterDevice: () => cdr('ANSWERED') });
      return;
    }
    if (bye && bridged && !originator) {
      // an operator bridged with the client: CEL HANGUP overtakes the Hangup, the Cdr before the device state (B8)
      world.destroyChannel(ch, cause, undefined, undefined, true, { splitCel: true });
      cdr('ANSWERED');
      return;
    }
    if (bye) {
      // after a BYE the channel is gone first; its CEL records, the device state and the Cdr follow (B1)
      world.destroyChannel(ch, cause, undefined, undefined, true);
      queueMicrotask(() => queueMicrotask(() => cdr('ANSWERED')));
      return;
    }
    // hung up from ARI/AMI: the Cdr, the Hangup, then its CEL records (B5, B8); the operator that
    // emptied a recorded bridge has its CEL records before the Hangup (B1)
    cdr('ANSWERED');
    world.destroyChannel(ch, cause, undefined, undefined, !(emptied && !recordingsLater));
    if (emptied && recordingsLater) finishBridgeRecordings(world, emptied, true);
  };
  let timeout: NodeJS.Timeout | undefined;
  ch.onHangupRequest = (req) => {
    // DELETE of a still-ringing originated channel: Dial NOANSWER, then destroyed (B7)
    world.cancel(timeout);
    if (ch.ariVisible) world.emitEvent({ type: 'DialEnd', peer: ch, dialstring, status: 'NOANSWER' });
    cdr('NO ANSWER');
    // CEL HANGUP before the Hangup, the rest after it (B7)
    world.destroyChannel(ch, req.cause ?? 16, undefined, undefined, true, { splitCel: true });
  };
  world.later(STEP_MS / 2, () => {
    ch.ariVisible = true;
    world.emitEvent({ type: 'DialBegin', peer: ch, dialstring });
    if (p.timeoutSec > 0) {
      timeout = world.later(p.timeoutSec * 1000, () => {
        // no answer: only ChannelDestroyed cause 19 (B2); the Cdr after the Hangup (B2, B5)
        world.destroyChannel(ch, 19, techCauseOf(ch, 480));
        cdr('NO ANSWER');
      }, ch);
    }
    runRemote(world, ch, target.behaviour, {
      ringing: () => {
        if (originator) {
          // a leg originated for another channel: its state, Dial RINGING, then its device (9 of the 12 recordings
          // of B1 and B7 in test/fixtures/B-repeats; B5, B8 and F2 show Dial RINGING first: the two race)
          world.setState(ch, 'Ringing', true);
          world.emitEvent({ type: 'DialState', peer: ch, dialstring, status: 'RINGING' });
          return;
        }
        world.setState(ch, 'Ringing');
        world.emitEvent({ type: 'DialState', peer: ch, dialstring, status: 'RINGING' });
      },
      answered: () => {
        world.cancel(timeout);
        // the device state follows once the channel is on its way into Stasis, after STASISSTATUS (B7, B8,
        // F1b and 10 of the 12 recordings in test/fixtures/B-repeats; B1 shows it before)
        world.setState(ch, 'Up', true);
        world.emitEvent({ type: 'DialEnd', peer: ch, dialstring, status: 'ANSWER' });
        if (viaDialplan && app) {
          // Stasis() once a second half: STASISSTATUS FAILED while the app has no websocket, for up to 20 s
          ch.onHangupRequest = (req) => endAnswered(req.cause ?? 16);
          const attempt = (n: number): void => {
            if (!ch.alive) return;
            if (world.stasisActive(app)) return enterStasis(world, ch, app, args);
            world.setVar(ch, 'STASISSTATUS', 'FAILED');
            if (n >= ARI_CONTEXT_TRIES) {
              ch.onHangupRequest = undefined;
              cdr('ANSWERED');
              world.destroyChannel(ch, 16);
              return;
            }
            world.later(500, () => attempt(n + 1), ch);
          };
          attempt(1);
          return;
        }
        if (!world.stasisActive(app)) {
          refuseStasis(world, ch, app, args);
          cdr('ANSWERED');
          return;
        }
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
        endAnswered(16, true);
      },
    });
  }, ch);
  return { ok: true, value: ch };
}

/** POST /ari/channels/{id}/answer. */
export function ariAnswer(world: World, ch: Channel): void {
  if (ch.state !== 'Up') world.setState(ch, 'Up');
}
