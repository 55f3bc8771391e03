import { createHash } from 'node:crypto';
import { bridgeHeaders, channelHeaders, formatDuration, frame, type Headers } from './ami-format.js';
import { response, type AmiMessage, type AmiServer, type AmiSession } from './ami-server.js';
import { contactUri } from './presence.js';
import type { World } from './world.js';
import type { DeviceState, Endpoint } from './types.js';

/** ast_devstate_str() texts used by PJSIPShowEndpoints. */
const DEVSTATE_TEXT: Record<DeviceState, string> = {
  NOT_INUSE: 'Not in use',
  INUSE: 'In use',
  BUSY: 'Busy',
  UNAVAILABLE: 'Unavailable',
  RINGING: 'Ringing',
  RINGINUSE: 'Ring+Inuse',
  ONHOLD: 'On Hold',
  UNKNOWN: 'Unknown',
};

/** Response `EventList: start`, the items, then the `…Complete` event with ListItems (C1/C4). */
function sendList(s: AmiSession, msg: AmiMessage, message: string, event: string, items: Headers[], complete: string): void {
  const id = msg.get('ActionID');
  const idh: Headers = id === undefined ? [] : [['ActionID', id]];
  let out = response('Success', msg, [['EventList', 'start'], ['Message', message]]);
  for (const item of items) out += frame([['Event', event], ...idh, ...item]);
  out += frame([['Event', complete], ...idh, ['EventList', 'Complete'], ['ListItems', String(items.length)]]);
  s.send(out);
}

function activeChannels(world: World, sip: string): number {
  let n = 0;
  for (const ch of world.channels.values()) if (ch.device === `PJSIP/${sip}`) n++;
  return n;
}

function contactRef(world: World, ep: Endpoint): string {
  return ep.registered ? `${ep.sip}/${contactUri(world, ep.sip)}` : '';
}

function aorHeaders(world: World, ep: Endpoint, contactsKey: 'Contacts' | 'Contact'): Headers {
  return [
    ['ObjectType', 'aor'], ['ObjectName', ep.sip], ['MinimumExpiration', '10'], ['DefaultExpiration', '300'],
    ['QualifyTimeout', '3.000000'], ['Qualify2xxOnly', 'false'], ['Mailboxes', ''], ['SupportPath', 'false'],
    ['RemoveUnavailable', 'false'], ['VoicemailExtension', ''], ['MaxContacts', '1'], ['AuthenticateQualify', 'false'],
    [contactsKey, contactRef(world, ep)], ['MaximumExpiration', '3600'], ['QualifyFrequency', '5'], ['RemoveExisting', 'true'],
    ['OutboundProxy', ''],
  ];
}

/** The clients trunk: an endpoint with a static contact and no registration, listed after the phones. */
const TRUNK = 'clients';
const TRUNK_CONTACT = `${TRUNK}/sip:127.0.0.1:5070`;

function trunkAor(contactsKey: 'Contacts' | 'Contact'): Headers {
  return [
    ['ObjectType', 'aor'], ['ObjectName', TRUNK], ['MinimumExpiration', '60'], ['DefaultExpiration', '3600'],
    ['QualifyTimeout', '3.000000'], ['Qualify2xxOnly', 'false'], ['Mailboxes', ''], ['SupportPath', 'false'],
    ['RemoveUnavailable', 'false'], ['VoicemailExtension', ''], ['MaxContacts', '0'], ['AuthenticateQualify', 'false'],
    [contactsKey, TRUNK_CONTACT], ['MaximumExpiration', '7200'], ['QualifyFrequency', '0'], ['RemoveExisting', 'false'],
    ['OutboundProxy', ''],
  ];
}

/** PJSIP and core listing actions; false when `name` is not one of them. */
export function listAction(server: AmiServer, s: AmiSession, msg: AmiMessage, name: string): boolean {
  const world = server.world;
  const eps = [...world.endpoints.values()];
  switch (name) {
    case 'pjsipshowendpoints':
      sendList(s, msg, 'A listing of Endpoints follows, presented as EndpointList events', 'EndpointList', eps.map((ep) => [
        ['ObjectType', 'endpoint'], ['ObjectName', ep.sip], ['Transport', 'transport-udp'], ['Aor', ep.sip], ['Auths', `${ep.sip}-auth`],
        ['OutboundAuths', ''], ['Contacts', ep.registered ? `${contactRef(world, ep)},` : ''],
        ['DeviceState', DEVSTATE_TEXT[world.deviceStateOf(`PJSIP/${ep.sip}`)]], ['ActiveChannels', String(activeChannels(world, ep.sip))],
      ] as Headers).concat(!world.listTrunk ? [] : [[
        ['ObjectType', 'endpoint'], ['ObjectName', TRUNK], ['Transport', 'transport-udp'], ['Aor', TRUNK], ['Auths', ''],
        ['OutboundAuths', ''], ['Contacts', `${TRUNK_CONTACT},`], ['DeviceState', DEVSTATE_TEXT[world.deviceStateOf(`PJSIP/${TRUNK}`)]],
        ['ActiveChannels', String(activeChannels(world, TRUNK))],
      ]]), 'EndpointListComplete');
      return true;
    case 'pjsipshowendpoint': {
      const sip = msg.get('Endpoint') ?? '';
      const ep = world.endpoints.get(sip);
      if (!ep) {
        s.send(response('Error', msg, [['Message', `Unable to retrieve endpoint ${sip}\n`]]));
        return true;
      }
      const items: Array<[string, Headers]> = [
        ['EndpointDetail', [
          ['ObjectType', 'endpoint'], ['ObjectName', ep.sip], ['Context', ep.context], ['Aors', ep.sip], ['Auth', `${ep.sip}-auth`],
          ['Callerid', `"${ep.callerName}" <${ep.sip}>`], ['Transport', 'transport-udp'], ['Allow', '(ulaw|alaw)'], ['DtmfMode', 'rfc4733'],
          ['DirectMedia', 'false'], ['DeviceState', DEVSTATE_TEXT[world.deviceStateOf(`PJSIP/${ep.sip}`)]],
          ['ActiveChannels', String(activeChannels(world, ep.sip))],
        ]],
        ['AuthDetail', [
          ['ObjectType', 'auth'], ['ObjectName', `${ep.sip}-auth`], ['OauthSecret', ''], ['PasswordDigest', ''], ['SupportedAlgorithmsUas', 'MD5'],
          ['RefreshToken', ''], ['Username', ep.sip], ['Md5Cred', ''], ['Realm', ''], ['AuthType', 'userpass'], ['Password', ''],
          ['SupportedAlgorithmsUac', 'MD5'], ['NonceLifetime', '32'], ['OauthClientid', ''], ['EndpointName', ep.sip],
        ]],
        ['TransportDetail', [
          ['ObjectType', 'transport'], ['ObjectName', 'transport-udp'], ['WebsocketWriteTimeout', '100'], ['Cos', '0'], ['TcpKeepaliveEnable', 'false'],
          ['Protocol', 'udp'], ['SymmetricTransport', 'false'], ['Domain', ''], ['VerifyServer', 'No'], ['LocalNet', ''], ['Bind', '127.0.0.1:5060'],
          ['AllowWildcardCerts', 'No'], ['TcpKeepaliveIntervalTime', '1'], ['AsyncOperations', '1'], ['ExternalMediaAddress', ''], ['Method', 'unspecified'],
          ['ExternalSignalingAddress', ''], ['RequireClientCert', 'No'], ['TcpKeepaliveIdleTime', '30'], ['Tos', '0'], ['CaListPath', ''], ['Cipher', ''],
          ['CertFile', ''], ['ExternalSignalingPort', '0'], ['Password', ''], ['AllowReload', 'false'], ['VerifyClient', 'No'],
          ['TcpKeepaliveProbeCount', '5'], ['PrivKeyFile', ''], ['CaListFile', ''], ['EndpointName', ep.sip],
        ]],
        ['AorDetail', [...aorHeaders(world, ep, 'Contacts'), ['TotalContacts', ep.registered ? '1' : '0'],
          ['ContactsRegistered', ep.registered ? '1' : '0'], ['EndpointName', ep.sip]]],
      ];
      if (ep.registered) {
        const uri = contactUri(world, ep.sip);
        items.push(['ContactStatusDetail', [
          ['AOR', ep.sip], ['URI', uri], ['UserAgent', ep.userAgent], ['RegExpire', String(Math.floor(ep.registeredAt / 1000) + 300)],
          ['ViaAddress', `127.0.0.1:${ep.port}`], ['CallID', ep.callId], ['Status', ep.unreachable ? 'Unreachable' : 'Reachable'],
          ['RoundtripUsec', ep.unreachable ? '0' : String(ep.roundtripUsec)], ['EndpointName', ep.sip],
          ['ID', `${ep.sip};@${createHash('md5').update(uri).digest('hex')}`], ['AuthenticateQualify', '0'], ['OutboundProxy', ''], ['Path', ''],
          ['QualifyFrequency', '5'], ['QualifyTimeout', '3.000'], ['Qualify2xxOnly', '0'],
        ]]);
      }
      const id = msg.get('ActionID');
      const idh: Headers = id === undefined ? [] : [['ActionID', id]];
      let out = response('Success', msg, [['EventList', 'start'], ['Message', 'Following are Events for each object associated with the Endpoint']]);
      for (const [event, h] of items) out += frame([['Event', event], ...idh, ...h]);
      out += frame([['Event', 'EndpointDetailComplete'], ...idh, ['EventList', 'Complete'], ['ListItems', String(items.length)]]);
      s.send(out);
      return true;
    }
    case 'pjsipshowcontacts': {
      const registered = eps.filter((ep) => ep.registered);
      if (registered.length === 0) {
        // Asterisk puts a bare LF inside this message (C1)
        s.send(response('Error', msg, [['Message', 'No Contacts found\n']]));
        return true;
      }
      sendList(s, msg, 'A listing of Contacts follows, presented as ContactList events', 'ContactList', registered.map((ep) => {
        const uri = contactUri(world, ep.sip);
        return [
          ['ObjectType', 'contact'], ['ObjectName', `${ep.sip};@${createHash('md5').update(uri).digest('hex')}`], ['ViaAddr', '127.0.0.1'],
          ['QualifyTimeout', '3.000000'], ['Qualify2xxOnly', 'false'], ['CallId', ep.callId], ['RegServer', ''], ['PruneOnBoot', 'no'],
          ['Path', ''], ['Endpoint', ep.sip], ['ViaPort', String(ep.port)], ['AuthenticateQualify', 'no'], ['Uri', uri],
          ['QualifyFrequency', '5'], ['UserAgent', ep.userAgent], ['ExpirationTime', String(Math.floor(ep.registeredAt / 1000) + 300)],
          ['OutboundProxy', ''], ['Status', ep.unreachable ? 'Unreachable' : 'Reachable'], ['RoundtripUsec', ep.unreachable ? '0' : String(ep.roundtripUsec)],
        ] as Headers;
      }), 'ContactListComplete');
      return true;
    }
    case 'pjsipshowaors':
      sendList(s, msg, 'A listing of AORs follows, presented as AorList events', 'AorList', [...eps.map((ep) => aorHeaders(world, ep, 'Contacts')), ...(world.listTrunk ? [trunkAor('Contacts')] : [])], 'AorListComplete');
      return true;
    case 'pjsipshowregistrationsinbound':
      sendList(s, msg, 'Following are Events for each Inbound registration', 'InboundRegistrationDetail',
        [...eps.map((ep) => [...aorHeaders(world, ep, 'Contact'), ['Contacts', ep.registered ? `${contactRef(world, ep)},` : '']] as Headers),
          ...(world.listTrunk ? [[...trunkAor('Contact'), ['Contacts', `${TRUNK_CONTACT},`]] as Headers] : [])],
        'InboundRegistrationDetailComplete');
      return true;
    case 'devicestatelist':
      sendList(s, msg, 'Device State Changes will follow', 'DeviceStateChange',
        world.deviceStates().map(([device, state]) => [['Device', device], ['State', state]]), 'DeviceStateListComplete');
      return true;
    case 'extensionstatelist':
      sendList(s, msg, 'Extension Statuses will follow', 'ExtensionStatus', [], 'ExtensionStateListComplete');
      return true;
    case 'bridgelist': {
      const type = msg.get('BridgeType');
      const bridges = [...world.bridges.values()].filter((b) => !type || b.amiType === type);
      sendList(s, msg, 'Bridge listing will follow', 'BridgeListItem', bridges.map((b) => bridgeHeaders(b)), 'BridgeListComplete');
      return true;
    }
    case 'bridgeinfo': {
      const id = msg.get('BridgeUniqueid') ?? '';
      if (!id) {
        s.send(response('Error', msg, [['Message', 'Bridge identifier not provided']]));
        return true;
      }
      const bridge = world.bridges.get(id);
      if (!bridge) {
        s.send(response('Error', msg, [['Message', `Bridge ${id} not found`]]));
        return true;
      }
      const aid = msg.get('ActionID');
      const idh: Headers = aid === undefined ? [] : [['ActionID', aid]];
      let out = response('Success', msg, [['EventList', 'start'], ['Message', 'Bridge channel listing will follow']]);
      for (const ch of bridge.channels) out += frame([['Event', 'BridgeInfoChannel'], ...idh, ...channelHeaders(ch)]);
      out += frame([['Event', 'BridgeInfoComplete'], ...idh, ['EventList', 'Complete'], ['ListItems', String(bridge.channels.length)], ...bridgeHeaders(bridge)]);
      s.send(out);
      return true;
    }
    case 'coreshowchannels': {
      const now = Date.now();
      sendList(s, msg, 'Channels will follow', 'CoreShowChannel', [...world.channels.values()].map((ch) => [
        ...channelHeaders(ch), ['Application', ch.appName], ['ApplicationData', ch.appData],
        ['Duration', formatDuration(now - ch.created.getTime())], ['BridgeId', ch.bridge?.id ?? ''],
      ]), 'CoreShowChannelsComplete');
      return true;
    }
    default:
      return false;
  }
}
