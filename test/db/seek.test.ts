/**
 * Deep pages (src/db/seek.ts, migration 0008): the pure offset arithmetic on
 * tables of cases, then on a real database file whose rows are written,
 * changed and deleted at random: the trigger-kept counts must equal a count
 * of the rows, calls.called_back must equal its definition, and every page
 * found through the counts must be the page OFFSET gives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import { DAY_MS, HOUR_MS, seekByTime, seekNewest, type BucketCounts } from '../../src/db/seek.js';
import { HistoryQueries, type HistoryQuery, type LgDirection } from '../../src/rest/history.js';
import { PresenceStore } from '../../src/presence/store.js';
import { CallStore } from '../../src/calls/store.js';
import { seeded } from '../asterisk/ami/fake-ami.js';

describe('seekByTime', () => {
  // rows at these times; the counts are derived from them, so every case is checked against plain counting
  const T = Date.UTC(2026, 10, 23, 22, 0, 0); // a day's start is 00:00 UTC: T + 2 h
  const times = [T + 5, T + HOUR_MS - 1, T + HOUR_MS, T + HOUR_MS, T + 2 * HOUR_MS + 7, T + 26 * HOUR_MS, T + 26 * HOUR_MS + 1, T + 3 * DAY_MS, T + 3 * DAY_MS + 30 * 60_000].sort((a, b) => a - b);
  const exact = (lo: number, hi: number) => times.filter((t) => t >= lo && t < hi).length;
  const counts: BucketCounts = function* (level, lo, hi) {
    const size = level === 0 ? HOUR_MS : DAY_MS;
    for (let b = lo; b < hi; b++) {
      const n = times.filter((t) => Math.floor(t / size) === b).length;
      if (n > 0) yield { bucket: b, n };
    }
  };
  /** Rows before the answer's start plus its offset must be the asked offset, and the row there the same. */
  const cases: Array<{ name: string; from: number; to: number }> = [
    { name: 'a window inside one hour', from: T + 1, to: T + 1000 },
    { name: 'a window from a whole hour', from: T, to: T + 4 * DAY_MS },
    { name: 'a window from mid-hour over days', from: T + 3, to: T + 4 * DAY_MS },
    { name: 'a window ending mid-hour', from: T, to: T + 3 * DAY_MS + 10 },
    { name: 'a window ending at the last ms of an hour', from: T + 1, to: T + 2 * HOUR_MS - 1 },
    { name: 'a window of one ms on a tie', from: T + HOUR_MS, to: T + HOUR_MS },
    { name: 'a window from midnight', from: T + 2 * HOUR_MS, to: T + 5 * DAY_MS },
  ];
  for (const c of cases) {
    it(`${c.name}: every offset, and past the end`, () => {
      const inWindow = times.filter((t) => t >= c.from && t <= c.to);
      for (let offset = 0; offset <= inWindow.length + 1; offset++) {
        const at = seekByTime(c.from, c.to, offset, exact, counts);
        expect(at.from).toBeGreaterThanOrEqual(c.from);
        expect(times.filter((t) => t >= c.from && t < at.from).length + at.offset, `offset ${offset}`).toBe(offset);
        const rest = inWindow.filter((t) => t >= at.from);
        expect(rest[at.offset], `offset ${offset}`).toBe(inWindow[offset]);
      }
    });
  }

  it('reads whole days, not their hours, until the day that holds the row', () => {
    const asked: string[] = [];
    const many: BucketCounts = function* (level, lo, hi) {
      asked.push(`${level}:${hi - lo}`);
      for (let b = lo; b < hi; b++) yield { bucket: b, n: level === 0 ? 10 : 240 };
    };
    // 30 days of 10 rows an hour from midnight; the row at 240 * 20 + 15 is in day 20, hour 1
    const from = 20_000 * DAY_MS;
    const at = seekByTime(from, from + 30 * DAY_MS, 240 * 20 + 15, () => 0, many);
    expect(at).toEqual({ from: from + 20 * DAY_MS + HOUR_MS, offset: 5 });
    expect(asked).toEqual(['1:30', '0:24']);
  });
});

describe('seekNewest', () => {
  const pages = [
    { page: 9, n: 3 },
    { page: 8, n: 1024 },
    { page: 6, n: 10 },
  ];
  it.each([
    { offset: 0, want: { below: 10 * 1024, offset: 0 } },
    { offset: 2, want: { below: 10 * 1024, offset: 2 } },
    { offset: 3, want: { below: 9 * 1024, offset: 0 } },
    { offset: 1026, want: { below: 9 * 1024, offset: 1023 } },
    { offset: 1027, want: { below: 7 * 1024, offset: 0 } },
    { offset: 1036, want: { below: 7 * 1024, offset: 9 } },
    { offset: 1037, want: undefined },
  ])('offset $offset', ({ offset, want }) => {
    expect(seekNewest(offset, pages)).toEqual(want);
  });
});

describe('the counts on a real database', () => {
  let dir: string;
  let db: Db;
  const rnd = seeded(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const T0 = Date.UTC(2026, 10, 20, 21, 17, 3);
  const PHONES = ['79001234567', '89001234567', '+79001234567', '9001234567', '380991112233', '+380991112233', 'anonymous', '12', null];
  const DIRS = ['incoming', 'outgoing', 'internal'] as const;
  const STATUS = ['FINISH', 'CLIENT_CANCEL', 'CLIENT_NOANSWER', 'OPERATOR_NOANSWER', 'CLIENT_CALLTO'];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'callbridge-seek-'));
    db = openDatabase(join(dir, 'c.db'));
    const raw = db.$client;
    const ins = raw.prepare(
      `INSERT INTO calls (origin, direction, phone, status, final, created_at, answered_at, client_answer_at, sip, operators, group_kind) VALUES ('pbx', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insChild = raw.prepare(`INSERT INTO call_children (uuid, call_id, uniqueid, sip, created_at, final, direction) VALUES (?, ?, ?, '101', ?, ?, ?)`);
    const insStatus = raw.prepare(`INSERT INTO call_statuses (call_id, status, time, details) VALUES (?, 'CALL', ?, '{}')`);
    const insRec = raw.prepare(`INSERT INTO recordings (call_id, name, file, format, started_at) VALUES (?, 'r', '/r.wav', 'wav', ?)`);
    const insHistory = raw.prepare(`INSERT INTO operator_history (sip, status, previous_status, reason, time) VALUES (?, ?, ?, 'x', ?)`);
    const last = new Map<string, string | null>();
    raw.transaction(() => {
      for (let i = 0; i < 3000; i++) {
        // three days, in bursts so that hours hold from 0 to hundreds of rows; some on exact hour boundaries
        const t = rnd() < 0.05 ? T0 + Math.floor(rnd() * 72) * HOUR_MS - (T0 % HOUR_MS) : T0 + Math.floor(rnd() ** 2 * 3 * DAY_MS);
        const status = pick(STATUS);
        const answered = status === 'FINISH' && rnd() < 0.8 ? t + 1000 : null;
        const [sip, operators, group] = pick([
          ['101', '["101"]', null],
          [null, '["102","103"]', null],
          [null, null, null],
          [null, '[]', null],
          [null, '["101","102"]', 'ringgroup'],
        ] as const);
        const id = Number(ins.run(pick(DIRS), pick(PHONES), status, rnd() < 0.9 ? 1 : 0, t, answered, rnd() < 0.1 ? t + 900 : null, sip, operators, group).lastInsertRowid);
        if (rnd() < 0.2) for (let k = 0; k < 2; k++) insChild.run(`u-${id}-${k}`, id, `${id}.${k}`, t + k, rnd() < 0.9 ? 1 : 0, pick(DIRS));
        for (let k = 0; k < 3; k++) insStatus.run(id, t + k);
        if (rnd() < 0.7) insRec.run(id, t);
        // presence walks through online, inuse, away and offline, so that pauses, calls while paused and unpauses occur
        const who = pick(['101', '102', '102', '103']);
        const before = last.get(who) ?? null;
        const next = pick(['online', 'inuse', 'away', 'offline', 'inuse', 'online'].filter((x) => x !== before));
        insHistory.run(who, next, before, t);
        last.set(who, next);
      }
    })();
    // then changes of every kind the triggers follow
    const n = 3000;
    for (let i = 0; i < 1500; i++) {
      const id = 1 + Math.floor(rnd() * n);
      const what = Math.floor(rnd() * 7);
      if (what === 0) raw.prepare('UPDATE calls SET final = 1 - final WHERE id = ?').run(id);
      else if (what === 1) raw.prepare('UPDATE calls SET direction = ?, sip = ?, group_kind = ? WHERE id = ?').run(pick(DIRS), pick(['101', null]), pick(['queue', null]), id);
      else if (what === 2) raw.prepare('UPDATE calls SET phone = ? WHERE id = ?').run(pick(PHONES), id);
      else if (what === 3) raw.prepare('UPDATE calls SET answered_at = created_at + 5, status = ? WHERE id = ?').run(pick(STATUS), id);
      else if (what === 4) raw.prepare('UPDATE calls SET created_at = created_at + ? WHERE id = ?').run(Math.floor(rnd() * 2 * HOUR_MS), id);
      else if (what === 5) raw.prepare('UPDATE call_children SET final = 1 - final, direction = ? WHERE call_id = ?').run(pick(DIRS), id);
      else {
        raw.prepare('DELETE FROM recordings WHERE call_id = ?').run(id);
        raw.prepare('DELETE FROM call_statuses WHERE call_id = ? AND id % 2 = 0').run(id);
        raw.prepare("UPDATE operator_history SET sip = '104' WHERE id = ?").run(id);
        raw.prepare('DELETE FROM operator_history WHERE id = ?').run(id + 1);
        if (rnd() < 0.3) {
          raw.prepare('DELETE FROM call_statuses WHERE call_id = ?').run(id);
          raw.prepare('DELETE FROM call_children WHERE call_id = ?').run(id);
          raw.prepare('DELETE FROM calls WHERE id = ?').run(id);
        }
      }
    }
  });
  afterAll(() => {
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('call_counts equals a count of the rows, per hour and per day', () => {
    const raw = db.$client;
    const userCase = (d: string) =>
      `sum(CASE WHEN c.final = 1 AND c.direction = '${d}' AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]')) THEN 1 ELSE 0 END)`;
    const dirCase = (t: string, d: string) => `sum(CASE WHEN ${t}.final = 1 AND ${t}.direction = '${d}' THEN 1 ELSE 0 END)`;
    for (const [level, size] of [
      [0, HOUR_MS],
      [1, DAY_MS],
    ] as const) {
      const kept = raw
        .prepare(
          `SELECT bucket, c_in, c_out, c_int, k_in, k_out, k_int, missed, u_in, u_out, u_int, p_pause, p_unpause FROM call_counts
           WHERE level = ? AND (c_in + c_out + c_int + c_other + k_in + k_out + k_int + k_other + missed + u_in + u_out + u_int + u_other + p_pause + p_unpause) <> 0 ORDER BY bucket`,
        )
        .all(level);
      const counted = raw
        .prepare(
          `SELECT bucket, sum(c_in) AS c_in, sum(c_out) AS c_out, sum(c_int) AS c_int, sum(k_in) AS k_in, sum(k_out) AS k_out, sum(k_int) AS k_int, sum(missed) AS missed,
             sum(u_in) AS u_in, sum(u_out) AS u_out, sum(u_int) AS u_int, sum(p_pause) AS p_pause, sum(p_unpause) AS p_unpause FROM (
             SELECT c.created_at / ${size} AS bucket, ${dirCase('c', 'incoming')} AS c_in, ${dirCase('c', 'outgoing')} AS c_out, ${dirCase('c', 'internal')} AS c_int, 0 AS k_in, 0 AS k_out, 0 AS k_int,
               sum(CASE WHEN c.direction = 'incoming' AND c.final = 1 AND c.answered_at IS NULL AND c.client_answer_at IS NULL AND c.status <> 'FINISH' AND c.called_back = 0 AND c.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END) AS missed,
               ${userCase('incoming')} AS u_in, ${userCase('outgoing')} AS u_out, ${userCase('internal')} AS u_int, 0 AS p_pause, 0 AS p_unpause
             FROM calls c GROUP BY 1
             UNION ALL
             SELECT k.created_at / ${size}, 0, 0, 0, ${dirCase('k', 'incoming')}, ${dirCase('k', 'outgoing')}, ${dirCase('k', 'internal')}, 0, 0, 0, 0, 0, 0 FROM call_children k GROUP BY 1
             UNION ALL
             SELECT h.time / ${size}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, sum(CASE WHEN h.pause = 32 THEN 1 ELSE 0 END), sum(CASE WHEN h.pause = 64 THEN 1 ELSE 0 END) FROM operator_history h GROUP BY 1
           ) GROUP BY bucket HAVING (c_in + c_out + c_int + k_in + k_out + k_int + missed + u_in + u_out + u_int + p_pause + p_unpause) <> 0 ORDER BY bucket`,
        )
        .all();
      expect(kept.length).toBeGreaterThan(level === 0 ? 40 : 3);
      expect(kept).toEqual(counted);
    }
  });

  it('called_back is 1 exactly when a later call of the same number had a conversation', () => {
    const rows = db.$client.prepare('SELECT id, phone, called_back AS cb, answered_at AS a, client_answer_at AS ca, status FROM calls ORDER BY id').all() as Array<{
      id: number;
      phone: string | null;
      cb: number;
      a: number | null;
      ca: number | null;
      status: string;
    }>;
    const key = (p: string | null) => {
      if (p === null) return null;
      const d = p.replace(/^\++/, '');
      return d.length === 11 && /^[78]/.test(d) && /^[0-9]+$/.test(d) ? `7${d.slice(1)}` : d;
    };
    const talked = (r: (typeof rows)[number]) => r.a !== null || r.ca !== null || r.status === 'FINISH';
    const want = rows.map((r, i) => (key(r.phone) !== null && rows.slice(i + 1).some((l) => talked(l) && key(l.phone) === key(r.phone)) ? 1 : 0));
    expect(rows.map((r) => r.cb)).toEqual(want);
    expect(want.filter((x) => x === 1).length).toBeGreaterThan(100);
    expect(want.filter((x) => x === 0).length).toBeGreaterThan(100);
  });

  it('company.api and missed.api at any offset give the page OFFSET gives', () => {
    const q = new HistoryQueries(db);
    const raw = db.$client;
    const company = raw.prepare(q.sql.company);
    const missed = raw.prepare(q.sql.missed);
    const windows = [
      [T0 - DAY_MS, T0 + 5 * DAY_MS],
      [T0 + 1234, T0 + 2 * DAY_MS + 777],
      [T0 + 3 * HOUR_MS, T0 + 3 * HOUR_MS + 59 * 60_000],
    ] as const;
    let deep = 0;
    const childKey = (rowid: number) => {
      const k = raw.prepare('SELECT call_id AS c, uniqueid AS u FROM call_children WHERE rowid = ?').get(rowid) as { c: number; u: string };
      return `${k.c}.${k.u}`;
    };
    for (const [from, to] of windows) {
      const total = (company.all({ from, to, all: 1, d1: null, d2: null, d4: null, limit: 1_000_000, offset: 0 }) as unknown[]).length;
      for (const directions of [undefined, new Set<LgDirection>([4]), new Set<LgDirection>([1, 2])]) {
        for (const offset of [0, 1023, 1024, 1500, Math.floor(total / 2), total - 7, total + 3].filter((o) => o >= 0)) {
          const query: HistoryQuery = { timeFrom: from, timeTo: to, limit: 50, offset, directions };
          const d = directions ? (['internal', 'outgoing', 'incoming'] as const).filter((_, i) => directions.has((1 << i) as LgDirection)) : [];
          const want = (company.all({ from, to, all: directions ? 0 : 1, d1: d[0] ?? null, d2: d[1] ?? null, d4: d[2] ?? null, limit: 50, offset }) as Array<{ src: number; id: number }>).map((r) => `${r.src}:${r.id}`);
          const got = q.company(query).map((e) => (e.kind === 'call' ? `0:${e.call.id}` : `1:${e.child.callId}.${e.child.uniqueid}`));
          const wantKeys = want.map((k) => (k.startsWith('0:') ? k : `1:${(raw.prepare('SELECT call_id AS c, uniqueid AS u FROM call_children WHERE rowid = ?').get(Number(k.slice(2))) as { c: number; u: string }).c}.${(raw.prepare('SELECT uniqueid AS u FROM call_children WHERE rowid = ?').get(Number(k.slice(2))) as { u: string }).u}`));
          expect(got, `company ${from}-${to} offset ${offset} ${[...(directions ?? [])]}`).toEqual(wantKeys);
          if (offset >= 1024 && want.length > 0) deep++;
        }
      }
      const users = raw.prepare(q.sql.users);
      for (const directions of [undefined, new Set<LgDirection>([4, 32]), new Set<LgDirection>([64]), new Set<LgDirection>([1, 2])]) {
        const d = directions ? (['internal', 'outgoing', 'incoming'] as const).filter((_, i) => directions.has((1 << i) as LgDirection)) : [];
        const params = (offset: number, limit: number) => ({
          from, to, all: directions ? 0 : 1, d1: d[0] ?? null, d2: d[1] ?? null, d4: d[2] ?? null, limit, offset,
          calls: !directions || d.length > 0 ? 1 : 0, p32: !directions || directions.has(32) ? 1 : 0, p64: !directions || directions.has(64) ? 1 : 0,
        });
        const total = (users.all(params(0, 1_000_000)) as unknown[]).length;
        for (const offset of [0, 1024, 1100, Math.floor(total / 2), total - 3, total + 1].filter((o) => o >= 0)) {
          const want = (users.all(params(offset, 50)) as Array<{ src: number; id: number }>).map((r) => (r.src === 3 ? `3:${r.id}` : r.src === 0 ? `0:${r.id}` : `2:${childKey(r.id)}`));
          const got = q.users({ timeFrom: from, timeTo: to, limit: 50, offset, directions }).map((e) =>
            e.kind === 'call' ? `0:${e.call.id}` : e.kind === 'child' ? `2:${e.child.callId}.${e.child.uniqueid}` : `3:${e.id}`,
          );
          expect(got, `users ${from}-${to} offset ${offset} ${[...(directions ?? [])]}`).toEqual(want);
          if (offset >= 1024 && want.length > 0) deep++;
        }
      }
      const missedTotal = (missed.all({ from, to, limit: 1_000_000, offset: 0 }) as unknown[]).length;
      for (const offset of [0, 3, Math.floor(missedTotal / 2), missedTotal - 1, missedTotal]) {
        const want = (missed.all({ from, to, limit: 5, offset }) as Array<{ id: number }>).map((r) => r.id);
        expect(q.missed({ timeFrom: from, timeTo: to, limit: 5, offset, directions: undefined }).map((c) => c.id), `missed offset ${offset}`).toEqual(want);
      }
    }
    expect(deep).toBeGreaterThan(10);
  });

  it('operatorHistory pages at any depth, of everyone and of one sip, are the pages OFFSET gives, with the true total', () => {
    const presence = new PresenceStore(db);
    const raw = db.$client;
    for (const sip of [undefined, '101', '102', '104', 'nobody']) {
      const ids = (raw.prepare(`SELECT id FROM operator_history ${sip === undefined ? '' : 'WHERE sip = ?'} ORDER BY id DESC`).all(...(sip === undefined ? [] : [sip])) as Array<{ id: number }>).map((r) => r.id);
      for (const page of [1, 2, 52, 53, Math.ceil(ids.length / 20), Math.ceil(ids.length / 20) + 1]) {
        const r = presence.listHistory({ page, perPage: 20 }, sip);
        expect(r.total, `${sip} total`).toBe(ids.length);
        expect(r.rows.map((x) => x.id), `${sip} page ${page}`).toEqual(ids.slice((page - 1) * 20, page * 20));
      }
    }
  });

  it('recordList and callHistory pages at any depth are the pages OFFSET gives, and the total is the count', () => {
    const store = new CallStore(db);
    const raw = db.$client;
    const recs = (raw.prepare('SELECT id FROM recordings ORDER BY id DESC').all() as Array<{ id: number }>).map((r) => r.id);
    const statuses = (raw.prepare('SELECT id FROM call_statuses ORDER BY id DESC').all() as Array<{ id: number }>).map((r) => r.id);
    expect(recs.length).toBeGreaterThan(1500);
    for (const page of [1, 2, 51, 52, Math.ceil(recs.length / 20), Math.ceil(recs.length / 20) + 1]) {
      const r = store.listRecordings(page, 20);
      expect(r.total).toBe(recs.length);
      expect(r.rows.map((x) => x.recording.id), `recordList page ${page}`).toEqual(recs.slice((page - 1) * 20, page * 20));
    }
    for (const page of [1, 11, 12, 100, Math.ceil(statuses.length / 100), Math.ceil(statuses.length / 100) + 1]) {
      expect(
        store.latestStatuses(page, 100).rows.map((x) => x.id),
        `callHistory page ${page}`,
      ).toEqual(statuses.slice((page - 1) * 100, page * 100));
    }
  });
});

describe('calls.called_back, case by case', () => {
  let dir: string;
  let db: Db;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'callbridge-called-back-'));
    db = openDatabase(join(dir, 'c.db'));
  });
  afterAll(() => {
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const add = (phone: string | null, answered: boolean): number =>
    Number(
      db.$client
        .prepare(`INSERT INTO calls (origin, direction, phone, status, final, created_at, answered_at) VALUES ('pbx', 'incoming', ?, ?, 1, 0, ?)`)
        .run(phone, answered ? 'FINISH' : 'CLIENT_CANCEL', answered ? 1 : null).lastInsertRowid,
    );
  const flag = (id: number) => (db.$client.prepare('SELECT called_back AS f FROM calls WHERE id = ?').get(id) as { f: number }).f;
  const run = (sql: string, ...args: unknown[]) => db.$client.prepare(sql).run(...args);

  it('a later answered call of the number, in another form, calls it back; an earlier one does not', () => {
    const before = add('79001110001', true);
    const missed = add('79001110001', false);
    expect([flag(before), flag(missed)]).toEqual([0, 0]);
    const later = add('+89001110001', false);
    expect(flag(missed)).toBe(0);
    run("UPDATE calls SET answered_at = 5, status = 'FINISH' WHERE id = ?", later);
    expect([flag(before), flag(missed), flag(later)]).toEqual([1, 1, 0]);
  });

  it('an answered call that changes number un-calls-back the old number and calls back the new one', () => {
    const a = add('79002220001', false);
    const b = add('79003330001', false);
    const callback = add('79002220001', true);
    expect([flag(a), flag(b)]).toEqual([1, 0]);
    run("UPDATE calls SET phone = '9003330001' WHERE id = ?", callback); // not the 11-digit form: another key
    expect([flag(a), flag(b)]).toEqual([0, 0]);
    run("UPDATE calls SET phone = '+79003330001' WHERE id = ?", callback);
    expect([flag(a), flag(b)]).toEqual([0, 1]);
  });

  it('a missed call that changes number takes the flag of its new number', () => {
    const missed = add('79004440001', false);
    add('79005550001', true); // a later answered call of another number
    expect(flag(missed)).toBe(0);
    run("UPDATE calls SET phone = '89005550001' WHERE id = ?", missed);
    expect(flag(missed)).toBe(1);
    run('UPDATE calls SET phone = NULL WHERE id = ?', missed);
    expect(flag(missed)).toBe(0);
  });

  it('operator_history.pause is the pause rule applied to the operator\'s row before', () => {
    const rnd = seeded(5);
    const raw = db.$client;
    const ins = raw.prepare(`INSERT INTO operator_history (sip, status, previous_status, reason, time) VALUES (?, ?, ?, 'x', ?)`);
    const last = new Map<string, string | null>();
    for (let i = 0; i < 3000; i++) {
      const who = ['101', '102', '103'][Math.floor(rnd() * 3)]!;
      const before = last.get(who) ?? null;
      const choices = ['online', 'inuse', 'away', 'offline'].filter((x) => x !== before);
      const next = choices[Math.floor(rnd() * choices.length)]!;
      ins.run(who, next, before, i * 1000);
      last.set(who, next);
    }
    // the rule as users.api applied it to every row before migration 0008
    const prior = `(SELECT p.previous_status FROM operator_history p WHERE p.sip = h.sip AND p.id < h.id ORDER BY p.id DESC LIMIT 1) = 'away'`;
    const rule = `CASE WHEN h.status = 'away' AND (h.previous_status IS NULL OR h.previous_status <> 'inuse' OR NOT coalesce(${prior}, 0)) THEN 32
      WHEN h.status = 'online' AND (h.previous_status = 'away' OR (h.previous_status = 'inuse' AND coalesce(${prior}, 0))) THEN 64 END`;
    const rows = raw.prepare(`SELECT h.pause AS kept, ${rule} AS want FROM operator_history h ORDER BY h.id`).all() as Array<{ kept: number | null; want: number | null }>;
    expect(rows.map((r) => r.kept)).toEqual(rows.map((r) => r.want));
    expect(rows.filter((r) => r.want === 32).length).toBeGreaterThan(200);
    expect(rows.filter((r) => r.want === 64).length).toBeGreaterThan(200);
    // a call begun while paused: its end (inuse → away) is no new pause, and inuse → online after it is the unpause
    const unpausedInCall = raw.prepare(`SELECT count(*) AS n FROM operator_history h WHERE h.status = 'online' AND h.previous_status = 'inuse' AND h.pause = 64`).get() as { n: number };
    expect(unpausedInCall.n).toBeGreaterThan(20);
  });

  it('deleting the callback un-calls-back, unless another later answered call remains', () => {
    const missed = add('79006660001', false);
    const one = add('79006660001', true);
    const two = add('79006660001', true);
    run('DELETE FROM calls WHERE id = ?', two);
    expect(flag(missed)).toBe(1);
    run('DELETE FROM calls WHERE id = ?', one);
    expect(flag(missed)).toBe(0);
  });
});
