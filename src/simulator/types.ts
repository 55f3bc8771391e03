/**
 * Shared model of the simulated Asterisk: channels, bridges, endpoints, and the
 * neutral events the world emits. The AMI and ARI front-ends render these events
 * synchronously, so an event always shows the objects as they are at emit time.
 */

export type ChanState = 'Down' | 'Rsrvd' | 'OffHook' | 'Dialing' | 'Ring' | 'Ringing' | 'Up' | 'Busy';

export const CHAN_STATE_NUM: Record<ChanState, number> = {
  Down: 0,
  Rsrvd: 1,
  OffHook: 2,
  Dialing: 3,
  Ring: 4,
  Ringing: 5,
  Up: 6,
  Busy: 7,
};

/** How a hangup was asked for from outside the remote party (AMI Hangup action, ARI DELETE, shutdown). */
export interface HangupRequest {
  /** cause to record on the channel (ARI `reason`/`reason_code`, AMI `Cause`), if any */
  cause?: number;
}

export interface Channel {
  id: string;
  name: string;
  linkedid: string;
  /** device name used for device state, e.g. `PJSIP/101` */
  device: string;
  /** cast endpoint (e.g. `101`) when the channel belongs to an operator phone */
  endpoint?: string;
  state: ChanState;
  callerNum: string;
  callerName: string;
  connectedNum: string;
  connectedName: string;
  accountCode: string;
  language: string;
  context: string;
  exten: string;
  priority: number;
  appName: string;
  appData: string;
  vars: Map<string, string>;
  /** variables set with a `__` prefix, inherited by the channels this one dials */
  inheritable: Set<string>;
  /** CDR(userfield) */
  userfield: string;
  created: Date;
  answered?: Date;
  protocolId: string;
  /** ARI applications subscribed to this channel */
  apps: Set<string>;
  /** ARI events are only delivered once the channel has been announced to its app (first Dial event) */
  ariVisible: boolean;
  stasis?: { app: string; args: string[] };
  bridge?: Bridge;
  alive: boolean;
  timers: Set<NodeJS.Timeout>;
  /** called when something outside the remote party hangs the channel up; set by the controlling flow */
  onHangupRequest?: (req: HangupRequest) => void;
  /** the far end's BYE, available once it answered (what the phone does when its user hangs up) */
  onRemoteHangup?: () => void;
  /** the other half of a Local channel pair (`;1` ↔ `;2`) */
  localPartner?: Channel;
  /** MixMonitor running on this channel (AMI mode) */
  mixMonitor?: MixMonitor;
  /** the RTP statistics variables (RTPAUDIOQOS…) were set, as chan_pjsip does once when the media session ends */
  rtpStatsSet?: boolean;
  /** the channel's hangup source (CEL HANGUP `hangupsource`) */
  hangupSource?: string;
  /** CEL records already published ahead of the AMI events they belong to (at a BYE, A1/B1) */
  celEarly?: Set<CelEvent>;
  /** a recording of the bridge this channel just emptied finishes once the channel has left Stasis (B1) */
  pendingRecordings?: Bridge;
  /** set while an answered Stasis channel is torn down (it leaves the bridge, then Stasis) */
  leavingStasis?: boolean;
  /**
   * the remaining parties' connected line is updated only once this channel has left Stasis
   * (an operator leg's BYE, B8); the update waits in `pendingConnected`
   */
  connectedAfterLeave?: boolean;
  pendingConnected?: () => void;
  /** at this channel's BYE in a bridge its CEL BRIDGE_EXIT comes before the RTP statistics (a Stasis operator leg, B8) */
  exitCelFirst?: boolean;
  /** the far end sent BYE (a HangupRequest was published for it) */
  byeSeen?: boolean;
}

export interface MixMonitor {
  file: string;
  /** record only while bridged (option b) */
  bridgedOnly: boolean;
  startedAt: number;
  recordedMs: number;
  bridgedSince?: number;
}

export interface LiveRecording {
  name: string;
  format: string;
  state: 'queued' | 'recording' | 'done' | 'failed' | 'canceled';
  targetUri: string;
  startedAt?: number;
  duration?: number;
  app?: string;
  /** the bridge recorder's channel (`Recorder/ARI-00000000;2`), a hidden party of the bridge while recording */
  recorder?: string;
}

export interface Playback {
  id: string;
  mediaUri: string;
  targetUri: string;
  language: string;
  state: 'queued' | 'playing' | 'done' | 'failed';
  app?: string;
  bridgeId?: string;
  timer?: NodeJS.Timeout;
}

export interface Bridge {
  id: string;
  name: string;
  /** ARI bridge_type (`mixing`, `holding`) or `basic` for Dial bridges */
  type: string;
  /** AMI BridgeType: `stasis` for ARI bridges, `basic` for Dial bridges */
  amiType: string;
  technology: string;
  creator: string;
  channels: Channel[];
  created: Date;
  apps: Set<string>;
  recordings: LiveRecording[];
  playbacks: Playback[];
  videoMode: string;
}

export interface Endpoint {
  sip: string;
  registered: boolean;
  context: string;
  callerName: string;
  userAgent: string;
  port: number;
  /** contact registration facts, refreshed on every register() */
  callId: string;
  registeredAt: number;
  roundtripUsec: number;
  deviceState: DeviceState;
  /** registered, but the contact stopped answering qualify OPTIONS (C3) */
  unreachable?: boolean;
}

export type DeviceState = 'NOT_INUSE' | 'INUSE' | 'BUSY' | 'UNAVAILABLE' | 'RINGING' | 'RINGINUSE' | 'ONHOLD' | 'UNKNOWN';

export type ContactStatus = 'NonQualified' | 'Reachable' | 'Unreachable' | 'Removed';

/** The neutral event stream of the world; rendered by the AMI and ARI front-ends. */
export type SimEvent =
  | { type: 'Newchannel'; ch: Channel }
  | { type: 'VarSet'; ch: Channel; variable: string; value: string }
  | { type: 'Newstate'; ch: Channel }
  | { type: 'Newexten'; ch: Channel; extension: string; app: string; appData: string }
  | { type: 'NewCallerid'; ch: Channel }
  | { type: 'NewConnectedLine'; ch: Channel }
  | { type: 'DialBegin'; caller?: Channel; peer: Channel; dialstring: string }
  | { type: 'DialState'; caller?: Channel; peer: Channel; dialstring: string; status: string }
  | { type: 'DialEnd'; caller?: Channel; peer: Channel; dialstring: string; status: string }
  | { type: 'HangupRequest'; ch: Channel; cause?: number; techCause?: number }
  | { type: 'SoftHangupRequest'; ch: Channel; cause: number; techCause?: number }
  | { type: 'Hangup'; ch: Channel; cause: number; techCause?: number }
  | { type: 'DeviceStateChange'; device: string; state: DeviceState }
  | { type: 'LocalBridge'; one: Channel; two: Channel; context: string; exten: string; optimization?: boolean }
  | { type: 'OriginateResponse'; actionId?: string; response: 'Success' | 'Failure'; channel: string; context: string; exten: string; reason: number; uniqueid: string; callerNum: string; callerName: string }
  | { type: 'BridgeCreate'; bridge: Bridge }
  | { type: 'BridgeEnter'; bridge: Bridge; ch: Channel }
  | { type: 'BridgeLeave'; bridge: Bridge; ch: Channel }
  | { type: 'BridgeDestroy'; bridge: Bridge }
  | { type: 'MixMonitorStart'; ch: Channel }
  | { type: 'Cdr'; fields: Array<[string, string]> }
  | { type: 'ContactStatus'; ep: Endpoint; status: ContactStatus; rtt: number; endpointOnline: boolean }
  | { type: 'PeerStatus'; ep: Endpoint; status: 'Reachable' | 'Unreachable' }
  | { type: 'EndpointStateChange'; ep: Endpoint }
  | { type: 'Security'; name: 'ChallengeSent' | 'SuccessfulAuth'; ep: Endpoint; callId: string }
  | { type: 'StasisStart'; ch: Channel; app: string; args: string[] }
  | { type: 'StasisEnd'; ch: Channel; app: string }
  | { type: 'RecordingStarted'; rec: LiveRecording }
  | { type: 'RecordingFinished'; rec: LiveRecording }
  | { type: 'PlaybackStarted'; playback: Playback }
  | { type: 'PlaybackFinished'; playback: Playback }
  /** a Channel Event Logging record (cel_manager), AMI only */
  | { type: 'CEL'; ch: Channel; event: CelEvent; peer?: string; extra?: string }
  /** an AMI-only event assembled from channel snapshots, bridge snapshots and plain headers (queues, transfers, holds) */
  | { type: 'AmiEvent'; name: string; privilege: string; parts: AmiEventPart[] };

export type CelEvent = 'CHAN_START' | 'ANSWER' | 'BRIDGE_ENTER' | 'BRIDGE_EXIT' | 'HANGUP' | 'CHAN_END' | 'LINKEDID_END' | 'APP_START' | 'APP_END' | 'BLINDTRANSFER';

/** One block of an {@link SimEvent} `AmiEvent`: a channel snapshot (with a header prefix such as `Dest`), a bridge snapshot, or headers. */
export type AmiEventPart =
  | { ch: Channel; prefix?: string }
  | { bridge: Bridge; prefix?: string }
  | { headers: Array<[string, string]> };
