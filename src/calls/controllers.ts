/**
 * The two call controllers: ARI (Stasis app, the default) and AMI (Originate
 * into the shipped [callbridge-click2call] context). Each binds its flow to
 * the live link and reconciles open calls with the channels Asterisk has.
 */
import type { Logger } from '../log.js';
import { AmiError, field, type AmiClient, type AmiMessage } from '../asterisk/ami/index.js';
import type { AriClient } from '../asterisk/ari/index.js';
import type { CallController, CallSink, CallStart, OpenCall } from './controller.js';
import { AriCallFlow } from './ari-flow.js';
import { AmiCallTracker, CALL_ID_VARIABLE } from './ami-tracker.js';

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

  constructor(
    private readonly ari: AriClient,
    private readonly recordingsDir: string,
    private readonly log: Logger,
  ) {
    ari.on('event', this.onEvent);
  }

  get available(): boolean {
    return this.ari.connected;
  }

  private flowFor(sink: CallSink): AriCallFlow {
    if (!this.flow || this.sink !== sink) {
      this.sink = sink;
      this.flow = new AriCallFlow(this.ari, sink, this.recordingsDir, this.log);
    }
    return this.flow;
  }

  start(call: CallStart, sink: CallSink): Promise<void> {
    return this.flowFor(sink).start(call);
  }

  reconcile(open: readonly OpenCall[], sink: CallSink): Promise<void> {
    return this.flowFor(sink).reconcile(open);
  }

  async stop(): Promise<void> {
    this.ari.off('event', this.onEvent);
  }
}

/** How long past the operator's ring timeout an OriginateResponse may still come. */
const ORIGINATE_GRACE_MS = 30_000;

export class AmiCallController implements CallController {
  readonly mode = 'ami' as const;

  private tracker: AmiCallTracker | undefined;
  private sink: CallSink | undefined;
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
    tracker.track(s.callId, s.operatorEndpoint, s.recordingName);
    try {
      const res = await this.ami.action({
        Action: 'Originate',
        Channel: s.operatorEndpoint,
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
        ],
      });
      const actionId = field(res, 'actionid');
      if (actionId) tracker.setActionId(s.callId, actionId);
    } catch (err) {
      tracker.forget(s.callId);
      const reason = err instanceof AmiError ? `${err.code}: ${err.message}` : (err as Error).message;
      sink.event(s.callId, { type: 'operator_failed', outcome: 'error', reason: `Originate failed: ${reason}` });
    }
  }

  /**
   * Open calls against CoreShowChannels: a call none of whose channels is
   * left gets its final status; the others are followed again.
   */
  async reconcile(open: readonly OpenCall[], sink: CallSink): Promise<void> {
    const tracker = this.trackerFor(sink);
    const { events } = await this.ami.listAction({ Action: 'CoreShowChannels' });
    const alive = new Map<string, AmiMessage>();
    for (const ch of events) {
      const id = field(ch, 'uniqueid');
      if (id) alive.set(id, ch);
    }
    const byLinkedid = new Map<string, AmiMessage[]>();
    for (const ch of events) {
      const l = field(ch, 'linkedid');
      if (l) byLinkedid.set(l, [...(byLinkedid.get(l) ?? []), ch]);
    }
    for (const o of open) {
      const legs = o.linkedid ? (byLinkedid.get(o.linkedid) ?? []) : [];
      const known = tracker.tracked(o.callId);
      if (legs.length > 0) {
        if (!known) {
          const op = o.operatorChannel ? alive.get(o.operatorChannel) : undefined;
          const client = o.clientChannel ? alive.get(o.clientChannel) : undefined;
          tracker.restore({
            callId: o.callId,
            operatorEndpoint: o.start.operatorEndpoint,
            recordingName: o.recordingName,
            ...(op ? { op: { uniqueid: o.operatorChannel!, name: field(op, 'channel') ?? '' } } : {}),
            ...(client ? { client: { uniqueid: o.clientChannel!, name: field(client, 'channel') ?? '' } } : {}),
            operatorAnswered: ['OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP'].includes(o.status),
            clientAnswered: o.status === 'CLIENT_PICKUP',
          });
        }
        continue;
      }
      // An Originate still waiting for its OriginateResponse is left alone, unless that answer was lost
      // (it comes within the operator's ring timeout): then the call is closed below.
      if (known && !o.linkedid && !known.originateDone && Date.now() - known.since < o.start.operatorTimeoutSec * 1000 + ORIGINATE_GRACE_MS) continue;
      tracker.forget(o.callId);
      sink.event(o.callId, { type: 'lost', reason: "the call's channels are gone from Asterisk" });
      if (o.status === 'CLIENT_PICKUP') {
        sink.recordingFinished(o.callId, { name: o.recordingName, file: `${this.recordingsDir.replace(/\/+$/, '')}/${o.recordingName}.wav`, format: 'wav' });
      }
    }
  }

  async stop(): Promise<void> {
    this.ami.off('event', this.onEvent);
  }
}
