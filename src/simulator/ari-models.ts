/**
 * Swagger 1.1 models of the ARI resources the simulator serves, by resource.
 * A property is `type` or `[type, required]`. ari-client instantiates resource
 * objects from the `type` of event properties (Channel, Bridge, Endpoint, …), so
 * every event the simulator sends has a model here.
 */
type Prop = string | [string, boolean];
type ModelTable = Record<string, Record<string, Prop>>;

const CHANNEL_EVENT: Record<string, Prop> = { channel: ['Channel', true] };

export const MODELS: Record<string, ModelTable> = {
  asterisk: {
    BuildInfo: { os: ['string', true], kernel: ['string', true], options: ['string', true], machine: ['string', true], date: ['string', true], user: ['string', true] },
    SystemInfo: { version: ['string', true], entity_id: ['string', true] },
    SetId: { user: ['string', true], group: ['string', true] },
    ConfigInfo: { name: ['string', true], default_language: ['string', true], max_channels: 'int', max_open_files: 'int', max_load: 'double', setid: ['SetId', true] },
    StatusInfo: { startup_time: ['Date', true], last_reload_time: ['Date', true] },
    AsteriskInfo: { build: 'BuildInfo', system: 'SystemInfo', config: 'ConfigInfo', status: 'StatusInfo' },
    AsteriskPing: { asterisk_id: ['string', true], ping: ['string', true], timestamp: ['string', true] },
    Variable: { value: ['string', true] },
  },
  endpoints: {
    Endpoint: { technology: ['string', true], resource: ['string', true], state: 'string', channel_ids: ['List[string]', true] },
  },
  channels: {
    CallerID: { name: ['string', true], number: ['string', true] },
    DialplanCEP: { context: ['string', true], exten: ['string', true], priority: ['long', true], app_name: ['string', true], app_data: ['string', true] },
    Channel: {
      id: ['string', true], protocol_id: ['string', true], name: ['string', true], state: ['string', true], caller: ['CallerID', true],
      connected: ['CallerID', true], accountcode: ['string', true], dialplan: ['DialplanCEP', true], creationtime: ['Date', true],
      language: ['string', true], channelvars: 'object',
    },
  },
  bridges: {
    Bridge: {
      id: ['string', true], technology: ['string', true], bridge_type: ['string', true], bridge_class: ['string', true], creator: ['string', true],
      name: ['string', true], channels: ['List[string]', true], video_mode: 'string', video_source_id: 'string', creationtime: ['Date', true],
    },
  },
  recordings: {
    StoredRecording: { name: ['string', true], format: ['string', true] },
    LiveRecording: {
      name: ['string', true], format: ['string', true], target_uri: ['string', true], state: ['string', true], duration: 'int',
      talking_duration: 'int', silence_duration: 'int', cause: 'string',
    },
  },
  sounds: {
    FormatLangPair: { language: ['string', true], format: ['string', true] },
    Sound: { id: ['string', true], text: 'string', formats: ['List[FormatLangPair]', true] },
  },
  playbacks: {
    Playback: { id: ['string', true], media_uri: ['string', true], next_media_uri: 'string', target_uri: ['string', true], language: 'string', state: ['string', true] },
  },
  deviceStates: {
    DeviceState: { name: ['string', true], state: ['string', true] },
  },
  mailboxes: {
    Mailbox: { name: ['string', true], old_messages: ['int', true], new_messages: ['int', true] },
  },
  applications: {
    Application: {
      name: ['string', true], channel_ids: ['List[string]', true], bridge_ids: ['List[string]', true], endpoint_ids: ['List[string]', true],
      device_names: ['List[string]', true], events_allowed: ['List[object]', true], events_disallowed: ['List[object]', true],
    },
  },
  events: {
    Message: { type: ['string', true], asterisk_id: 'string' },
    Event: { application: ['string', true], timestamp: ['Date', true] },
    ContactInfo: { uri: ['string', true], contact_status: ['string', true], aor: ['string', true], roundtrip_usec: 'string' },
    Peer: { peer_status: ['string', true], cause: 'string', address: 'string', port: 'string', time: 'string' },
    DeviceStateChanged: { device_state: ['DeviceState', true] },
    PlaybackStarted: { playback: ['Playback', true] },
    PlaybackFinished: { playback: ['Playback', true] },
    RecordingStarted: { recording: ['LiveRecording', true] },
    RecordingFinished: { recording: ['LiveRecording', true] },
    RecordingFailed: { recording: ['LiveRecording', true] },
    ApplicationReplaced: {},
    BridgeCreated: { bridge: ['Bridge', true] },
    BridgeDestroyed: { bridge: ['Bridge', true] },
    ChannelCreated: CHANNEL_EVENT,
    ChannelDestroyed: { cause: ['int', true], cause_txt: ['string', true], tech_cause: 'int', channel: ['Channel', true] },
    ChannelEnteredBridge: { bridge: ['Bridge', true], channel: 'Channel' },
    ChannelLeftBridge: { bridge: ['Bridge', true], channel: ['Channel', true] },
    ChannelStateChange: CHANNEL_EVENT,
    ChannelDialplan: { channel: ['Channel', true], dialplan_app: ['string', true], dialplan_app_data: ['string', true] },
    ChannelCallerId: { caller_presentation: ['int', true], caller_presentation_txt: ['string', true], channel: ['Channel', true] },
    ChannelHangupRequest: { cause: 'int', tech_cause: 'int', soft: 'boolean', channel: ['Channel', true] },
    ChannelVarset: { variable: ['string', true], value: ['string', true], channel: 'Channel' },
    ChannelConnectedLine: CHANNEL_EVENT,
    ContactStatusChange: { endpoint: ['Endpoint', true], contact_info: ['ContactInfo', true] },
    PeerStatusChange: { endpoint: ['Endpoint', true], peer: ['Peer', true] },
    EndpointStateChange: { endpoint: ['Endpoint', true] },
    Dial: {
      caller: 'Channel', peer: ['Channel', true], forward: 'string', forwarded: 'Channel', dialstring: 'string', dialstatus: ['string', true],
    },
    StasisEnd: CHANNEL_EVENT,
    StasisStart: { args: ['List[string]', true], channel: ['Channel', true], replace_channel: 'Channel' },
  },
};

/** Event types (everything in the events resource that derives from Event). */
const NOT_EVENTS = new Set(['Message', 'Event', 'ContactInfo', 'Peer']);

/** Renders the models of one resource as swagger 1.1 JSON. */
export function modelsJson(resource: string): Record<string, unknown> {
  const table = MODELS[resource] ?? {};
  const out: Record<string, unknown> = {};
  for (const [id, props] of Object.entries(table)) {
    const properties: Record<string, unknown> = {};
    for (const [name, prop] of Object.entries(props)) {
      const [type, required] = typeof prop === 'string' ? [prop, false] : prop;
      properties[name] = { required, type };
    }
    const model: Record<string, unknown> = { id, properties };
    if (resource === 'events' && id === 'Message') {
      model.discriminator = 'type';
      model.subTypes = ['Event'];
    }
    if (resource === 'events' && id === 'Event') {
      model.subTypes = Object.keys(table).filter((k) => !NOT_EVENTS.has(k));
    }
    out[id] = model;
  }
  return out;
}
