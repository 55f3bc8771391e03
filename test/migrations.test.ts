/**
 * The SQL migrations as an existing installation meets them: drizzle applies
 * a migration only when its journal time is later than the last one applied,
 * so the times must grow; and a database created at every earlier migration
 * reaches the same schema as a new one.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.js';

const journal = JSON.parse(readFileSync(join('migrations', 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ idx: number; when: number; tag: string }> };

/** The schema of a database file: tables, columns and indexes, sorted. */
function schemaOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY type, name").all() as Array<{ type: string; name: string; sql: string | null }>).map(
      (r) => `${r.type} ${r.name}: ${(r.sql ?? '').replace(/\s+/g, ' ')}`,
    );
  } finally {
    db.close();
  }
}

describe('migrations', () => {
  it('have journal times that grow, in file order', () => {
    const entries = journal.entries;
    expect(entries.map((e) => e.idx)).toEqual(entries.map((_, i) => i));
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.when, `${entries[i]!.tag} after ${entries[i - 1]!.tag}`).toBeGreaterThan(entries[i - 1]!.when);
  });

  it('bring a database made at any earlier migration to the schema of a new one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callbridge-migrations-'));
    try {
      const fresh = join(dir, 'fresh.db');
      openDatabase(fresh).$client.close();
      const want = schemaOf(fresh);
      for (let upTo = 0; upTo < journal.entries.length - 1; upTo++) {
        const file = join(dir, `at-${upTo}.db`);
        // the state of an installation that ran migrations 0..upTo: their SQL, and drizzle's record of them
        const db = new Database(file);
        db.exec('CREATE TABLE "__drizzle_migrations" (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT NULL, created_at numeric)');
        for (const e of journal.entries.slice(0, upTo + 1)) {
          for (const stmt of readFileSync(join('migrations', `${e.tag}.sql`), 'utf8').split('--> statement-breakpoint')) if (stmt.trim()) db.exec(stmt);
          db.prepare('INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES (?, ?)').run(e.tag, e.when);
        }
        db.close();
        openDatabase(file).$client.close();
        expect(schemaOf(file), `from migration ${upTo}`).toEqual(want);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
