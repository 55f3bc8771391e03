/**
 * What CRM connectors see: domain events of a stable shape (never raw AMI/ARI
 * events), each with a snapshot of its call, and the small interface every
 * connector module implements (map an event to one HTTP request).
 *
 * Call events are derived from the statuses the call service writes
 * (src/outbox/derive.ts); the events-API ones (`cdr`, `call_asterisk`,
 * `event`, `coming`) come from the domain bus.
 */

import type { Member } from '../calls/children.js';

export const CALL_EVENT_TYPES = [
  'call.started',
  'call.ringing',
  'call.answered',
  'call.bridged',
  'call.transferred',
  'call.finished',
  'recording.ready',
  'member.ringing',
  'member.answered',
  'member.ended',
] as const;
export const API_EVENT_TYPES = ['cdr', 'call_asterisk', 'event', 'coming'] as const;
export const EVENT_TYPES = [...CALL_EVENT_TYPES, ...API_EVENT_TYPES] as const;

export type CallEventType = (typeof CALL_EVENT_TYPES)[number];
export type ApiEventType = (typeof API_EVENT_TYPES)[number];
export type EventType = (typeof EVENT_TYPES)[number];

export type Direction = 'incoming' | 'outgoing' | 'internal';
export const DIRECTIONS: readonly Direction[] = ['incoming', 'outgoing', 'internal'];

export interface ChainEntry {
  status: string;
  /** epoch ms */
  time: number;
  details: Record<string, unknown>;
}

export interface RecordingFacts {
  id: number;
  file: string;
  format: string;
  size: number | null;
  /** seconds */
  duration: number | null;
  /** download URL (GET /recordings/{id}) */
  url: string;
  started_at: number;
  ended_at: number | null;
}

/** The call to one operator of a group call (member.* events, CallSnapshot.members): its uuid (the call's own is its parent), operator, times (epoch ms), dial status and cause. */
export type MemberFacts = Omit<Member, 'uniqueid' | 'channel'>;

/** A call as it stood when the event happened. Times are epoch ms. */
export interface CallSnapshot {
  /** the API's call_id (makeCall, callList) */
  call_id: number;
  /** a stable uuid of the call (hosted-PBX formats such as phonet use it) */
  uuid: string;
  origin: 'click-to-call' | 'pbx';
  direction: Direction;
  /** the client's number (internal calls: the calling extension) */
  phone: string | null;
  did: string | null;
  /** the operator: of a click-to-call, or the one who talked */
  sip: string | null;
  /** every operator whose phone rang, in order */
  operators: string[];
  order_id: string | null;
  external_key: string | null;
  linkedid: string | null;
  /** the latest status (the final one once `final`) */
  status: string;
  final: boolean;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  billsec: number | null;
  /** the recording file the PBX names for the call (PBX calls) */
  recording_file: string | null;
  /** the client in the contact book (/rest/crm/contacts/v2), when it has the number; null for internal calls */
  contact?: { id: number; name: string | null; company_name: string | null; url: string | null } | null;
  /** the group the call went to (ring group or queue), null for a call to one operator */
  group?: { kind: 'ringgroup' | 'queue'; ext: string | null } | null;
  /** of a group call: the call to each operator the group rang so far (its own uuid, times, dial status) */
  members?: MemberFacts[];
  /** the status chain so far, this event's status included */
  chain: ChainEntry[];
  recordings: RecordingFacts[];
}

/** One domain event as stored in the outbox and handed to connectors. */
export interface OutboundEvent {
  /** uuid; the idempotency key of every delivery of it */
  id: string;
  type: EventType;
  /** epoch ms */
  time: number;
  call: CallSnapshot | null;
  /** type-specific facts (see README "CRM connectors") */
  data: Record<string, unknown>;
}

/** One HTTP request a connector wants sent. */
export interface WireRequest {
  url: string;
  contentType: string;
  body: string | Buffer;
}

/** What a connector may keep per call between deliveries (SQLite, table connector_calls). */
export interface ConnectorState {
  get(callId: number): Record<string, unknown> | undefined;
  set(callId: number, data: Record<string, unknown>): void;
}

export interface ConnectorContext {
  state: ConnectorState;
  /** epoch ms */
  now(): number;
}

/** Settings every connector entry has (CALLBRIDGE_CONNECTORS), validated. */
export interface BaseSettings {
  type: string;
  name: string;
  url: string;
  secret?: string | undefined;
  timeout_ms: number;
  max_attempts: number;
  backoff_ms: number;
  backoff_max_ms: number;
  concurrency: number;
  directions?: Direction[] | undefined;
  events?: EventType[] | undefined;
}

export interface Connector {
  readonly settings: BaseSettings;
  /** whether this connector sends anything for the event (before the directions/events filters) */
  accepts(ev: OutboundEvent): boolean;
  /** the request for an accepted event; null = nothing to send after all (the delivery counts as done) */
  request(ev: OutboundEvent, ctx: ConnectorContext): WireRequest | null | Promise<WireRequest | null>;
  /** after a 2xx: what to keep from the answer (e.g. the helpdesk's own call id) */
  delivered?(ev: OutboundEvent, answer: { status: number; body: string }, ctx: ConnectorContext): void;
}

/** Helpers shared by the connector modules. */
export const chainHas = (ev: OutboundEvent, ...statuses: string[]): boolean =>
  (ev.call?.chain ?? []).some((c) => statuses.includes(c.status));

/** The first ringing of a call (operator or client): the moment a CRM gets its "call started" card. */
export function isFirstRinging(ev: OutboundEvent): boolean {
  if (ev.type !== 'call.ringing' || !ev.call) return false;
  return ev.call.chain.filter((c) => c.status === 'OPERATOR_CALLTO' || c.status === 'CLIENT_CALLTO').length === 1;
}

/** `url` + `path`, unless `url` already ends with `path`. */
export function withPath(url: string, path: string): string {
  const u = new URL(url);
  if (u.pathname.toLowerCase().endsWith(path.toLowerCase())) return u.toString();
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${path}`;
  return u.toString();
}

/** application/x-www-form-urlencoded, keys in the given order; undefined and null values are left out. */
export function formEncode(fields: ReadonlyArray<[string, string | number | null | undefined]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of fields) if (v !== undefined && v !== null) p.append(k, String(v));
  return p.toString();
}
