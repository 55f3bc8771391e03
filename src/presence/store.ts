/** SQLite access for presence: the endpoints table and the operator history. */
import { and, count, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { IdPages } from '../db/seek.js';
import { endpoints, operatorHistory, type EndpointRow, type OperatorHistoryRow } from '../db/schema.js';
import type { PresenceStatus } from './model.js';

export interface EndpointWrite {
  sip: string;
  tech: string;
  status: PresenceStatus;
  since: number;
  deviceState: string | null;
  contact: string | null;
  userAgent: string | null;
  updatedAt: number;
}

export interface HistoryWrite {
  sip: string;
  status: PresenceStatus;
  previousStatus: PresenceStatus | null;
  reason: string;
  time: number;
}

export interface Page {
  page: number;
  perPage: number;
}

export class PresenceStore {
  // The write path (every presence change) uses statements prepared once, in better-sqlite3's transaction.
  private readonly upsertEndpoint;
  private readonly insertHistory;
  private readonly writeTx;
  private readonly idPages: IdPages;

  constructor(readonly db: Db) {
    this.idPages = new IdPages(db.$client);
    this.upsertEndpoint = db.$client.prepare(
      `INSERT INTO endpoints (sip, tech, status, since, device_state, contact, user_agent, updated_at)
       VALUES (@sip, @tech, @status, @since, @deviceState, @contact, @userAgent, @updatedAt)
       ON CONFLICT (sip) DO UPDATE SET tech = excluded.tech, status = excluded.status, since = excluded.since,
         device_state = excluded.device_state, contact = excluded.contact, user_agent = excluded.user_agent,
         updated_at = excluded.updated_at`,
    );
    this.insertHistory = db.$client.prepare(
      'INSERT INTO operator_history (sip, status, previous_status, reason, time) VALUES (@sip, @status, @previousStatus, @reason, @time)',
    );
    this.writeTx = db.$client.transaction((rows: readonly EndpointWrite[], history: readonly HistoryWrite[]) => {
      for (const row of rows) this.upsertEndpoint.run(row);
      for (const h of history) this.insertHistory.run(h);
    });
  }

  all(): EndpointRow[] {
    return this.db.select().from(endpoints).all();
  }

  /** Writes endpoint rows and history rows in one transaction. */
  write(rows: readonly EndpointWrite[], history: readonly HistoryWrite[]): void {
    if (rows.length === 0 && history.length === 0) return;
    this.writeTx(rows, history);
  }

  listEndpoints(p: Page, statuses?: readonly PresenceStatus[]): { total: number; rows: EndpointRow[] } {
    const where = statuses && statuses.length > 0 ? inArray(endpoints.status, [...statuses]) : undefined;
    const total = this.db.select({ n: count() }).from(endpoints).where(where).get()?.n ?? 0;
    const rows = this.db
      .select()
      .from(endpoints)
      .where(where)
      .orderBy(endpoints.sip)
      .limit(p.perPage)
      .offset((p.page - 1) * p.perPage)
      .all();
    return { total, rows };
  }

  /**
   * Presence changes newest first, of everyone or of one sip. The total and a
   * deep page's start come from the counts operator_history's triggers keep
   * (src/db/seek.ts): no count of the table, no skipping of earlier pages.
   */
  listHistory(p: Page, sip?: string): { total: number; rows: OperatorHistoryRow[] } {
    const list = sip === undefined ? 'operator_history' : (`operator_history/${sip}` as const);
    const total = this.idPages.total(list);
    const at = this.idPages.seek(list, (p.page - 1) * p.perPage);
    if (!at) return { total, rows: [] };
    const conds: SQL[] = [];
    if (sip !== undefined) conds.push(eq(operatorHistory.sip, sip));
    conds.push(lt(operatorHistory.id, at.below));
    const rows = this.db
      .select()
      .from(operatorHistory)
      .where(and(...conds))
      .orderBy(desc(operatorHistory.id))
      .limit(p.perPage)
      .offset(at.offset)
      .all();
    return { total, rows };
  }
}
