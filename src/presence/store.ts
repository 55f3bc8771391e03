/** SQLite access for presence: the endpoints table and the operator history. */
import { and, count, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { Db } from '../db/index.js';
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
  constructor(private readonly db: Db) {}

  all(): EndpointRow[] {
    return this.db.select().from(endpoints).all();
  }

  /** Writes endpoint rows and history rows in one transaction. */
  write(rows: readonly EndpointWrite[], history: readonly HistoryWrite[]): void {
    if (rows.length === 0 && history.length === 0) return;
    this.db.transaction((tx) => {
      for (const row of rows) {
        tx.insert(endpoints)
          .values(row)
          .onConflictDoUpdate({
            target: endpoints.sip,
            set: {
              tech: row.tech,
              status: row.status,
              since: row.since,
              deviceState: row.deviceState,
              contact: row.contact,
              userAgent: row.userAgent,
              updatedAt: row.updatedAt,
            },
          })
          .run();
      }
      if (history.length > 0) tx.insert(operatorHistory).values([...history]).run();
    });
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

  listHistory(p: Page, sip?: string): { total: number; rows: OperatorHistoryRow[] } {
    const conds: SQL[] = [];
    if (sip !== undefined) conds.push(eq(operatorHistory.sip, sip));
    const where = conds.length > 0 ? and(...conds) : undefined;
    const total = this.db.select({ n: count() }).from(operatorHistory).where(where).get()?.n ?? 0;
    const rows = this.db
      .select()
      .from(operatorHistory)
      .where(where)
      .orderBy(desc(operatorHistory.id))
      .limit(p.perPage)
      .offset((p.page - 1) * p.perPage)
      .all();
    return { total, rows };
  }
}
