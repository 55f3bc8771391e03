/**
 * Retention of the outbox: delivered deliveries are removed once they were
 * delivered longer ago than the retention, with the attempt rows of the
 * deliveries removed, the events no delivery (of any status) is left for, and
 * what connectors kept for calls that have no delivery left. Pending and
 * failed deliveries are never removed (a failed one waits for a retry or the
 * operator), nor their events and attempts, nor a call's uuid (`outbox_calls`:
 * other APIs name the call by it).
 *
 * The work goes table by table in short transactions of at most
 * PRUNE_BATCH rows looked at (and so at most that many removed), and gives
 * the event loop back between two of them: a first pass over months of rows
 * never holds the write lock, nor the daemon, for long. Each table is walked
 * in id order from its start and the walk ends at the first row made after
 * the cutoff (ids grow with the time rows are written; see `young` for a
 * clock set back), so a pass costs the rows it removes plus the few older
 * rows that are kept. Every pass starts
 * over, so rows a stopped or failed pass left (an attempt whose delivery is
 * gone, an event without deliveries) are removed by the next one.
 */
import type { Db } from '../db/index.js';
import type { Logger } from '../log.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long delivered rows are kept by default. */
export const DEFAULT_RETENTION_MS = 30 * DAY_MS;
/** The most rows one transaction looks at (and removes). */
export const PRUNE_BATCH = 1000;
/** The first pass comes this long after start (the start's own work goes first), then one per interval. */
export const PRUNE_FIRST_DELAY_MS = 60_000;
export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** What one pass removed. */
export interface PruneCounts {
  deliveries: number;
  attempts: number;
  events: number;
  connector_calls: number;
}

export interface RetentionOptions {
  /** delivered rows older than this are removed; 0 keeps everything */
  retentionMs: number;
  log: Logger;
  now?: () => number;
  /** rows per transaction, at most PRUNE_BATCH */
  batchSize?: number;
  firstDelayMs?: number;
  intervalMs?: number;
}

type Batch = { removed: number; cursor: number; done: boolean };
type Window = { cutoff: number; now: number };

/**
 * A row written after the cutoff ends a table's walk: every later row was written later still.
 * A row dated well after the pass began does not: it was written while the clock was ahead (and
 * was then set back), and ending there would hold up every older row behind it until the clock
 * caught up.
 */
const young = (t: number, w: Window) => t >= w.cutoff && t <= w.now;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class OutboxRetention {
  readonly retentionMs: number;
  private readonly batch: number;
  private readonly now: () => number;
  private readonly s;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneCounts> | undefined;
  private stopped = true;
  /** bumped by stop(): a pass begun before it ends after its current transaction */
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: RetentionOptions,
  ) {
    if (!Number.isFinite(opts.retentionMs) || opts.retentionMs < 0) throw new RangeError(`retentionMs must be a non-negative number of milliseconds (got ${opts.retentionMs})`);
    this.retentionMs = opts.retentionMs;
    this.batch = Math.max(1, Math.min(PRUNE_BATCH, Math.floor(opts.batchSize ?? PRUNE_BATCH)));
    this.now = opts.now ?? Date.now;
    const c = db.$client;
    this.s = {
      // the (status, id) index: delivered rows in id order
      deliveries: c.prepare<[number, number], { id: number; created_at: number; delivered_at: number | null }>("SELECT id, created_at, delivered_at FROM outbox_deliveries WHERE status = 'delivered' AND id > ? ORDER BY id LIMIT ?"),
      dropDelivery: c.prepare<[number]>("DELETE FROM outbox_deliveries WHERE id = ? AND status = 'delivered'"),
      attempts: c.prepare<[number, number], { id: number; at: number; kept: number }>('SELECT a.id, a.at, EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.id = a.delivery_id) AS kept FROM outbox_attempts a WHERE a.id > ? ORDER BY a.id LIMIT ?'),
      dropAttempt: c.prepare<[number]>('DELETE FROM outbox_attempts WHERE id = ? AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.id = outbox_attempts.delivery_id)'),
      // `created`: when the event's deliveries were made (with the event); NULL when none is left
      events: c.prepare<[number, number], { id: number; time: number; created: number | null }>('SELECT e.id, e.time, (SELECT MIN(d.created_at) FROM outbox_deliveries d WHERE d.event_id = e.id) AS created FROM outbox_events e WHERE e.id > ? ORDER BY e.id LIMIT ?'),
      dropEvent: c.prepare<[number, number]>('DELETE FROM outbox_events WHERE id = ? AND time < ? AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.event_id = outbox_events.id)'),
      nextConnector: c.prepare<[string], { connector: string }>('SELECT connector FROM connector_calls WHERE connector > ? ORDER BY connector LIMIT 1'),
      // `busy`: the call still has a delivery (of any connector, of any status)
      states: c.prepare<[string, number, number], { call_id: number; created_at: number | null; final: number | null; ended_at: number | null; busy: number }>(
        `SELECT s.call_id, c.created_at, c.final, c.ended_at, EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.call_id = s.call_id) AS busy
           FROM connector_calls s LEFT JOIN calls c ON c.id = s.call_id
          WHERE s.connector = ? AND s.call_id > ? ORDER BY s.call_id LIMIT ?`,
      ),
      dropState: c.prepare<[string, number, number]>(
        `DELETE FROM connector_calls WHERE connector = ? AND call_id = ?
            AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.call_id = connector_calls.call_id)
            AND coalesce((SELECT final = 1 AND coalesce(ended_at, created_at) < ? FROM calls WHERE id = connector_calls.call_id), 1)`,
      ),
    };
  }

  /** Runs a first pass shortly, then one per interval (an unref'd timer: it never keeps the process alive). Nothing with retention 0. */
  start(): void {
    if (this.retentionMs === 0 || !this.stopped) return;
    this.stopped = false;
    this.schedule(this.opts.firstDelayMs ?? PRUNE_FIRST_DELAY_MS);
  }

  /** Clears the timer; a pass under way ends after its current transaction. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Resolves once no pass is under way. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /**
   * One pass, with the cutoff at the clock's time minus the retention (a pass already under way is
   * joined, not doubled). Rejects with the database's error; what it removed before stays removed.
   */
  prune(): Promise<PruneCounts> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.prune()
        .catch((err: unknown) => this.opts.log.error({ err: (err as Error).message }, 'outbox not pruned'))
        .finally(() => this.schedule(this.opts.intervalMs ?? PRUNE_INTERVAL_MS));
    }, ms);
    this.timer.unref();
  }

  private async pass(): Promise<PruneCounts> {
    const counts: PruneCounts = { deliveries: 0, attempts: 0, events: 0, connector_calls: 0 };
    if (this.retentionMs === 0) return counts;
    const started = this.now();
    // rows written while this pass runs are not taken for rows from a clock that was ahead
    const w: Window = { cutoff: started - this.retentionMs, now: started + 60 * 60 * 1000 };
    const generation = this.generation;
    const interrupted = () => this.generation !== generation;
    // deliveries first: attempts and events are removed once no delivery holds them
    counts.deliveries = await this.walk(interrupted, (after) => this.deliveries(after, w));
    counts.attempts = await this.walk(interrupted, (after) => this.attempts(after, w));
    counts.events = await this.walk(interrupted, (after) => this.events(after, w));
    let connector = '';
    for (;;) {
      if (interrupted()) break;
      const next = this.s.nextConnector.get(connector)?.connector;
      if (next === undefined) break;
      connector = next;
      counts.connector_calls += await this.walk(interrupted, (after) => this.states(connector, after, w));
    }
    const removed = counts.deliveries + counts.attempts + counts.events + counts.connector_calls;
    if (removed > 0) this.opts.log.info({ ...counts, retention_days: Math.round((this.retentionMs / DAY_MS) * 100) / 100, ms: this.now() - started }, 'outbox pruned');
    return counts;
  }

  /** Batch after batch, each its own transaction, the event loop given back before each. */
  private async walk(interrupted: () => boolean, step: (after: number) => Batch): Promise<number> {
    let removed = 0;
    let cursor = 0;
    for (;;) {
      await yieldToLoop();
      if (interrupted()) return removed;
      const b = this.db.$client.transaction(step).immediate(cursor);
      removed += b.removed;
      cursor = b.cursor;
      if (b.done) return removed;
    }
  }

  private deliveries(after: number, w: Window): Batch {
    const rows = this.s.deliveries.all(after, this.batch);
    let removed = 0;
    for (const r of rows) {
      // made after the cutoff: delivered after it too, and so is every later row
      if (young(r.created_at, w)) return { removed, cursor: r.id, done: true };
      if (r.delivered_at !== null && r.delivered_at < w.cutoff) removed += this.s.dropDelivery.run(r.id).changes;
    }
    return { removed, cursor: rows.at(-1)?.id ?? after, done: rows.length < this.batch };
  }

  private attempts(after: number, w: Window): Batch {
    const rows = this.s.attempts.all(after, this.batch);
    let removed = 0;
    for (const r of rows) {
      if (young(r.at, w)) return { removed, cursor: r.id, done: true };
      if (!r.kept) removed += this.s.dropAttempt.run(r.id).changes;
    }
    return { removed, cursor: rows.at(-1)?.id ?? after, done: rows.length < this.batch };
  }

  private events(after: number, w: Window): Batch {
    const rows = this.s.events.all(after, this.batch);
    let removed = 0;
    for (const r of rows) {
      if (r.created !== null && young(r.created, w)) return { removed, cursor: r.id, done: true };
      if (r.created === null && r.time < w.cutoff) removed += this.s.dropEvent.run(r.id, w.cutoff).changes;
    }
    return { removed, cursor: rows.at(-1)?.id ?? after, done: rows.length < this.batch };
  }

  /** What a connector kept for a call: removed once the call ended before the cutoff and has no delivery left. */
  private states(connector: string, after: number, w: Window): Batch {
    const rows = this.s.states.all(connector, after, this.batch);
    let removed = 0;
    for (const r of rows) {
      if (r.created_at !== null && young(r.created_at, w)) return { removed, cursor: r.call_id, done: true };
      if (!r.busy) removed += this.s.dropState.run(connector, r.call_id, w.cutoff).changes;
    }
    return { removed, cursor: rows.at(-1)?.call_id ?? after, done: rows.length < this.batch };
  }
}
