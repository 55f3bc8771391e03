/**
 * The writes of a moment in one SQLite transaction (group commit).
 *
 * A burst of Asterisk input (an AMI read of many events, ARI messages arriving
 * together) writes a status, a recording row or a presence change per event;
 * one COMMIT each costs more than the writes themselves. The batch opens a
 * transaction at its first write and commits it GROUP_COMMIT_MS later, with
 * the writes of the reads that came meanwhile. Each write is a unit: its
 * statements run in a savepoint (a failing write is undone alone and throws to
 * its caller, as it would in a transaction of its own), and what depends on it
 * (the status told to listeners, the log line, the SSE poke) runs only once
 * the COMMIT has succeeded.
 *
 * Nothing reads uncommitted rows on their way out: whoever hands data to the
 * outside (an HTTP answer, an outbox delivery, the event stream) calls
 * `flush()` first, which commits at once.
 *
 * A COMMIT that fails (disk full, the file became read-only) is rolled back and
 * every unit is written again in a transaction of its own, in order: each
 * stands or falls alone, as without the batch; a unit that still fails is
 * reported to its `lost` callback and logged. SQLite rolling the transaction
 * back by itself after an error inside it is handled the same way.
 */
import type Database from 'better-sqlite3';

export interface BatchLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Unit {
  write: () => unknown;
  result: unknown;
  after?: (result: any) => void;
  lost?: (err: Error) => void;
  what: string;
}

export class WriteBatch {
  private units: Unit[] = [];
  private open = false;
  /** resolved with the result of the pending batch's COMMIT */
  private waiting: Array<(ok: boolean) => void> = [];
  /** the number of COMMITs that failed (the units were written again one by one) */
  failedCommits = 0;
  /** batches committed, and the writes they held (their ratio: how many writes share a COMMIT) */
  commits = 0;
  committedWrites = 0;

  /** a function in a savepoint (inside the batch) or a transaction of its own (a rewrite) */
  private readonly atomic: (fn: () => unknown) => unknown;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly log?: BatchLog,
    private readonly schedule: (fn: () => void) => void = groupCommit,
  ) {
    this.atomic = sqlite.transaction((fn: () => unknown) => fn());
  }

  /**
   * Runs `write` inside the batch's transaction and returns its result; `after`
   * runs with that result once it is committed, `lost` if it never is. `what`
   * names the write in the log.
   */
  write<T>(what: string, write: () => T, after?: (result: T) => void, lost?: (err: Error) => void): T {
    if (this.open && !this.sqlite.inTransaction) this.recover(new Error('the transaction was rolled back by SQLite'));
    if (!this.open) {
      if (this.sqlite.inTransaction || !this.sqlite.open) {
        // inside someone's explicit transaction (a migration, a test): that transaction decides
        const result = write();
        after?.(result);
        return result;
      }
      this.sqlite.exec('BEGIN');
      this.open = true;
      this.schedule(() => this.flush());
    }
    let result: T;
    try {
      result = this.atomic(write) as T;
    } catch (err) {
      if (!this.sqlite.inTransaction) this.recover(err as Error);
      throw err;
    }
    this.units.push({ write, result, after, lost, what });
    return result;
  }

  /** True while writes wait for their COMMIT. */
  get pending(): boolean {
    return this.open;
  }

  /**
   * Resolves once the pending writes are committed (true) or the COMMIT failed (false), at the
   * batch's flush: answers waiting on it share that one COMMIT. At once when nothing is pending.
   */
  committed(): Promise<boolean> {
    if (!this.open) return Promise.resolve(true);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * Commits what is pending and runs the units' `after` callbacks. Returns false
   * when the COMMIT failed (the units were then written one by one: see above).
   */
  flush(): boolean {
    if (!this.open) return true;
    if (!this.sqlite.inTransaction) {
      this.recover(new Error('the transaction was rolled back by SQLite'));
      return false;
    }
    const units = this.take();
    try {
      this.sqlite.exec('COMMIT');
    } catch (err) {
      if (this.sqlite.inTransaction) this.rollback();
      this.rewrite(units, err as Error);
      this.settle(false);
      return false;
    }
    this.commits++;
    this.committedWrites += units.length;
    for (const u of units) this.tell(u);
    this.settle(true);
    return true;
  }

  private take(): Unit[] {
    const units = this.units;
    this.units = [];
    this.open = false;
    return units;
  }

  private settle(ok: boolean): void {
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve(ok);
  }

  private recover(err: Error): void {
    const units = this.take();
    if (this.sqlite.inTransaction) this.rollback();
    this.rewrite(units, err);
    this.settle(false);
  }

  private rollback(): void {
    try {
      this.sqlite.exec('ROLLBACK');
    } catch {
      // nothing left to roll back
    }
  }

  private rewrite(units: Unit[], err: Error): void {
    if (!this.sqlite.open) {
      // closed with writes pending (stop() commits first: this is a test or a crash path)
      this.log?.error({ writes: units.length }, 'database closed before its pending writes were committed');
      for (const u of units) this.lose(u, new Error('the database connection is closed'));
      return;
    }
    this.failedCommits++;
    this.log?.warn({ err: err.message, writes: units.length }, 'a batch of writes could not be committed; writing each on its own');
    for (const u of units) {
      try {
        u.result = this.atomic(u.write);
      } catch (e) {
        this.log?.error({ err: (e as Error).message, write: u.what }, 'write lost: the database refused it');
        this.lose(u, e as Error);
        continue;
      }
      this.tell(u);
    }
  }

  private lose(u: Unit, err: Error): void {
    try {
      u.lost?.(err);
    } catch {
      // a callback must not stop the others
    }
  }

  private tell(u: Unit): void {
    try {
      u.after?.(u.result);
    } catch (err) {
      this.log?.error({ err: (err as Error).message, write: u.what }, 'a listener of a committed write failed');
    }
  }
}

/**
 * How long the first write of a batch waits for others before the COMMIT: Asterisk's events for
 * calls in flight arrive a few at a time, in separate reads; a short window lets the writes of
 * those reads share one COMMIT (group commit). What waits on it (a status to listeners, an HTTP
 * answer) waits at most this long more.
 */
export const GROUP_COMMIT_MS = 2;

function groupCommit(fn: () => void): void {
  setTimeout(fn, GROUP_COMMIT_MS);
}

/**
 * `body` in a transaction of its own, or as it is when one is open already (the write batch's
 * savepoint around its unit): no second savepoint per statement group on the hot path.
 */
export function atomically<A extends unknown[], R>(sqlite: Database.Database, body: (...args: A) => R): (...args: A) => R {
  const tx = sqlite.transaction(body);
  return (...args: A): R => (sqlite.inTransaction ? body(...args) : tx(...args));
}

const batches = new WeakMap<Database.Database, WriteBatch>();

/** The connection's batch (one per connection, created on first use). */
export function batchOf(sqlite: Database.Database, log?: BatchLog): WriteBatch {
  let b = batches.get(sqlite);
  if (!b) batches.set(sqlite, (b = new WriteBatch(sqlite, log)));
  return b;
}

/** Commits the connection's pending writes, if it has a batch; false when the COMMIT failed. */
export function flushWrites(sqlite: Database.Database): boolean {
  return batches.get(sqlite)?.flush() ?? true;
}

/**
 * For a piece of work that reads and writes over several turns (an HTTP request): call at its start;
 * the function returned waits for the COMMIT of what is pending at its end (answers of the same
 * moment share it) and says whether every COMMIT since the start succeeded (what the work read or
 * wrote is then on disk).
 */
export function commitGuard(sqlite: Database.Database): () => Promise<boolean> {
  const batch = batches.get(sqlite);
  if (!batch) return () => Promise.resolve(true);
  const failures = batch.failedCommits;
  return async () => (await batch.committed()) && batch.failedCommits === failures;
}
