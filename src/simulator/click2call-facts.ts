/**
 * What the shipped [callbridge-click2call] dialplan keeps in AstDB per call
 * (asterisk-config/extensions_custom.conf), written as a real Asterisk would:
 *
 *   pickup        first steps of the context (the operator answered)
 *   dialled       Dial B(): just before the client is dialled; linkedid too
 *   answered      Dial U(): the client answered
 *   dialstatus, answeredtime, hangupcause, hangupsource, ended
 *                 the operator channel's hangup handler
 *
 * The hangup handler also removes the recording of a call whose client never
 * answered (MixMonitor's bare WAV header), and each call drops the facts of
 * the call 1000 ids before it.
 */
import { rmSync } from 'node:fs';
import { dbDelTree, dbPut } from './astdb.js';
import type { Channel, SimEvent } from './types.js';
import type { World } from './world.js';

const FAMILY = 'callbridge';

export interface Click2CallFacts {
  dialled(): void;
  answered(): void;
}

export function click2callFacts(world: World, op: Channel, callId: string): Click2CallFacts {
  const put = (key: string, value: string) => {
    if (callId) dbPut(world, `${FAMILY}/${callId}`, key, value);
  };
  const now = () => new Date().toISOString();
  put('pickup', now());
  const n = Number(callId);
  if (Number.isInteger(n)) dbDelTree(world, FAMILY, String(n - 1000));

  // CHANNEL(hangupsource): the channel whose hangup ended the conversation (or the operator's own)
  let source: string | undefined;
  const onEvent = (e: SimEvent) => {
    if (!('ch' in e) || !e.ch) return;
    const ch = e.ch;
    if ((e.type === 'HangupRequest' || e.type === 'SoftHangupRequest' || e.type === 'Hangup') && source === undefined && ch.linkedid === op.linkedid) {
      source = ch.name;
    }
    if (e.type === 'Hangup' && ch === op) {
      world.off('event', onEvent);
      const v = (name: string) => op.vars.get(name) ?? '';
      put('dialstatus', v('DIALSTATUS'));
      put('answeredtime', v('ANSWEREDTIME'));
      put('hangupcause', String(e.cause));
      put('hangupsource', source ?? op.name);
      put('ended', now());
      const file = v('MIXMONITOR_FILENAME');
      if (v('DIALSTATUS') !== 'ANSWER' && file) rmSync(file, { force: true });
    }
  };
  world.on('event', onEvent);
  return {
    dialled: () => {
      put('dialled', now());
      put('linkedid', op.linkedid);
    },
    answered: () => put('answered', now()),
  };
}
