/**
 * Raw AMI / ARI presence events and list-action answers → normalized
 * presence signals and snapshots. Field names follow the recorded Asterisk 22
 * traces (ContactStatus has URI/EndpointName but no user agent; ContactList
 * has no AOR header; EndpointList spells device states "Not in use").
 * Queue members (Q1, Q3) are named by `MemberName` + `Interface`
 * (`Local/1000@from-queue/n` in FreePBX) in events, and by `Name` + `Location`
 * in QueueStatus's QueueMember items; `Paused` is 0/1, `PausedReason` free text.
 */
import { parseDeviceState, type PresenceSignal, type QueueSignal } from '../presence/model.js';

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

/**
 * The endpoint names a queue member interface may stand for: `Local/1000@from-queue/n` → 1000,
 * `PJSIP/1000`, `SIP/1000` → 1000, `hint:1000@ext-local` → 1000.
 */
export function memberInterfaceSip(iface: string | undefined): string | undefined {
  if (!iface) return undefined;
  const local = /^(?:Local\/|hint:)([^@/;,\s]+)@[^\s]*$/i.exec(iface);
  if (local) return local[1];
  const dev = /^(PJSIP|SIP)\/([^/@;,\s]+)$/i.exec(iface);
  return dev?.[2];
}

function memberCandidates(name: string | undefined, iface: string | undefined, stateIface: string | undefined): string[] {
  const out: string[] = [];
  for (const c of [name?.trim(), memberInterfaceSip(iface), memberInterfaceSip(stateIface)]) {
    if (c && !out.includes(c)) out.push(c);
  }
  return out;
}

const QUEUE_MEMBER_EVENTS = new Set(['QueueMemberPause', 'QueueMemberPaused', 'QueueMemberStatus', 'QueueMemberAdded', 'QueueMemberRemoved']);

/** A queue member event (QueueMemberPause, …Status, …Added, …Removed) → its pause state in that queue. */
function queueSignal(msg: AmiFields, event: string): QueueSignal | undefined {
  const queue = first(msg, 'queue');
  const candidates = memberCandidates(first(msg, 'membername'), first(msg, 'interface') ?? first(msg, 'location'), first(msg, 'stateinterface'));
  if (!queue || candidates.length === 0) return undefined;
  const removed = event === 'QueueMemberRemoved';
  const pausedText = first(msg, 'paused');
  if (!removed && pausedText === undefined) return undefined;
  const paused = !removed && isTrue(pausedText);
  return { kind: 'queue', sip: candidates[0]!, candidates, queue, paused, reason: paused ? (first(msg, 'pausedreason') ?? '').trim() : '', ...(removed ? { removed } : {}) };
}

const isTrue = (v: string | undefined): boolean => v !== undefined && /^(1|yes|true|on)$/i.test(v.trim());

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
    default: {
      const event = first(msg, 'event');
      return event && QUEUE_MEMBER_EVENTS.has(event) ? queueSignal(msg, event) : undefined;
    }
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
  /** queues it is paused in → reason */
  paused?: Record<string, string>;
}

/**
 * Builds the resync snapshot from the item events of PJSIPShowEndpoints,
 * PJSIPShowContacts and DeviceStateList (any may be empty), SIPpeers where
 * chan_sip is loaded, and QueueStatus where app_queue is (its QueueMember
 * items give the pauses; QueueParams / QueueEntry items are skipped).
 */
export function amiSnapshot(lists: {
  endpoints: readonly AmiFields[];
  contacts: readonly AmiFields[];
  deviceStates: readonly AmiFields[];
  sipPeers?: readonly AmiFields[];
  queueMembers?: readonly AmiFields[];
  /**
   * Asterisk refused the PJSIP lists (they need the AMI `system` class, which
   * an AMI user that may Originate must not have): the endpoints are then the
   * PJSIP devices of DeviceStateList, with their states and no contact details.
   */
  endpointsRefused?: boolean;
}): EndpointSnapshot[] {
  const out = new Map<string, EndpointSnapshot>();
  if (lists.endpointsRefused) {
    for (const d of lists.deviceStates) {
      const dev = splitDevice(first(d, 'device'));
      if (!dev || dev.tech !== 'PJSIP') continue;
      const device = parseDeviceState(first(d, 'state'));
      out.set(dev.sip, { sip: dev.sip, tech: 'PJSIP', device, contact: undefined, userAgent: undefined, reachable: device !== undefined && device !== 'UNAVAILABLE' && device !== 'INVALID' });
    }
  }
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
  for (const m of lists.queueMembers ?? []) {
    const event = first(m, 'event');
    if (event !== undefined && event !== 'QueueMember') continue;
    const queue = first(m, 'queue');
    if (!queue || !isTrue(first(m, 'paused'))) continue;
    const candidates = memberCandidates(first(m, 'name') ?? first(m, 'membername'), first(m, 'location') ?? first(m, 'interface'), first(m, 'stateinterface'));
    const sip = candidates.find((c) => out.has(c));
    if (!sip) continue;
    const snap = out.get(sip)!;
    snap.paused = { ...snap.paused, [queue]: (first(m, 'pausedreason') ?? '').trim() };
  }
  return [...out.values()];
}
