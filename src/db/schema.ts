/**
 * The SQLite schema (drizzle). `npm run db:generate` turns changes here into
 * a new SQL migration in migrations/, applied automatically at start.
 *
 * Times are stored as integer epoch milliseconds (UTC) and rendered as ISO 8601
 * at the HTTP edge.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Current state of every SIP endpoint Asterisk reported. */
export const endpoints = sqliteTable('endpoints', {
  sip: text('sip').primaryKey(),
  tech: text('tech').notNull().default('PJSIP'),
  status: text('status', { enum: ['online', 'offline', 'inuse', 'away'] }).notNull(),
  /** when `status` last changed */
  since: integer('since').notNull(),
  deviceState: text('device_state'),
  contact: text('contact'),
  userAgent: text('user_agent'),
  updatedAt: integer('updated_at').notNull(),
});

/** Append-only history of endpoint status changes. */
export const operatorHistory = sqliteTable(
  'operator_history',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sip: text('sip').notNull(),
    status: text('status', { enum: ['online', 'offline', 'inuse', 'away'] }).notNull(),
    previousStatus: text('previous_status', { enum: ['online', 'offline', 'inuse', 'away'] }),
    reason: text('reason').notNull(),
    time: integer('time').notNull(),
  },
  (t) => [
    index('operator_history_sip_id').on(t.sip, t.id),
    index('operator_history_time').on(t.time, t.id),
    // migration 0008: users.api's pause (32) and unpause (64) rows. `pause` is not a column of this model: a trigger
    // sets it when the row is written, and only this index and users.api read it.
    index('operator_history_pauses').on(t.time, t.id, sql`pause`).where(sql`pause IS NOT NULL`),
  ],
);

export type EndpointRow = typeof endpoints.$inferSelect;
export type OperatorHistoryRow = typeof operatorHistory.$inferSelect;
export type PresenceStatus = EndpointRow['status'];

/** The number of a call as the called-back triggers compare it (migration 0008); `p` is a column or expression. */
export const PHONE_KEY = (p: string): string =>
  `(CASE WHEN length(ltrim(${p}, '+')) = 11 AND substr(ltrim(${p}, '+'), 1, 1) IN ('7', '8') AND ltrim(${p}, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(${p}, '+'), 2) ELSE ltrim(${p}, '+') END)`;

/**
 * One call: a click-to-call the CRM asked for (origin 'api'), or later a call
 * the daemon saw on the PBX (origin 'pbx', grouped by linkedid). The leg times
 * are epoch ms; billsec counts from the client's answer, never the operator's.
 */
export const calls = sqliteTable(
  'calls',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    origin: text('origin', { enum: ['api', 'pbx'] }).notNull().default('api'),
    direction: text('direction', { enum: ['outgoing', 'incoming', 'internal'] }).notNull().default('outgoing'),
    control: text('control', { enum: ['ari', 'ami'] }),
    externalKey: text('external_key').unique(),
    /** what external_key stood for: a retry with other parameters is refused */
    requestFingerprint: text('request_fingerprint'),
    orderId: text('order_id'),
    sip: text('sip'),
    phone: text('phone'),
    /** last status, and the final one once `final` is 1 */
    status: text('status').notNull(),
    final: integer('final', { mode: 'boolean' }).notNull().default(false),
    linkedid: text('linkedid'),
    operatorChannel: text('operator_channel'),
    clientChannel: text('client_channel'),
    bridgeId: text('bridge_id'),
    createdAt: integer('created_at').notNull(),
    operatorRingAt: integer('operator_ring_at'),
    operatorAnswerAt: integer('operator_answer_at'),
    clientRingAt: integer('client_ring_at'),
    clientAnswerAt: integer('client_answer_at'),
    endedAt: integer('ended_at'),
    billsec: integer('billsec'),
    hangupCause: integer('hangup_cause'),
    hangupCauseText: text('hangup_cause_text'),
    /** PBX calls: the number the client dialled (inbound) */
    did: text('did'),
    /** when the conversation began (the answer of the party that talked) */
    answeredAt: integer('answered_at'),
    /** PBX calls: every operator (sip) whose phone rang, in order */
    operators: text('operators', { mode: 'json' }).$type<string[]>(),
    /** PBX calls: transfers in order, e.g. [{"from":"1000","to":"1001","kind":"blind","at":...}] */
    transfers: text('transfers', { mode: 'json' }).$type<Array<Record<string, unknown>>>(),
    /** PBX calls: per-leg facts (channel, role, sip/number, ring/answer/end times, cause, dial status) */
    legs: text('legs', { mode: 'json' }).$type<Array<Record<string, unknown>>>(),
    /** the PBX's own recording of the call (FreePBX MixMonitor / CDR(recordingfile)) */
    recordingFile: text('recording_file'),
    /** PBX calls to a group of operators: 'ringgroup' or 'queue' (migration 0007); null for a call to one operator */
    groupKind: text('group_kind', { enum: ['ringgroup', 'queue'] }),
    /** the group's number: the ring group (RINGGROUP_INDEX) or the queue; null when the PBX did not name it */
    groupExt: text('group_ext'),
  },
  (t) => [
    index('calls_order_id').on(t.orderId, t.id),
    index('calls_open').on(t.final, t.id),
    index('calls_linkedid').on(t.linkedid),
    index('calls_direction').on(t.direction, t.id),
    index('calls_sip').on(t.sip, t.id),
    index('calls_phone').on(t.phone, t.id),
    // migration 0004: the busy check reads open calls only
    index('calls_open_sip').on(t.sip).where(sql`${t.final} = 0`),
    // migration 0006: the hosted-PBX history (/rest/calls/*.api) selects by start time; final and direction in the index spare a row look-up per skipped call
    index('calls_created').on(t.createdAt, t.id, t.final, t.direction),
    // migration 0008: missed.api reads only the incoming calls nobody answered and nobody called back; the
    // columns of the condition are in the index, so a skipped row costs no look-up. `called_back` (1 when a later
    // call of the same number had a conversation) is not a column of this model: triggers keep it, nothing else
    // writes it, and only this index and missed.api read it.
    index('calls_missed')
      .on(t.createdAt, t.id, t.direction, t.final, t.answeredAt, t.clientAnswerAt, t.status, sql`called_back`, t.phone)
      .where(
        sql`${t.direction} = 'incoming' AND ${t.final} = 1 AND ${t.answeredAt} IS NULL AND ${t.clientAnswerAt} IS NULL AND ${t.status} <> 'FINISH' AND called_back = 0 AND ${t.phone} GLOB '*[0-9]*'`,
      ),
    // migration 0008: the calls of one number (leading + dropped, 8… and 7… of an 11-digit Russian number as 7…), for the called-back triggers
    index('calls_phone_key').on(sql.raw(PHONE_KEY('phone')), t.id),
  ],
);

/** Every Asterisk channel (Uniqueid) known to belong to a call, for matching CDRs and events to calls. */
export const callChannels = sqliteTable(
  'call_channels',
  {
    uniqueid: text('uniqueid').primaryKey(),
    callId: integer('call_id')
      .notNull()
      .references(() => calls.id),
    channel: text('channel'),
  },
  (t) => [index('call_channels_call').on(t.callId)],
);

/**
 * Call detail records posted by the dialplan hook (events API callDetailRecord).
 * `event_id` is unique: a repeat stores nothing; `fingerprint` tells a repeat
 * from a conflicting reuse of the same id.
 */
export const cdrs = sqliteTable(
  'cdrs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    eventId: text('event_id').notNull().unique(),
    fingerprint: text('fingerprint').notNull(),
    callId: integer('call_id').references(() => calls.id),
    uniqueid: text('uniqueid'),
    linkedid: text('linkedid'),
    phone: text('phone').notNull(),
    extension: text('extension').notNull(),
    path: text('path').notNull(),
    /** whether `path` lies inside a configured recordings directory (only then is it served) */
    servable: integer('servable', { mode: 'boolean' }).notNull().default(false),
    type: text('type'),
    callAt: integer('call_at'),
    duration: integer('duration'),
    billsec: integer('billsec'),
    disposition: text('disposition'),
    /** every field the hook sent, as received */
    fields: text('fields', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('cdrs_call').on(t.callId), index('cdrs_phone').on(t.phone, t.id)],
);

/** Events posted by dialplan hooks and the CRM (call_asterisk, events, coming), in order. */
export const crmEvents = sqliteTable(
  'crm_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind', { enum: ['call_asterisk', 'event', 'coming'] }).notNull(),
    orderId: text('order_id'),
    callId: integer('call_id').references(() => calls.id),
    text: text('text'),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    time: integer('time').notNull(),
  },
  (t) => [index('crm_events_order').on(t.orderId, t.id), index('crm_events_call').on(t.callId, t.id)],
);

/** Every status of every call, in order (id), with ms time and JSON details. */
export const callStatuses = sqliteTable(
  'call_statuses',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    callId: integer('call_id')
      .notNull()
      .references(() => calls.id),
    orderId: text('order_id'),
    status: text('status').notNull(),
    time: integer('time').notNull(),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('call_statuses_call').on(t.callId, t.id), index('call_statuses_order').on(t.orderId, t.id)],
);

/** Conversation recordings; size and duration are filled in when the recording ends. */
export const recordings = sqliteTable(
  'recordings',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    callId: integer('call_id')
      .notNull()
      .references(() => calls.id),
    orderId: text('order_id'),
    name: text('name').notNull(),
    file: text('file').notNull(),
    format: text('format').notNull(),
    size: integer('size'),
    /** seconds */
    duration: real('duration'),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at'),
  },
  (t) => [index('recordings_call').on(t.callId), index('recordings_order').on(t.orderId, t.id)],
);

export type CallRow = typeof calls.$inferSelect;
export type CdrRow = typeof cdrs.$inferSelect;
export type CrmEventRow = typeof crmEvents.$inferSelect;
export type CallStatusRow = typeof callStatuses.$inferSelect;
export type RecordingRow = typeof recordings.$inferSelect;

/** CRM connectors (outbox): the stable uuid of each call that produced a domain event. */
export const outboxCalls = sqliteTable('outbox_calls', {
  callId: integer('call_id')
    .primaryKey()
    .references(() => calls.id),
  uuid: text('uuid').notNull().unique(),
});

/**
 * The calls to each operator of a call to a group (migration 0007): one row per
 * operator phone the group rang, with its own uuid (`parentUuid` in the
 * hosted-PBX API is the group call's). Kept in line with the call's legs in the
 * transaction that stores them; `final` and `direction` are the parent call's.
 */
export const callChildren = sqliteTable(
  'call_children',
  {
    uuid: text('uuid').primaryKey(),
    callId: integer('call_id')
      .notNull()
      .references(() => calls.id),
    /** the operator leg's channel (Uniqueid) */
    uniqueid: text('uniqueid').notNull(),
    sip: text('sip').notNull(),
    /** when its phone began to ring (epoch ms) */
    createdAt: integer('created_at').notNull(),
    answerAt: integer('answer_at'),
    endedAt: integer('ended_at'),
    dialStatus: text('dial_status'),
    cause: integer('cause'),
    final: integer('final', { mode: 'boolean' }).notNull().default(false),
    direction: text('direction', { enum: ['outgoing', 'incoming', 'internal'] }).notNull(),
  },
  // call_children_created: (created_at, rowid), the order the history reads children in
  (t) => [uniqueIndex('call_children_leg').on(t.callId, t.uniqueid), index('call_children_created').on(t.createdAt)],
);

export type CallChildRow = typeof callChildren.$inferSelect;

/**
 * Migration 0008: the rows of the hosted-PBX history's lists per hour (level 0)
 * and per day (level 1) of their start, kept by triggers on calls and
 * call_children, so a deep offset is found without reading the rows before it
 * (src/db/seek.ts). c_*: final calls by direction; k_*: final children of group
 * calls by direction; missed: the calls missed.api lists; u_*: final calls with
 * an operator that are no group call, by direction, and p_*: the pause and
 * unpause rows of operator_history, by their time (users.api).
 */
export const callCounts = sqliteTable(
  'call_counts',
  {
    level: integer('level').notNull(),
    bucket: integer('bucket').notNull(),
    cIn: integer('c_in').notNull().default(0),
    cOut: integer('c_out').notNull().default(0),
    cInt: integer('c_int').notNull().default(0),
    cOther: integer('c_other').notNull().default(0),
    kIn: integer('k_in').notNull().default(0),
    kOut: integer('k_out').notNull().default(0),
    kInt: integer('k_int').notNull().default(0),
    kOther: integer('k_other').notNull().default(0),
    missed: integer('missed').notNull().default(0),
    uIn: integer('u_in').notNull().default(0),
    uOut: integer('u_out').notNull().default(0),
    uInt: integer('u_int').notNull().default(0),
    uOther: integer('u_other').notNull().default(0),
    pPause: integer('p_pause').notNull().default(0),
    pUnpause: integer('p_unpause').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.level, t.bucket] })],
);

/**
 * Migration 0008: the rows of recordings, call_statuses and operator_history
 * (all, and 'operator_history/<sip>' per operator) per 1024 ids (page = id /
 * 1024; page -1: the total of recordings and operator_history), kept by triggers.
 */
export const idPages = sqliteTable(
  'id_pages',
  {
    tbl: text('tbl').notNull(),
    page: integer('page').notNull(),
    n: integer('n').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tbl, t.page] })],
);

/** CRM connectors (outbox): every domain event, once, with its stable JSON shape (src/connectors/types.ts). */
export const outboxEvents = sqliteTable(
  'outbox_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    uuid: text('uuid').notNull().unique(),
    type: text('type').notNull(),
    callId: integer('call_id'),
    time: integer('time').notNull(),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  },
);

/** CRM connectors (outbox): one delivery per (connector, event); pending until a 2xx, failed after max_attempts. */
export const outboxDeliveries = sqliteTable(
  'outbox_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    eventId: integer('event_id')
      .notNull()
      .references(() => outboxEvents.id),
    connector: text('connector').notNull(),
    callId: integer('call_id'),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAt: integer('next_at').notNull(),
    createdAt: integer('created_at').notNull(),
    lastAttemptAt: integer('last_attempt_at'),
    deliveredAt: integer('delivered_at'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('outbox_deliveries_once').on(t.eventId, t.connector),
    index('outbox_deliveries_queue').on(t.connector, t.status, t.callId, t.id),
    index('outbox_deliveries_status').on(t.status, t.id),
    index('outbox_deliveries_call').on(t.callId, t.id),
  ],
);

/** CRM connectors: what a connector keeps per call (e.g. the helpdesk's own call_id). */
export const connectorCalls = sqliteTable(
  'connector_calls',
  {
    connector: text('connector').notNull(),
    callId: integer('call_id').notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.connector, t.callId] })],
);

/** CRM connectors: one row per delivery attempt's outcome (migration 0005; the live stream's `delivery` kind). */
export const outboxAttempts = sqliteTable(
  'outbox_attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deliveryId: integer('delivery_id').notNull(),
    connector: text('connector').notNull(),
    callId: integer('call_id'),
    outcome: text('outcome', { enum: ['delivered', 'retry', 'failed'] }).notNull(),
    code: integer('code'),
    error: text('error'),
    attempts: integer('attempts').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [index('outbox_attempts_call').on(t.callId)],
);

export type OutboxEventRow = typeof outboxEvents.$inferSelect;
export type OutboxDeliveryRow = typeof outboxDeliveries.$inferSelect;

/**
 * Hosted-PBX REST API (/rest, seed 003): one row per JSESSIONID. Only the
 * SHA-256 of the session id is stored, so a copy of the database opens no
 * session; `key_hash` ties a session to the API key that opened it (a key
 * removed from the configuration ends its sessions).
 */
export const restSessions = sqliteTable(
  'rest_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    keyHash: text('key_hash').notNull(),
    domain: text('domain').notNull(),
    /** the operator the API key is bound to (GET /rest/user/status) */
    ext: text('ext'),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
  },
  (t) => [index('rest_sessions_seen').on(t.lastSeenAt)],
);

/** Hosted-PBX REST API: the stable numeric id of each operator (`leg.id`, `/rest/users`). */
export const restUserIds = sqliteTable('rest_user_ids', {
  sip: text('sip').primaryKey(),
  id: integer('id').notNull().unique(),
});

/** Small pieces of state the daemon keeps across restarts (e.g. the key that signs audio links). */
export const daemonState = sqliteTable('daemon_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * The contact book (/rest/crm/contacts/v2, seed 003). `fields` keeps the
 * seed's list of {id, enumCode, values[{id, enumValueCode, lastModified, value}]}
 * as JSON; the ids inside come from `contact_ids`.
 */
export const contacts = sqliteTable(
  'contacts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    firstName: text('first_name'),
    lastName: text('last_name'),
    companyTitle: text('company_title'),
    responsibleUserId: integer('responsible_user_id'),
    createUserId: integer('create_user_id'),
    dateCreate: integer('date_create').notNull(),
    lastModified: integer('last_modified').notNull(),
    fields: text('fields', { mode: 'json' }).$type<Array<Record<string, unknown>>>().notNull(),
  },
  (t) => [index('contacts_modified').on(t.lastModified, t.id), index('contacts_created').on(t.dateCreate, t.id)],
);

/** The contact book's phone index: every phone value of a contact, digits only (searchByOLNum, caller names). */
export const contactPhones = sqliteTable(
  'contact_phones',
  {
    digits: text('digits').notNull(),
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.digits, t.contactId] }), index('contact_phones_contact').on(t.contactId)],
);

/** Ids of the fields and values inside contacts (the seed gives each its own numeric id). */
export const contactIds = sqliteTable('contact_ids', {
  id: integer('id').primaryKey({ autoIncrement: true }),
});

/** Notes of a contact, in the seed's shape (`data` holds the note's fields as JSON). */
export const contactNotes = sqliteTable(
  'contact_notes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    dateCreate: integer('date_create').notNull(),
    lastModified: integer('last_modified').notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('contact_notes_contact').on(t.contactId, t.id)],
);

export type RestSessionRow = typeof restSessions.$inferSelect;
export type ContactRow = typeof contacts.$inferSelect;
export type ContactNoteRow = typeof contactNotes.$inferSelect;
