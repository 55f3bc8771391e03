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
 *
 * Queue pauses (app_queue's QueueMemberPause, QueueMember `Paused`) make an
 * endpoint `away` while it is paused in at least one queue: offline still
 * wins (a paused phone that is unregistered is offline), and so does inuse
 * while the operator is ringing or in a call; otherwise the pause shows.
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
  | { kind: 'endpoint'; sip: string; state: 'online' | 'offline' | 'unknown' }
  | QueueSignal;

/**
 * A queue member's pause state in one queue. `sip` is the preferred endpoint
 * name; `candidates` lists every name the member may go by (MemberName, the
 * sip of its Interface, of its StateInterface), best first: the first that is
 * a known endpoint is the one that is paused.
 */
export interface QueueSignal {
  kind: 'queue';
  sip: string;
  candidates: readonly string[];
  queue: string;
  paused: boolean;
  reason: string;
  /** the member left the queue (QueueMemberRemoved) */
  removed?: boolean;
}

/** What is known about one endpoint; replaced wholesale by a resync. */
export interface EndpointState {
  sip: string;
  tech: string;
  device: DeviceState | undefined;
  /** undefined: nothing said yet */
  reachable: boolean | undefined;
  contact: string | undefined;
  userAgent: string | undefined;
  /** queues the endpoint is paused in → the pause reason ('' when none given) */
  paused: Readonly<Record<string, string>>;
}

const IN_USE: ReadonlySet<DeviceState> = new Set(['INUSE', 'BUSY', 'RINGING', 'RINGINUSE', 'ONHOLD']);
const REACHABLE_CONTACT = new Set(['reachable', 'nonqualified', 'created', 'updated']);
const UNREACHABLE_CONTACT = new Set(['unreachable', 'removed']);
const REACHABLE_PEER = new Set(['reachable', 'registered', 'lagged']);
const UNREACHABLE_PEER = new Set(['unreachable', 'unregistered', 'rejected']);

export function emptyState(sip: string, tech = 'PJSIP'): EndpointState {
  return { sip, tech, device: undefined, reachable: undefined, contact: undefined, userAgent: undefined, paused: {} };
}

const NOT_PAUSED: Readonly<Record<string, string>> = Object.freeze({});

/** The status from the device and reachability alone, before queue pauses. */
function phoneStatusOf(s: EndpointState): Exclude<PresenceStatus, 'away'> {
  if (s.device !== undefined && s.device !== 'UNKNOWN') {
    if (IN_USE.has(s.device)) return 'inuse';
    return s.device === 'NOT_INUSE' ? 'online' : 'offline';
  }
  return s.reachable === true ? 'online' : 'offline';
}

export function isPaused(s: EndpointState): boolean {
  return Object.keys(s.paused ?? NOT_PAUSED).length > 0;
}

/** offline > inuse > away > online. */
export function statusOf(s: EndpointState): PresenceStatus {
  const phone = phoneStatusOf(s);
  return phone === 'online' && isPaused(s) ? 'away' : phone;
}

/** The first candidate that is a known endpoint, if any. */
export function resolveMember(candidates: readonly string[], known: (sip: string) => boolean): string | undefined {
  return candidates.find(known);
}

/** `queue 700 paused: away`, `queue 700, 701 paused: lunch` … for the endpoint's current pauses. */
export function describePauses(paused: Readonly<Record<string, string>>): string {
  const byReason = new Map<string, string[]>();
  for (const [queue, reason] of Object.entries(paused).sort(([a], [b]) => a.localeCompare(b))) {
    byReason.set(reason, [...(byReason.get(reason) ?? []), queue]);
  }
  return [...byReason]
    .map(([reason, queues]) => `queue ${queues.join(', ')} paused${reason ? `: ${reason}` : ''}`)
    .join('; ');
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
    case 'queue': {
      const was = state.paused ?? NOT_PAUSED;
      const pausedHere = !sig.removed && sig.paused;
      if (pausedHere ? was[sig.queue] === sig.reason : !(sig.queue in was)) break;
      const paused = { ...was };
      if (pausedHere) paused[sig.queue] = sig.reason;
      else delete paused[sig.queue];
      next.paused = paused;
      break;
    }
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
    case 'queue':
      if (sig.removed) return `queue ${sig.queue}: member removed`;
      return sig.paused ? `queue ${sig.queue} paused${sig.reason ? `: ${sig.reason}` : ''}` : `queue ${sig.queue} unpaused`;
  }
}
