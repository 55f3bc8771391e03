/**
 * Endpoint presence, pure: normalized signals in, a status out.
 *
 * Asterisk reports an endpoint's availability several ways at once (see the
 * recorded presence traces): a REGISTER gives ContactStatus NonQualified, then
 * ContactStatus Reachable + PeerStatus Reachable + DeviceStateChange NOT_INUSE;
 * an un-REGISTER gives ContactStatus Removed, PeerStatus Unreachable and
 * DeviceStateChange UNAVAILABLE. The device state is Asterisk's own aggregate
 * over contacts and channels, so it decides whenever it is known; contact,
 * peer and ARI endpoint signals decide only for endpoints without one, and
 * always supply the contact URI and user agent.
 */

export type PresenceStatus = 'online' | 'offline' | 'inuse' | 'away';

/** Asterisk device states, as DeviceStateChange `State` spells them. */
export type DeviceState =
  | 'UNKNOWN'
  | 'NOT_INUSE'
  | 'INUSE'
  | 'BUSY'
  | 'INVALID'
  | 'UNAVAILABLE'
  | 'RINGING'
  | 'RINGINUSE'
  | 'ONHOLD';

export type PresenceSignal =
  | { kind: 'device'; sip: string; state: DeviceState }
  | { kind: 'contact'; sip: string; status: string; uri?: string; userAgent?: string }
  | { kind: 'peer'; sip: string; status: string }
  | { kind: 'endpoint'; sip: string; state: 'online' | 'offline' | 'unknown' };

/** What is known about one endpoint; replaced wholesale by a resync. */
export interface EndpointState {
  sip: string;
  tech: string;
  device: DeviceState | undefined;
  /** undefined: nothing said yet */
  reachable: boolean | undefined;
  contact: string | undefined;
  userAgent: string | undefined;
}

const IN_USE: ReadonlySet<DeviceState> = new Set(['INUSE', 'BUSY', 'RINGING', 'RINGINUSE', 'ONHOLD']);
const REACHABLE_CONTACT = new Set(['reachable', 'nonqualified', 'created', 'updated']);
const UNREACHABLE_CONTACT = new Set(['unreachable', 'removed']);
const REACHABLE_PEER = new Set(['reachable', 'registered', 'lagged']);
const UNREACHABLE_PEER = new Set(['unreachable', 'unregistered', 'rejected']);

export function emptyState(sip: string, tech = 'PJSIP'): EndpointState {
  return { sip, tech, device: undefined, reachable: undefined, contact: undefined, userAgent: undefined };
}

export function statusOf(s: EndpointState): PresenceStatus {
  if (s.device !== undefined && s.device !== 'UNKNOWN') {
    if (IN_USE.has(s.device)) return 'inuse';
    return s.device === 'NOT_INUSE' ? 'online' : 'offline';
  }
  return s.reachable === true ? 'online' : 'offline';
}

/** Maps a device state text from any source (DeviceStateChange, EndpointList "Not in use", …). */
export function parseDeviceState(text: string | undefined): DeviceState | undefined {
  if (!text) return undefined;
  const t = text.trim().toUpperCase().replace(/\s+/g, '_');
  switch (t) {
    case 'NOT_IN_USE':
    case 'NOT_INUSE':
    case 'IDLE':
      return 'NOT_INUSE';
    case 'IN_USE':
    case 'INUSE':
      return 'INUSE';
    case 'RING':
    case 'RINGING':
      return 'RINGING';
    case 'RINGINUSE':
    case 'RING_IN_USE':
      return 'RINGINUSE';
    case 'ON_HOLD':
    case 'ONHOLD':
      return 'ONHOLD';
    case 'BUSY':
    case 'UNAVAILABLE':
    case 'INVALID':
    case 'UNKNOWN':
      return t;
    default:
      return undefined;
  }
}

/** Applies one signal; returns the new state (the input is not modified). */
export function applySignal(state: EndpointState, sig: PresenceSignal): EndpointState {
  const next = { ...state };
  switch (sig.kind) {
    case 'device':
      next.device = sig.state;
      if (sig.state === 'UNAVAILABLE' || sig.state === 'INVALID') next.reachable = false;
      else if (sig.state !== 'UNKNOWN') next.reachable = true;
      break;
    case 'contact': {
      const st = sig.status.toLowerCase();
      if (REACHABLE_CONTACT.has(st)) next.reachable = true;
      else if (UNREACHABLE_CONTACT.has(st)) next.reachable = false;
      if (st === 'removed') {
        next.contact = undefined;
        next.userAgent = undefined;
      } else {
        if (sig.uri) next.contact = sig.uri;
        if (sig.userAgent) next.userAgent = sig.userAgent;
      }
      break;
    }
    case 'peer': {
      const st = sig.status.toLowerCase();
      if (REACHABLE_PEER.has(st)) next.reachable = true;
      else if (UNREACHABLE_PEER.has(st)) next.reachable = false;
      break;
    }
    case 'endpoint':
      if (sig.state !== 'unknown') next.reachable = sig.state === 'online';
      break;
  }
  return next;
}

/** A short human-readable reason for a history row. */
export function describeSignal(sig: PresenceSignal): string {
  switch (sig.kind) {
    case 'device':
      return `DeviceStateChange ${sig.state}`;
    case 'contact':
      return `ContactStatus ${sig.status}`;
    case 'peer':
      return `PeerStatus ${sig.status}`;
    case 'endpoint':
      return `EndpointStateChange ${sig.state}`;
  }
}
