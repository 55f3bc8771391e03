/**
 * The boundary between the call service and the two ways of driving Asterisk
 * (ARI Stasis app, AMI Originate into the shipped dialplan). A controller
 * starts calls and reports what happens to them as normalized CallEvents
 * through the sink; it never writes statuses itself.
 */
import { randomUUID } from 'node:crypto';
import type { CallEvent } from './chain.js';
import type { CallPatch } from './store.js';

/** Everything a controller needs to place one click-to-call; every value is already validated. */
export interface CallStart {
  callId: number;
  orderId: string;
  sip: string;
  phone: string;
  /** e.g. PJSIP/101 */
  operatorEndpoint: string;
  /** e.g. Local/380639920000@from-internal */
  clientEndpoint: string;
  /** caller ID shown on the operator's phone, e.g. "380639920000" <380639920000> */
  operatorCallerId: string;
  operatorTimeoutSec: number;
  clientTimeoutSec: number;
  /** recording name without extension: order-<order_id>-call-<call_id> */
  recordingName: string;
}

export interface RecordingInfo {
  name: string;
  file: string;
  format: string;
  size?: number | null;
  duration?: number | null;
}

export interface CallSink {
  /** A call event; `patch` carries channel ids and the like. Times are taken when the sink is called unless `at` is given. */
  event(callId: number, ev: CallEvent, patch?: CallPatch, at?: number): void;
  /** Keeps channel ids and the like before anything happened that makes a status (e.g. a leg whose originate went unanswered). */
  keep(callId: number, patch: CallPatch): void;
  recordingStarted(callId: number, rec: RecordingInfo, at?: number): void;
  recordingFinished(callId: number, rec: RecordingInfo, at?: number): void;
}

/** An open call as reconciliation sees it. */
export interface OpenCall {
  callId: number;
  status: string;
  operatorChannel: string | null;
  clientChannel: string | null;
  bridgeId: string | null;
  linkedid: string | null;
  recordingName: string;
  /** what the call was started with, to follow it again after a restart */
  start: CallStart;
}

export interface CallController {
  readonly mode: 'ari' | 'ami';
  /** the link the controller needs is up */
  readonly available: boolean;
  /** Starts a call; resolves once Asterisk accepted the request (failures after that arrive as events). */
  start(call: CallStart, sink: CallSink): Promise<void>;
  /**
   * After a (re)connect or at start: look at the channels Asterisk still has
   * and report through the sink how each open call stands (events for calls
   * that ended meanwhile, `lost` for calls whose channels are gone).
   */
  reconcile(open: readonly OpenCall[], sink: CallSink): Promise<void>;
  stop(): Promise<void>;
}

/** The shipped hangup handler that keeps how a leg ended in AstDB (asterisk-config/extensions_custom.conf): both legs in ARI mode, the operator's in AMI mode. */
export const LEG_HANGUP_CONTEXT = 'callbridge-ari-hangup';
/** The channel variable that pushes a hangup handler. */
export const HANGUP_HANDLER_VARIABLE = 'CHANNEL(hangup_handler_push)';

/** The daemon's own channel ids, `cb-<call>-<leg>-<8 hex>`: a leg is found on the PBX by its call whatever a gap hid. */
export const ownChannelId = (callId: number, leg: 'op' | 'client'): string => `cb-${callId}-${leg}-${randomUUID().slice(0, 8)}`;
