import { causeText } from './cast.js';
import { contactUri } from './presence.js';
import type { World } from './world.js';
import { CHAN_STATE_NUM, type Bridge, type Channel, type SimEvent } from './types.js';

/** Ordered AMI headers; duplicates allowed. */
export type Headers = Array<[string, string]>;

/** One AMI message: `Key: Value` lines, CRLF, terminated by an empty line. */
export function frame(h: Headers): string {
  let out = '';
  for (const [k, v] of h) out += `${k}: ${v}\r\n`;
  return out + '\r\n';
}

/** `2026-11-24T04:01:56.286+0000`, the timestamp format of AMI EventTV and ARI. */
export function formatTv(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

/** `2026-11-24 03:58:54`, as cel_manager prints EventTime. */
function celTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

function orUnknown(v: string): string {
  return v === '' ? '<unknown>' : v;
}

/** The standard channel snapshot block (Newchannel, Hangup, …); `prefix` gives `Dest…` or `LocalOne…`. */
export function channelHeaders(ch: Channel, prefix = ''): Headers {
  return [
    [`${prefix}Channel`, ch.name],
    [`${prefix}ChannelState`, String(CHAN_STATE_NUM[ch.state])],
    [`${prefix}ChannelStateDesc`, ch.state],
    [`${prefix}CallerIDNum`, orUnknown(ch.callerNum)],
    [`${prefix}CallerIDName`, orUnknown(ch.callerName)],
    [`${prefix}ConnectedLineNum`, orUnknown(ch.connectedNum)],
    [`${prefix}ConnectedLineName`, orUnknown(ch.connectedName)],
    [`${prefix}Language`, ch.language],
    [`${prefix}AccountCode`, ch.accountCode],
    [`${prefix}Context`, ch.context],
    [`${prefix}Exten`, ch.exten],
    [`${prefix}Priority`, String(ch.priority)],
    [`${prefix}Uniqueid`, ch.id],
    [`${prefix}Linkedid`, ch.linkedid],
  ];
}

export function bridgeHeaders(b: Bridge, prefix = ''): Headers {
  return [
    [`${prefix}BridgeUniqueid`, b.id],
    [`${prefix}BridgeType`, b.amiType],
    [`${prefix}BridgeTechnology`, b.technology],
    [`${prefix}BridgeCreator`, orUnknown(b.creator)],
    [`${prefix}BridgeName`, orUnknown(b.name)],
    // a bridge recorder is a channel of the bridge too (B1: BridgeLeave of the client says 2)
    [`${prefix}BridgeNumChannels`, String(b.channels.length + b.recordings.filter((r) => r.state === 'recording' && r.recorder).length)],
    [`${prefix}BridgeVideoSourceMode`, b.amiType === 'stasis' ? b.videoMode : 'none'],
  ];
}

/** An event ready for the wire plus its privilege classes (for the Events filter of a session). */
export interface AmiEvent {
  text: string;
  classes: string[];
}

function ev(name: string, cls: string, body: Headers): AmiEvent {
  return { text: frame([['Event', name], ['Privilege', `${cls},all`], ...body]), classes: [cls] };
}

function dialHeaders(e: { caller?: Channel; peer: Channel }): Headers {
  return [...(e.caller ? channelHeaders(e.caller) : []), ...channelHeaders(e.peer, 'Dest')];
}

/** Renders a world event the way Asterisk 22 writes it on AMI; undefined for ARI-only events. */
export function renderAmiEvent(e: SimEvent, world: World): AmiEvent | undefined {
  switch (e.type) {
    case 'Newchannel':
    case 'Newstate':
    case 'NewConnectedLine':
    case 'MixMonitorStart':
      return ev(e.type, 'call', channelHeaders(e.ch));
    case 'NewCallerid':
      return ev('NewCallerid', 'call', [...channelHeaders(e.ch), ['CID-CallingPres', '0 (Presentation Allowed, Not Screened)']]);
    case 'VarSet':
      return ev('VarSet', 'dialplan', [...channelHeaders(e.ch), ['Variable', e.variable], ['Value', e.value]]);
    case 'Newexten':
      return ev('Newexten', 'dialplan', [...channelHeaders(e.ch), ['Extension', e.extension], ['Application', e.app], ['AppData', e.appData]]);
    case 'DialBegin':
      return ev('DialBegin', 'call', [...dialHeaders(e), ['DialString', e.dialstring]]);
    case 'DialState':
    case 'DialEnd':
      return ev(e.type, 'call', [...dialHeaders(e), ['DialStatus', e.status]]);
    case 'HangupRequest': {
      const h = channelHeaders(e.ch);
      if (e.cause !== undefined) h.push(['Cause', String(e.cause)]);
      if (e.techCause !== undefined) h.push(['TechCause', String(e.techCause)]);
      return ev('HangupRequest', 'call', h);
    }
    case 'SoftHangupRequest': {
      const h: Headers = [...channelHeaders(e.ch), ['Cause', String(e.cause)]];
      if (e.techCause !== undefined) h.push(['TechCause', String(e.techCause)]);
      return ev('SoftHangupRequest', 'call', h);
    }
    case 'AmiEvent': {
      const h: Headers = [];
      for (const part of e.parts) {
        if ('ch' in part) h.push(...channelHeaders(part.ch, part.prefix ?? ''));
        else if ('bridge' in part) h.push(...bridgeHeaders(part.bridge, part.prefix ?? ''));
        else h.push(...part.headers);
      }
      return ev(e.name, e.privilege, h);
    }
    case 'Hangup': {
      const h: Headers = [...channelHeaders(e.ch), ['Cause', String(e.cause)], ['Cause-txt', causeText(e.cause)]];
      if (e.techCause !== undefined) h.push(['TechCause', String(e.techCause)]);
      return ev('Hangup', 'call', h);
    }
    case 'DeviceStateChange':
      return ev('DeviceStateChange', 'call', [['Device', e.device], ['State', e.state]]);
    case 'LocalBridge':
      return ev('LocalBridge', 'call', [
        ...channelHeaders(e.one, 'LocalOne'), ...channelHeaders(e.two, 'LocalTwo'),
        ['Context', e.context], ['Exten', e.exten], ['LocalOptimization', e.optimization ? 'Yes' : 'No'],
      ]);
    case 'OriginateResponse': {
      const h: Headers = [];
      if (e.actionId !== undefined) h.push(['ActionID', e.actionId]);
      h.push(['Response', e.response], ['Channel', e.channel], ['Context', e.context], ['Exten', e.exten], ['Reason', String(e.reason)],
        ['Uniqueid', e.uniqueid], ['CallerIDNum', e.callerNum], ['CallerIDName', e.callerName]);
      return ev('OriginateResponse', 'call', h);
    }
    case 'BridgeCreate':
    case 'BridgeDestroy':
      return ev(e.type, 'call', bridgeHeaders(e.bridge));
    case 'BridgeEnter':
    case 'BridgeLeave':
      return ev(e.type, 'call', [...bridgeHeaders(e.bridge), ...channelHeaders(e.ch)]);
    case 'Cdr':
      return ev('Cdr', 'cdr', e.fields);
    case 'CEL':
      return ev('CEL', 'call', [
        ['EventName', e.event], ['AccountCode', e.ch.accountCode], ['CallerIDnum', e.ch.callerNum], ['CallerIDname', e.ch.callerName],
        ['CallerIDani', e.event === 'CHAN_START' ? '' : e.ch.callerNum], ['CallerIDrdnis', ''], ['CallerIDdnid', ''], ['Exten', e.ch.exten],
        ['Context', e.ch.context], ['Channel', e.ch.name], ['Application', e.ch.appName], ['AppData', e.ch.appData], ['EventTime', celTime(new Date())],
        ['AMAFlags', 'DOCUMENTATION'], ['UniqueID', e.ch.id], ['LinkedID', e.ch.linkedid], ['Userfield', e.ch.userfield], ['Peer', e.peer ?? ''],
        ['PeerAccount', ''], ['Extra', e.extra ?? ''],
      ]);
    case 'ContactStatus':
      return ev('ContactStatus', 'system', [
        ['URI', contactUri(world, e.ep.sip)], ['ContactStatus', e.status], ['AOR', e.ep.sip], ['EndpointName', e.ep.sip], ['RoundtripUsec', String(e.rtt)],
      ]);
    case 'PeerStatus':
      return ev('PeerStatus', 'system', [['ChannelType', 'PJSIP'], ['Peer', `PJSIP/${e.ep.sip}`], ['PeerStatus', e.status]]);
    case 'Security': {
      const h: Headers = [
        ['EventTV', formatTv(new Date())], ['Severity', 'Informational'], ['Service', 'PJSIP'], ['EventVersion', '1'],
        ['AccountID', e.ep.sip], ['SessionID', e.callId], ['LocalAddress', 'IPV4/UDP/127.0.0.1/5060'],
        ['RemoteAddress', `IPV4/UDP/127.0.0.1/${e.ep.port}`],
      ];
      h.push(e.name === 'ChallengeSent' ? ['Challenge', ''] : ['UsingPassword', '1']);
      return ev(e.name, 'security', h);
    }
    default:
      return undefined;
  }
}

/** `HH:MM:SS` as CoreShowChannel prints a duration. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}
