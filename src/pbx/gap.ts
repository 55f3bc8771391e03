/**
 * How a PBX call ended while the AMI link was down. Asterisk replays nothing
 * after a reconnect (trace F4b): the Hangup, DialEnd and Cdr events of the
 * gap are gone, and the snapshot (CoreShowChannels) only says the channels
 * are no longer there. What the PBX still tells is the CDR the dialplan hook
 * `[callbridge-cdr]` posted at the hangup (callDetailRecord, over HTTP, not
 * over AMI, so it arrives during the gap): when the call started, how long
 * it lasted, whether and how long it was answered, and the extension that
 * answered. Pure: the service passes the call, its CDRs and the time.
 */
import type { CdrFact } from '../calls/store.js';
import { answered } from './derive.js';
import type { MirrorCall, MirrorChannel } from './mirror.js';

export interface GapOutcome {
  /** when the call's remaining channels ended */
  endAt: number;
  /** where endAt comes from: the hook's CDR, or the moment the snapshot showed the channels gone */
  source: 'cdr' | 'resync';
  /** a leg that answered during the gap, by the CDR (ANSWERED, its billsec and extension) */
  answer?: { uniqueid: string; at: number };
}

/** The latest moment the mirror saw anything of the call: its end cannot be earlier. */
function lastSeen(call: MirrorCall): number {
  let at = call.startedAt;
  for (const c of call.channels.values()) at = Math.max(at, c.createdAt, c.ringAt ?? 0, c.answerAt ?? 0, c.endAt ?? 0);
  return at;
}

/**
 * The end (and an answer the gap hid) of `call`, whose channels `gone` the
 * snapshot no longer lists; `now` is the moment of that snapshot. CDR times
 * have whole seconds: the end is kept between what was last seen and now.
 */
export function gapOutcome(call: MirrorCall, gone: readonly MirrorChannel[], cdrs: readonly CdrFact[], now: number): GapOutcome {
  const floor = Math.min(lastSeen(call), now);
  const ends = cdrs.filter((c) => c.callAt !== null && c.duration !== null).map((c) => c.callAt! + c.duration! * 1000);
  if (ends.length === 0 || gone.length === 0) return { endAt: now, source: 'resync' };
  const endAt = Math.min(now, Math.max(floor, ...ends));
  const out: GapOutcome = { endAt, source: 'cdr' };
  const channels = [...call.channels.values()];
  if (channels.some(answered)) return out;
  const talked = cdrs.find((c) => c.disposition === 'ANSWERED' && (c.billsec ?? 0) > 0);
  if (!talked) return out;
  // The leg that answered: the operator's phone the CDR names for a call to operators, the dialled trunk for a call out.
  const first = call.channels.get(call.linkedid);
  const candidates = gone.filter((c) => c.dialedBy !== undefined || c.dialString !== undefined);
  const leg =
    first?.kind === 'phone'
      ? (candidates.find((c) => c.kind === 'trunk') ?? candidates.find((c) => c.kind === 'phone' && c.endpoint === talked.extension))
      : candidates.find((c) => c.kind === 'phone' && c.endpoint === talked.extension);
  if (!leg) return out;
  const at = Math.max(leg.ringAt ?? leg.createdAt, endAt - talked.billsec! * 1000);
  out.answer = { uniqueid: leg.uniqueid, at };
  return out;
}
