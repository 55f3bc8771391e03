/**
 * Shapes of the ARI objects the adapter returns, as served by Asterisk 22
 * (ARI 10.0.0, see the swagger models in channels.json, bridges.json,
 * endpoints.json, recordings.json, playbacks.json, events.json).
 * Objects are passed through as Asterisk sent them, so optional fields and
 * fields added by newer Asterisk versions may be present.
 */

export interface AriCallerId {
  name: string;
  number: string;
}

export interface AriDialplanCep {
  context: string;
  exten: string;
  priority: number;
  app_name?: string;
  app_data?: string;
}

export interface AriChannel {
  id: string;
  name: string;
  /** Down, Rsrvd, OffHook, Dialing, Ring, Ringing, Up, Busy, Dialing Offhook, Pre-ring, Unknown */
  state: string;
  protocol_id?: string;
  caller: AriCallerId;
  connected: AriCallerId;
  accountcode: string;
  dialplan: AriDialplanCep;
  creationtime: string;
  language: string;
  channelvars?: Record<string, string>;
  caller_rdnis?: string;
  tenantid?: string;
}

export interface AriEndpoint {
  technology: string;
  resource: string;
  /** online / offline / unknown; absent when Asterisk does not know */
  state?: string;
  channel_ids: string[];
}

export interface AriBridge {
  id: string;
  technology: string;
  bridge_type: string;
  bridge_class: string;
  creator: string;
  name: string;
  channels: string[];
  creationtime: string;
  video_mode?: string;
  video_source_id?: string;
  bridgevars?: Record<string, string>;
}

export interface AriLiveRecording {
  name: string;
  format: string;
  /** queued, recording, paused, done, failed, canceled */
  state: string;
  target_uri: string;
  duration?: number;
  talking_duration?: number;
  silence_duration?: number;
  cause?: string;
}

export interface AriPlayback {
  id: string;
  media_uri: string;
  next_media_uri?: string;
  target_uri: string;
  language?: string;
  /** queued, playing, continuing, done, failed */
  state: string;
}

export interface AriApplication {
  name: string;
  channel_ids: string[];
  bridge_ids: string[];
  endpoint_ids: string[];
  device_names: string[];
  events_allowed: unknown[];
  events_disallowed: unknown[];
}

export interface AriAsteriskInfo {
  build?: Record<string, string>;
  system?: { version: string; entity_id: string };
  config?: Record<string, unknown>;
  status?: { startup_time: string; last_reload_time: string };
}

/**
 * One message from the events websocket, exactly as Asterisk sent it.
 * The fields beyond the common ones depend on `type`; the interfaces below
 * describe the ones the daemon reads.
 */
export interface AriEvent {
  type: string;
  timestamp: string;
  application: string;
  asterisk_id?: string;
  [field: string]: unknown;
}

export interface AriStasisStartEvent extends AriEvent {
  type: 'StasisStart';
  /** appArgs of the originate, split on commas */
  args: string[];
  channel: AriChannel;
  replace_channel?: AriChannel;
}

export interface AriStasisEndEvent extends AriEvent {
  type: 'StasisEnd';
  channel: AriChannel;
}

export interface AriDialEvent extends AriEvent {
  type: 'Dial';
  /** "" at the start of a dial, then RINGING, ANSWER, BUSY, NOANSWER, CANCEL, ... */
  dialstatus: string;
  dialstring?: string;
  forward?: string;
  peer: AriChannel;
  caller?: AriChannel;
}

export interface AriChannelStateChangeEvent extends AriEvent {
  type: 'ChannelStateChange';
  channel: AriChannel;
}

export interface AriChannelHangupRequestEvent extends AriEvent {
  type: 'ChannelHangupRequest';
  channel: AriChannel;
  cause?: number;
  tech_cause?: number;
  soft?: boolean;
}

export interface AriChannelDestroyedEvent extends AriEvent {
  type: 'ChannelDestroyed';
  channel: AriChannel;
  cause: number;
  cause_txt: string;
  tech_cause?: number;
}

export interface AriRecordingEvent extends AriEvent {
  type: 'RecordingStarted' | 'RecordingFinished' | 'RecordingFailed';
  recording: AriLiveRecording;
}

export interface AriEndpointStateChangeEvent extends AriEvent {
  type: 'EndpointStateChange';
  endpoint: AriEndpoint;
}

export interface AriContactStatusChangeEvent extends AriEvent {
  type: 'ContactStatusChange';
  endpoint: AriEndpoint;
  contact_info: {
    uri: string;
    /** NonQualified, Reachable, Unreachable, Removed, Unknown */
    contact_status: string;
    aor: string;
    roundtrip_usec?: string;
  };
}

export interface AriPeerStatusChangeEvent extends AriEvent {
  type: 'PeerStatusChange';
  endpoint: AriEndpoint;
  peer: { peer_status: string; cause?: string; address?: string; port?: string; time?: string };
}
