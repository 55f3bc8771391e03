/**
 * Click-to-call through the ARI Stasis app: originate the operator into the
 * app; on StasisStart create a mixing bridge, put the operator in it with a
 * ringback tone, originate the client into the app; when the client's channel
 * enters the app, bridge it and record the bridge. When either side's channel
 * is destroyed, hang up the other and destroy the bridge.
 *
 * Reading what happens follows the recorded ARI traces (B1–B8): an offline
 * operator makes POST /channels itself fail (500 "Allocation failed"); no
 * answer is only ChannelDestroyed cause 19; busy is Dial BUSY + cause 17.
 * ChannelHangupRequest's cause 32 after a DELETE is the soft-hangup flag, so
 * only ChannelDestroyed's cause is used.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { CallEvent } from './chain.js';
import { clientOutcome, operatorOutcome } from './causes.js';
import type { CallSink, CallStart, OpenCall } from './controller.js';
import type { CallPatch } from './store.js';

/** What the flow needs from the ARI adapter. */
export interface AriOps {
  originate(p: { endpoint: string; appArgs?: string[]; callerId?: string; timeout?: number; variables?: Record<string, string>; channelId?: string; originator?: string }): Promise<{ id: string; name?: string }>;
  hangup(channelId: string, reason?: string): Promise<boolean>;
  createBridge(p: { type?: string; name?: string; bridgeId?: string }): Promise<{ id: string }>;
  addChannel(bridgeId: string, channelId: string): Promise<void>;
  destroyBridge(bridgeId: string): Promise<boolean>;
  playOnBridge(bridgeId: string, media: string): Promise<{ id: string }>;
  stopPlayback(playbackId: string): Promise<boolean>;
  recordBridge(bridgeId: string, p: { name: string; format: string; ifExists?: string; beep?: boolean }): Promise<unknown>;
  listChannels(): Promise<Array<{ id: string; state?: string }>>;
}

type AriEvent = { type: string; [k: string]: unknown };

/** How long to wait for RecordingFinished after the bridge is destroyed. */
const RECORDING_END_GRACE_MS = 5000;
type Chan = { id: string; name?: string; state?: string };

interface Call {
  start: CallStart;
  op?: string;
  client?: string;
  bridge?: string;
  playback?: string;
  opDialStatus?: string;
  clientDialStatus?: string;
  operatorAnswered: boolean;
  clientAnswered: boolean;
  opGone: boolean;
  clientGone: boolean;
  recording: boolean;
  ended: boolean;
  /** an originate request is in flight: Asterisk may not list the channel yet */
  originating: boolean;
}

const isAllocationFailure = (err: unknown): boolean => {
  const e = err as { status?: number; body?: { error?: string } };
  return e.status === 500 || e.status === 404 || /allocation failed/i.test(String(e.body?.error ?? ''));
};

export class AriCallFlow {
  private readonly calls = new Map<number, Call>();
  private readonly byChannel = new Map<string, { call: Call; leg: 'op' | 'client' }>();
  private readonly byRecording = new Map<string, Call>();

  constructor(
    private readonly ops: AriOps,
    private readonly sink: CallSink,
    private readonly recordingsDir: string,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.calls.size;
  }

  private emit(c: Call, ev: CallEvent, patch?: CallPatch): void {
    this.sink.event(c.start.callId, ev, patch);
  }

  private channelId(callId: number, leg: string): string {
    return `cb-${callId}-${leg}-${randomBytes(4).toString('hex')}`;
  }

  async start(s: CallStart): Promise<void> {
    const c: Call = { start: s, operatorAnswered: false, clientAnswered: false, opGone: false, clientGone: false, recording: false, ended: false, originating: true };
    this.calls.set(s.callId, c);
    this.byRecording.set(s.recordingName, c);
    const wanted = this.channelId(s.callId, 'op');
    this.byChannel.set(wanted, { call: c, leg: 'op' });
    c.op = wanted;
    let ch: { id: string };
    try {
      ch = await this.ops.originate({
        endpoint: s.operatorEndpoint,
        appArgs: ['operator', String(s.callId)],
        callerId: s.operatorCallerId,
        timeout: s.operatorTimeoutSec,
        variables: { CALLBRIDGE_CALL_ID: String(s.callId), CALLBRIDGE_ORDER_ID: s.orderId },
        channelId: wanted,
      });
    } catch (err) {
      c.originating = false;
      this.byChannel.delete(wanted);
      c.opGone = true;
      const offline = isAllocationFailure(err);
      this.emit(c, { type: 'operator_failed', outcome: offline ? 'offline' : 'error', reason: (err as Error).message });
      this.forget(c);
      return;
    }
    c.originating = false;
    if (ch.id !== wanted) {
      this.byChannel.delete(wanted);
      this.byChannel.set(ch.id, { call: c, leg: 'op' });
      c.op = ch.id;
    }
    this.sink.event(s.callId, { type: 'operator_ringing' }, { operatorChannel: ch.id, linkedid: ch.id });
  }

  /** One websocket event; unrelated events are ignored. */
  handle(ev: AriEvent): void {
    switch (ev.type) {
      case 'Dial':
        return this.onDial(ev);
      case 'StasisStart':
        return void this.onStasisStart(ev).catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'ARI call setup failed'));
      case 'ChannelDestroyed':
        return this.onDestroyed(ev);
      case 'RecordingFinished':
      case 'RecordingFailed':
        return this.onRecordingEnd(ev);
      default:
        return;
    }
  }

  private onDial(ev: AriEvent): void {
    const peer = ev.peer as Chan | undefined;
    const hit = peer ? this.byChannel.get(peer.id) : undefined;
    if (!hit) return;
    const status = String(ev.dialstatus ?? '');
    if (hit.leg === 'op') {
      if (status === '' || status === 'RINGING' || status === 'PROGRESS') this.emit(hit.call, { type: 'operator_ringing' });
      else if (status !== 'ANSWER') hit.call.opDialStatus = status;
    } else if (status !== '' && status !== 'RINGING' && status !== 'PROGRESS' && status !== 'ANSWER') {
      hit.call.clientDialStatus = status;
    }
  }

  private async onStasisStart(ev: AriEvent): Promise<void> {
    const ch = ev.channel as Chan;
    const hit = this.byChannel.get(ch.id);
    if (!hit) return;
    const c = hit.call;
    if (hit.leg === 'op') {
      c.operatorAnswered = true;
      this.emit(c, { type: 'operator_answered' });
      await this.dialClient(c);
    } else {
      // Reported before the REST round trips: a client who hangs up right away must still read as answered.
      c.clientAnswered = true;
      this.emit(c, { type: 'client_answered' });
      if (c.playback) void this.ops.stopPlayback(c.playback).catch(() => undefined);
      if (c.bridge) await Promise.all([this.ops.addChannel(c.bridge, ch.id), this.record(c)]);
    }
  }

  private async dialClient(c: Call): Promise<void> {
    const s = c.start;
    const bridge = await this.ops.createBridge({ type: 'mixing', name: s.recordingName, bridgeId: `cb-${s.callId}-bridge-${randomBytes(4).toString('hex')}` });
    c.bridge = bridge.id;
    if (c.opGone) return this.cleanup(c);
    await this.ops.addChannel(bridge.id, c.op!);
    try {
      c.playback = (await this.ops.playOnBridge(bridge.id, 'tone:ring')).id;
    } catch (err) {
      this.log.warn({ call_id: s.callId, err: (err as Error).message }, 'no ringback for the operator');
    }
    if (c.opGone) return this.cleanup(c);
    const wanted = this.channelId(s.callId, 'client');
    this.byChannel.set(wanted, { call: c, leg: 'client' });
    c.client = wanted;
    this.emit(c, { type: 'client_dialing' }, { clientChannel: wanted, bridgeId: bridge.id });
    c.originating = true;
    try {
      const ch = await this.ops.originate({
        endpoint: s.clientEndpoint,
        appArgs: ['client', String(s.callId)],
        timeout: s.clientTimeoutSec,
        variables: { CALLBRIDGE_CALL_ID: String(s.callId), CALLBRIDGE_ORDER_ID: s.orderId },
        channelId: wanted,
        originator: c.op!,
      });
      c.originating = false;
      if (ch.id !== wanted) {
        this.byChannel.delete(wanted);
        this.byChannel.set(ch.id, { call: c, leg: 'client' });
        c.client = ch.id;
        this.sink.event(s.callId, { type: 'client_dialing' }, { clientChannel: ch.id });
      }
    } catch (err) {
      c.originating = false;
      this.byChannel.delete(wanted);
      c.clientGone = true;
      this.emit(c, { type: 'client_failed', outcome: 'error', dialStatus: 'CHANUNAVAIL', reason: (err as Error).message });
      this.cleanup(c);
    }
  }

  private async record(c: Call): Promise<void> {
    const s = c.start;
    try {
      await this.ops.recordBridge(c.bridge!, { name: s.recordingName, format: 'wav', ifExists: 'overwrite', beep: false });
      c.recording = true;
      this.sink.recordingStarted(s.callId, { name: s.recordingName, file: this.fileOf(s.recordingName, 'wav'), format: 'wav' });
      if (c.ended) setTimeout(() => this.finishRecording(c), RECORDING_END_GRACE_MS).unref();
    } catch (err) {
      this.log.error({ call_id: s.callId, err: (err as Error).message }, 'recording could not start');
    }
  }

  private fileOf(name: string, format: string): string {
    return `${this.recordingsDir.replace(/\/+$/, '')}/${name}.${format}`;
  }

  private onDestroyed(ev: AriEvent): void {
    const ch = ev.channel as Chan;
    const hit = this.byChannel.get(ch.id);
    if (!hit) return;
    const c = hit.call;
    this.byChannel.delete(ch.id);
    const cause = typeof ev.cause === 'number' ? ev.cause : undefined;
    const causeInfo = { ...(cause !== undefined ? { cause } : {}), ...(typeof ev.cause_txt === 'string' ? { causeText: ev.cause_txt } : {}) };
    if (hit.leg === 'op') {
      c.opGone = true;
      if (c.operatorAnswered) this.emit(c, { type: 'operator_hangup', ...causeInfo });
      else {
        const outcome = operatorOutcome({ cause, dialStatus: c.opDialStatus, channelCreated: true });
        this.emit(c, { type: 'operator_failed', outcome, ...causeInfo, ...(c.opDialStatus ? { dialStatus: c.opDialStatus } : {}) });
      }
    } else {
      c.clientGone = true;
      if (c.clientAnswered) this.emit(c, { type: 'client_hangup', ...causeInfo });
      else {
        const outcome = clientOutcome({ cause, dialStatus: c.clientDialStatus });
        this.emit(c, { type: 'client_failed', outcome, ...causeInfo, ...(c.clientDialStatus ? { dialStatus: c.clientDialStatus } : {}) });
      }
    }
    this.cleanup(c);
  }

  /** Ends what is left of a call once one side is gone. */
  private cleanup(c: Call): void {
    if (!c.opGone && c.op) void this.ops.hangup(c.op).catch(() => false);
    if (!c.clientGone && c.client) void this.ops.hangup(c.client).catch(() => false);
    if (c.bridge && !c.ended) {
      c.ended = true;
      void this.ops.destroyBridge(c.bridge).catch(() => false);
      // Asterisk sends RecordingFinished when the bridge goes; should it not come, the file is taken as it is.
      const t = setTimeout(() => this.finishRecording(c), RECORDING_END_GRACE_MS);
      t.unref();
    }
    if ((c.opGone || !c.op) && (c.clientGone || !c.client) && !c.recording) this.forget(c);
  }

  private finishRecording(c: Call, duration?: number, format = 'wav'): void {
    if (!c.recording) return;
    c.recording = false;
    const name = c.start.recordingName;
    this.sink.recordingFinished(c.start.callId, { name, file: this.fileOf(name, format), format, ...(duration !== undefined ? { duration } : {}) });
    if (c.opGone && (c.clientGone || !c.client)) this.forget(c);
  }

  private onRecordingEnd(ev: AriEvent): void {
    const rec = ev.recording as { name?: string; format?: string; duration?: number } | undefined;
    const c = rec?.name ? this.byRecording.get(rec.name) : undefined;
    if (!c || !rec?.name) return;
    this.finishRecording(c, typeof rec.duration === 'number' ? rec.duration : undefined, rec.format ?? 'wav');
  }

  private forget(c: Call): void {
    this.calls.delete(c.start.callId);
    this.byRecording.delete(c.start.recordingName);
    for (const id of [c.op, c.client]) if (id && this.byChannel.get(id)?.call === c) this.byChannel.delete(id);
  }

  /**
   * Compares open calls with the channels Asterisk still has: calls whose
   * channels are all gone get their final status (FINISH if they were in
   * talk, ERROR otherwise); a call with one side gone has the other hung up.
   */
  async reconcile(open: readonly OpenCall[]): Promise<void> {
    const alive = new Set((await this.ops.listChannels()).map((ch) => ch.id));
    // Channel ids are ours (cb-<call>-<leg>-…), so a leg is found even when its id never reached the database.
    const ours = (callId: number, leg: string) => [...alive].find((id) => id.startsWith(`cb-${callId}-${leg}-`));
    for (const o of open) {
      let c = this.calls.get(o.callId);
      if (c?.originating) continue;
      const opId = o.operatorChannel ?? c?.op ?? ours(o.callId, 'op') ?? null;
      const clientId = o.clientChannel ?? c?.client ?? ours(o.callId, 'client') ?? null;
      const opAlive = opId !== null && alive.has(opId);
      const clientAlive = clientId !== null && alive.has(clientId);
      if (!c && (opAlive || clientAlive)) {
        c = {
          start: o.start,
          op: opId ?? undefined,
          client: clientId ?? undefined,
          bridge: o.bridgeId ?? undefined,
          operatorAnswered: ['OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP'].includes(o.status),
          clientAnswered: o.status === 'CLIENT_PICKUP',
          opGone: !opAlive,
          clientGone: !clientAlive,
          recording: o.status === 'CLIENT_PICKUP',
          ended: false,
          originating: false,
        };
        this.calls.set(o.callId, c);
        this.byRecording.set(o.recordingName, c);
        if (opAlive) this.byChannel.set(opId!, { call: c, leg: 'op' });
        if (clientAlive) this.byChannel.set(clientId!, { call: c, leg: 'client' });
      }
      if (opAlive || clientAlive) {
        if (c && (!opAlive || (!clientAlive && c.clientAnswered))) {
          const gone: CallEvent = !opAlive ? { type: 'operator_hangup', reason: 'channel gone while the link was down' } : { type: 'client_hangup', reason: 'channel gone while the link was down' };
          this.emit(c, gone);
          c.opGone ||= !opAlive;
          c.clientGone ||= !clientAlive;
          this.cleanup(c);
        }
        continue;
      }
      // Nothing of the call is left on the PBX.
      this.sink.event(o.callId, { type: 'lost', reason: 'the call\'s channels are gone from Asterisk' });
      if (c?.recording || o.status === 'CLIENT_PICKUP') {
        this.sink.recordingFinished(o.callId, { name: o.recordingName, file: this.fileOf(o.recordingName, 'wav'), format: 'wav' });
      }
      if (c) {
        c.opGone = c.clientGone = true;
        c.recording = false;
        this.cleanup(c);
        this.forget(c);
      }
    }
  }
}
