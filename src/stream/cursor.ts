/**
 * The stream's cursor: one position per source table, written
 * `s<call_statuses id>.p<operator_history id>` (later `.d<delivery id>`).
 * Every event carries the cursor just after it as its SSE `id:`; a client
 * that comes back with it (Last-Event-ID or `since_id`) gets every row after
 * each position, so nothing is missed or repeated.
 */
import { invalid } from '../http/errors.js';

/** Source letter → last row id delivered. */
export type Cursor = Map<string, number>;

const PART = /^([a-z])(\d{1,16})$/;

export function formatCursor(cursor: Cursor, letters: readonly string[]): string {
  return letters.map((l) => `${l}${cursor.get(l) ?? 0}`).join('.');
}

/**
 * Parses a cursor for the given source letters. `0` means "from the very
 * beginning"; a position the cursor does not name counts as 0 (a source added
 * later is then delivered from its first row, never skipped).
 */
export function parseCursor(text: string, letters: readonly string[], field: string): Cursor {
  const cursor: Cursor = new Map(letters.map((l) => [l, 0]));
  if (text === '0') return cursor;
  const seen = new Set<string>();
  for (const part of text.split('.')) {
    const m = PART.exec(part);
    if (!m || !letters.includes(m[1]!)) {
      throw invalid(field, `must be a stream cursor such as "${letters.map((l) => `${l}0`).join('.')}" (the id of a stream event) or 0`);
    }
    if (seen.has(m[1]!)) throw invalid(field, `names position "${m[1]}" twice`);
    seen.add(m[1]!);
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n)) throw invalid(field, 'position is too large');
    cursor.set(m[1]!, n);
  }
  return cursor;
}
