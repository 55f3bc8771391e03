import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startMixMonitor } from './mixmonitor.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

/**
 * Pieces of the FreePBX-style dialplan of the recorded lab (traces README,
 * "Changes for the E scenarios"): the subroutines every call runs through,
 * recording names, inherited variables and CDR rows.
 */

/** The trunk endpoint that carries client calls (`PJSIP/<number>@clients`, `PJSIP/clients-…`). */
export const PBX_TRUNK = 'clients';
/** `RINGTIMER_DEFAULT`: how long an extension rings (seconds). */
export const RINGTIMER_DEFAULT = 15;
/** `TRUNK_RING_TIMER` (seconds). */
export const TRUNK_RING_TIMER = 60;
/** The ring group every multi-operator inbound call goes to, and its ring time `RG600_RINGTIME` (seconds). */
export const RING_GROUP = '600';
export const RG_RINGTIME = 10;
/** Context of the ring-group member legs (`Local/<ext>@from-internal-ring/n`). */
export const RING_CONTEXT = 'from-internal-ring';
/** How long a caller who abandons lets it ring before hanging up (cast milliseconds). */
export const ABANDON_AFTER_MS = 2000;
/** Talk time of answered calls the simulator ends by itself (cast milliseconds). */
export const TALK_MS = 3000;

/** Variables app_dial resets before dialling (VarSet with empty values in the traces). */
const DIAL_VARS = ['DIALSTATUS', 'DIALEDPEERNUMBER', 'DIALEDPEERNAME', 'ANSWEREDTIME', 'ANSWEREDTIME_MS', 'DIALEDTIME', 'DIALEDTIME_MS', 'RINGTIME', 'RINGTIME_MS', 'PROGRESSTIME', 'PROGRESSTIME_MS'];

/** A dialplan position: context, extension, priority. */
export type At = [string, string, number];

/** Channels that run dialplan (the caller of a Dial, the `;2` half of a Local member); they get SoftHangupRequest when they hang up. */
const dialplanChannels = new WeakSet<Channel>();

export function runsDialplan(ch: Channel): boolean {
  return dialplanChannels.has(ch);
}

/** One Newexten step; the channel runs dialplan from now on. */
export function step(world: World, ch: Channel, context: string, exten: string, priority: number, app: string, data = ''): void {
  dialplanChannels.add(ch);
  world.newexten(ch, context, exten, priority, app, data);
}

/** Set() of a channel variable: Newexten plus VarSet. */
export function setStep(world: World, ch: Channel, context: string, exten: string, priority: number, variable: string, value: string): void {
  step(world, ch, context, exten, priority, 'Set', `${variable}=${value}`);
  world.setVar(ch, variable, value);
}

/** Gosub(): Newexten, then the LOCAL(ARGn) VarSets of the new frame. */
export function gosub(world: World, ch: Channel, context: string, exten: string, priority: number, target: string, args: string[]): void {
  step(world, ch, context, exten, priority, 'Gosub', args.length ? `${target}(${args.join(',')})` : target);
  args.forEach((a, i) => world.setVar(ch, `LOCAL(ARG${i + 1})`, a));
  world.setVar(ch, 'LOCAL(ARGC)', String(args.length));
}

/** Return() from a Gosub frame: the frame's variables are cleared. */
export function ret(world: World, ch: Channel, context: string, exten: string, priority: number, argc: number): void {
  step(world, ch, context, exten, priority, 'Return', '');
  world.setVar(ch, 'ARGC', '');
  for (let i = argc; i >= 1; i--) world.setVar(ch, `ARG${i}`, '');
  world.setVar(ch, 'GOSUB_RETVAL', '');
}

/**
 * macro-user-callerid: the loop counter, and for calls an extension placed
 * (no FROM_DID, no AMPUSER yet) AMPUSER / __FROMEXTEN / __REALCALLERIDNUM.
 */
export function macroUserCallerid(world: World, ch: Channel): void {
  const c = 'macro-user-callerid';
  const ttl = ch.vars.get('TTL');
  setStep(world, ch, c, 's', 1, '__TTL', ttl === undefined || ttl === '' ? '64' : String(Number(ttl) - 1));
  const fromDid = ch.vars.get('FROM_DID') ?? '';
  if (fromDid !== '') {
    step(world, ch, c, 's', 2, 'GotoIf', '1?done');
  } else {
    step(world, ch, c, 's', 2, 'GotoIf', '0?done');
    const amp = ch.vars.get('AMPUSER') ?? '';
    if (amp !== '') {
      step(world, ch, c, 's', 3, 'GotoIf', '1?done');
    } else {
      step(world, ch, c, 's', 3, 'GotoIf', '0?done');
      setStep(world, ch, c, 's', 4, 'AMPUSER', ch.callerNum);
      setStep(world, ch, c, 's', 5, '__FROMEXTEN', ch.callerNum);
      setStep(world, ch, c, 's', 6, '__REALCALLERIDNUM', ch.callerNum);
    }
  }
  ret(world, ch, c, 's', 7, 0);
}

/**
 * Gosub(macro-exten-vm,s,1(novm,<ext>)) up to its Dial(PJSIP/<ext>,15,Ttr) step:
 * EXTTOCALL, macro-user-callerid, PICKUPMARK, RT, and the recording check
 * (internal-<ext>-<from> for calls an extension placed, external-… otherwise).
 * Returns the Dial data.
 */
export function macroExtenVm(world: World, ch: Channel, at: At, ext: string): string {
  const c = 'macro-exten-vm';
  gosub(world, ch, at[0], at[1], at[2], `${c},s,1`, ['novm', ext]);
  setStep(world, ch, c, 's', 1, 'EXTTOCALL', ext);
  gosub(world, ch, c, 's', 2, 'macro-user-callerid,s,1', []);
  macroUserCallerid(world, ch);
  setStep(world, ch, c, 's', 3, '__PICKUPMARK', ext);
  setStep(world, ch, c, 's', 4, 'RT', String(RINGTIMER_DEFAULT));
  const fromExten = ch.vars.get('FROMEXTEN') ?? '';
  if (fromExten === '') {
    step(world, ch, c, 's', 5, 'GotoIf', '1?external');
    subRecordCheck(world, ch, [c, 's', 9], 'external', ext, ch.callerNum);
  } else {
    step(world, ch, c, 's', 5, 'GotoIf', '0?external');
    setUserfield(world, ch, c, 's', 6, `internal:${fromExten}-${ext}`);
    subRecordCheck(world, ch, [c, 's', 7], 'internal', ext, fromExten);
    step(world, ch, c, 's', 8, 'Goto', 'dial');
  }
  const data = `PJSIP/${ext},${RINGTIMER_DEFAULT},Ttr`;
  dialStep(world, ch, c, 's', 10, data);
  return data;
}

/** macro-exten-vm after a Dial that was not answered: NoOp, ExecIf(BUSY?Busy(20)); false when it returns (no Busy). */
export function macroExtenVmAfter(world: World, ch: Channel, ext: string, status: string): boolean {
  const c = 'macro-exten-vm';
  step(world, ch, c, 's', 11, 'NoOp', `ext-local ${ext}: DIALSTATUS=${status} HANGUPCAUSE=${ch.vars.get('HANGUPCAUSE') ?? ''}`);
  step(world, ch, c, 's', 12, 'ExecIf', `${status === 'BUSY' ? 1 : 0}?Busy(20)`);
  if (status === 'BUSY') return true;
  ret(world, ch, c, 's', 13, 2);
  return false;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * sub-record-check (type, to, from): one recording per call. The first call
 * starts MixMonitor(<YYYY>/<MM>/<DD>/<type>-<to>-<from>-<YYYYMMDD>-<HHMMSS>-<uniqueid>.wav,abi(…))
 * under the monitor directory; an inherited REC_STATUS=RECORDING skips it.
 * Returns the absolute path of the recording, or undefined when one was already running.
 */
export function subRecordCheck(world: World, ch: Channel, at: At, type: string, to: string, from: string): string | undefined {
  const c = 'sub-record-check';
  gosub(world, ch, at[0], at[1], at[2], `${c},s,1`, [type, to, from]);
  if (ch.vars.get('REC_STATUS') === 'RECORDING') {
    step(world, ch, c, 's', 1, 'GotoIf', '1?already');
    step(world, ch, c, 's', 14, 'NoOp', `Already recording: ${ch.vars.get('CALLFILENAME') ?? ''}`);
    ret(world, ch, c, 's', 15, 3);
    return undefined;
  }
  step(world, ch, c, 's', 1, 'GotoIf', '0?already');
  const now = new Date();
  const epoch = String(Math.floor(now.getTime() / 1000));
  const [y, m, d] = [String(now.getUTCFullYear()), pad(now.getUTCMonth() + 1), pad(now.getUTCDate())];
  const timestr = `${y}${m}${d}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  setStep(world, ch, c, 's', 2, 'NOW', epoch);
  setStep(world, ch, c, 's', 3, '__DAY', d);
  setStep(world, ch, c, 's', 4, '__MONTH', m);
  setStep(world, ch, c, 's', 5, '__YEAR', y);
  setStep(world, ch, c, 's', 6, '__TIMESTR', timestr);
  const name = `${type}-${to}-${from}-${timestr}-${ch.id}`;
  setStep(world, ch, c, 's', 7, '__CALLFILENAME', name);
  const rel = `${y}/${m}/${d}/${name}.wav`;
  step(world, ch, c, 's', 8, 'MixMonitor', `${rel},abi(LOCAL_MIXMON_ID)`);
  const path = startMixMonitor(world, ch, join(world.monitorDir, rel), true);
  const mixId = `0x${randomBytes(6).toString('hex')}`;
  world.setVar(ch, 'LOCAL_MIXMON_ID', mixId);
  setStep(world, ch, c, 's', 9, '__MIXMON_ID', mixId);
  setStep(world, ch, c, 's', 10, '__RECORD_ID', ch.name);
  setStep(world, ch, c, 's', 11, '__REC_STATUS', 'RECORDING');
  step(world, ch, c, 's', 12, 'Set', `CDR(recordingfile)=${name}.wav`);
  ret(world, ch, c, 's', 13, 3);
  return path;
}

/** Set(CDR(userfield)=…); the value lands in the channel's Cdr rows. */
export function setUserfield(world: World, ch: Channel, context: string, exten: string, priority: number, value: string): void {
  step(world, ch, context, exten, priority, 'Set', `CDR(userfield)=${value}`);
  ch.userfield = value;
}

/** The Dial() step itself: Newexten and the reset of app_dial's result variables. */
export function dialStep(world: World, ch: Channel, context: string, exten: string, priority: number, data: string, app = 'Dial'): void {
  step(world, ch, context, exten, priority, app, data);
  if (app === 'Dial') for (const name of DIAL_VARS) world.setVar(ch, name, '');
}

/**
 * Variable inheritance into a channel Dial (or a Local half) creates: one
 * VarSet `__NAME` per inheritable variable, the most recently set first, as the traces show.
 */
export function inheritVars(world: World, from: Channel, to: Channel): void {
  for (const name of [...from.inheritable].reverse()) world.setVar(to, `__${name}`, from.vars.get(name) ?? '');
}

function cdrTime(d: Date | undefined): string {
  return d ? d.toISOString().slice(0, 19).replace('T', ' ') : '';
}

/** One CDR row, collected while the call runs and published as `Cdr` when the traces show it. */
export interface CdrRow {
  channel: Channel;
  source: string;
  callerId: string;
  destination: string;
  destinationContext: string;
  destinationChannel: string;
  lastApplication: string;
  lastData: string;
  start: Date;
  answer?: Date;
  end?: Date;
  disposition: 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED';
  userfield: string;
}

/** Publishes a `Cdr` event with cdr_manager's header order. */
export function emitCdrRow(world: World, r: CdrRow): void {
  const end = r.end ?? new Date();
  const duration = Math.floor((end.getTime() - r.start.getTime()) / 1000);
  const billable = r.answer ? Math.floor((end.getTime() - r.answer.getTime()) / 1000) : 0;
  world.emitEvent({
    type: 'Cdr',
    fields: [
      ['AccountCode', ''], ['Source', r.source], ['Destination', r.destination], ['DestinationContext', r.destinationContext],
      ['CallerID', r.callerId], ['Channel', r.channel.name], ['DestinationChannel', r.destinationChannel],
      ['LastApplication', r.lastApplication], ['LastData', r.lastData], ['StartTime', cdrTime(r.start)],
      ['AnswerTime', cdrTime(r.answer)], ['EndTime', cdrTime(end)], ['Duration', String(duration)],
      ['BillableSeconds', String(billable)], ['Disposition', r.disposition], ['AMAFlags', 'DOCUMENTATION'],
      ['UniqueID', r.channel.id], ['UserField', r.userfield],
    ],
  });
}

/** `"name" <num>` as a Cdr prints a caller ID. */
export function cdrCallerId(ch: Channel): string {
  if (!ch.callerNum && !ch.callerName) return '';
  return ch.callerName ? `"${ch.callerName}" <${ch.callerNum}>` : `<${ch.callerNum}>`;
}

/** A random SIP Call-ID like the phones' (`1-27055@127.0.0.1`). */
export function sipCallId(): string {
  return `1-${10000 + Math.floor(Math.random() * 89999)}@127.0.0.1`;
}
