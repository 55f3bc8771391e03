import { modelsJson } from './ari-models.js';

/**
 * The ARI operations the simulator implements, in Asterisk 22's swagger 1.1 terms.
 * The router dispatches on this same table, so the served documents list exactly
 * what works. Nicknames are Asterisk's: ari-client builds `client.channels.originate`
 * and friends from them.
 */
export interface ParamSpec {
  name: string;
  paramType: 'path' | 'query' | 'body';
  required: boolean;
  allowMultiple: boolean;
  dataType: string;
  defaultValue?: string | number | boolean;
  allowableValues?: string[];
}

export interface OpSpec {
  resource: string;
  path: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  nickname: string;
  responseClass: string;
  summary: string;
  params: ParamSpec[];
}

const path = (name: string): ParamSpec => ({ name, paramType: 'path', required: true, allowMultiple: false, dataType: 'string' });
const query = (name: string, dataType = 'string', extra: Partial<ParamSpec> = {}): ParamSpec =>
  ({ name, paramType: 'query', required: false, allowMultiple: false, dataType, ...extra });
const req = (name: string, dataType = 'string', extra: Partial<ParamSpec> = {}): ParamSpec => query(name, dataType, { required: true, ...extra });
const body = (name: string): ParamSpec => ({ name, paramType: 'body', required: false, allowMultiple: false, dataType: 'containers' });

const HANGUP_REASONS = ['normal', 'busy', 'congestion', 'no_answer', 'timeout', 'rejected', 'unallocated', 'normal_unspecified',
  'number_incomplete', 'codec_mismatch', 'interworking', 'failure', 'answered_elsewhere'];

const ORIGINATE_PARAMS: ParamSpec[] = [
  req('endpoint'), query('extension'), query('context'), query('priority', 'long'), query('label'), query('app'), query('appArgs'),
  query('callerId'), query('timeout', 'int', { defaultValue: 30 }), body('variables'), query('otherChannelId'), query('originator'), query('formats'),
];

function op(resource: string, method: OpSpec['method'], p: string, nickname: string, responseClass: string, summary: string, params: ParamSpec[] = []): OpSpec {
  return { resource, path: p, method, nickname, responseClass, summary, params };
}

export const ARI_OPERATIONS: OpSpec[] = [
  op('asterisk', 'GET', '/asterisk/info', 'getInfo', 'AsteriskInfo', 'Gets Asterisk system information.',
    [query('only', 'string', { allowMultiple: true, allowableValues: ['build', 'system', 'config', 'status'] })]),
  op('asterisk', 'GET', '/asterisk/ping', 'ping', 'AsteriskPing', 'Response pong message.'),
  op('asterisk', 'GET', '/asterisk/variable', 'getGlobalVar', 'Variable', 'Get the value of a global variable.', [req('variable')]),
  op('asterisk', 'POST', '/asterisk/variable', 'setGlobalVar', 'void', 'Set the value of a global variable.', [req('variable'), query('value')]),
  op('endpoints', 'GET', '/endpoints', 'list', 'List[Endpoint]', 'List all endpoints.'),
  op('endpoints', 'GET', '/endpoints/{tech}', 'listByTech', 'List[Endpoint]', 'List available endoints for a given endpoint technology.', [path('tech')]),
  op('endpoints', 'GET', '/endpoints/{tech}/{resource}', 'get', 'Endpoint', 'Details for an endpoint.', [path('tech'), path('resource')]),
  op('channels', 'GET', '/channels', 'list', 'List[Channel]', 'List all active channels in Asterisk.'),
  op('channels', 'POST', '/channels', 'originate', 'Channel', 'Create a new channel (originate).', [...ORIGINATE_PARAMS.slice(0, 10), query('channelId'), ...ORIGINATE_PARAMS.slice(10)]),
  op('channels', 'GET', '/channels/{channelId}', 'get', 'Channel', 'Channel details.', [path('channelId')]),
  op('channels', 'POST', '/channels/{channelId}', 'originateWithId', 'Channel', 'Create a new channel (originate with id).', [path('channelId'), ...ORIGINATE_PARAMS]),
  op('channels', 'DELETE', '/channels/{channelId}', 'hangup', 'void', 'Delete (i.e. hangup) a channel.',
    [path('channelId'), query('reason_code'), query('reason', 'string', { allowableValues: HANGUP_REASONS })]),
  op('channels', 'POST', '/channels/{channelId}/answer', 'answer', 'void', 'Answer a channel.', [path('channelId')]),
  op('channels', 'POST', '/channels/{channelId}/ring', 'ring', 'void', 'Indicate ringing to a channel.', [path('channelId')]),
  op('channels', 'DELETE', '/channels/{channelId}/ring', 'ringStop', 'void', 'Stop ringing indication on a channel if locally generated.', [path('channelId')]),
  op('channels', 'GET', '/channels/{channelId}/variable', 'getChannelVar', 'Variable', 'Get the value of a channel variable or function.', [path('channelId'), req('variable')]),
  op('channels', 'POST', '/channels/{channelId}/variable', 'setChannelVar', 'void', 'Set the value of a channel variable or function.',
    [path('channelId'), req('variable'), query('value')]),
  op('bridges', 'GET', '/bridges', 'list', 'List[Bridge]', 'List all active bridges in Asterisk.'),
  op('bridges', 'POST', '/bridges', 'create', 'Bridge', 'Create a new bridge.', [query('type'), query('bridgeId'), query('name')]),
  op('bridges', 'POST', '/bridges/{bridgeId}', 'createWithId', 'Bridge', 'Create a new bridge or updates an existing one.', [query('type'), path('bridgeId'), query('name')]),
  op('bridges', 'GET', '/bridges/{bridgeId}', 'get', 'Bridge', 'Get bridge details.', [path('bridgeId')]),
  op('bridges', 'DELETE', '/bridges/{bridgeId}', 'destroy', 'void', 'Shut down a bridge.', [path('bridgeId')]),
  op('bridges', 'POST', '/bridges/{bridgeId}/addChannel', 'addChannel', 'void', 'Add a channel to a bridge.',
    [path('bridgeId'), req('channel', 'string', { allowMultiple: true }), query('role'), query('absorbDTMF', 'boolean', { defaultValue: false }),
      query('mute', 'boolean', { defaultValue: false }), query('inhibitConnectedLineUpdates', 'boolean', { defaultValue: false })]),
  op('bridges', 'POST', '/bridges/{bridgeId}/removeChannel', 'removeChannel', 'void', 'Remove a channel from a bridge.',
    [path('bridgeId'), req('channel', 'string', { allowMultiple: true })]),
  op('bridges', 'POST', '/bridges/{bridgeId}/play', 'play', 'Playback', 'Start playback of media on a bridge.',
    [path('bridgeId'), req('media', 'string', { allowMultiple: true }), query('announcer_format'), query('lang'), query('offsetms', 'int', { defaultValue: 0 }),
      query('skipms', 'int', { defaultValue: 3000 }), query('playbackId')]),
  op('bridges', 'POST', '/bridges/{bridgeId}/record', 'record', 'LiveRecording', 'Start a recording.',
    [path('bridgeId'), req('name'), req('format'), query('recorder_format'), query('maxDurationSeconds', 'int', { defaultValue: 0 }),
      query('maxSilenceSeconds', 'int', { defaultValue: 0 }), query('ifExists', 'string', { defaultValue: 'fail', allowableValues: ['fail', 'overwrite', 'append'] }),
      query('beep', 'boolean', { defaultValue: false }), query('terminateOn', 'string', { defaultValue: 'none', allowableValues: ['none', 'any', '*', '#'] })]),
  op('recordings', 'GET', '/recordings/stored', 'listStored', 'List[StoredRecording]', 'List recordings that are complete.'),
  op('recordings', 'GET', '/recordings/stored/{recordingName}', 'getStored', 'StoredRecording', 'Get a stored recording\'s details.', [path('recordingName')]),
  op('recordings', 'DELETE', '/recordings/stored/{recordingName}', 'deleteStored', 'void', 'Delete a stored recording.', [path('recordingName')]),
  op('recordings', 'GET', '/recordings/stored/{recordingName}/file', 'getStoredFile', 'binary', 'Get the file associated with the stored recording.', [path('recordingName')]),
  op('recordings', 'GET', '/recordings/live/{recordingName}', 'getLive', 'LiveRecording', 'List live recordings.', [path('recordingName')]),
  op('recordings', 'POST', '/recordings/live/{recordingName}/stop', 'stop', 'void', 'Stop a live recording and store it.', [path('recordingName')]),
  op('sounds', 'GET', '/sounds', 'list', 'List[Sound]', 'List all sounds.', [query('lang'), query('format')]),
  op('playbacks', 'GET', '/playbacks/{playbackId}', 'get', 'Playback', 'Get a playback\'s details.', [path('playbackId')]),
  op('playbacks', 'DELETE', '/playbacks/{playbackId}', 'stop', 'void', 'Stop a playback.', [path('playbackId')]),
  op('deviceStates', 'GET', '/deviceStates', 'list', 'List[DeviceState]', 'List all ARI controlled device states.'),
  op('deviceStates', 'GET', '/deviceStates/{deviceName}', 'get', 'DeviceState', 'Retrieve the current state of a device.', [path('deviceName')]),
  op('mailboxes', 'GET', '/mailboxes', 'list', 'List[Mailbox]', 'List all mailboxes.'),
  op('events', 'GET', '/events', 'eventWebsocket', 'Message', 'WebSocket connection for events.',
    [req('app', 'string', { allowMultiple: true }), query('subscribeAll', 'boolean')]),
  op('applications', 'GET', '/applications', 'list', 'List[Application]', 'List all applications.'),
  op('applications', 'GET', '/applications/{applicationName}', 'get', 'Application', 'Get details of an application.', [path('applicationName')]),
  op('applications', 'POST', '/applications/{applicationName}/subscription', 'subscribe', 'Application', 'Subscribe an application to a event source.',
    [path('applicationName'), req('eventSource', 'string', { allowMultiple: true })]),
  op('applications', 'DELETE', '/applications/{applicationName}/subscription', 'unsubscribe', 'Application', 'Unsubscribe an application from an event source.',
    [path('applicationName'), req('eventSource', 'string', { allowMultiple: true })]),
];

/** Resources in the order of Asterisk's resources.json. */
export const ARI_RESOURCES: Array<[string, string]> = [
  ['asterisk', 'Asterisk resources'], ['endpoints', 'Endpoint resources'], ['channels', 'Channel resources'], ['bridges', 'Bridge resources'],
  ['recordings', 'Recording resources'], ['sounds', 'Sound resources'], ['playbacks', 'Playback control resources'],
  ['deviceStates', 'Device state resources'], ['mailboxes', 'Mailboxes resources'], ['events', 'WebSocket resource'],
  ['applications', 'Stasis application resources'],
];

/** GET /ari/api-docs/resources.json */
export function resourceListing(basePath: string): Record<string, unknown> {
  return {
    apiVersion: '10.0.0',
    swaggerVersion: '1.1',
    basePath,
    apis: ARI_RESOURCES.map(([name, description]) => ({ path: `/api-docs/${name}.{format}`, description })),
  };
}

function paramJson(p: ParamSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: p.name, paramType: p.paramType, required: p.required, allowMultiple: p.allowMultiple, dataType: p.dataType,
  };
  if (p.defaultValue !== undefined) out.defaultValue = p.defaultValue;
  if (p.allowableValues) out.allowableValues = { valueType: 'LIST', values: p.allowableValues };
  return out;
}

/** GET /ari/api-docs/{resource}.json, or undefined for an unknown resource. */
export function apiDeclaration(resource: string, basePath: string): Record<string, unknown> | undefined {
  if (!ARI_RESOURCES.some(([name]) => name === resource)) return undefined;
  const apis: Array<{ path: string; description: string; operations: unknown[] }> = [];
  for (const o of ARI_OPERATIONS.filter((x) => x.resource === resource)) {
    let api = apis.find((a) => a.path === o.path);
    if (!api) {
      api = { path: o.path, description: o.summary, operations: [] };
      apis.push(api);
    }
    api.operations.push({
      httpMethod: o.method, summary: o.summary, nickname: o.nickname, responseClass: o.responseClass, parameters: o.params.map(paramJson),
    });
  }
  return {
    apiVersion: '2.0.0',
    swaggerVersion: '1.1',
    basePath,
    resourcePath: `/api-docs/${resource}.{format}`,
    apis,
    models: modelsJson(resource),
  };
}
