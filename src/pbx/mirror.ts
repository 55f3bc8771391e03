/**
 * A mirror of Asterisk's channels, grouped into calls by linkedid, fed by raw
 * AMI events. Pure: messages in, call facts out; no I/O, no clock (every
 * message comes with the time it was received), so recorded traces replay
 * through it exactly as the live stream does.
 *
 * What the recorded Asterisk 22 streams show, and this relies on:
 * - every channel of a call carries the Linkedid of the call's first channel
 *   (Local halves, ring-group members that lost, the leg a transfer creates);
 * - the call ends with the last Hangup of its linkedid, not with CEL
 *   LINKEDID_END nor with a Cdr event (both can come before the last Hangup);
 * - an operator's phone is a channel created in the endpoint context of the
 *   extensions (`from-internal` on FreePBX), a trunk channel is any other
 *   PJSIP/SIP channel; Local halves only carry the call between them;
 * - in a ring group or queue the caller's DialEnd ANSWER names the Local `;1`
 *   half; the phone that answered is the destination of the inner DialEnd
 *   ANSWER on `;2`; the losers end with DialEnd CANCEL and cause 26;
 * - Cdr events carry no Linkedid (only the UniqueID of their channel).
 */
import type { AmiMessage } from '../asterisk/ami/index.js';

export type ChannelKind = 'phone' | 'trunk' | 'local' | 'other';

export interface MirrorChannel {
  uniqueid: string;
  name: string;
  linkedid: string;
  kind: ChannelKind;
  /** the endpoint of a phone or trunk channel (`1000`, `clients`) */
  endpoint?: string;
  /** context and extension at creation: for a phone placing a call, the number it dialled */
  context0: string;
  exten0: string;
  callerNum: string;
  connectedNum: string;
  createdAt: number;
  ringAt?: number;
  answerAt?: number;
  endAt?: number;
  cause?: number;
  causeText?: string;
  /** the channel that dialled this one (DialBegin) */
  dialedBy?: string;
  dialString?: string;
  dialStatus?: string;
  hangupRequestAt?: number;
  /** this phone handed the call on with a transfer and left */
  transferred?: boolean;
  alive: boolean;
}

export interface Transfer {
  kind: 'blind' | 'attended';
  from: string | null;
  to: string | null;
  at: number;
}

export interface MirrorCall {
  linkedid: string;
  channels: Map<string, MirrorChannel>;
  /** the call was started by the daemon itself (click-to-call): followed elsewhere */
  own: boolean;
  /** reported as a call (a channel of it rang someone, or it came in over a trunk) */
  open: boolean;
  ended: boolean;
  startedAt: number;
  queue?: { name: string; abandoned: boolean; connected: boolean; left: boolean };
  transfers: Transfer[];
  recordingFile?: string;
  did?: string;
  /** the FreePBX ring group the call went to (RINGGROUP_INDEX; '' for a ring group the PBX did not name) */
  ringGroup?: string;
  /** who asked first to end the conversation: a client-side or an operator-side channel */
  firstHangup?: { uniqueid: string; at: number };
  /** the Cdr events of the call's channels, as received */
  cdrs: Array<Record<string, string>>;
  /** the call's last channels ended unseen (an AMI gap): its end time came from the hook's CDR, or is when the snapshot showed them gone */
  endSource?: 'cdr' | 'resync';
}

/** The fields of a channel in an AMI event, as the parser keys them, for a prefix (Dest, Transferer, …): built once per prefix. */
const CHANNEL_FIELDS = ['uniqueid', 'channel', 'linkedid', 'context', 'exten', 'calleridnum', 'connectedlinenum', 'channelstatedesc'] as const;
type ChannelKeys = Record<(typeof CHANNEL_FIELDS)[number], string>;
const KEYS_BY_PREFIX = new Map<string, ChannelKeys>();
function keysOf(prefix: string): ChannelKeys {
  let k = KEYS_BY_PREFIX.get(prefix);
  if (!k) {
    const p = prefix.toLowerCase();
    k = Object.fromEntries(CHANNEL_FIELDS.map((n) => [n, `${p}${n}`])) as ChannelKeys;
    KEYS_BY_PREFIX.set(prefix, k);
  }
  return k;
}

const f = (m: AmiMessage, k: string): string | undefined => {
  const v = m[k];
  return Array.isArray(v) ? v[0] : v;
};

const known = (v: string | undefined): string => (v === undefined || v === '<unknown>' ? '' : v);

/** `PJSIP/1000-0000000d` → `1000`; `Local/1000@from-queue-00000002;1` → `1000@from-queue`. */
export function resourceOf(name: string): string {
  const slash = name.indexOf('/');
  const rest = slash >= 0 ? name.slice(slash + 1) : name;
  return rest.replace(/;[12]$/, '').replace(/-[0-9a-f]{8}$/i, '');
}

export function classify(name: string, context: string, operatorContexts: ReadonlySet<string>): ChannelKind {
  const tech = name.slice(0, name.indexOf('/')).toUpperCase();
  if (tech === 'LOCAL') return 'local';
  if (tech === 'PJSIP' || tech === 'SIP' || tech === 'IAX2' || tech === 'DAHDI') return operatorContexts.has(context) ? 'phone' : 'trunk';
  return 'other';
}

/**
 * What a PJSIP/SIP dial string says about the channel it makes: `1000` or
 * `1000/sip:1000@10.0.0.5:5060` (FreePBX's PJSIP_DIAL_CONTACTS) dial an
 * endpoint itself, a phone; `79001234567@clients` dials a number through a
 * trunk endpoint. Local and other dial strings say nothing.
 */
export function kindOfDialString(s: string | undefined): { kind: 'phone' | 'trunk'; endpoint: string } | undefined {
  if (!s || /^Local\//i.test(s)) return undefined;
  const bare = s.replace(/^(?:PJSIP|SIP)\//i, '');
  const slash = bare.indexOf('/');
  const at = bare.indexOf('@');
  if (at >= 0 && (slash < 0 || at < slash)) return { kind: 'trunk', endpoint: bare.slice(at + 1).split('/')[0]! };
  const endpoint = slash >= 0 ? bare.slice(0, slash) : bare;
  return /^[A-Za-z0-9_.+-]{1,80}$/.test(endpoint) ? { kind: 'phone', endpoint } : undefined;
}

/** The ids that mark the daemon's own click-to-call channels (ARI names them; AMI sets this variable). */
export const OWN_CHANNEL_PREFIX = 'cb-';
export const OWN_CALL_VARIABLE = 'CALLBRIDGE_CALL_ID';
/** The channel variables the mirror reads from VarSet events (the AMI link may pass over the others). */
export const MIRROR_VARIABLES: readonly string[] = [OWN_CALL_VARIABLE, 'MIXMONITOR_FILENAME', 'FROM_DID', 'RINGGROUP_INDEX'];

export type MirrorChange =
  | { type: 'opened'; call: MirrorCall; at: number }
  | { type: 'channel'; call: MirrorCall; ch: MirrorChannel }
  | { type: 'dial'; call: MirrorCall; caller: MirrorChannel | undefined; dest: MirrorChannel; at: number }
  | { type: 'answer'; call: MirrorCall; dest: MirrorChannel; at: number }
  | { type: 'transfer'; call: MirrorCall; at: number }
  | { type: 'ended'; call: MirrorCall; at: number };

export interface MirrorOptions {
  operatorContexts: ReadonlySet<string>;
  /** whether a linkedid belongs to a call the daemon started (looked up in its own records) */
  isOwnLinkedid?: (linkedid: string) => boolean;
}

export class ChannelMirror {
  readonly calls = new Map<string, MirrorCall>();
  private readonly byUniqueid = new Map<string, MirrorChannel>();
  private changes: MirrorChange[] = [];

  constructor(private readonly opts: MirrorOptions) {}

  /** Feeds one AMI event; returns what changed for the calls, in order. */
  handle(m: AmiMessage, at: number): MirrorChange[] {
    this.changes = [];
    const event = f(m, 'event');
    switch (event) {
      case 'Newchannel':
        this.channelOf(m, '', at);
        break;
      case 'VarSet':
        this.onVarSet(m, at);
        break;
      case 'Newstate':
        this.onNewstate(m, at);
        break;
      case 'NewCallerid':
      case 'NewConnectedLine':
        this.channelOf(m, '', at);
        break;
      case 'DialBegin':
        this.onDialBegin(m, at);
        break;
      case 'DialEnd':
        this.onDialEnd(m, at);
        break;
      case 'HangupRequest':
      case 'SoftHangupRequest':
        this.onHangupRequest(m, at);
        break;
      case 'Hangup':
        this.onHangup(m, at);
        break;
      case 'BlindTransfer':
        this.onBlindTransfer(m, at);
        break;
      case 'AttendedTransfer':
        this.onAttendedTransfer(m, at);
        break;
      case 'QueueCallerJoin':
      case 'QueueCallerAbandon':
      case 'QueueCallerLeave':
      case 'AgentConnect':
        this.onQueue(event, m, at);
        break;
      case 'Cdr':
        this.onCdr(m);
        break;
      case 'BridgeEnter':
      case 'BridgeLeave':
      case 'MixMonitorStart':
      case 'LocalBridge':
      case 'DialState':
        if (f(m, 'uniqueid')) this.channelOf(m, '', at);
        break;
      default:
        break;
    }
    return this.changes;
  }

  /**
   * A channel Asterisk reports in CoreShowChannels (after a (re)connect or at
   * start): known ones are updated, unknown ones join the mirror as they are now.
   */
  snapshotChannel(m: AmiMessage, at: number): MirrorChannel | undefined {
    const ch = this.channelOf(m, '', at);
    if (!ch) return undefined;
    const seconds = durationSeconds(f(m, 'duration'));
    if (seconds !== undefined && ch.createdAt === at) ch.createdAt = at - seconds * 1000;
    const state = f(m, 'channelstatedesc');
    if (state === 'Up' && ch.answerAt === undefined) ch.answerAt = at;
    return ch;
  }

  /** A channel known to the mirror but not to Asterisk any more: it ended while nobody watched. */
  channelGone(uniqueid: string, at: number, source: 'cdr' | 'resync' = 'resync'): void {
    const ch = this.byUniqueid.get(uniqueid);
    if (!ch || !ch.alive) return;
    this.changes = [];
    const call = this.calls.get(ch.linkedid);
    const ended = call?.ended;
    this.hangup(ch, at, undefined, undefined);
    if (call && !ended && call.ended) call.endSource = source;
  }

  /** A leg that answered while nobody watched (the hook's CDR says so): answered at `at`. */
  answeredUnseen(uniqueid: string, at: number): void {
    const ch = this.byUniqueid.get(uniqueid);
    if (!ch || ch.answerAt !== undefined) return;
    ch.answerAt = at;
    ch.dialStatus = 'ANSWER';
  }

  /** Changes produced by channelGone / snapshot calls since the last handle(). */
  drain(): MirrorChange[] {
    const out = this.changes;
    this.changes = [];
    return out;
  }

  channel(uniqueid: string): MirrorChannel | undefined {
    return this.byUniqueid.get(uniqueid);
  }

  /** Drops an ended call from memory. */
  forget(linkedid: string): void {
    const call = this.calls.get(linkedid);
    if (!call) return;
    for (const id of call.channels.keys()) {
      if (this.byUniqueid.get(id)?.linkedid === linkedid) this.byUniqueid.delete(id);
    }
    this.calls.delete(linkedid);
  }

  /** Restores a call the store knows as open (after a restart), before the snapshot fills in its channels. */
  restoreCall(
    linkedid: string,
    startedAt: number,
    facts: { did?: string; recordingFile?: string; transfers?: Transfer[]; group?: { kind: 'ringgroup' | 'queue'; ext: string | null } },
  ): MirrorCall {
    const call = this.callOf(linkedid, startedAt);
    call.open = true;
    if (facts.group?.kind === 'ringgroup') call.ringGroup = facts.group.ext ?? '';
    if (facts.group?.kind === 'queue') call.queue ??= { name: facts.group.ext ?? '', abandoned: false, connected: false, left: false };
    if (facts.did) call.did = facts.did;
    if (facts.recordingFile) call.recordingFile = facts.recordingFile;
    if (facts.transfers) call.transfers = [...facts.transfers];
    return call;
  }

  /** Puts a channel known from the store (a restored call's leg) back into the mirror. */
  adopt(ch: MirrorChannel): void {
    const call = this.callOf(ch.linkedid, ch.createdAt);
    call.channels.set(ch.uniqueid, ch);
    this.byUniqueid.set(ch.uniqueid, ch);
  }

  private callOf(linkedid: string, at: number): MirrorCall {
    let call = this.calls.get(linkedid);
    if (!call) {
      call = {
        linkedid,
        channels: new Map(),
        own: linkedid.startsWith(OWN_CHANNEL_PREFIX) || (this.opts.isOwnLinkedid?.(linkedid) ?? false),
        open: false,
        ended: false,
        startedAt: at,
        transfers: [],
        cdrs: [],
      };
      this.calls.set(linkedid, call);
    }
    return call;
  }

  /** The channel an event is about (prefix '' or 'Dest', 'Transferer', …), created or moved as the event says. */
  private channelOf(m: AmiMessage, prefix: string, at: number): MirrorChannel | undefined {
    const k = keysOf(prefix);
    const uniqueid = f(m, k.uniqueid);
    const name = f(m, k.channel);
    if (!uniqueid || !name) return undefined;
    const linkedid = f(m, k.linkedid) || uniqueid;
    let ch = this.byUniqueid.get(uniqueid);
    if (!ch) {
      const context = f(m, k.context) ?? '';
      const kind = classify(name, context, this.opts.operatorContexts);
      ch = {
        uniqueid,
        name,
        linkedid,
        kind,
        ...(kind === 'phone' || kind === 'trunk' ? { endpoint: resourceOf(name) } : {}),
        context0: context,
        exten0: f(m, k.exten) ?? '',
        callerNum: known(f(m, k.calleridnum)),
        connectedNum: known(f(m, k.connectedlinenum)),
        createdAt: at,
        alive: true,
      };
      this.byUniqueid.set(uniqueid, ch);
      const call = this.callOf(linkedid, at);
      if (uniqueid.startsWith(OWN_CHANNEL_PREFIX)) call.own = true;
      call.channels.set(uniqueid, ch);
      if (call.ended) call.ended = false;
      this.changes.push({ type: 'channel', call, ch });
      // A call coming in over a trunk is a call from its first channel on (an Originate's channel starts Down instead).
      if (!call.own && !call.open && uniqueid === linkedid && ch.kind === 'trunk' && f(m, k.channelstatedesc) === 'Ring') this.open(call, at);
    } else {
      ch.callerNum = known(f(m, k.calleridnum)) || ch.callerNum;
      ch.connectedNum = known(f(m, k.connectedlinenum)) || ch.connectedNum;
      if (ch.linkedid !== linkedid) this.move(ch, linkedid, at);
    }
    return ch;
  }

  /** Asterisk gave the channel another linkedid (it joined a bridge with an older call): it follows. */
  private move(ch: MirrorChannel, linkedid: string, at: number): void {
    const from = this.calls.get(ch.linkedid);
    // The call it leaves keeps what the channel did there (who answered), as a leg that ended now.
    if (from) from.channels.set(ch.uniqueid, { ...ch, alive: false, endAt: at });
    ch.linkedid = linkedid;
    const to = this.callOf(linkedid, at);
    to.channels.set(ch.uniqueid, ch);
    this.changes.push({ type: 'channel', call: to, ch });
    if (from) this.maybeEnded(from, at);
  }

  private open(call: MirrorCall, at: number): void {
    if (call.open || call.own) return;
    call.open = true;
    this.changes.push({ type: 'opened', call, at });
  }

  private onVarSet(m: AmiMessage, at: number): void {
    const ch = this.channelOf(m, '', at);
    if (!ch) return;
    const call = this.calls.get(ch.linkedid);
    if (!call) return;
    const variable = (f(m, 'variable') ?? '').replace(/^_{1,2}/, '');
    const value = f(m, 'value') ?? '';
    if (variable === OWN_CALL_VARIABLE && value !== '') call.own = true;
    else if (variable === 'MIXMONITOR_FILENAME' && value !== '') call.recordingFile ??= value;
    else if (variable === 'FROM_DID' && value !== '') call.did ??= value;
    else if (variable === 'RINGGROUP_INDEX' && value !== '' && !call.ringGroup) call.ringGroup = value;
  }

  private onNewstate(m: AmiMessage, at: number): void {
    const ch = this.channelOf(m, '', at);
    if (!ch) return;
    const state = f(m, 'channelstatedesc');
    if (state === 'Ringing') ch.ringAt ??= at;
    else if (state === 'Up') ch.answerAt ??= at;
  }

  private onDialBegin(m: AmiMessage, at: number): void {
    const dest = this.channelOf(m, 'Dest', at);
    if (!dest) return;
    const caller = this.channelOf(m, '', at);
    dest.dialString = f(m, 'dialstring');
    dest.ringAt ??= at;
    const byDial = kindOfDialString(dest.dialString);
    if (byDial && (dest.kind === 'phone' || dest.kind === 'trunk')) {
      dest.kind = byDial.kind;
      dest.endpoint = byDial.endpoint;
    }
    if (caller) dest.dialedBy = caller.uniqueid;
    const call = this.calls.get(dest.linkedid);
    if (!call || call.own) return;
    // A phone placing a call becomes a call when it dials someone; an Originate's own leg (no caller) does not.
    if (!call.open && caller) this.open(call, at);
    if (call.open) this.changes.push({ type: 'dial', call, caller, dest, at });
  }

  private onDialEnd(m: AmiMessage, at: number): void {
    const dest = this.channelOf(m, 'Dest', at);
    if (!dest) return;
    const caller = this.channelOf(m, '', at);
    const status = f(m, 'dialstatus') ?? '';
    // A queue reports the losing member's CANCEL twice; the first word stands.
    if (dest.dialStatus === undefined || dest.dialStatus === '' || status === 'ANSWER') dest.dialStatus = status;
    if (caller && !dest.dialedBy) dest.dialedBy = caller.uniqueid;
    const call = this.calls.get(dest.linkedid);
    if (status === 'ANSWER') {
      dest.answerAt ??= at;
      if (call?.open && !call.own) this.changes.push({ type: 'answer', call, dest, at });
    }
  }

  private onHangupRequest(m: AmiMessage, at: number): void {
    const ch = this.channelOf(m, '', at);
    if (!ch) return;
    ch.hangupRequestAt ??= at;
    const call = this.calls.get(ch.linkedid);
    if (call) this.noteFirstHangup(call, ch, at);
  }

  /** The first channel of the conversation to go: a client-side or an operator-side one tells who ended it. */
  private noteFirstHangup(call: MirrorCall, ch: MirrorChannel, at: number): void {
    if (call.firstHangup || ch.kind === 'local' || ch.transferred) return;
    if (ch.answerAt === undefined && ch.uniqueid !== call.linkedid) return;
    if (this.talking(call)) call.firstHangup = { uniqueid: ch.uniqueid, at };
  }

  /** Someone in the call answered: a hangup from now on ends a conversation. */
  private talking(call: MirrorCall): boolean {
    for (const c of call.channels.values()) if (c.kind !== 'local' && c.answerAt !== undefined && c.uniqueid !== call.linkedid) return true;
    return false;
  }

  private onHangup(m: AmiMessage, at: number): void {
    const ch = this.channelOf(m, '', at);
    if (!ch) return;
    const cause = Number(f(m, 'cause'));
    this.hangup(ch, at, Number.isNaN(cause) ? undefined : cause, f(m, 'cause-txt'));
  }

  private hangup(ch: MirrorChannel, at: number, cause: number | undefined, causeText: string | undefined): void {
    if (!ch.alive) return;
    ch.alive = false;
    ch.endAt = at;
    if (cause !== undefined) ch.cause = cause;
    if (causeText) ch.causeText = causeText;
    const call = this.calls.get(ch.linkedid);
    if (!call) return;
    this.noteFirstHangup(call, ch, at);
    // a phone or trunk leaving a call that goes on is news of its own (a ring-group member answered elsewhere)
    if (call.open && !call.own && (ch.kind === 'phone' || ch.kind === 'trunk')) this.changes.push({ type: 'channel', call, ch });
    this.maybeEnded(call, at);
  }

  private maybeEnded(call: MirrorCall, at: number): void {
    if (call.ended) return;
    for (const c of call.channels.values()) if (c.alive) return;
    call.ended = true;
    if (call.open && !call.own) this.changes.push({ type: 'ended', call, at });
  }

  private onBlindTransfer(m: AmiMessage, at: number): void {
    if (f(m, 'result') !== 'Success') return;
    const transferer = this.channelOf(m, 'Transferer', at);
    this.channelOf(m, 'Transferee', at);
    if (!transferer) return;
    transferer.transferred = true;
    const call = this.calls.get(transferer.linkedid);
    if (!call?.open || call.own) return;
    call.transfers.push({ kind: 'blind', from: transferer.kind === 'phone' ? (transferer.endpoint ?? null) : null, to: f(m, 'extension') ?? null, at });
    this.changes.push({ type: 'transfer', call, at });
  }

  /**
   * An attended transfer joins the consultation call (the operator's second
   * channel and the colleague) to the call being transferred: the
   * colleague's channels move over; the consultation keeps its own history.
   */
  private onAttendedTransfer(m: AmiMessage, at: number): void {
    if (f(m, 'result') !== 'Success') return;
    const first = this.channelOf(m, 'OrigTransferer', at);
    const second = this.channelOf(m, 'SecondTransferer', at);
    if (!first) return;
    first.transferred = true;
    if (second) second.transferred = true;
    const call = this.calls.get(first.linkedid);
    if (!call?.open || call.own) return;
    // The transferer's hangup completes a feature transfer (*2) and comes first (X1: HangupRequest, then
    // AttendedTransfer): it handed the call on, it did not end the conversation.
    if (call.firstHangup && (call.firstHangup.uniqueid === first.uniqueid || call.firstHangup.uniqueid === second?.uniqueid)) delete call.firstHangup;
    let to: string | null = known(f(m, 'secondtransfererconnectedlinenum')) || null;
    const consult = second ? this.calls.get(second.linkedid) : undefined;
    if (consult && consult !== call) {
      for (const c of [...consult.channels.values()]) {
        if (c === second || !c.alive) continue;
        if (c.kind === 'phone' && c.answerAt !== undefined) to = c.endpoint ?? to;
        this.move(c, call.linkedid, at);
      }
    }
    call.transfers.push({ kind: 'attended', from: first.kind === 'phone' ? (first.endpoint ?? null) : null, to, at });
    this.changes.push({ type: 'transfer', call, at });
  }

  private onQueue(event: string, m: AmiMessage, at: number): void {
    const ch = this.channelOf(m, '', at);
    if (!ch) return;
    const call = this.calls.get(ch.linkedid);
    if (!call || call.own) return;
    const q = (call.queue ??= { name: f(m, 'queue') ?? '', abandoned: false, connected: false, left: false });
    if (event === 'QueueCallerJoin') this.open(call, at);
    else if (event === 'QueueCallerAbandon') q.abandoned = true;
    else if (event === 'QueueCallerLeave') q.left = true;
    else if (event === 'AgentConnect') q.connected = true;
  }

  private onCdr(m: AmiMessage): void {
    const ch = this.byUniqueid.get(f(m, 'uniqueid') ?? '');
    const call = ch ? this.calls.get(ch.linkedid) : undefined;
    if (!call || call.own) return;
    const row: Record<string, string> = {};
    for (const k of ['source', 'destination', 'destinationcontext', 'channel', 'destinationchannel', 'lastapplication', 'starttime', 'answertime', 'endtime', 'duration', 'billableseconds', 'disposition', 'uniqueid', 'userfield']) {
      const v = f(m, k);
      if (v !== undefined) row[k] = v;
    }
    call.cdrs.push(row);
  }
}

/** `HH:MM:SS` (CoreShowChannel Duration) → seconds. */
function durationSeconds(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^(\d+):(\d{2}):(\d{2})$/.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}
