/**
 * Deep pages without stepping over the rows before them. SQLite's OFFSET
 * reads every row it skips, so page 50,000 of a list costs 50,000 pages' worth
 * of rows. Migration 0008 keeps two tables of counts, exact because triggers
 * keep them in the same transaction as the rows they count:
 * - `call_counts`: per hour (level 0) and per day (level 1) of the start, UTC,
 *   the final calls and the final children of group calls by direction, and
 *   missed.api's calls (the hosted-PBX history, ordered by start);
 * - `id_pages`: per 1024 ids, the rows of recordings and call_statuses (lists
 *   ordered by id, newest first), and of operator_history, all and per
 *   operator; page -1 is the total of recordings and operator_history.
 * The functions here turn an offset into a start time (or an id bound) and the
 * few rows left to skip from there: the page query then runs from that point,
 * with the same ORDER BY, and returns exactly the rows OFFSET would have.
 * They are pure; the counts come in as functions.
 */
import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The ids of one row of `id_pages`. */
export const ID_PAGE = 1024;
/** Offsets below this are left to OFFSET (at most this many rows skipped). */
export const SEEK_FROM = 1024;

/** The buckets of one level in [lo, hi), ascending; a bucket with no row counts 0. */
export type BucketCounts = (level: 0 | 1, lo: number, hi: number) => Iterable<{ bucket: number; n: number }>;

export interface TimeSeek {
  /** the page starts at or after this time (ms) */
  from: number;
  /** the rows of the list from `from` on to skip */
  offset: number;
}

/**
 * For a list ordered by start time (ties broken by anything) within
 * [from, to] ms: the time and the remaining offset the row at `offset` is
 * found from. `exact(lo, hi)` counts the list's rows that start in [lo, hi),
 * for the part before the first whole hour (at most an hour of rows).
 */
export function seekByTime(from: number, to: number, offset: number, exact: (lo: number, hi: number) => number, counts: BucketCounts): TimeSeek {
  const end = to + 1;
  let pos = from;
  let rem = offset;
  const found = (): TimeSeek => ({ from: pos, offset: rem });
  /** Walks the buckets of a level from pos (a multiple of size) to until; true when the row is in one (pos = its start). */
  const walk = (level: 0 | 1, size: number, until: number): boolean => {
    if (until <= pos) return false;
    for (const { bucket, n } of counts(level, pos / size, until / size)) {
      if (rem < n) {
        pos = bucket * size;
        return true;
      }
      rem -= n;
    }
    pos = until;
    return false;
  };

  // before the first whole hour: counted row by row
  const head = Math.min(Math.ceil(pos / HOUR_MS) * HOUR_MS, end);
  if (head > pos) {
    const n = exact(pos, head);
    if (rem < n) return found();
    rem -= n;
    pos = head;
  }
  const lastHour = Math.floor(end / HOUR_MS) * HOUR_MS;
  const lastDay = Math.floor(end / DAY_MS) * DAY_MS;
  // hours up to the first midnight, whole days, then the hours of the last day
  if (walk(0, HOUR_MS, Math.min(Math.ceil(pos / DAY_MS) * DAY_MS, lastHour))) return found();
  if (pos % DAY_MS === 0 && walk(1, DAY_MS, lastDay)) {
    walk(0, HOUR_MS, pos + DAY_MS);
    return found();
  }
  walk(0, HOUR_MS, lastHour);
  // what is left lies in the last, partial hour (or past the end)
  return found();
}

export interface IdSeek {
  /** the page's ids are below this */
  below: number;
  /** the rows below `below` to skip */
  offset: number;
}

/**
 * For a list ordered by id, newest first: the id bound and the remaining
 * offset the row at `offset` is found from, given the id pages newest first;
 * undefined when the offset is past the last row.
 */
export function seekNewest(offset: number, pages: Iterable<{ page: number; n: number }>): IdSeek | undefined {
  let rem = offset;
  for (const { page, n } of pages) {
    if (rem < n) return { below: (page + 1) * ID_PAGE, offset: rem };
    rem -= n;
  }
  return undefined;
}

/** The lists `id_pages` counts: a table, or one operator's rows of operator_history. */
export type PagedTable = 'recordings' | 'call_statuses' | 'operator_history' | `operator_history/${string}`;

/** Reads `id_pages` for seekNewest. */
export class IdPages {
  private readonly pages: Statement<[string], { page: number; n: number }>;
  private readonly totalStmt: Statement<[string], { n: number }>;

  constructor(sqlite: Database.Database) {
    this.pages = sqlite.prepare('SELECT page, n FROM id_pages WHERE tbl = ? AND page >= 0 ORDER BY page DESC');
    this.totalStmt = sqlite.prepare('SELECT n FROM id_pages WHERE tbl = ? AND page = -1');
  }

  /** Where the row at `offset` of `tbl`, newest first, is found from; a small offset is left as it is. */
  seek(tbl: PagedTable, offset: number): IdSeek | undefined {
    if (offset < SEEK_FROM) return { below: Number.MAX_SAFE_INTEGER, offset };
    return seekNewest(offset, this.pages.iterate(tbl));
  }

  /** The rows of a list (kept by its triggers; recordings and operator_history). */
  total(tbl: Exclude<PagedTable, 'call_statuses'>): number {
    return this.totalStmt.get(tbl)?.n ?? 0;
  }
}
