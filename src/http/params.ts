/**
 * Request parameters from the query string and the body (form, multipart or
 * JSON), merged into one flat map of strings. Validation happens per method
 * with zod schemas (see `parse`), so a bad value gets INVALID_PARAMETER naming
 * the field.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { ApiError, invalid } from './errors.js';

export type Params = Record<string, string>;

function put(out: Params, key: string, value: unknown): void {
  if (value === undefined || value === null) return;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else throw invalid(key, 'must be a string or a number');
  const prev = out[key];
  if (prev !== undefined && prev !== text) throw invalid(key, 'given more than once with different values');
  out[key] = text;
}

export async function readParams(c: Context): Promise<Params> {
  const out: Params = {};
  const url = new URL(c.req.url);
  for (const [k, v] of url.searchParams) put(out, k, v);
  if (c.req.method !== 'POST') return out;
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    let body: unknown;
    try {
      const text = await c.req.text();
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new ApiError('INVALID_PARAMETER', 'body: is not valid JSON', 'body');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError('INVALID_PARAMETER', 'body: must be a JSON object', 'body');
    }
    for (const [k, v] of Object.entries(body)) put(out, k, v);
  } else if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
    let form: Record<string, string | File | (string | File)[]>;
    try {
      form = await c.req.parseBody({ all: true });
    } catch {
      throw new ApiError('INVALID_PARAMETER', 'body: is not a valid form', 'body');
    }
    for (const [k, v] of Object.entries(form)) {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (typeof item !== 'string') throw invalid(k, 'must be a text field, not a file');
        put(out, k, item);
      }
    }
  }
  return out;
}

/** Validates params with a zod object schema; the first problem names its field. */
export function parse<T>(schema: z.ZodType<T>, params: Params): T {
  const r = schema.safeParse(params);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'parameters';
  throw invalid(field, issue.message);
}

const intIn = (min: number, max: number, fallback: number) =>
  (z.string().optional() as z.ZodType<string | undefined>).transform((v, ctx) => {
    if (v === undefined || v === '') return fallback;
    if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) {
      ctx.addIssue({ code: 'custom', message: `must be an integer between ${min} and ${max}` });
      return z.NEVER;
    }
    return Number(v);
  });

/** `page` (from 1) and `per_page` (1..100, default 20). */
export const paginationShape = {
  page: intIn(1, 1_000_000, 1),
  per_page: intIn(1, 100, 20),
};

/** ISO 8601 UTC with milliseconds, or null. */
export const isoTime = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();
