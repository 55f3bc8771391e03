/**
 * `CHANNEL(hangup_handler_push)=<context>,s,1(<args>)` set as a channel
 * variable (e.g. in the variables of an ARI originate): Asterisk runs that
 * dialplan when the channel hangs up (ast_hangup runs every channel's
 * handlers, also for channels that never ran the dialplan). A function write
 * produces no VarSet event. The simulated dialplan knows the handlers shipped
 * in asterisk-config/extensions_custom.conf; [callbridge-ari-hangup] keeps
 * how an ARI-mode leg ended in AstDB.
 */
import { dbDelTree, dbPut } from './astdb.js';
import type { Channel, SimEvent } from './types.js';
import type { World } from './world.js';

const PUSH = 'CHANNEL(hangup_handler_push)';

/** Handles a channel variable that is a hangup-handler push; false for any other variable. */
export function pushHangupHandler(world: World, ch: Channel, name: string, value: string): boolean {
  if (name !== PUSH) return false;
  const m = /^([\w-]+),s,1\(([^)]*)\)$/.exec(value);
  if (m?.[1] === 'callbridge-ari-hangup') {
    const [callId = '', leg = ''] = m[2]!.split(',');
    const onEvent = (e: SimEvent) => {
      if (e.type !== 'Hangup' || e.ch !== ch) return;
      world.off('event', onEvent);
      const family = `callbridge/${callId}`;
      dbPut(world, family, `${leg}_answered`, ch.answered ? (ch.answered.getTime() / 1000).toFixed(6) : '0.000000');
      dbPut(world, family, `${leg}_cause`, String(e.cause));
      dbPut(world, family, `${leg}_ended`, new Date().toISOString());
      const n = Number(callId);
      if (Number.isInteger(n)) dbDelTree(world, 'callbridge', String(n - 1000));
    };
    world.on('event', onEvent);
  }
  return true;
}
