/**
 * The write batch (src/db/batch.ts) against a real SQLite file: the writes of a
 * turn are invisible to another connection until the one COMMIT, their listeners
 * run only after it, a failing write is undone alone, and a COMMIT that fails is
 * followed by each write on its own (the one the database refuses reported lost).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteBatch } from '../../src/db/batch.js';

let dir: string;
let db: Database.Database;
let other: Database.Database;
let queued: Array<() => void>;
let batch: WriteBatch;
const logged: string[] = [];

const rows = (c: Database.Database) => (c.prepare('SELECT v FROM t ORDER BY id').all() as Array<{ v: string }>).map((r) => r.v);
const insert = (v: string, parent: number | null = null) => () => db.prepare('INSERT INTO t (v, parent) VALUES (?, ?)').run(v, parent).lastInsertRowid;
const runQueued = () => queued.splice(0).forEach((f) => f());

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-batch-'));
  db = new Database(join(dir, 'db.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL CHECK (v <> \'bad\'), parent INTEGER REFERENCES t (id))');
  other = new Database(join(dir, 'db.sqlite'));
  queued = [];
  logged.length = 0;
  batch = new WriteBatch(db, { warn: (_o, m) => logged.push(`warn ${m}`), error: (_o, m) => logged.push(`error ${m}`) }, (fn) => queued.push(fn));
});

afterEach(() => {
  other.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('WriteBatch', () => {
  it('commits the writes of a turn together, then tells their listeners in order', () => {
    const told: string[] = [];
    const a = batch.write('a', insert('a'), (id) => told.push(`a:${id}`));
    batch.write('b', insert('b'), () => told.push('b'));
    expect(a).toBe(1); // the result is there at once
    expect(rows(db)).toEqual(['a', 'b']); // the writer reads its own writes
    expect(rows(other)).toEqual([]); // nobody else before the COMMIT
    expect(told).toEqual([]);
    expect(queued).toHaveLength(1); // one commit scheduled for the turn
    runQueued();
    expect(rows(other)).toEqual(['a', 'b']);
    expect(told).toEqual(['a:1', 'b']);
    expect(batch.pending).toBe(false);
  });

  it('flush() commits at once; the scheduled commit then has nothing to do', () => {
    batch.write('a', insert('a'));
    expect(batch.flush()).toBe(true);
    expect(rows(other)).toEqual(['a']);
    runQueued();
    batch.write('b', insert('b'));
    expect(queued).toHaveLength(1);
    runQueued();
    expect(rows(other)).toEqual(['a', 'b']);
  });

  it('a write that fails is undone alone and throws to its caller; the others commit', () => {
    const told: string[] = [];
    batch.write('a', insert('a'), () => told.push('a'));
    expect(() =>
      batch.write('bad', () => {
        insert('half')(); // undone with the failing statement after it
        return insert('bad')();
      }, () => told.push('bad')),
    ).toThrow(/CHECK constraint/);
    batch.write('c', insert('c'), () => told.push('c'));
    runQueued();
    expect(rows(other)).toEqual(['a', 'c']);
    expect(told).toEqual(['a', 'c']);
  });

  it('a COMMIT that fails: each write again on its own, the refused one reported lost, the others told', () => {
    db.pragma('defer_foreign_keys = ON'); // the foreign key is checked at COMMIT: the COMMIT fails
    const told: string[] = [];
    const lost: string[] = [];
    batch.write('a', insert('a'), () => told.push('a'), () => lost.push('a'));
    batch.write('orphan', insert('orphan', 99), () => told.push('orphan'), (err) => lost.push(`orphan: ${err.message}`));
    batch.write('c', insert('c'), () => told.push('c'), () => lost.push('c'));
    expect(batch.flush()).toBe(false);
    expect(db.inTransaction).toBe(false);
    expect(rows(other)).toEqual(['a', 'c']);
    expect(told).toEqual(['a', 'c']);
    expect(lost).toEqual(['orphan: FOREIGN KEY constraint failed']);
    expect(batch.failedCommits).toBe(1);
    expect(logged).toEqual(['warn a batch of writes could not be committed; writing each on its own', 'error write lost: the database refused it']);
    // the next turn works as before
    batch.write('d', insert('d'));
    runQueued();
    expect(rows(other)).toEqual(['a', 'c', 'd']);
  });

  it('a transaction rolled back under it (not by the batch) has its writes written again one by one', () => {
    const told: string[] = [];
    batch.write('a', insert('a'), () => told.push('a'));
    db.exec('ROLLBACK'); // what SQLite does by itself after some errors (disk full, I/O)
    batch.write('b', insert('b'), () => told.push('b'));
    expect(told).toEqual(['a']); // a was written again, in a transaction of its own, at once
    expect(rows(other)).toEqual(['a']);
    runQueued();
    expect(rows(other)).toEqual(['a', 'b']);
    expect(told).toEqual(['a', 'b']);
  });

  it('inside a transaction someone else opened, a write joins it and is told at once', () => {
    const told: string[] = [];
    db.transaction(() => {
      batch.write('a', insert('a'), () => told.push('a'));
      expect(told).toEqual(['a']);
    })();
    expect(queued).toHaveLength(0);
    expect(rows(other)).toEqual(['a']);
  });

  it('closed with writes pending: they are reported lost, nothing throws', () => {
    const lost: string[] = [];
    batch.write('a', insert('a'), undefined, () => lost.push('a'));
    db.close();
    expect(batch.flush()).toBe(false);
    expect(lost).toEqual(['a']);
    db = new Database(join(dir, 'db.sqlite'));
    expect(rows(db)).toEqual([]);
  });
});
