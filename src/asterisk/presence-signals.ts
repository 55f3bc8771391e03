/**
 * Raw AMI / ARI presence events and list-action answers → normalized
 * presence signals and snapshots. Field names follow the recorded Asterisk 22
 * traces (ContactStatus has URI/EndpointName but no user agent; ContactList
 * has no AOR header; EndpointList spells device states "Not in use").
 */
import { parseDeviceState, type PresenceSignal } from '../presence/model.js';

/** A received AMI message with lower-cased header names (see asterisk/ami). */
type AmiFields = Readonly<Record<string, string | string[] | undefined>>;

function first(msg: AmiFields, key: string): string | undefined {
  const v = msg[key];
  return Array.isArray(v) ? v[0] : v;
}

/** `PJSIP/1000` → {tech, sip}; devices of other kinds (Local/…@ctx, Queue:…, Custom:…) → undefined. */
export function splitDevice(device: string | undefined): { tech: string; sip: string } | undefined {
  const m = device ? /^(PJSIP|SIP|IAX2)\/([^/@;,\s-][^/@;,\s]*)$/.exec(device) : null;
  return m ? { tech: m[1]!, sip: m[2]! } : undefined;
}

/** A live AMI event → a presence signal, or undefined when it says nothing about an endpoint. */
export function amiPresenceSignal(msg: AmiFields): PresenceSignal | undefined {
  switch (first(msg, 'event')) {
    case 'DeviceStateChange': {
      const dev = splitDevice(first(msg, 'device'));
      const state = parseDeviceState(first(msg, 'state'));
      return dev && state ? { kind: 'device', sip: dev.sip, state } : undefined;
    }
    case 'ContactStatus': {
      const sip = first(msg, 'endpointname') ?? first(msg, 'aor');
      const status = first(msg, 'contactstatus');
      if (!sip || !status) return undefined;
      const uri = first(msg, 'uri');
      return { kind: 'contact', sip, status, ...(uri ? { uri } : {}) };
    }
    case 'PeerStatus': {
      const dev = splitDevice(first(msg, 'peer'));
      const status = first(msg, 'peerstatus');
      return dev && status ? { kind: 'peer', sip: dev.sip, status } : undefined;
    }
    default:
      return undefined;
  }
}

interface AriEndpoint {
  technology?: string;
  resource?: string;
  state?: string;
}

/** An ARI event (ContactStatusChange, PeerStatusChange, EndpointStateChange) → a presence signal. */
export function ariPresenceSignal(ev: Readonly<Record<string, unknown>>): PresenceSignal | undefined {
  const ep = ev.endpoint as AriEndpoint | undefined;
  const sip = ep?.resource;
  if (!sip || (ep.technology !== 'PJSIP' && ep.technology !== 'SIP')) return undefined;
  switch (ev.type) {
    case 'ContactStatusChange': {
      const info = ev.contact_info as { uri?: string; contact_status?: string } | undefined;
      if (!info?.contact_status) return undefined;
      return { kind: 'contact', sip, status: info.contact_status, ...(info.uri ? { uri: info.uri } : {}) };
    }
    case 'PeerStatusChange': {
      const peer = ev.peer as { peer_status?: string } | undefined;
      return peer?.peer_status ? { kind: 'peer', sip, status: peer.peer_status } : undefined;
    }
    case 'EndpointStateChange': {
      const state = ep.state === 'online' || ep.state === 'offline' ? ep.state : 'unknown';
      return { kind: 'endpoint', sip, state };
    }
    default:
      return undefined;
  }
}

/** One endpoint as a full resync sees it. */
export interface EndpointSnapshot {
  sip: string;
  tech: string;
  device: ReturnType<typeof parseDeviceState>;
  contact: string | undefined;
  userAgent: string | undefined;
  /** any contact reachable (or registered but not qualified) */
  reachable: boolean;
}

/**
 * Builds the resync snapshot from the item events of PJSIPShowEndpoints,
 * PJSIPShowContacts and DeviceStateList (any may be empty), and SIPpeers where
 * chan_sip is loaded.
 */
export function amiSnapshot(lists: {
  endpoints: readonly AmiFields[];
  contacts: readonly AmiFields[];
  deviceStates: readonly AmiFields[];
  sipPeers?: readonly AmiFields[];
}): EndpointSnapshot[] {
  const out = new Map<string, EndpointSnapshot>();
  for (const e of lists.endpoints) {
    const sip = first(e, 'objectname');
    if (!sip) continue;
    out.set(sip, { sip, tech: 'PJSIP', device: parseDeviceState(first(e, 'devicestate')), contact: undefined, userAgent: undefined, reachable: false });
  }
  for (const p of lists.sipPeers ?? []) {
    const sip = first(p, 'objectname');
    if (!sip || out.has(sip)) continue;
    const status = (first(p, 'status') ?? '').toUpperCase();
    const ip = first(p, 'ipaddress');
    out.set(sip, {
      sip,
      tech: 'SIP',
      device: undefined,
      contact: ip && ip !== '-none-' ? `sip:${sip}@${ip}:${first(p, 'ipport') ?? '5060'}` : undefined,
      userAgent: undefined,
      reachable: status.startsWith('OK') || status === 'UNMONITORED',
    });
  }
  for (const d of lists.deviceStates) {
    const dev = splitDevice(first(d, 'device'));
    const snap = dev && out.get(dev.sip);
    if (snap && snap.tech === dev.tech) snap.device = parseDeviceState(first(d, 'state')) ?? snap.device;
  }
  for (const c of lists.contacts) {
    const sip = first(c, 'endpoint') ?? first(c, 'objectname')?.split(';@')[0];
    const snap = sip ? out.get(sip) : undefined;
    if (!snap) continue;
    const status = (first(c, 'status') ?? '').toLowerCase();
    const usable = status === 'reachable' || status === 'nonqualified' || status === 'unknown';
    // An endpoint may have several contacts: prefer a usable one for display.
    if (!snap.contact || (usable && !snap.reachable)) {
      snap.contact = first(c, 'uri');
      snap.userAgent = first(c, 'useragent') || undefined;
    }
    if (usable) snap.reachable = true;
  }
  return [...out.values()];
}
