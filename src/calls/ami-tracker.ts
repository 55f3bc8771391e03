/**
 * Follows click-to-calls placed with AMI Originate through the raw AMI event
 * stream and reports normalized call events. No I/O: the AMI controller feeds
 * it, and the tests replay recorded Asterisk traces through it.
 *
 * What the recorded Asterisk 22 streams show (scenarios A1–A7):
 * - the operator leg is a Newchannel + VarSet of the Originate variables, then
 *   a DialBegin with only Dest* headers (no caller channel);
 * - OriginateResponse (same ActionID) Reason 4 = answered; Reason 3 = no
 *   answer; Reason 0 = busy (DialEnd BUSY, Hangup 17) or offline (no channel);
 * - the client leg is the DialBegin/DialEnd whose caller is the operator leg;
 *   its DialStatus decides (a Dial timeout hangs it up with cause 0).
 * - MixMonitorStart marks the recording; there is no MixMonitorStop.
 */
import type { CallEvent } from './chain.js';
import { clientOutcome, operatorOutcome, ORIGINATE_ANSWERED } from './causes.js';
import type { CallPatch } from './store.js';
import type { RecordingInfo } from './controller.js';

type AmiMessage = Readonly<Record<string, string | string[] | undefined>>;

const f = (m: AmiMessage, k: string): string | undefined => {
  const v = m[k];
  return Array.isArray(v) ? v[0] : v;
};

export const CALL_ID_VARIABLE = 'CALLBRIDGE_CALL_ID';
/** The channel variables the tracker reads from VarSet events (the AMI link may pass over the others). */
export const TRACKER_VARIABLES: readonly string[] = [CALL_ID_VARIABLE, 'MIXMONITOR_FILENAME'];

export interface TrackerSink {
  event(callId: number, ev: CallEvent, patch?: CallPatch): void;
  recordingStarted(callId: number, rec: RecordingInfo): void;
  recordingFinished(callId: number, rec: RecordingInfo): void;
}

interface Leg {
  uniqueid: string;
  name: string;
  gone: boolean;
}

interface Tracked {
  callId: number;
  operatorEndpoint: string;
  recordingName: string;
  actionId?: string;
  op?: Leg;
  client?: Leg;
  opDialStatus?: string;
  opCause?: number;
  /** the uniqueid the Originate asked for (ChannelId) */
  expectedOp?: string;
  operatorAnswered: boolean;
  clientAnswered: boolean;
  originateDone: boolean;
  recordingFile?: string;
  recordingStarted: boolean;
  /** MixMonitor runs (the shipped context starts it before the Dial, recording only bridged audio) */
  mixMonitor: boolean;
  /** when following started (epoch ms) */
  since: number;
  /**
   * The leg whose (Soft)HangupRequest came first: the order of Asterisk's
   * Hangup events does not say who hung up (the Dial target often goes first).
   */
  hungUpFirst?: 'op' | 'client';
}

/** Where an event names a channel: its own, and a Dial's destination. */
const LEG_FIELDS = [['uniqueid', 'channel'], ['destuniqueid', 'destchannel']] as const;

export class AmiCallTracker {
  private readonly calls = new Map<number, Tracked>();
  private readonly byUniqueid = new Map<string, Tracked>();
  private readonly byActionId = new Map<string, Tracked>();
  /** operator legs asked for by ChannelId, not yet seen */
  private readonly expected = new Map<string, Tracked>();
  /** OriginateResponses that arrived before their action's answer was seen (same TCP chunk). */
  private readonly early = new Map<string, AmiMessage>();

  constructor(
    private readonly sink: TrackerSink,
    private readonly recordingsDir: string,
  ) {}

  get size(): number {
    return this.calls.size;
  }

  /** Starts following a call before its Originate is sent; `opUniqueid` is the ChannelId it asks for. */
  track(callId: number, operatorEndpoint: string, recordingName: string, opUniqueid?: string): void {
    const t: Tracked = { callId, operatorEndpoint, recordingName, operatorAnswered: false, clientAnswered: false, originateDone: false, recordingStarted: false, mixMonitor: false, since: Date.now() };
    this.calls.set(callId, t);
    if (opUniqueid) {
      // the leg exists once an event names it (an offline phone gets no channel at all)
      t.expectedOp = opUniqueid;
      this.expected.set(opUniqueid, t);
    }
  }

  /** The ActionID the Originate went out with. */
  setActionId(callId: number, actionId: string): void {
    const t = this.calls.get(callId);
    if (!t) return;
    t.actionId = actionId;
    this.byActionId.set(actionId, t);
    const early = this.early.get(actionId);
    if (early) {
      this.early.delete(actionId);
      this.handle(early);
    }
  }

  /** Restores a call after a reconnect or restart from what is stored and what Asterisk still has. */
  restore(r: { callId: number; operatorEndpoint: string; recordingName: string; op?: { uniqueid: string; name: string }; client?: { uniqueid: string; name: string }; operatorAnswered: boolean; clientAnswered: boolean }): void {
    const t: Tracked = {
      callId: r.callId,
      operatorEndpoint: r.operatorEndpoint,
      recordingName: r.recordingName,
      operatorAnswered: r.operatorAnswered,
      clientAnswered: r.clientAnswered,
      originateDone: r.operatorAnswered,
      recordingStarted: r.clientAnswered,
      mixMonitor: r.clientAnswered,
      since: Date.now(),
    };
    this.calls.set(r.callId, t);
    if (r.op) this.attach(t, 'op', r.op.uniqueid, r.op.name);
    if (r.client) {
      this.attach(t, 'client', r.client.uniqueid, r.client.name);
      t.mixMonitor = true;
    }
  }

  /**
   * After a gap: what Asterisk says now about a call that was followed all along (answers the
   * tracker missed, the legs CoreShowChannels lists). A client known to have answered counts as
   * recorded, as at a live DialEnd ANSWER.
   */
  refresh(callId: number, r: { op?: { uniqueid: string; name: string }; client?: { uniqueid: string; name: string }; operatorAnswered: boolean; clientAnswered: boolean }): void {
    const t = this.calls.get(callId);
    if (!t) return;
    if (r.op && !t.op) this.attach(t, 'op', r.op.uniqueid, r.op.name);
    if (r.client && !t.client) this.attach(t, 'client', r.client.uniqueid, r.client.name);
    // the shipped context starts MixMonitor before it dials the client
    if (t.client) t.mixMonitor = true;
    if (r.operatorAnswered) {
      t.operatorAnswered = true;
      t.originateDone = true;
    }
    if (r.clientAnswered && !t.clientAnswered) {
      t.clientAnswered = true;
      t.mixMonitor = true;
      t.recordingStarted = true;
    }
  }

  forget(callId: number): void {
    const t = this.calls.get(callId);
    if (!t) return;
    this.calls.delete(callId);
    if (t.actionId) this.byActionId.delete(t.actionId);
    if (t.expectedOp) this.expected.delete(t.expectedOp);
    if (t.op) this.byUniqueid.delete(t.op.uniqueid);
    if (t.client) this.byUniqueid.delete(t.client.uniqueid);
  }

  tracked(callId: number): { op?: string; client?: string; originateDone: boolean; since: number } | undefined {
    const t = this.calls.get(callId);
    if (!t) return undefined;
    const op = t.op?.uniqueid ?? t.expectedOp;
    return { ...(op ? { op } : {}), ...(t.client ? { client: t.client.uniqueid } : {}), originateDone: t.originateDone, since: t.since };
  }

  private attach(t: Tracked, leg: 'op' | 'client', uniqueid: string, name: string): void {
    t[leg] = { uniqueid, name, gone: false };
    this.byUniqueid.set(uniqueid, t);
  }

  private emit(t: Tracked, ev: CallEvent, patch?: CallPatch): void {
    this.sink.event(t.callId, ev, patch);
  }

  handle(msg: AmiMessage): void {
    if (this.expected.size > 0) this.sight(msg);
    switch (f(msg, 'event')) {
      case 'VarSet':
        return this.onVarSet(msg);
      case 'DialBegin':
        return this.onDialBegin(msg);
      case 'DialState':
        return this.onDialState(msg);
      case 'DialEnd':
        return this.onDialEnd(msg);
      case 'OriginateResponse':
        return this.onOriginateResponse(msg);
      case 'MixMonitorStart':
        return this.onMixMonitorStart(msg);
      case 'HangupRequest':
      case 'SoftHangupRequest':
        return this.onHangupRequest(msg);
      case 'Hangup':
        return this.onHangup(msg);
      default:
        return;
    }
  }

  /** The first event naming an operator leg asked for by ChannelId: the leg exists. */
  private sight(m: AmiMessage): void {
    for (const [idKey, nameKey] of LEG_FIELDS) {
      const uid = f(m, idKey);
      const t = uid === undefined ? undefined : this.expected.get(uid);
      if (!t || !uid) continue;
      this.expected.delete(uid);
      if (!t.op) this.attach(t, 'op', uid, f(m, nameKey) ?? '');
    }
  }

  private onVarSet(m: AmiMessage): void {
    const variable = f(m, 'variable');
    const uniqueid = f(m, 'uniqueid');
    if (!uniqueid) return;
    if (variable === CALL_ID_VARIABLE) {
      const t = this.calls.get(Number(f(m, 'value')));
      // The DialBegin right after it reports the ringing.
      if (t && !t.op) this.attach(t, 'op', uniqueid, f(m, 'channel') ?? '');
    } else if (variable === 'MIXMONITOR_FILENAME') {
      const t = this.byUniqueid.get(uniqueid);
      if (t) t.recordingFile = f(m, 'value');
    }
  }

  /** The operator leg of a pending Originate: by its VarSet, or else its endpoint (one open call per operator). */
  private operatorLegOf(destUniqueid: string, destChannel: string): Tracked | undefined {
    const known = this.byUniqueid.get(destUniqueid);
    if (known) return known.op?.uniqueid === destUniqueid ? known : undefined;
    for (const t of this.calls.values()) {
      if (!t.op && destChannel.startsWith(`${t.operatorEndpoint}-`)) {
        this.attach(t, 'op', destUniqueid, destChannel);
        return t;
      }
    }
    return undefined;
  }

  private onDialBegin(m: AmiMessage): void {
    const dest = f(m, 'destuniqueid');
    const destName = f(m, 'destchannel') ?? '';
    if (!dest) return;
    const caller = f(m, 'uniqueid');
    if (caller === undefined) {
      const t = this.operatorLegOf(dest, destName);
      if (t) this.emit(t, { type: 'operator_ringing' }, { operatorChannel: dest, linkedid: f(m, 'destlinkedid') ?? dest });
      return;
    }
    const t = this.byUniqueid.get(caller);
    if (t && t.op?.uniqueid === caller && !t.client) {
      this.attach(t, 'client', dest, destName);
      this.emit(t, { type: 'client_dialing' }, { clientChannel: dest });
    }
  }

  private onDialState(m: AmiMessage): void {
    if (f(m, 'uniqueid') !== undefined || f(m, 'dialstatus') !== 'RINGING') return;
    const t = this.byUniqueid.get(f(m, 'destuniqueid') ?? '');
    if (t && t.op?.uniqueid === f(m, 'destuniqueid')) this.emit(t, { type: 'operator_ringing' });
  }

  private onDialEnd(m: AmiMessage): void {
    const status = f(m, 'dialstatus') ?? '';
    const dest = f(m, 'destuniqueid') ?? '';
    const caller = f(m, 'uniqueid');
    const t = this.byUniqueid.get(caller ?? dest);
    if (!t) return;
    if (caller === undefined && t.op?.uniqueid === dest) {
      if (status === 'ANSWER') this.operatorAnswered(t);
      else t.opDialStatus = status;
    } else if (caller === t.op?.uniqueid && dest === t.client?.uniqueid) {
      if (status === 'ANSWER') {
        t.clientAnswered = true;
        this.emit(t, { type: 'client_answered', dialStatus: status });
        this.startRecording(t);
      } else {
        this.emit(t, { type: 'client_failed', outcome: clientOutcome({ dialStatus: status }), dialStatus: status });
      }
    }
  }

  private operatorAnswered(t: Tracked): void {
    if (t.operatorAnswered) return;
    t.operatorAnswered = true;
    this.emit(t, { type: 'operator_answered' });
  }

  private onOriginateResponse(m: AmiMessage): void {
    const actionId = f(m, 'actionid');
    if (!actionId) return;
    const t = this.byActionId.get(actionId);
    if (!t) {
      if (this.early.size > 1000) this.early.clear();
      this.early.set(actionId, m);
      return;
    }
    t.originateDone = true;
    const reason = Number(f(m, 'reason'));
    const uniqueid = f(m, 'uniqueid');
    if (reason === ORIGINATE_ANSWERED) {
      if (!t.op && uniqueid && uniqueid !== '<unknown>') this.attach(t, 'op', uniqueid, f(m, 'channel') ?? '');
      this.operatorAnswered(t);
      return;
    }
    const outcome = operatorOutcome({ originateReason: reason, dialStatus: t.opDialStatus, cause: t.opCause, channelCreated: t.op !== undefined });
    this.emit(t, { type: 'operator_failed', outcome, reason: `OriginateResponse Reason ${reason}`, ...(t.opDialStatus ? { dialStatus: t.opDialStatus } : {}), ...(t.opCause !== undefined ? { cause: t.opCause } : {}) });
    if (!t.op) this.finish(t);
  }

  private onMixMonitorStart(m: AmiMessage): void {
    const t = this.byUniqueid.get(f(m, 'uniqueid') ?? '');
    if (!t) return;
    t.mixMonitor = true;
    if (t.clientAnswered) this.startRecording(t);
  }

  /**
   * A recording counts once the client is bridged (as in ARI mode, where the
   * bridge is recorded on answer): a call the client never answered has none.
   */
  private startRecording(t: Tracked): void {
    if (t.recordingStarted || !t.mixMonitor) return;
    t.recordingStarted = true;
    this.sink.recordingStarted(t.callId, this.recording(t));
  }

  private recording(t: Tracked): RecordingInfo {
    const file = t.recordingFile ?? `${this.recordingsDir.replace(/\/+$/, '')}/${t.recordingName}.wav`;
    return { name: t.recordingName, file, format: file.split('.').pop() ?? 'wav' };
  }

  private onHangupRequest(m: AmiMessage): void {
    const uniqueid = f(m, 'uniqueid') ?? '';
    const t = this.byUniqueid.get(uniqueid);
    if (t && !t.hungUpFirst) t.hungUpFirst = t.op?.uniqueid === uniqueid ? 'op' : 'client';
  }

  private onHangup(m: AmiMessage): void {
    const uniqueid = f(m, 'uniqueid') ?? '';
    const t = this.byUniqueid.get(uniqueid);
    if (!t) return;
    const cause = f(m, 'cause') === undefined ? undefined : Number(f(m, 'cause'));
    const causeText = f(m, 'cause-txt');
    const c = { ...(cause !== undefined && !Number.isNaN(cause) ? { cause } : {}), ...(causeText ? { causeText } : {}) };
    if (t.clientAnswered && t.hungUpFirst && (t.op?.uniqueid === uniqueid || t.client?.uniqueid === uniqueid)) {
      // In conversation: whoever asked to hang up first ended it.
      this.emit(t, { type: t.hungUpFirst === 'op' ? 'operator_hangup' : 'client_hangup', ...c });
      if (t.op?.uniqueid === uniqueid) t.op.gone = true;
      else t.client!.gone = true;
    } else if (t.op?.uniqueid === uniqueid) {
      t.op.gone = true;
      t.opCause = c.cause;
      if (t.operatorAnswered) this.emit(t, { type: 'operator_hangup', ...c });
      else {
        const outcome = operatorOutcome({ cause: c.cause, dialStatus: t.opDialStatus, channelCreated: true });
        this.emit(t, { type: 'operator_failed', outcome, ...c, ...(t.opDialStatus ? { dialStatus: t.opDialStatus } : {}) });
      }
    } else if (t.client?.uniqueid === uniqueid) {
      t.client.gone = true;
      if (t.clientAnswered) this.emit(t, { type: 'client_hangup', ...c });
      else this.emit(t, { type: 'client_failed', outcome: clientOutcome({ cause: c.cause }), ...c });
    }
    if (t.op?.gone && (!t.client || t.client.gone)) this.finish(t);
  }

  private finish(t: Tracked): void {
    if (t.recordingStarted) this.sink.recordingFinished(t.callId, this.recording(t));
    this.forget(t.callId);
  }
}
