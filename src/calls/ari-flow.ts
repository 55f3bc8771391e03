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
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { CallEvent } from './chain.js';
import { clientOutcome, operatorOutcome } from './causes.js';
import { HANGUP_HANDLER_VARIABLE, LEG_HANGUP_CONTEXT, ownChannelId, type CallSink, type CallStart, type OpenCall } from './controller.js';
import type { CallPatch } from './store.js';

/** 8 random hex digits (randomUUID draws from a cached pool of random bytes; randomBytes calls into OpenSSL every time). */
const random8 = (): string => randomUUID().slice(0, 8);

/** What the flow needs from the ARI adapter. */
export interface AriOps {
  originate(p: { endpoint: string; appArgs?: string[]; callerId?: string; timeout?: number; variables?: Record<string, string>; channelId?: string; originator?: string; dialplan?: { context: string; extension: string; priority?: number } }): Promise<{ id: string; name?: string }>;
  hangup(channelId: string, reason?: string): Promise<boolean>;
  createBridge(p: { type?: string; name?: string; bridgeId?: string }): Promise<{ id: string }>;
  addChannel(bridgeId: string, channelId: string): Promise<void>;
  destroyBridge(bridgeId: string): Promise<boolean>;
  playOnBridge(bridgeId: string, media: string): Promise<{ id: string }>;
  stopPlayback(playbackId: string): Promise<boolean>;
  recordBridge(bridgeId: string, p: { name: string; format: string; ifExists?: string; beep?: boolean }): Promise<unknown>;
  /** stops a live recording (its file is then complete); false when it was not recording */
  stopRecording?(name: string): Promise<boolean>;
  listChannels(): Promise<Array<{ id: string; state?: string; dialplan?: { app_name?: string } }>>;
  listBridges?(): Promise<Array<{ id: string; channels?: string[] }>>;
}

/** What another link saw of a channel while the websocket was down (see ari-witness.ts). */
export interface LegFacts {
  answeredAt?: number;
  dialStatus?: string;
  hangupAt?: number;
  cause?: number;
  causeText?: string;
}

type AriEvent = { type: string; [k: string]: unknown };

const HANGUP_TRIES = 15;
const HANGUP_RETRY_MS = 2000;
/** How long a reconciliation waits for the AMI link to come back and read a gone leg's facts before it ends the call without them. */
const FACTS_WAIT_MS = 120_000;

/** How long to wait for RecordingFinished after the bridge is destroyed. */
const RECORDING_END_GRACE_MS = 5000;
/** How often the PBX is asked to stop a recording whose end was not seen, before its file is taken as it is. */
const RECORDING_STOP_TRIES = 12;
/** After a stop, the time the recorder takes to close its file. */
const RECORDING_CLOSE_MS = 300;
/** How long the bridge is kept after its recording was stopped, for RecordingFinished to come first. */
const RECORDING_STOP_WAIT_MS = 2000;
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
  /** the client is being (or was) dialled: a late StasisStart must not dial it twice */
  dialStarted?: boolean;
  /** the client's channel is in the operator's bridge */
  clientBridged?: boolean;
  /** a join of the client (bridge + recording) is in flight */
  joining?: boolean;
  /** the client was dialled again after its first originate was lost with the link */
  redialed?: boolean;
  /** the operator's originate got no answer (the link went): whether it made a channel is for the PBX to say */
  opUnanswered?: boolean;
  /** the operator was rung again after the first originate was lost with the link */
  opRedialed?: boolean;
  /** when the operator's originate was sent */
  opOriginatedAt?: number;
  /** the call is over: its channels were asked to hang up and its bridge to go */
  cleaned?: boolean;
  /** since when the reconciliation waits for the AMI link to read what the PBX kept of a leg gone unseen */
  factsAwaitedSince?: number;
}

/** A REST request that never got an HTTP answer (the link is down): what it did on the PBX is unknown. */
const unanswered = (err: unknown): boolean => typeof (err as { status?: unknown }).status !== 'number';

const isAllocationFailure = (err: unknown): boolean => {
  const e = err as { status?: number; body?: { error?: string } };
  return e.status === 500 || e.status === 404 || /allocation failed/i.test(String(e.body?.error ?? ''));
};

export class AriCallFlow {
  private readonly calls = new Map<number, Call>();
  private readonly byChannel = new Map<string, { call: Call; leg: 'op' | 'client' }>();
  private readonly byRecording = new Map<string, Call>();
  /** bridges waiting for their recording to finish before they are destroyed */
  private readonly closing = new Map<Call, () => void>();

  constructor(
    private readonly ops: AriOps,
    private readonly sink: CallSink,
    private readonly recordingsDir: string,
    private readonly log: Logger,
    /** what the AMI link saw of a channel while the websocket was down */
    private readonly witness: (channelId: string | undefined) => LegFacts | undefined = () => undefined,
    /** what the PBX kept of the call's legs (AstDB, written by the shipped hangup handler) */
    private readonly pbxFacts?: (callId: number) => Promise<{ op?: LegFacts; client?: LegFacts } | undefined>,
    /** push the shipped hangup handler on the legs (needs [callbridge-ari-hangup] loaded) */
    private readonly hangupFacts = pbxFacts !== undefined,
    /**
     * The shipped context legs are originated into ([callbridge-ari]: it enters the app, and waits
     * while the app has no websocket instead of losing the answered leg), with the app's name;
     * undefined: straight into the app.
     */
    private readonly entry?: { context: string; app: string },
  ) {}

  /** Where an originated leg goes once answered: the shipped context, or straight into the app. */
  private target(s: CallStart, leg: 'operator' | 'client'): { appArgs: string[] } | { dialplan: { context: string; extension: string; priority: number } } {
    return this.entry ? { dialplan: { context: this.entry.context, extension: 's', priority: 1 } } : { appArgs: [leg, String(s.callId)] };
  }

  get size(): number {
    return this.calls.size;
  }

  private emit(c: Call, ev: CallEvent, patch?: CallPatch): void {
    this.sink.event(c.start.callId, ev, patch);
  }

  async start(s: CallStart): Promise<void> {
    const c: Call = { start: s, operatorAnswered: false, clientAnswered: false, opGone: false, clientGone: false, recording: false, ended: false, originating: true };
    this.calls.set(s.callId, c);
    this.byRecording.set(s.recordingName, c);
    await this.originateOperator(c);
  }

  /** Originates the operator's leg (into [callbridge-ari] or the app). */
  private async originateOperator(c: Call): Promise<void> {
    const s = c.start;
    c.originating = true;
    c.opOriginatedAt = Date.now();
    const wanted = ownChannelId(s.callId, 'op');
    this.byChannel.set(wanted, { call: c, leg: 'op' });
    c.op = wanted;
    let ch: { id: string };
    try {
      ch = await this.ops.originate({
        endpoint: s.operatorEndpoint,
        ...this.target(s, 'operator'),
        callerId: s.operatorCallerId,
        timeout: s.operatorTimeoutSec,
        variables: this.variables(s, 'op', 'operator'),
        channelId: wanted,
      });
    } catch (err) {
      c.originating = false;
      if (unanswered(err)) {
        // No answer at all (the link went): the PBX may have made the channel, rung the phone, even
        // ended it. The reconciliation after the link is back finds out from the PBX.
        this.log.warn({ call_id: s.callId, channel: wanted, err: (err as Error).message }, "the operator's originate got no answer: the PBX is asked once the link is back");
        c.opUnanswered = true;
        this.sink.keep(s.callId, { operatorChannel: wanted, linkedid: wanted });
        return;
      }
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

  /**
   * The channel variables of a leg: the call's ids, and the shipped hangup handler
   * ([callbridge-ari-hangup]) that keeps in AstDB how the leg ended, should the
   * daemon be down then.
   */
  private variables(s: CallStart, leg: 'op' | 'client', stasisLeg: 'operator' | 'client'): Record<string, string> {
    return {
      CALLBRIDGE_CALL_ID: String(s.callId),
      CALLBRIDGE_ORDER_ID: s.orderId,
      ...(this.entry ? { CALLBRIDGE_ARI_APP: this.entry.app, CALLBRIDGE_LEG: stasisLeg } : {}),
      ...(this.hangupFacts ? { [HANGUP_HANDLER_VARIABLE]: `${LEG_HANGUP_CONTEXT},s,1(${s.callId},${leg})` } : {}),
    };
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
    // a leg that answered while the app had no websocket waited in [callbridge-ari]: it answered when the AMI link saw it
    const answeredAt = this.witness(ch.id)?.answeredAt;
    if (hit.leg === 'op') {
      c.operatorAnswered = true;
      this.sink.event(c.start.callId, { type: 'operator_answered' }, {}, answeredAt);
      await this.dialClient(c);
    } else {
      // Reported before the REST round trips: a client who hangs up right away must still read as answered.
      c.clientAnswered = true;
      this.sink.event(c.start.callId, { type: 'client_answered' }, {}, answeredAt);
      await this.joinClient(c, ch.id);
    }
  }

  /**
   * The client answered and is in the app: into the operator's bridge, and the bridge recorded.
   * What fails (the link went down meanwhile) is done again at the next reconciliation.
   */
  private async joinClient(c: Call, channelId: string): Promise<void> {
    if (c.joining || !c.bridge || (c.clientBridged && c.recording)) return;
    c.joining = true;
    try {
      if (c.playback) void this.ops.stopPlayback(c.playback).catch(() => undefined);
      const bridge = c.bridge;
      await Promise.all([
        c.clientBridged ? undefined : this.ops.addChannel(bridge, channelId).then(() => { c.clientBridged = true; }),
        c.recording ? undefined : this.record(c),
      ]);
    } finally {
      c.joining = false;
    }
  }

  private async dialClient(c: Call): Promise<void> {
    if (c.dialStarted) return;
    c.dialStarted = true;
    const s = c.start;
    let bridge: { id: string };
    try {
      // a bridge made before a link gap is reused: the operator may already be in it
      bridge = c.bridge ? { id: c.bridge } : await this.ops.createBridge({ type: 'mixing', name: s.recordingName, bridgeId: `cb-${s.callId}-bridge-${random8()}` });
      c.bridge = bridge.id;
      if (c.opGone) return this.cleanup(c);
      await this.ops.addChannel(bridge.id, c.op!);
    } catch (err) {
      // the next reconciliation (after the link is back) tries again
      c.dialStarted = false;
      throw err;
    }
    try {
      c.playback = (await this.ops.playOnBridge(bridge.id, 'tone:ring')).id;
    } catch (err) {
      this.log.warn({ call_id: s.callId, err: (err as Error).message }, 'no ringback for the operator');
    }
    if (c.opGone) return this.cleanup(c);
    await this.originateClient(c, bridge.id);
  }

  /** Originates the client's leg (into [callbridge-ari] or the app), the operator already in the bridge. */
  private async originateClient(c: Call, bridgeId: string): Promise<void> {
    const s = c.start;
    const wanted = ownChannelId(s.callId, 'client');
    this.byChannel.set(wanted, { call: c, leg: 'client' });
    c.client = wanted;
    this.emit(c, { type: 'client_dialing' }, { clientChannel: wanted, bridgeId });
    c.originating = true;
    try {
      const ch = await this.ops.originate({
        endpoint: s.clientEndpoint,
        ...this.target(s, 'client'),
        timeout: s.clientTimeoutSec,
        variables: this.variables(s, 'client', 'client'),
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
      // no answer at all: the channel may exist; the reconciliation after the link is back finds out
      if (unanswered(err)) return;
      this.byChannel.delete(wanted);
      c.clientGone = true;
      this.emit(c, { type: 'client_failed', outcome: 'error', dialStatus: 'CHANUNAVAIL', reason: (err as Error).message });
      this.cleanup(c);
    }
  }

  private async record(c: Call): Promise<void> {
    const s = c.start;
    try {
      try {
        await this.ops.recordBridge(c.bridge!, { name: s.recordingName, format: 'wav', ifExists: 'fail', beep: false });
      } catch (err) {
        // A request lost with the link may have started it: a second one finds it recording (409) or its file there (422).
        const status = (err as { status?: number }).status;
        if (status !== 409 && status !== 422) throw err;
        this.log.info({ call_id: s.callId, status }, 'the recording was already started');
      }
      c.recording = true;
      this.sink.recordingStarted(s.callId, { name: s.recordingName, file: this.fileOf(s.recordingName, 'wav'), format: 'wav' });
      if (c.ended) setTimeout(() => this.finishWhenStopped(c, 0), RECORDING_END_GRACE_MS).unref();
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
    c.cleaned = true;
    if (!c.opGone && c.op) this.hangupLeg(c.op, 0);
    if (!c.clientGone && c.client) this.hangupLeg(c.client, 0);
    if (c.bridge && !c.ended) {
      c.ended = true;
      const bridge = c.bridge;
      const destroy = () => {
        this.closing.delete(c);
        void this.ops.destroyBridge(bridge).catch(() => false);
      };
      if (c.recording && this.ops.stopRecording) {
        // Stopped first, the recording finishes (RecordingFinished) while its bridge still exists;
        // destroyed first, Asterisk sometimes never reports it.
        const wait = setTimeout(destroy, RECORDING_STOP_WAIT_MS);
        wait.unref();
        this.closing.set(c, () => {
          clearTimeout(wait);
          destroy();
        });
        void this.ops.stopRecording(c.start.recordingName).then(
          (stopped) => {
            if (!stopped) this.closing.get(c)?.();
          },
          () => this.closing.get(c)?.(),
        );
      } else destroy();
      // should RecordingFinished not come at all, the file is taken once the PBX no longer records it
      const t = setTimeout(() => this.finishWhenStopped(c, 0), RECORDING_END_GRACE_MS);
      t.unref();
    }
    if ((c.opGone || !c.op) && (c.clientGone || !c.client) && !c.recording) this.forget(c);
  }

  /** Hangs up a leg of a call that is over; a request the link lost is sent again (every 2 s, 15 times at most). */
  private hangupLeg(id: string, tries: number): void {
    this.ops.hangup(id).catch(() => {
      if (tries + 1 >= HANGUP_TRIES) {
        this.log.warn({ channel: id }, 'could not hang up a channel of a call that is over: left to the next reconciliation');
        return;
      }
      const t = setTimeout(() => this.hangupLeg(id, tries + 1), HANGUP_RETRY_MS);
      t.unref();
    });
  }

  /**
   * No RecordingFinished came (lost with the link, or the stop was refused): the PBX is asked to
   * stop the recording (answered true: it was still recording and its file is now complete; false:
   * it was not recording any more), and only then is the file measured. While ARI does not answer,
   * asked again every RECORDING_END_GRACE_MS, RECORDING_STOP_TRIES times at most; then the file is
   * taken as it is, and that is logged.
   */
  private finishWhenStopped(c: Call, tries: number): void {
    if (!c.recording) return;
    if (!this.ops.stopRecording) return this.finishRecording(c);
    const name = c.start.recordingName;
    this.ops.stopRecording(name).then(
      () => {
        // the recorder closes its file just after the stop
        const t = setTimeout(() => this.finishRecording(c), RECORDING_CLOSE_MS);
        t.unref();
      },
      (err: unknown) => {
        if (tries + 1 >= RECORDING_STOP_TRIES) {
          this.log.warn({ call_id: c.start.callId, recording: name, err: (err as Error).message }, 'the PBX could not be asked to stop the recording: its file is taken as it is');
          this.finishRecording(c);
          return;
        }
        const t = setTimeout(() => this.finishWhenStopped(c, tries + 1), RECORDING_END_GRACE_MS);
        t.unref();
      },
    );
  }

  /** The recording is over: its row gets the file's size and duration (measured from the file, as in AMI mode). */
  private finishRecording(c: Call, format = 'wav'): void {
    if (!c.recording) return;
    c.recording = false;
    this.closing.get(c)?.();
    const name = c.start.recordingName;
    this.sink.recordingFinished(c.start.callId, { name, file: this.fileOf(name, format), format });
    if (c.opGone && (c.clientGone || !c.client)) this.forget(c);
  }

  private onRecordingEnd(ev: AriEvent): void {
    const rec = ev.recording as { name?: string; format?: string } | undefined;
    const c = rec?.name ? this.byRecording.get(rec.name) : undefined;
    if (!c || !rec?.name) return;
    this.finishRecording(c, rec.format ?? 'wav');
  }

  private forget(c: Call): void {
    this.calls.delete(c.start.callId);
    this.byRecording.delete(c.start.recordingName);
    for (const id of [c.op, c.client]) if (id && this.byChannel.get(id)?.call === c) this.byChannel.delete(id);
  }

  /**
   * After a (re)connect or at start: each open call against what Asterisk
   * says now (GET /channels) and what the AMI link saw meanwhile (the
   * witness), since neither link replays what it missed (F1, F2).
   * - What the gap hid is reported at the time it happened: an answer, a
   *   hangup with its cause. A channel that answered while the app had no
   *   websocket was hung up by Asterisk at once (F1): the call ends ERROR,
   *   saying so.
   * - A call in conversation stays in conversation (its recording tracked).
   * - A channel left alone (F2: the operator Up in the bridge after the
   *   client hung up) is hung up, with the reason logged.
   * - A call none of whose channels is left ends with what is known of it;
   *   ERROR ("channels gone") only when nothing is.
   */
  async reconcile(open: readonly OpenCall[]): Promise<void> {
    const channels = new Map((await this.ops.listChannels()).map((ch) => [ch.id, ch] as const));
    // Channel ids are ours (cb-<call>-<leg>-…), so a leg is found even when its id never reached the database.
    const ours = (callId: number, leg: string) => [...channels.keys()].find((id) => id.startsWith(`cb-${callId}-${leg}-`));
    for (const o of open) {
      let c = this.calls.get(o.callId);
      if (c?.originating) continue;
      const opId = o.operatorChannel ?? c?.op ?? ours(o.callId, 'op') ?? null;
      const clientId = o.clientChannel ?? c?.client ?? ours(o.callId, 'client') ?? null;
      const opCh = opId !== null ? channels.get(opId) : undefined;
      const clientCh = clientId !== null ? channels.get(clientId) : undefined;
      if (!c) {
        c = {
          start: o.start,
          op: opId ?? undefined,
          client: clientId ?? undefined,
          bridge: o.bridgeId ?? undefined,
          operatorAnswered: ['OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP'].includes(o.status),
          clientAnswered: o.status === 'CLIENT_PICKUP',
          opGone: !opCh,
          clientGone: !clientCh,
          recording: o.status === 'CLIENT_PICKUP',
          ended: false,
          originating: false,
          dialStarted: clientId !== null || ['CLIENT_CALLTO', 'CLIENT_PICKUP'].includes(o.status),
          clientBridged: o.status === 'CLIENT_PICKUP',
        };
        this.calls.set(o.callId, c);
        this.byRecording.set(o.recordingName, c);
      }
      if (opCh && opId) this.byChannel.set(opId, { call: c, leg: 'op' });
      if (clientCh && clientId) this.byChannel.set(clientId, { call: c, leg: 'client' });
      // a leg gone unseen by the AMI link too (the daemon was down): what the PBX kept of it
      let kept: { op?: LegFacts; client?: LegFacts } | undefined;
      if (this.pbxFacts && ((!opCh && opId && !this.witness(opId)?.hangupAt) || (!clientCh && clientId && !this.witness(clientId)?.hangupAt))) {
        kept = await this.pbxFacts(o.callId).catch(() => undefined);
        if (kept === undefined) {
          // The facts could not be asked for (the AMI link is down too): the verdict waits for its
          // reconnect, which reconciles again, rather than guessing; for two minutes at most.
          c.factsAwaitedSince ??= Date.now();
          if (Date.now() - c.factsAwaitedSince < FACTS_WAIT_MS) {
            this.log.info({ call_id: o.callId }, "a leg is gone unseen and the AMI link is down: waiting for it to read what the PBX kept");
            continue;
          }
        }
      }
      const inApp = (ch: typeof opCh) => !ch?.dialplan?.app_name || ch.dialplan.app_name === 'Stasis';
      // a leg answered but still waiting in [callbridge-ari] for the app: its StasisStart is to come
      const opState = opCh && !inApp(opCh) ? 'Waiting' : opCh?.state;
      const clientState = clientCh && !inApp(clientCh) ? 'Waiting' : clientCh?.state;
      const ended = this.catchUp(c, opId, clientId, !!opCh, !!clientCh, opState, clientState, kept);
      // a leg dialled again (its originate was lost with the link): the call goes on from there
      if (c.originating) continue;
      if (opCh || clientCh) {
        const alone = ended || (!opCh && c.operatorAnswered) || (!clientCh && c.clientAnswered);
        if (alone) {
          this.log.warn({ call_id: o.callId, channel: opCh ? opId : clientId }, 'hanging up a channel left alone after the link gap');
          c.opGone ||= !opCh;
          c.clientGone ||= !clientCh;
          this.cleanup(c);
        }
        continue;
      }
      c.opGone = c.clientGone = true;
      if (!ended) {
        // Nothing of the call is left on the PBX, and nothing saw how it ended.
        this.sink.event(o.callId, { type: 'lost', reason: "the call's channels are gone from Asterisk and no link saw how it ended" });
      }
      // the bridge (the app's own) and its recording outlive the channels: stopped, then the row is finished
      if (o.status === 'CLIENT_PICKUP') c.recording = true;
      this.cleanup(c);
    }
    await this.sweepChannels(open, [...channels.keys()]);
    await this.sweepBridges(open);
  }

  /**
   * A channel of the daemon's own (cb-<call>-<leg>-…) whose call is over is left on the PBX: its
   * hangup was lost with the link, or the call ended while the daemon was away. It is hung up, so
   * nobody stays in dead air (a call still being set up is never touched: it is open or in memory).
   */
  private async sweepChannels(open: readonly OpenCall[], ids: readonly string[]): Promise<void> {
    const openIds = new Set(open.map((o) => o.callId));
    for (const id of ids) {
      const m = /^cb-(\d+)-(?:op|client)-/.exec(id);
      if (!m) continue;
      const callId = Number(m[1]);
      const c = this.calls.get(callId);
      if (openIds.has(callId) || (c && !c.cleaned)) continue;
      this.log.warn({ call_id: callId, channel: id }, 'hanging up a channel of a call that is over, left on the PBX');
      await this.ops.hangup(id).catch(() => false);
    }
  }

  /**
   * The app's bridges outlive their channels: one of the daemon's own (cb-<call>-bridge-…) that no
   * open call holds is left from a call that ended while the daemon was away, and is destroyed.
   */
  private async sweepBridges(open: readonly OpenCall[]): Promise<void> {
    if (!this.ops.listBridges) return;
    const held = new Set<number>([...open.map((o) => o.callId), ...this.calls.keys()]);
    for (const b of await this.ops.listBridges().catch(() => [])) {
      const m = /^cb-(\d+)-bridge-/.exec(b.id);
      if (!m || held.has(Number(m[1])) || (b.channels?.length ?? 0) > 0) continue;
      this.log.info({ bridge: b.id }, 'destroying a bridge left from a call that is over');
      await this.ops.destroyBridge(b.id).catch(() => false);
    }
  }

  /**
   * Reports what happened to a call's legs while the websocket was down, each
   * event at its own time; answers whether that ended the call.
   */
  private catchUp(c: Call, opId: string | null, clientId: string | null, opAlive: boolean, clientAlive: boolean, opState?: string, clientState?: string, kept?: { op?: LegFacts; client?: LegFacts }): boolean {
    const callId = c.start.callId;
    const at = (t: number | undefined) => t ?? Date.now();
    const seen = (w: LegFacts | undefined, k: LegFacts | undefined) => (w?.hangupAt !== undefined ? w : k ?? w);
    const wOp = seen(this.witness(opId ?? undefined), kept?.op);
    const wClient = seen(this.witness(clientId ?? undefined), kept?.client);
    const causeOf = (w: LegFacts | undefined) => ({ ...(w?.cause !== undefined ? { cause: w.cause } : {}), ...(w?.causeText ? { causeText: w.causeText } : {}) });
    const stasisRefused = 'answered while the ARI link was down: Asterisk hung it up at once (Stasis app not active)';
    // the operator leg
    if (c.opUnanswered && (opAlive || wOp || kept?.op)) {
      // the originate that got no answer did make the channel: the phone rang from then on
      c.opUnanswered = false;
      this.sink.event(callId, { type: 'operator_ringing' }, {}, c.opOriginatedAt);
    }
    if (!c.operatorAnswered) {
      if (opAlive && opState === 'Up') {
        // answered and in the app, its StasisStart lost with the old websocket
        c.operatorAnswered = true;
        this.sink.event(callId, { type: 'operator_answered' }, {}, at(wOp?.answeredAt));
        if (!c.bridge) void this.dialClient(c).catch((err: unknown) => this.log.error({ call_id: callId, err: (err as Error).message }, 'ARI call setup failed'));
      } else if (!opAlive && wOp?.hangupAt !== undefined) {
        c.opGone = true;
        if (wOp.answeredAt !== undefined && this.entry) {
          // originated into the shipped context: the leg answered and waited there for the app, then hung up
          // (the operator gave up, or the context's wait ran out) before the client was dialled
          c.operatorAnswered = true;
          this.sink.event(callId, { type: 'operator_answered' }, {}, wOp.answeredAt);
          this.sink.event(callId, { type: 'operator_hangup', ...causeOf(wOp), reason: `the operator answered and hung up while waiting in [${this.entry.context}] (the ARI link was down)` }, {}, wOp.hangupAt);
        } else if (wOp.answeredAt !== undefined) {
          this.sink.event(callId, { type: 'operator_failed', outcome: 'error', ...causeOf(wOp), reason: `the operator ${stasisRefused}` }, {}, wOp.hangupAt);
        } else {
          const outcome = operatorOutcome({ cause: wOp.cause, dialStatus: wOp.dialStatus, channelCreated: true });
          this.sink.event(callId, { type: 'operator_failed', outcome, ...causeOf(wOp), ...(wOp.dialStatus ? { dialStatus: wOp.dialStatus } : {}) }, {}, wOp.hangupAt);
        }
        return true;
      } else if (!opAlive && !wOp && c.opUnanswered && !c.opRedialed && kept !== undefined && !kept.op) {
        // The operator's originate was lost with the link before it made a channel: Asterisk does
        // not list it, the AMI link saw nothing of it, and no hangup handler kept facts of it.
        c.opRedialed = true;
        if (opId) this.byChannel.delete(opId);
        this.log.warn({ call_id: callId, channel: opId }, "the operator's originate was lost with the link: ringing the operator again");
        void this.originateOperator(c).catch((err: unknown) => this.log.error({ call_id: callId, err: (err as Error).message }, 'ARI call setup failed'));
        return false;
      } else return false;
    }
    // answered, but the setup that followed failed with the link: done now
    if (opAlive && !c.dialStarted && !clientId) {
      void this.dialClient(c).catch((err: unknown) => this.log.error({ call_id: callId, err: (err as Error).message }, 'ARI call setup failed'));
      return false;
    }
    if (clientAlive && clientId && c.clientAnswered && (!c.clientBridged || !c.recording)) {
      void this.joinClient(c, clientId).catch((err: unknown) => this.log.error({ call_id: callId, err: (err as Error).message }, 'ARI call setup failed'));
    }
    // the client leg, once dialled
    if (clientId && !c.clientAnswered) {
      if (clientAlive && clientState === 'Up') {
        c.clientAnswered = true;
        this.sink.event(callId, { type: 'client_answered' }, {}, at(wClient?.answeredAt));
        void this.joinClient(c, clientId).catch((err: unknown) => this.log.error({ call_id: callId, err: (err as Error).message }, 'ARI call setup failed'));
      } else if (!clientAlive && wClient?.hangupAt !== undefined) {
        c.clientGone = true;
        if (wClient.answeredAt !== undefined && this.entry) {
          // the client answered and hung up while it waited in the shipped context: never connected to the operator
          this.sink.event(callId, { type: 'client_hangup', ...causeOf(wClient), reason: `the client answered and hung up while waiting in [${this.entry.context}] (the ARI link was down), before it was bridged` }, {}, wClient.hangupAt);
        } else if (wClient.answeredAt !== undefined) {
          this.sink.event(callId, { type: 'client_failed', outcome: 'error', ...causeOf(wClient), reason: `the client ${stasisRefused}` }, {}, wClient.hangupAt);
        } else {
          const outcome = clientOutcome({ cause: wClient.cause, dialStatus: wClient.dialStatus });
          this.sink.event(callId, { type: 'client_failed', outcome, ...causeOf(wClient), ...(wClient.dialStatus ? { dialStatus: wClient.dialStatus } : {}) }, {}, wClient.hangupAt);
        }
        return true;
      }
    }
    // in conversation (or the operator waiting for the client): whoever is gone hung up, when the witness saw it
    const gone = (w: LegFacts | undefined) => w?.hangupAt;
    const opEnd = !opAlive && c.op ? gone(wOp) : undefined;
    const clientEnd = !clientAlive && c.clientAnswered ? gone(wClient) : undefined;
    if (opEnd !== undefined && (clientEnd === undefined || opEnd <= clientEnd)) {
      c.opGone = true;
      this.sink.event(callId, { type: 'operator_hangup', ...causeOf(wOp), reason: 'hung up while the ARI link was down' }, {}, opEnd);
      return true;
    }
    if (clientEnd !== undefined) {
      c.clientGone = true;
      this.sink.event(callId, { type: 'client_hangup', ...causeOf(wClient), reason: 'hung up while the ARI link was down' }, {}, clientEnd);
      return true;
    }
    // one side is gone and nothing saw when: it hung up; with both gone nothing is known
    if (!opAlive && !clientAlive) return false;
    if (clientId && !clientAlive && !c.clientAnswered && opAlive && c.operatorAnswered && c.bridge && !wClient && kept !== undefined && !kept.client && !c.redialed) {
      // The client's originate was lost with the link before it made a channel: Asterisk does not
      // list it, the AMI link saw nothing of it, and the PBX kept no facts of it (the hangup handler
      // of every leg that existed writes them). The operator still waits in the bridge: dial again.
      c.redialed = true;
      this.byChannel.delete(clientId);
      this.log.warn({ call_id: callId, channel: clientId }, "the client's originate was lost with the link: dialling the client again");
      void this.originateClient(c, c.bridge).catch((err: unknown) => this.log.error({ call_id: callId, err: (err as Error).message }, 'ARI call setup failed'));
      return false;
    }
    if (clientId && !clientAlive && !c.clientAnswered) {
      c.clientGone = true;
      this.sink.event(callId, { type: 'client_failed', outcome: 'error', reason: "the client's channel is gone and no link saw how it ended" });
      return true;
    }
    if (!opAlive && c.op) {
      c.opGone = true;
      this.sink.event(callId, { type: 'operator_hangup', reason: 'channel gone while the link was down' });
      return true;
    }
    if (!clientAlive && c.clientAnswered) {
      c.clientGone = true;
      this.sink.event(callId, { type: 'client_hangup', reason: 'channel gone while the link was down' });
      return true;
    }
    return false;
  }
}
