/**
 * The SQLite schema (drizzle). `npm run db:generate` turns changes here into
 * a new SQL migration in migrations/, applied automatically at start.
 *
 * Times are stored as integer epoch milliseconds (UTC) and rendered as ISO 8601
 * at the HTTP edge.
 */
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Current state of every SIP endpoint Asterisk reported. */
export const endpoints = sqliteTable('endpoints', {
  sip: text('sip').primaryKey(),
  tech: text('tech').notNull().default('PJSIP'),
  status: text('status', { enum: ['online', 'offline', 'inuse'] }).notNull(),
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
    status: text('status', { enum: ['online', 'offline', 'inuse'] }).notNull(),
    previousStatus: text('previous_status', { enum: ['online', 'offline', 'inuse'] }),
    reason: text('reason').notNull(),
    time: integer('time').notNull(),
  },
  (t) => [index('operator_history_sip_id').on(t.sip, t.id)],
);

export type EndpointRow = typeof endpoints.$inferSelect;
export type OperatorHistoryRow = typeof operatorHistory.$inferSelect;
export type PresenceStatus = EndpointRow['status'];

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
    direction: text('direction', { enum: ['outbound', 'inbound', 'internal'] }).notNull().default('outbound'),
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
  },
  (t) => [
    index('calls_order_id').on(t.orderId, t.id),
    index('calls_open').on(t.final, t.id),
    index('calls_linkedid').on(t.linkedid),
  ],
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
export type CallStatusRow = typeof callStatuses.$inferSelect;
export type RecordingRow = typeof recordings.$inferSelect;
