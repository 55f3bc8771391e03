/**
 * Rows of a drizzle table read by a raw better-sqlite3 statement, for the hot
 * paths: the schema still says which columns there are and how each maps (JSON
 * text, 0/1 booleans), but the statement is plain SQL with camelCase aliases,
 * and only the columns that need it are converted. Same objects as drizzle's
 * select, a fraction of its per-row cost.
 */
import { Column, getTableColumns, type InferSelectModel } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';

export interface RowShape<T> {
  /** `"sql_name" AS "key", ...` for a SELECT or RETURNING list */
  readonly columns: string;
  /** converts a raw row in place (the JSON and boolean columns) and returns it typed; undefined (no row) stays undefined */
  map(raw: Record<string, unknown> | undefined): T | undefined;
}

export function rowShape<TTable extends SQLiteTable>(table: TTable): RowShape<InferSelectModel<TTable>> {
  const cols = Object.entries(getTableColumns(table)) as Array<[string, Column]>;
  const columns = cols.map(([key, c]) => `"${c.name}" AS "${key}"`).join(', ');
  // the columns whose driver value is not already the model's value
  const converted = cols.filter(([, c]) => c.mapFromDriverValue !== Column.prototype.mapFromDriverValue);
  return {
    columns,
    map(raw) {
      if (raw === undefined) return undefined;
      for (const [key, c] of converted) {
        const v = raw[key];
        if (v !== null && v !== undefined) raw[key] = c.mapFromDriverValue(v);
      }
      return raw as InferSelectModel<TTable>;
    },
  };
}
