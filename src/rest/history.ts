/**
 * Call history of the hosted-PBX REST API (seed 003): GET /rest/calls/company.api,
 * missed.api and users.api. Times in epoch ms, durations in whole seconds.
 *
 * A call to one operator is one record (`parentUuid` null). A call to a group
 * (a ring group or a queue) is a parent record, whose `leg` is the group
 * (type 2), and one child record per operator the group rang (type 1,
 * `parentUuid` = the parent's uuid), each with its own times, disposition and
 * billSecs (src/calls/children.ts):
 * - company.api lists parents, children and calls to one operator;
 * - users.api lists what an operator took part in: calls to one operator and
 *   the children (not the parents, whose leg is a group), and the pauses;
 * - missed.api lists the calls to call back, one record per client call (the
 *   parent of a group call nobody answered, never its children).
 *
 * - `historyRecord` / `childRecord` map a stored call / child to the seed's
 *   record; pure.
 * - `HistoryQueries` selects the pages: final calls whose start (`created_at`;
 *   of a child, when its phone began to ring) lies in [timeFrom, timeTo],
 *   ordered by start then id, LIMIT/OFFSET, read along the indexes
 *   calls_created and call_children_created. A deep offset first becomes a
 *   later start from the per-hour and per-day counts of migration 0008
 *   (src/db/seek.ts), so a page costs about the same at any depth.
 * - missed.api's "called back" (a later call of the same number had a
 *   conversation) is the column calls.called_back, kept by triggers; the
 *   pause rows of users.api are operator_history.pause, set by a trigger
 *   when the row is written, by the rule below.
 * - `parseHistoryQuery` validates the query string; a bad value throws
 *   HistoryParamError naming the field.
 *
 * users.api adds the operators' queue pauses from the operator history. A
 * paused operator can still take a call (presence goes away → inuse → away),
 * so a row is a pause or an unpause by what happened to the pause, not merely
 * by the status it enters or leaves:
 * - pause (32): the status becomes `away`, except when the operator comes back
 *   from a call that began while paused (inuse → away after away → inuse);
 * - unpause (64): `away` → `online`, or `inuse` → `online` after a call that
 *   began while paused (the pause was lifted during the call).
 * Going offline while paused is no unpause. A pause record has the uuid
 * `pause-<operator history id>` (an unpause `unpause-<id>`), stable across
 * requests, `endAt` its time and `leg` the operator; every other field is
 * null or 0.
 */
import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import type { Db } from '../db/index.js';
import { SEEK_FROM, seekByTime } from '../db/seek.js';
import type { CallChildRow, CallRow } from '../db/schema.js';

/** lgDirection: 1 internal, 2 outgoing, 4 incoming, 32 pause, 64 unpause. */
export type LgDirection = 1 | 2 | 4 | 32 | 64;

export interface HistoryUser {
  id: number;
  displayName: string;
  ext: string;
}

export interface HistoryGroup {
  id: number | null;
  displayName: string;
  ext: string | null;
}

export interface HistoryDeps {
  /** the call's stable uuid */
  uuidOf(callId: number): string;
  /** the operator as a REST user (leg.id, leg.displayName, leg.ext) */
  user(sip: string): HistoryUser;
  /** a ring group or queue as the leg of a group call (type 2) */
  group(kind: 'ringgroup' | 'queue', ext: string | null): HistoryGroup;
  /** the contact book's name for a number, if any (otherLegName) */
  contactName(phone: string): string | undefined;
  /** the link to the call's recording, or null when it has none; asked only for calls that had a conversation */
  audioUrl(uuid: string, call: CallRow): string | null;
  /** the company number shown as `trunk` of outgoing calls */
  trunk?: string | undefined;
}

/**
 * A call as HistoryQueries reads it: the row, plus the details of its last
 * (final) status and the id of its first recording. Both extras are optional
 * so that a plain CallRow maps too.
 */
export type HistoryCall = CallRow & {
  /** details of the call's last status (dialStatus, cause, reason), or null */
  finalDetails?: Record<string, unknown> | null;
  /** the call's first row in `recordings`, or null when it has none */
  recordingId?: number | null;
};

/** A queue pause or unpause of an operator, from operator_history. */
export interface PauseEntry {
  kind: 'pause' | 'unpause';
  /** the operator_history row */
  id: number;
  sip: string;
  time: number;
  reason: string;
}

/** A call to one operator of a group call, with its parent. */
export interface ChildEntry {
  kind: 'child';
  child: CallChildRow;
  parent: HistoryCall;
}

export type CallEntry = { kind: 'call'; call: HistoryCall } | ChildEntry;
export type UserEntry = CallEntry | PauseEntry;

export interface HistoryQuery {
  timeFrom: number;
  timeTo: number;
  /** undefined: every direction (and, for users.api, the pauses) */
  directions: Set<LgDirection> | undefined;
  limit: number;
  offset: number;
}

const LG_DIRECTION: Record<CallRow['direction'], 1 | 2 | 4> = { internal: 1, outgoing: 2, incoming: 4 };
const DIRECTION_OF: ReadonlyArray<[1 | 2 | 4, CallRow['direction']]> = [
  [1, 'internal'],
  [2, 'outgoing'],
  [4, 'incoming'],
];

/** Q.850 causes that mean the route or network was congested: 34 no circuit, 38 network out of order, 41 temporary failure, 42 switching equipment congestion, 44 requested circuit not available. */
const CONGESTION_CAUSES: ReadonlySet<number> = new Set([34, 38, 41, 42, 44]);
const CONGESTION_DIAL: ReadonlySet<string> = new Set(['CONGESTION', 'CHANUNAVAIL']);
/** Refusals before anything was dialled (click-to-call). */
const DIAL_ERROR_REASONS: ReadonlySet<string> = new Set(['UNKNOWN_OPERATOR', 'PBX_UNAVAILABLE', 'OPERATOR_OFFLINE']);

/** Whether the call had a conversation (someone answered and talked). */
export function talked(c: CallRow): boolean {
  return c.status === 'FINISH' || c.answeredAt !== null || c.clientAnswerAt !== null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function congested(c: HistoryCall): boolean {
  if (c.hangupCause !== null && CONGESTION_CAUSES.has(c.hangupCause)) return true;
  const d = c.finalDetails;
  if (d) {
    if (typeof d.cause === 'number' && CONGESTION_CAUSES.has(d.cause)) return true;
    if (typeof d.dialStatus === 'string' && CONGESTION_DIAL.has(d.dialStatus)) return true;
  }
  // a trunk (client-side) leg the PBX could not reach
  for (const leg of (c.legs ?? []) as Array<Record<string, unknown>>) {
    if (leg.role === 'client' && typeof leg.dial_status === 'string' && CONGESTION_DIAL.has(leg.dial_status)) return true;
  }
  return false;
}

/**
 * The seed's disposition: 0 answered (FINISH, or any call that had a
 * conversation), 4 busy (*_BUSY), 1 no answer (*_NOANSWER, CLIENT_CANCEL,
 * OPERATOR_CANCEL), 3 dial error (OPERATOR_OFFLINE, an ERROR naming
 * UNKNOWN_OPERATOR / PBX_UNAVAILABLE), 2 congestion (any other failed call
 * with hangup cause 34, 38, 41, 42 or 44 or dial status CONGESTION /
 * CHANUNAVAIL), 3 everything else. The status decides first: an operator's
 * phone that is unreachable (OPERATOR_OFFLINE, dial status CHANUNAVAIL) is a
 * dial error, not a congested direction.
 */
export function dispositionOf(c: HistoryCall): 0 | 1 | 2 | 3 | 4 {
  if (talked(c)) return 0;
  const s = c.status;
  if (s.endsWith('_BUSY')) return 4;
  if (s.endsWith('_NOANSWER') || s === 'CLIENT_CANCEL' || s === 'OPERATOR_CANCEL') return 1;
  if (DIAL_ERROR_REASONS.has(s)) return 3;
  const reason = str(c.finalDetails?.reason);
  if (reason !== null && DIAL_ERROR_REASONS.has(reason)) return 3;
  return congested(c) ? 2 : 3;
}

/** The operator who answered first (PBX calls: the earliest answered phone leg that was dialled). */
function firstAnswerer(c: CallRow): string | null {
  let best: { sip: string; at: number } | undefined;
  for (const leg of (c.legs ?? []) as Array<Record<string, unknown>>) {
    const sip = str(leg.sip);
    if (leg.role !== 'operator' || sip === null || typeof leg.answer_at !== 'number' || leg.dialed_by === null || leg.dialed_by === undefined) continue;
    if (!best || leg.answer_at < best.at) best = { sip, at: leg.answer_at };
  }
  return best?.sip ?? null;
}

/** The operator who took the call: who talked, else the click-to-call operator, else the first phone rung. */
function operatorOf(c: CallRow): string | null {
  return str(c.sip) ?? str(c.operators?.[0]) ?? null;
}

/** `1000 > 1001`: the operator who answered first, then each transfer's target; the operator alone without transfers; null without a conversation. */
export function transferHistoryOf(c: CallRow): string | null {
  if (!talked(c)) return null;
  const transfers = (c.transfers ?? []) as Array<Record<string, unknown>>;
  if (transfers.length === 0) return operatorOf(c);
  const first = str(transfers[0]!.from) ?? firstAnswerer(c) ?? '?';
  return [first, ...transfers.map((t) => str(t.to) ?? '?')].join(' > ');
}

const legOf = (sip: string | null, deps: HistoryDeps) => {
  if (sip === null) return null;
  const u = deps.user(sip);
  return { id: u.id, type: 1, displayName: u.displayName, ext: u.ext };
};

/** Whether the row says the call has no recording (only a HistoryCall knows; a plain CallRow leaves it to deps.audioUrl). */
const knownWithoutRecording = (c: HistoryCall): boolean => 'recordingId' in c && c.recordingId === null && !c.recordingFile;

const groupLegOf = (call: CallRow, deps: HistoryDeps) => {
  if (!call.groupKind) return null;
  const g = deps.group(call.groupKind, call.groupExt);
  return { id: g.id, type: 2, displayName: g.displayName, ext: g.ext };
};

/** The seed's record of one call (of a group call: the parent, whose leg is the group). */
export function historyRecord(call: HistoryCall, deps: HistoryDeps): Record<string, unknown> {
  const lg = LG_DIRECTION[call.direction] ?? 2;
  const internal = lg === 1;
  const uuid = deps.uuidOf(call.id);
  const otherLegNum = internal ? null : str(call.phone);
  const endAt = call.endedAt ?? call.createdAt;
  const answered = talked(call);
  const group = groupLegOf(call, deps);
  const callee = group ?? legOf(operatorOf(call), deps);
  return {
    parentUuid: null,
    uuid,
    endAt,
    lgDirection: lg,
    otherLegNum,
    otherLegName: otherLegNum === null ? null : (deps.contactName(otherLegNum) ?? otherLegNum),
    leg: internal ? legOf(str(call.phone), deps) : callee,
    leg2: internal ? callee : null,
    billSecs: Math.max(0, Math.round(call.billsec ?? 0)),
    duration: call.endedAt === null ? 0 : Math.max(0, Math.round((call.endedAt - call.createdAt) / 1000)),
    disposition: dispositionOf(call),
    transferHistory: transferHistoryOf(call),
    audioRecUrl: answered && !knownWithoutRecording(call) ? deps.audioUrl(uuid, call) : null,
    trunk: lg === 4 ? str(call.did) : lg === 2 ? (deps.trunk ?? null) : null,
  };
}

/**
 * A child's disposition: 0 its operator answered, 4 busy, 3 the phone could
 * not be reached (CHANUNAVAIL), 2 congestion, 1 no answer (it rang out, or was
 * cancelled: the caller gave up or another operator answered).
 */
export function childDisposition(child: Pick<CallChildRow, 'answerAt' | 'dialStatus'>): 0 | 1 | 2 | 3 | 4 {
  if (child.answerAt !== null) return 0;
  switch (child.dialStatus) {
    case 'BUSY':
      return 4;
    case 'CHANUNAVAIL':
      return 3;
    case 'CONGESTION':
      return 2;
    default:
      return 1;
  }
}

/** The seed's record of the call to one operator of a group call. */
export function childRecord(child: CallChildRow, parent: HistoryCall, deps: HistoryDeps): Record<string, unknown> {
  const lg = LG_DIRECTION[parent.direction] ?? 4;
  const internal = lg === 1;
  const otherLegNum = internal ? null : str(parent.phone);
  const endAt = child.endedAt ?? parent.endedAt ?? child.createdAt;
  const answered = child.answerAt !== null;
  const member = legOf(child.sip, deps);
  return {
    parentUuid: deps.uuidOf(parent.id),
    uuid: child.uuid,
    endAt,
    lgDirection: lg,
    otherLegNum,
    otherLegName: otherLegNum === null ? null : (deps.contactName(otherLegNum) ?? otherLegNum),
    leg: internal ? legOf(str(parent.phone), deps) : member,
    leg2: internal ? member : null,
    billSecs: answered ? Math.max(0, Math.round((endAt - child.answerAt!) / 1000)) : 0,
    duration: Math.max(0, Math.round((endAt - child.createdAt) / 1000)),
    disposition: childDisposition(child),
    transferHistory: answered ? transferHistoryOf(parent) : null,
    audioRecUrl: answered && !knownWithoutRecording(parent) ? deps.audioUrl(child.uuid, parent) : null,
    trunk: lg === 4 ? str(parent.did) : lg === 2 ? (deps.trunk ?? null) : null,
  };
}

/** A company.api or users.api call entry as its record. */
export function callEntryRecord(e: CallEntry, deps: HistoryDeps): Record<string, unknown> {
  return e.kind === 'call' ? historyRecord(e.call, deps) : childRecord(e.child, e.parent, deps);
}

/** The seed's record of a pause (lgDirection 32) or unpause (64). */
export function pauseRecord(p: PauseEntry, deps: HistoryDeps): Record<string, unknown> {
  return {
    parentUuid: null,
    uuid: `${p.kind}-${p.id}`,
    endAt: p.time,
    lgDirection: p.kind === 'pause' ? 32 : 64,
    otherLegNum: null,
    otherLegName: null,
    leg: legOf(p.sip, deps),
    leg2: null,
    billSecs: 0,
    duration: 0,
    disposition: 0,
    transferHistory: null,
    audioRecUrl: null,
    trunk: null,
  };
}

/** A users.api entry as its record. */
export function userRecord(e: UserEntry, deps: HistoryDeps): Record<string, unknown> {
  return e.kind === 'call' || e.kind === 'child' ? callEntryRecord(e, deps) : pauseRecord(e, deps);
}

// ---------------------------------------------------------------------------
// Queries

interface RawCall {
  id: number;
  origin: CallRow['origin'];
  direction: CallRow['direction'];
  control: CallRow['control'];
  externalKey: string | null;
  requestFingerprint: string | null;
  orderId: string | null;
  sip: string | null;
  phone: string | null;
  status: string;
  final: number;
  linkedid: string | null;
  operatorChannel: string | null;
  clientChannel: string | null;
  bridgeId: string | null;
  createdAt: number;
  operatorRingAt: number | null;
  operatorAnswerAt: number | null;
  clientRingAt: number | null;
  clientAnswerAt: number | null;
  endedAt: number | null;
  billsec: number | null;
  hangupCause: number | null;
  hangupCauseText: string | null;
  did: string | null;
  answeredAt: number | null;
  operators: string | null;
  transfers: string | null;
  legs: string | null;
  recordingFile: string | null;
  groupKind: CallRow['groupKind'];
  groupExt: string | null;
  finalDetails: string | null;
  recordingId: number | null;
}

const CALL_COLUMNS = `c.id, c.origin, c.direction, c.control, c.external_key AS externalKey, c.request_fingerprint AS requestFingerprint,
  c.order_id AS orderId, c.sip, c.phone, c.status, c.final, c.linkedid, c.operator_channel AS operatorChannel,
  c.client_channel AS clientChannel, c.bridge_id AS bridgeId, c.created_at AS createdAt, c.operator_ring_at AS operatorRingAt,
  c.operator_answer_at AS operatorAnswerAt, c.client_ring_at AS clientRingAt, c.client_answer_at AS clientAnswerAt,
  c.ended_at AS endedAt, c.billsec, c.hangup_cause AS hangupCause, c.hangup_cause_text AS hangupCauseText, c.did,
  c.answered_at AS answeredAt, c.operators, c.transfers, c.legs, c.recording_file AS recordingFile,
  c.group_kind AS groupKind, c.group_ext AS groupExt,
  (SELECT s.details FROM call_statuses s WHERE s.call_id = c.id ORDER BY s.id DESC LIMIT 1) AS finalDetails,
  (SELECT r.id FROM recordings r WHERE r.call_id = c.id ORDER BY r.id LIMIT 1) AS recordingId`;

type RawChild = Omit<CallChildRow, 'final'> & { final: number };

function json<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

function toCall(r: RawCall): HistoryCall {
  return {
    id: r.id,
    origin: r.origin,
    direction: r.direction,
    control: r.control,
    externalKey: r.externalKey,
    requestFingerprint: r.requestFingerprint,
    orderId: r.orderId,
    sip: r.sip,
    phone: r.phone,
    status: r.status,
    final: r.final === 1,
    linkedid: r.linkedid,
    operatorChannel: r.operatorChannel,
    clientChannel: r.clientChannel,
    bridgeId: r.bridgeId,
    createdAt: r.createdAt,
    operatorRingAt: r.operatorRingAt,
    operatorAnswerAt: r.operatorAnswerAt,
    clientRingAt: r.clientRingAt,
    clientAnswerAt: r.clientAnswerAt,
    endedAt: r.endedAt,
    billsec: r.billsec,
    hangupCause: r.hangupCause,
    hangupCauseText: r.hangupCauseText,
    did: r.did,
    answeredAt: r.answeredAt,
    operators: json<string[]>(r.operators),
    transfers: json<Array<Record<string, unknown>>>(r.transfers),
    legs: json<Array<Record<string, unknown>>>(r.legs),
    recordingFile: r.recordingFile,
    groupKind: r.groupKind,
    groupExt: r.groupExt,
    finalDetails: json<Record<string, unknown>>(r.finalDetails),
    recordingId: r.recordingId,
  };
}

/** Window, final, and the direction filter (@all = 1: no filter). */
const WINDOW = `c.created_at >= @from AND c.created_at <= @to AND c.final = 1 AND (@all = 1 OR c.direction IN (@d1, @d2, @d4))`;
/** The same for the children of group calls (their start, the parent's final and direction). */
const CHILD_WINDOW = `k.created_at >= @from AND k.created_at <= @to AND k.final = 1 AND (@all = 1 OR k.direction IN (@d1, @d2, @d4))`;
/** The rows of missed.api in the window: the partial index calls_missed (migration 0008) holds just these. */
const MISSED_WINDOW = `c.created_at >= @from AND c.created_at <= @to
  AND c.direction = 'incoming' AND c.final = 1 AND c.answered_at IS NULL AND c.client_answer_at IS NULL AND c.status <> 'FINISH'
  AND c.called_back = 0 AND c.phone GLOB '*[0-9]*'`;

/** Which columns of call_counts a list counts (1) or not (0). */
interface Weights {
  ci: 0 | 1;
  co: 0 | 1;
  cn: 0 | 1;
  cx: 0 | 1;
  ki: 0 | 1;
  ko: 0 | 1;
  kn: 0 | 1;
  kx: 0 | 1;
  m: 0 | 1;
  ui: 0 | 1;
  uo: 0 | 1;
  un: 0 | 1;
  ux: 0 | 1;
  p32: 0 | 1;
  p64: 0 | 1;
}
const NO_WEIGHTS: Weights = { ci: 0, co: 0, cn: 0, cx: 0, ki: 0, ko: 0, kn: 0, kx: 0, m: 0, ui: 0, uo: 0, un: 0, ux: 0, p32: 0, p64: 0 };

/** Whether a query's direction filter takes incoming, outgoing, internal and other calls (the weights of call_counts' columns). */
function directionWeights(p: Params): readonly [0 | 1, 0 | 1, 0 | 1, 0 | 1] {
  const has = (d: string): 0 | 1 => (p.all === 1 || p.d1 === d || p.d2 === d || p.d4 === d ? 1 : 0);
  return [has('incoming'), has('outgoing'), has('internal'), p.all];
}

/**
 * users.api's rows: calls with an operator (not the parents of group calls: their children are
 * listed), the children, and the pause / unpause rows (operator_history.pause, set by a trigger
 * when the row is written; migration 0008).
 */
const USERS = `SELECT 0 AS src, c.id AS id, c.created_at AS t FROM calls c INDEXED BY calls_created
           WHERE @calls = 1 AND ${WINDOW} AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]'))
         UNION ALL
         SELECT 2 AS src, k.rowid AS id, k.created_at AS t FROM call_children k INDEXED BY call_children_created
           WHERE @calls = 1 AND ${CHILD_WINDOW}
         UNION ALL
         SELECT 3 AS src, h.id AS id, h.time AS t FROM operator_history h INDEXED BY operator_history_pauses
           WHERE h.time >= @from AND h.time <= @to AND h.pause IS NOT NULL AND ((@p32 = 1 AND h.pause = 32) OR (@p64 = 1 AND h.pause = 64))`;

type UsersParams = Params & { calls: 0 | 1; p32: 0 | 1; p64: 0 | 1 };

interface Params {
  from: number;
  to: number;
  all: 0 | 1;
  d1: string | null;
  d2: string | null;
  d4: string | null;
  limit: number;
  offset: number;
}

export class HistoryQueries {
  /** The statements' SQL, for EXPLAIN QUERY PLAN (tests, diagnostics). */
  readonly sql: { readonly company: string; readonly missed: string; readonly users: string };
  private readonly s: {
    company: Statement<[Params], { src: number; id: number }>;
    missed: Statement<[Omit<Params, 'all' | 'd1' | 'd2' | 'd4'>], RawCall>;
    users: Statement<[UsersParams], { src: number; id: number }>;
    call: Statement<[number], RawCall>;
    child: Statement<[number], RawChild>;
    pause: Statement<[number], { id: number; sip: string; status: string; time: number; reason: string }>;
    companyCount: Statement<[Params], { n: number }>;
    missedCount: Statement<[{ from: number; to: number }], { n: number }>;
    usersCount: Statement<[UsersParams], { n: number }>;
    buckets: Statement<[Weights & { level: 0 | 1; lo: number; hi: number }], { bucket: number; n: number }>;
  };

  constructor(db: Db) {
    const c = db.$client;
    // The page's ids are chosen along calls_created (created_at, id) alone; the columns and the
    // per-call look-ups are read for those rows only, not for the rows OFFSET skips.
    this.s = {
      // Calls and the children of group calls, merged by start (then id, then calls before
      // children), each side read in order along its own index: no sort, however wide the window.
      // The columns and the per-call look-ups are read for the page's rows only.
      company: c.prepare(
        `SELECT 0 AS src, c.id AS id, c.created_at AS t FROM calls c INDEXED BY calls_created WHERE ${WINDOW}
         UNION ALL
         SELECT 1 AS src, k.rowid AS id, k.created_at AS t FROM call_children k INDEXED BY call_children_created WHERE ${CHILD_WINDOW}
         ORDER BY t, id, src LIMIT @limit OFFSET @offset`,
      ),
      // Incoming calls without a conversation and not called back (calls.called_back: a later call
      // of the same number had one, kept by triggers): the rows of the partial index calls_missed,
      // whose condition is spelled out so SQLite sees the query implies it. A skipped row costs an
      // index entry, nothing more.
      missed: c.prepare(
        `SELECT ${CALL_COLUMNS} FROM (
           SELECT c.id AS pid FROM calls c INDEXED BY calls_missed WHERE ${MISSED_WINDOW}
           ORDER BY c.created_at, c.id LIMIT @limit OFFSET @offset
         ) AS page JOIN calls c ON c.id = page.pid
         ORDER BY c.created_at, c.id`,
      ),
      // Calls with an operator (not the parents of group calls: their children are listed), the
      // children, and the pauses, merged by time (then id, then calls before children before
      // pauses), each side read in order along its own index: no sort, however wide the window.
      users: c.prepare(`${USERS}
         ORDER BY t, id, src LIMIT @limit OFFSET @offset`),
      call: c.prepare(`SELECT ${CALL_COLUMNS} FROM calls c WHERE c.id = ?`),
      child: c.prepare(
        `SELECT uuid, call_id AS callId, uniqueid, sip, created_at AS createdAt, answer_at AS answerAt, ended_at AS endedAt,
           dial_status AS dialStatus, cause, final, direction FROM call_children WHERE rowid = ?`,
      ),
      pause: c.prepare('SELECT id, sip, status, time, reason FROM operator_history WHERE id = ?'),
      // For deep offsets (src/db/seek.ts): the rows of a list in part of an hour, counted, and its
      // rows per hour or day from call_counts (migration 0008).
      companyCount: c.prepare(
        `SELECT (SELECT count(*) FROM calls c INDEXED BY calls_created WHERE ${WINDOW})
           + (SELECT count(*) FROM call_children k INDEXED BY call_children_created WHERE ${CHILD_WINDOW}) AS n`,
      ),
      missedCount: c.prepare(`SELECT count(*) AS n FROM calls c INDEXED BY calls_missed WHERE ${MISSED_WINDOW}`),
      usersCount: c.prepare(`SELECT count(*) AS n FROM (${USERS})`),
      buckets: c.prepare(
        `SELECT bucket, @ci * c_in + @co * c_out + @cn * c_int + @cx * c_other + @ki * k_in + @ko * k_out + @kn * k_int + @kx * k_other + @m * missed
           + @ui * u_in + @uo * u_out + @un * u_int + @ux * u_other + @p32 * p_pause + @p64 * p_unpause AS n
         FROM call_counts WHERE level = @level AND bucket >= @lo AND bucket < @hi ORDER BY bucket`,
      ),
    };
    this.sql = { company: this.s.company.source, missed: this.s.missed.source, users: this.s.users.source };
  }

  private params(q: HistoryQuery): Params {
    const d = q.directions;
    const callDirs = d ? DIRECTION_OF.filter(([bit]) => d.has(bit)).map(([, name]) => name) : [];
    return {
      from: q.timeFrom,
      to: q.timeTo,
      all: d === undefined ? 1 : 0,
      d1: callDirs[0] ?? null,
      d2: callDirs[1] ?? null,
      d4: callDirs[2] ?? null,
      limit: q.limit,
      offset: q.offset,
    };
  }

  /** A page's call (src 0) or child (src 1, 2) entry; the parents are read once per page. */
  private entry(src: number, id: number, parents: Map<number, HistoryCall>): CallEntry | undefined {
    const load = (callId: number): HistoryCall | undefined => {
      let call = parents.get(callId);
      if (!call) {
        const raw = this.s.call.get(callId);
        if (!raw) return undefined;
        call = toCall(raw);
        parents.set(callId, call);
      }
      return call;
    };
    if (src === 0) {
      const call = load(id);
      return call ? { kind: 'call', call } : undefined;
    }
    const raw = this.s.child.get(id);
    const parent = raw ? load(raw.callId) : undefined;
    return raw && parent ? { kind: 'child', child: { ...raw, final: raw.final === 1 }, parent } : undefined;
  }

  /** company.api: every final call in the window, in the chosen directions, and the children of group calls. */
  company(q: HistoryQuery): CallEntry[] {
    if (q.directions !== undefined && ![1, 2, 4].some((b) => q.directions!.has(b as LgDirection))) return [];
    const parents = new Map<number, HistoryCall>();
    const out: CallEntry[] = [];
    const p = this.params(q);
    const [i, o, n, x] = directionWeights(p);
    this.seek(p, { ...NO_WEIGHTS, ci: i, co: o, cn: n, cx: x, ki: i, ko: o, kn: n, kx: x }, (lo, hi) => this.s.companyCount.get({ ...p, from: lo, to: hi - 1 })!.n);
    for (const row of this.s.company.all(p)) {
      const e = this.entry(row.src, row.id, parents);
      if (e) out.push(e);
    }
    return out;
  }

  /** missed.api: incoming calls to call back (directions is not a parameter of missed.api and is ignored). */
  missed(q: HistoryQuery): HistoryCall[] {
    const p = { from: q.timeFrom, to: q.timeTo, limit: q.limit, offset: q.offset };
    this.seek(p, { ...NO_WEIGHTS, m: 1 }, (lo, hi) => this.s.missedCount.get({ from: lo, to: hi - 1 })!.n);
    return this.s.missed.all(p).map(toCall);
  }

  /** A deep offset becomes a later start and the few rows left to skip from it (src/db/seek.ts). */
  private seek(p: { from: number; to: number; offset: number }, weights: Weights, exact: (lo: number, hi: number) => number): void {
    if (p.offset < SEEK_FROM) return;
    const at = seekByTime(p.from, p.to, p.offset, exact, (level, lo, hi) => this.s.buckets.iterate({ ...weights, level, lo, hi }));
    p.from = at.from;
    p.offset = at.offset;
  }

  /** users.api: the calls that had an operator and the operators' pauses and unpauses, by time. */
  users(q: HistoryQuery): UserEntry[] {
    const d = q.directions;
    const p = this.params(q);
    const calls = d === undefined || [1, 2, 4].some((b) => d.has(b as LgDirection)) ? 1 : 0;
    const p32 = d === undefined || d.has(32) ? 1 : 0;
    const p64 = d === undefined || d.has(64) ? 1 : 0;
    const out: UserEntry[] = [];
    const parents = new Map<number, HistoryCall>();
    const up: UsersParams = { ...p, calls, p32, p64 };
    const [i, o, n, x] = calls === 1 ? directionWeights(p) : ([0, 0, 0, 0] as const);
    this.seek(up, { ...NO_WEIGHTS, ui: i, uo: o, un: n, ux: x, ki: i, ko: o, kn: n, kx: x, p32, p64 }, (lo, hi) => this.s.usersCount.get({ ...up, from: lo, to: hi - 1 })!.n);
    for (const row of this.s.users.all(up)) {
      if (row.src !== 3) {
        const e = this.entry(row.src, row.id, parents);
        if (e) out.push(e);
      } else {
        const h = this.s.pause.get(row.id);
        if (h) out.push({ kind: h.status === 'away' ? 'pause' : 'unpause', id: h.id, sip: h.sip, time: h.time, reason: h.reason });
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// Query string

export class HistoryParamError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'HistoryParamError';
  }
}

export const MAX_LIMIT = 50;

const epochMs = z.string().regex(/^\d{1,15}$/, 'must be an integer number of milliseconds since 1970').transform(Number);
const limitSchema = z
  .string()
  .regex(/^\d{1,6}$/, `must be an integer from 1 to ${MAX_LIMIT}`)
  .transform(Number)
  .pipe(z.number().min(1, `must be an integer from 1 to ${MAX_LIMIT}`).max(MAX_LIMIT, `must not exceed ${MAX_LIMIT}`));
const offsetSchema = z.string().regex(/^\d{1,15}$/, 'must be a non-negative integer').transform(Number);

type Raw = Record<string, string | string[] | undefined>;

/** The one value of a parameter, or undefined; a parameter given twice is refused. */
function single(params: Raw, field: string): string | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (v.length > 1) throw new HistoryParamError(field, 'must be given once');
  return v[0];
}

function check<T>(field: string, schema: z.ZodType<T, string>, value: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new HistoryParamError(field, r.error.issues[0]?.message ?? 'is invalid');
  return r.data;
}

/**
 * directions as `directions=1&directions=4`, `directions=1,4` or a bitmask
 * `directions=5` (any mix of them): every bit must be an allowed direction
 * (1, 2, 4; with pauses also 32, 64).
 */
function parseDirections(params: Raw, pauses: boolean): Set<LgDirection> | undefined {
  const raw = params.directions;
  if (raw === undefined) return undefined;
  const values = typeof raw === 'string' ? [raw] : raw;
  if (values.length === 0) return undefined;
  const allowed: LgDirection[] = pauses ? [1, 2, 4, 32, 64] : [1, 2, 4];
  const mask = allowed.reduce((m, b) => m | b, 0);
  const problem = `must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)} (a list, or their sum)`;
  const item = z
    .string()
    .regex(/^\d{1,3}$/, problem)
    .transform(Number)
    .refine((n) => n !== 0 && (n & ~mask) === 0, problem);
  const out = new Set<LgDirection>();
  for (const text of values.flatMap((v) => v.split(','))) {
    const n = check('directions', item, text);
    for (const b of allowed) if (n & b) out.add(b);
  }
  return out;
}

/** Validates the query of company.api / missed.api (`pauses: false`) or users.api (`pauses: true`). */
export function parseHistoryQuery(params: Raw, opts: { pauses: boolean }): HistoryQuery {
  const required = (field: 'timeFrom' | 'timeTo'): number => {
    const v = single(params, field);
    if (v === undefined || v === '') throw new HistoryParamError(field, 'is required (milliseconds since 1970)');
    return check(field, epochMs, v);
  };
  const timeFrom = required('timeFrom');
  const timeTo = required('timeTo');
  if (timeFrom > timeTo) throw new HistoryParamError('timeFrom', 'must not be after timeTo');
  const directions = parseDirections(params, opts.pauses);
  const limitRaw = single(params, 'limit');
  const offsetRaw = single(params, 'offset');
  return {
    timeFrom,
    timeTo,
    directions,
    limit: limitRaw === undefined ? MAX_LIMIT : check('limit', limitSchema, limitRaw),
    offset: offsetRaw === undefined ? 0 : check('offset', offsetSchema, offsetRaw),
  };
}
