/**
 * The SQLite schema (drizzle). `npm run db:generate` turns changes here into
 * a new SQL migration in migrations/, applied automatically at start.
 *
 * Times are stored as integer epoch milliseconds (UTC) and rendered as ISO 8601
 * at the HTTP edge.
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
