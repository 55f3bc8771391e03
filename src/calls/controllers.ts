/**
 * The two call controllers: ARI (Stasis app, the default) and AMI (Originate
 * into the shipped [callbridge-click2call] context). Each binds its flow to
 * the live link and reconciles open calls with the channels Asterisk has.
 */
import type { Logger } from '../log.js';
import { AmiError, field, type AmiClient, type AmiMessage } from '../asterisk/ami/index.js';
import type { AriClient } from '../asterisk/ari/index.js';
import { HANGUP_HANDLER_VARIABLE, LEG_HANGUP_CONTEXT, ownChannelId, type CallController, type CallSink, type CallStart, type OpenCall } from './controller.js';
import { AriCallFlow } from './ari-flow.js';
import { AriWitness, type LegWitness } from './ari-witness.js';
import { AmiCallTracker, CALL_ID_VARIABLE } from './ami-tracker.js';
import { FACTS_FAMILY, factEvents, operatorGone, parseAriLegFacts, parseFacts, type CallFacts } from './facts.js';

/** The shipped dialplan context for AMI mode (asterisk-config/extensions_custom.conf). */
export const CLICK2CALL_CONTEXT = 'callbridge-click2call';

export class AriCallController implements CallController {
  readonly mode = 'ari' as const;
  private flow: AriCallFlow | undefined;
  private sink: CallSink | undefined;
  private readonly onEvent = (ev: { type: string }) => {
    try {
      this.flow?.handle(ev);
    } catch (err) {
      this.log.error({ err: (err as Error).message, type: ev.type }, 'ARI call event failed');
    }
  };

  /** what the AMI link sees of the daemon's ARI channels: the second witness while the websocket is down */
  private readonly witness = new AriWitness();
  private readonly onAmiEvent = (msg: AmiMessage) => this.witness.handle(msg);

  constructor(
    private readonly ari: AriClient,
    private readonly recordingsDir: string,
    private readonly log: Logger,
    private readonly ami?: AmiClient,
    /** the shipped dialplan the legs go through ([callbridge-ari], [callbridge-ari-hangup]) */
    private readonly dialplan: { context: string; app: string; hangupFacts: boolean } = { context: '', app: '', hangupFacts: false },
  ) {
    ari.on('event', this.onEvent);
    ami?.on('event', this.onAmiEvent);
  }

  get available(): boolean {
    return this.ari.connected;
  }

  private flowFor(sink: CallSink): AriCallFlow {
    if (!this.flow || this.sink !== sink) {
      this.sink = sink;
      this.flow = new AriCallFlow(
        this.ari,
        sink,
        this.recordingsDir,
        this.log,
        (id) => this.witness.of(id),
        this.ami ? (callId) => this.legFacts(callId) : undefined,
        this.dialplan.hangupFacts,
        this.dialplan.context ? { context: this.dialplan.context, app: this.dialplan.app } : undefined,
      );
    }
    return this.flow;
  }

  start(call: CallStart, sink: CallSink): Promise<void> {
    return this.flowFor(sink).start(call);
  }

  reconcile(open: readonly OpenCall[], sink: CallSink): Promise<void> {
    return this.flowFor(sink).reconcile(open);
  }

  /**
   * What [callbridge-ari-hangup] kept in AstDB of a call's legs (read over AMI), for a call that
   * ended while the daemon was down; removed once read (the ARI-mode AMI user has "system"). `{}`
   * when Asterisk has none (DBGetTree lists no entry); undefined when it could not be asked.
   */
  private async legFacts(callId: number): Promise<{ op?: LegWitness; client?: LegWitness } | undefined> {
    if (!this.ami?.connected) return undefined;
    const { events } = await this.ami.listAction({ Action: 'DBGetTree', Family: FACTS_FAMILY, Key: String(callId) });
    const facts = parseAriLegFacts(events.map((e) => ({ key: field(e, 'key') ?? '', val: field(e, 'val') ?? '' })), callId);
    if (facts) void this.ami.action({ Action: 'DBDelTree', Family: FACTS_FAMILY, Key: String(callId) }).catch(() => undefined);
    // asked and answered: no facts means no leg of the call has hung up (undefined: not known)
    return facts ?? {};
  }

  async stop(): Promise<void> {
    this.ari.off('event', this.onEvent);
    this.ami?.off('event', this.onAmiEvent);
  }
}

/** How long past the operator's ring timeout an OriginateResponse may still come. */
const ORIGINATE_GRACE_MS = 30_000;

export class AmiCallController implements CallController {
  readonly mode = 'ami' as const;

  private tracker: AmiCallTracker | undefined;
  private sink: CallSink | undefined;
  private factsRefused = false;
  private readonly onEvent = (msg: AmiMessage) => {
    try {
      this.tracker?.handle(msg);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'AMI call event failed');
    }
  };

  constructor(
    private readonly ami: AmiClient,
    private readonly recordingsDir: string,
    private readonly log: Logger,
    /** push the shipped [callbridge-ari-hangup] on the operator's channel at the Originate (CALLBRIDGE_ARI_HANGUP_FACTS) */
    private readonly legFacts = false,
  ) {
    ami.on('event', this.onEvent);
  }

  get available(): boolean {
    return this.ami.connected;
  }

  private trackerFor(sink: CallSink): AmiCallTracker {
    if (!this.tracker || this.sink !== sink) {
      this.sink = sink;
      this.tracker = new AmiCallTracker(sink, this.recordingsDir);
    }
    return this.tracker;
  }

  async start(s: CallStart, sink: CallSink): Promise<void> {
    const tracker = this.trackerFor(sink);
    // the operator's channel gets our own uniqueid (and so the call its linkedid): the call can be
    // found on the PBX whatever of its events a gap hid, the Originate's answer included
    const opId = ownChannelId(s.callId, 'op');
    tracker.track(s.callId, s.operatorEndpoint, s.recordingName, opId);
    try {
      const res = await this.ami.action({
        Action: 'Originate',
        Channel: s.operatorEndpoint,
        ChannelId: opId,
        Context: CLICK2CALL_CONTEXT,
        Exten: s.phone,
        Priority: 1,
        CallerID: s.operatorCallerId,
        Timeout: s.operatorTimeoutSec * 1000,
        Async: 'true',
        Variable: [
          `${CALL_ID_VARIABLE}=${s.callId}`,
          `CALLBRIDGE_ORDER_ID=${s.orderId}`,
          `CALLBRIDGE_CLIENT_DIAL=${s.clientEndpoint}`,
          `CALLBRIDGE_CLIENT_TIMEOUT=${s.clientTimeoutSec}`,
          `CALLBRIDGE_RECORDING=${s.recordingName}`,
          // quoted: AMI splits a Variable header at its commas (manager.c, as an application's arguments)
          ...(this.legFacts ? [`${HANGUP_HANDLER_VARIABLE}="${LEG_HANGUP_CONTEXT},s,1(${s.callId},op)"`] : []),
        ],
      });
      const actionId = field(res, 'actionid');
      if (actionId) tracker.setActionId(s.callId, actionId);
    } catch (err) {
      if (err instanceof AmiError && (err.code === 'DISCONNECTED' || err.code === 'TIMEOUT')) {
        // Sent, but its answer was lost with the link: Asterisk may be ringing the operator. The
        // reconciliation after the reconnect finds the channel by its uniqueid, or its end in the facts.
        this.log.warn({ call_id: s.callId, channel: opId, err: err.message }, 'the Originate got no answer: the PBX is asked once the link is back');
        return;
      }
      tracker.forget(s.callId);
      const reason = err instanceof AmiError ? `${err.code}: ${err.message}` : (err as Error).message;
      // the AMI user's write classes lack "originate": say where that is set (manager.conf reports nothing else)
      const hint = /permission denied/i.test(reason) ? ' (the AMI user needs write = originate,call,reporting in AMI control mode: see asterisk-config/manager_custom.conf)' : '';
      if (hint) this.log.error({ call_id: s.callId }, `Asterisk refused Originate to the AMI user${hint}`);
      sink.event(s.callId, { type: 'operator_failed', outcome: 'error', reason: `Originate failed: ${reason}${hint}` });
    }
  }

  /**
   * Open calls against what Asterisk says now: CoreShowChannels for the
   * channels still up, and the facts the shipped dialplan keeps in AstDB
   * (DBGetTree) for what happened while the daemon could not see it. A call
   * still up goes on from where it really is (an answer during the gap is
   * recorded at its own time); a call whose channels are gone gets the final
   * status, billsec and end time of its facts; only a call the PBX kept no
   * facts of ends as ERROR ("channels gone").
   */
  async reconcile(open: readonly OpenCall[], sink: CallSink): Promise<void> {
    const tracker = this.trackerFor(sink);
    const { events } = await this.ami.listAction({ Action: 'CoreShowChannels' });
    const alive = new Map<string, AmiMessage>();
    const byLinkedid = new Map<string, AmiMessage[]>();
    for (const ch of events) {
      const id = field(ch, 'uniqueid');
      if (id) alive.set(id, ch);
      const l = field(ch, 'linkedid');
      if (l) byLinkedid.set(l, [...(byLinkedid.get(l) ?? []), ch]);
    }
    for (const o of open) {
      const known = tracker.tracked(o.callId);
      // An Originate still waiting for its OriginateResponse is left alone, unless that answer was lost
      // (it comes within the operator's ring timeout): then the call is closed below.
      const facts = await this.facts(o.callId);
      // the facts say the operator's channel ended: the Originate is over, whatever became of its answer
      const pendingOriginate = known && !o.linkedid && !known.originateDone && !operatorGone(facts) && Date.now() - known.since < o.start.operatorTimeoutSec * 1000 + ORIGINATE_GRACE_MS;
      const linkedid = o.linkedid ?? facts?.linkedid ?? known?.op;
      const legs = linkedid ? (byLinkedid.get(linkedid) ?? []) : [];
      if (legs.length > 0) {
        this.resume(tracker, o, legs, facts, sink, known?.since);
        continue;
      }
      if (pendingOriginate) continue;
      tracker.forget(o.callId);
      const timeline = facts ? factEvents(facts, o.start.operatorEndpoint) : [];
      if (facts && operatorGone(facts)) {
        for (const e of timeline) sink.event(o.callId, e.ev, {}, e.at);
        this.log.info({ call_id: o.callId, dialstatus: facts.dialStatus, ended: new Date((facts.ended ?? facts.opEnded)!).toISOString() }, 'call ended unseen: outcome taken from the PBX facts');
      } else {
        sink.event(o.callId, { type: 'lost', reason: "the call's channels are gone from Asterisk and it kept no facts of the call" });
      }
      if (o.status === 'CLIENT_PICKUP' || facts?.answered !== undefined || facts?.dialStatus === 'ANSWER') {
        sink.recordingFinished(o.callId, { name: o.recordingName, file: `${this.recordingsDir.replace(/\/+$/, '')}/${o.recordingName}.wav`, format: 'wav' });
      }
    }
  }

  /** A call still up after a gap or a restart: what it missed is reported at its own time, then it is followed on. */
  private resume(tracker: AmiCallTracker, o: OpenCall, legs: readonly AmiMessage[], facts: CallFacts | undefined, sink: CallSink, originatedAt?: number): void {
    const legOf = (ch: AmiMessage | undefined) => (ch ? { uniqueid: field(ch, 'uniqueid') ?? '', name: field(ch, 'channel') ?? '' } : undefined);
    const opCh = legs.find((ch) => field(ch, 'uniqueid') === o.operatorChannel) ?? legs.find((ch) => (field(ch, 'channel') ?? '').startsWith(`${o.start.operatorEndpoint}-`));
    const opId = field(opCh ?? {}, 'uniqueid');
    const clientCh =
      legs.find((ch) => field(ch, 'uniqueid') === o.clientChannel) ??
      legs.find((ch) => field(ch, 'uniqueid') !== opId && /^Local\/.*;1$/.test(field(ch, 'channel') ?? '')) ??
      legs.find((ch) => field(ch, 'uniqueid') !== opId && !(field(ch, 'channel') ?? '').startsWith('Local/'));
    // the operator's phone rings since the Originate, whose events (and answer) a gap hid
    if (opId && o.status === 'CALL') sink.event(o.callId, { type: 'operator_ringing' }, { operatorChannel: opId, linkedid: field(opCh ?? {}, 'linkedid') ?? opId }, originatedAt);
    // what the facts say happened meanwhile, short of the end (the call is still up)
    for (const e of facts ? factEvents({ ...facts, ended: undefined, opEnded: undefined }, o.start.operatorEndpoint) : []) sink.event(o.callId, e.ev, {}, e.at);
    const operatorAnswered = ['OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP'].includes(o.status) || facts?.pickup !== undefined || field(opCh ?? {}, 'channelstate') === '6';
    const clientAnswered = o.status === 'CLIENT_PICKUP' || facts?.answered !== undefined || (!!clientCh && !!field(clientCh, 'bridgeid') && field(clientCh, 'channelstate') === '6');
    const op = legOf(opCh);
    const client = legOf(clientCh);
    if (client && !o.clientChannel) sink.event(o.callId, { type: 'client_dialing' }, { clientChannel: client.uniqueid });
    if (tracker.tracked(o.callId)) {
      tracker.refresh(o.callId, { ...(op ? { op } : {}), ...(client ? { client } : {}), operatorAnswered, clientAnswered });
    } else {
      tracker.restore({
        callId: o.callId,
        operatorEndpoint: o.start.operatorEndpoint,
        recordingName: o.recordingName,
        ...(op ? { op } : {}),
        ...(client ? { client } : {}),
        operatorAnswered,
        clientAnswered,
      });
    }
  }

  /** The call's facts in AstDB; undefined when there are none or the AMI user may not read them (logged once). */
  private async facts(callId: number): Promise<CallFacts | undefined> {
    try {
      const { events } = await this.ami.listAction({ Action: 'DBGetTree', Family: FACTS_FAMILY, Key: String(callId) });
      return parseFacts(events.map((e) => ({ key: field(e, 'key') ?? '', val: field(e, 'val') ?? '' })), callId);
    } catch (err) {
      if (!this.factsRefused) {
        this.factsRefused = true;
        this.log.warn({ err: (err as Error).message }, 'AMI DBGetTree failed: calls that end during a gap cannot take their outcome from the PBX facts (the AMI user needs the "reporting" write class)');
      }
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.ami.off('event', this.onEvent);
  }
}
