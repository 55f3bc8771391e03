/**
 * Opens the SQLite database: WAL, a busy timeout, synchronous=NORMAL (durable
 * across process crashes; an OS crash may lose the last transactions, which
 * WAL keeps consistent), foreign keys on, temporary files in memory, and the migrations in migrations/
 * applied before anything else touches it. A database file that cannot be
 * written (read-only file or file system, immutable flag) is refused at open
 * with DatabaseNotWritableError: SQLite would otherwise fall back to a
 * read-only connection that stays read-only even once the file is writable.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations');

const BUSY_TIMEOUT_MS = 5000;

export class DatabaseNotWritableError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`database ${path} is not writable: ${reason}`);
    this.name = 'DatabaseNotWritableError';
  }
}

export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path);
  } catch (err) {
    throw new DatabaseNotWritableError(path, (err as Error).message);
  }
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    sqlite.pragma('foreign_keys = ON');
    // Temporary files in memory: the statement journal a write with triggers opens (a file per INSERT otherwise,
    // about 45 µs each) and the sorts of cold queries.
    sqlite.pragma('temp_store = MEMORY');
    const db = drizzle(sqlite, { schema });
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    const problem = writeProbe(sqlite, BUSY_TIMEOUT_MS);
    if (problem) throw new DatabaseNotWritableError(path, problem);
    return db;
  } catch (err) {
    sqlite.close();
    if (err instanceof DatabaseNotWritableError) throw err;
    const code = (err as { code?: string }).code ?? '';
    if (/^SQLITE_(READONLY|IOERR|CANTOPEN|PERM)/.test(code)) throw new DatabaseNotWritableError(path, (err as Error).message);
    throw err;
  }
}

/**
 * A real, invisible write: rewrites the header's user_version with its own
 * value and commits (one WAL frame), then a passive checkpoint, which writes
 * the main file. Returns the error text, or undefined when both worked or the
 * database is merely locked by another writer. BEGIN IMMEDIATE alone is not
 * enough: it succeeds on a read-only connection and with an immutable WAL.
 */
function writeProbe(sqlite: Database.Database, busyMs: number): string | undefined {
  if (sqlite.inTransaction) return undefined;
  sqlite.pragma(`busy_timeout = ${busyMs}`);
  try {
    sqlite.exec('BEGIN IMMEDIATE');
    try {
      const v = Number(sqlite.pragma('user_version', { simple: true }));
      sqlite.pragma(`user_version = ${Number.isSafeInteger(v) ? v : 0}`);
      sqlite.exec('COMMIT');
    } finally {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    }
    sqlite.pragma('wal_checkpoint(PASSIVE)');
    return undefined;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return undefined;
    return code ? `${code}: ${(err as Error).message}` : (err as Error).message;
  } finally {
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}

export interface DatabaseHealth {
  ok: boolean;
  /** why it is not ok */
  error?: string;
  /** when it was last checked (epoch ms) */
  checkedAt: number;
}

/** How long a health probe result is reused, so /health under load costs one write per interval. */
export const HEALTH_PROBE_EVERY_MS = 1000;

const lastProbe = new WeakMap<Database.Database, DatabaseHealth>();
/** The health read, prepared once per connection. */
const healthRead = new WeakMap<Database.Database, Database.Statement>();

/**
 * /health's database check: a read, then the write probe above (at most once
 * per HEALTH_PROBE_EVERY_MS; a failing database is probed again each time, so
 * recovery shows at once). Never throws.
 */
export function databaseHealth(db: Db, now: number = Date.now()): DatabaseHealth {
  const sqlite = db.$client;
  const cached = lastProbe.get(sqlite);
  if (cached?.ok && now - cached.checkedAt < HEALTH_PROBE_EVERY_MS) return cached;
  let result: DatabaseHealth;
  try {
    if (!sqlite.open) throw new Error('the database is closed');
    let read = healthRead.get(sqlite);
    if (!read) healthRead.set(sqlite, (read = sqlite.prepare('SELECT 1 AS ok')));
    read.get();
    const problem = writeProbe(sqlite, 100);
    result = problem ? { ok: false, error: problem, checkedAt: now } : { ok: true, checkedAt: now };
  } catch (err) {
    result = { ok: false, error: (err as Error).message, checkedAt: now };
  }
  lastProbe.set(sqlite, result);
  return result;
}

/** databaseHealth(db).ok */
export function databaseOk(db: Db): boolean {
  return databaseHealth(db).ok;
}
