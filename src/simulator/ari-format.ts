import { causeText } from './cast.js';
import { formatTv } from './ami-format.js';
import { contactUri } from './presence.js';
import type { World } from './world.js';
import type { Bridge, Channel, Endpoint, LiveRecording, Playback, SimEvent } from './types.js';

/** The entity id Asterisk puts in every ARI event (`asterisk_id`). */
export const ASTERISK_ID = '02:fc:00:00:00:01';

/** ARI Channel model, keys in the order Asterisk 22 writes them (B1). */
export function channelJson(ch: Channel): Record<string, unknown> {
  return {
    id: ch.id,
    name: ch.name,
    state: ch.state,
    protocol_id: ch.name.startsWith('PJSIP/') ? ch.protocolId : '',
    caller: { name: ch.callerName, number: ch.callerNum },
    connected: { name: ch.connectedName, number: ch.connectedNum },
    accountcode: ch.accountCode,
    dialplan: { context: ch.context, exten: ch.exten, priority: ch.priority, app_name: ch.appName, app_data: ch.appData },
    creationtime: formatTv(ch.created),
    language: ch.language,
  };
}

export function bridgeJson(b: Bridge): Record<string, unknown> {
  return {
    id: b.id,
    technology: b.technology,
    bridge_type: b.type,
    bridge_class: 'stasis',
    creator: b.creator,
    name: b.name,
    channels: b.channels.map((c) => c.id),
    creationtime: formatTv(b.created),
    video_mode: b.videoMode,
  };
}

export function endpointJson(world: World, ep: Endpoint): Record<string, unknown> {
  const ids: string[] = [];
  for (const ch of world.channels.values()) if (ch.device === `PJSIP/${ep.sip}`) ids.push(ch.id);
  return { technology: 'PJSIP', resource: ep.sip, state: ep.registered ? 'online' : 'offline', channel_ids: ids };
}

export function liveRecordingJson(rec: LiveRecording): Record<string, unknown> {
  const out: Record<string, unknown> = { name: rec.name, format: rec.format, state: rec.state, target_uri: rec.targetUri };
  if (rec.duration !== undefined) out.duration = rec.duration;
  return out;
}

export function playbackJson(pb: Playback): Record<string, unknown> {
  return { id: pb.id, media_uri: pb.mediaUri, target_uri: pb.targetUri, language: pb.language, state: pb.state };
}

/** An ARI event body (without asterisk_id/application) and who should get it. */
export interface AriRouted {
  body: Record<string, unknown>;
  /** apps by name (channel, bridge, recording owners) */
  apps: Set<string>;
  /** endpoint the event is about, for endpoint subscriptions */
  endpoint?: string;
  /** device the event is about, for deviceState subscriptions */
  device?: string;
  /** the channel the event is about, for subscribeAll apps */
  channel?: Channel;
}

function at(): string {
  return formatTv(new Date());
}

function chanEvent(type: string, ch: Channel, extra: Record<string, unknown> = {}, before: Record<string, unknown> = {}): AriRouted | undefined {
  if (!ch.ariVisible) return undefined;
  return { body: { ...before, type, timestamp: at(), ...extra, channel: channelJson(ch) }, apps: new Set(ch.apps), channel: ch };
}

function dial(e: { caller?: Channel; peer: Channel; dialstring: string }, status: string): AriRouted | undefined {
  if (!e.peer.ariVisible) return undefined;
  const body: Record<string, unknown> = { type: 'Dial', timestamp: at(), dialstatus: status, forward: '', dialstring: e.dialstring };
  if (e.caller) body.caller = channelJson(e.caller);
  body.peer = channelJson(e.peer);
  return { body, apps: new Set([...e.peer.apps, ...(e.caller?.apps ?? [])]), channel: e.peer };
}

/** Renders a world event as an ARI websocket message; undefined when no application may see it. */
export function renderAriEvent(e: SimEvent, world: World): AriRouted | undefined {
  switch (e.type) {
    case 'Newstate':
      return chanEvent('ChannelStateChange', e.ch);
    case 'VarSet':
      return chanEvent('ChannelVarset', e.ch, {}, { variable: e.variable, value: e.value });
    case 'NewConnectedLine':
      return chanEvent('ChannelConnectedLine', e.ch);
    case 'DialBegin':
      return dial(e, '');
    case 'DialState':
    case 'DialEnd':
      return dial(e, e.status);
    case 'HangupRequest': {
      const before: Record<string, unknown> = {};
      if (e.cause !== undefined) before.cause = e.cause;
      if (e.techCause !== undefined) before.tech_cause = e.techCause;
      return chanEvent('ChannelHangupRequest', e.ch, {}, before);
    }
    case 'SoftHangupRequest':
      return chanEvent('ChannelHangupRequest', e.ch, {}, { cause: e.cause, soft: true });
    case 'Hangup': {
      const extra: Record<string, unknown> = { cause: e.cause, cause_txt: causeText(e.cause) };
      if (e.techCause !== undefined) extra.tech_cause = e.techCause;
      return chanEvent('ChannelDestroyed', e.ch, extra);
    }
    case 'StasisStart':
      return { body: { type: 'StasisStart', timestamp: at(), args: e.args, channel: channelJson(e.ch) }, apps: new Set([e.app]), channel: e.ch };
    case 'StasisEnd':
      return { body: { type: 'StasisEnd', timestamp: at(), channel: channelJson(e.ch) }, apps: new Set([e.app]), channel: e.ch };
    case 'BridgeEnter':
    case 'BridgeLeave': {
      const type = e.type === 'BridgeEnter' ? 'ChannelEnteredBridge' : 'ChannelLeftBridge';
      if (e.bridge.amiType !== 'stasis') return undefined;
      return {
        body: { type, timestamp: at(), bridge: bridgeJson(e.bridge), channel: channelJson(e.ch) },
        apps: new Set([...e.ch.apps, ...e.bridge.apps]),
        channel: e.ch,
      };
    }
    case 'BridgeDestroy':
      if (e.bridge.amiType !== 'stasis') return undefined;
      return { body: { type: 'BridgeDestroyed', timestamp: at(), bridge: bridgeJson(e.bridge) }, apps: new Set(e.bridge.apps) };
    case 'RecordingStarted':
    case 'RecordingFinished':
      return { body: { type: e.type, timestamp: at(), recording: liveRecordingJson(e.rec) }, apps: new Set(e.rec.app ? [e.rec.app] : []) };
    case 'PlaybackStarted':
    case 'PlaybackFinished':
      return { body: { type: e.type, timestamp: at(), playback: playbackJson(e.playback) }, apps: new Set(e.playback.app ? [e.playback.app] : []) };
    case 'ContactStatus':
      return {
        body: {
          type: 'ContactStatusChange', timestamp: at(), endpoint: endpointJson(world, e.ep),
          contact_info: { uri: contactUri(world, e.ep.sip), contact_status: e.status, aor: e.ep.sip, roundtrip_usec: String(e.rtt) },
        },
        apps: new Set(),
        endpoint: e.ep.sip,
      };
    case 'PeerStatus':
      return {
        body: { type: 'PeerStatusChange', timestamp: at(), endpoint: endpointJson(world, e.ep), peer: { peer_status: e.status } },
        apps: new Set(),
        endpoint: e.ep.sip,
      };
    case 'EndpointStateChange':
      return { body: { type: 'EndpointStateChange', timestamp: at(), endpoint: endpointJson(world, e.ep) }, apps: new Set(), endpoint: e.ep.sip };
    case 'DeviceStateChange':
      return {
        body: { type: 'DeviceStateChanged', timestamp: at(), device_state: { name: e.device, state: e.state } },
        apps: new Set(),
        device: e.device,
      };
    default:
      return undefined;
  }
}
