/**
 * Request parameters from the query string and the body (form, multipart or
 * JSON), merged into one flat map of strings. Validation happens per method
 * with zod schemas (see `parse`), so a bad value gets INVALID_PARAMETER naming
 * the field.
 *
 * Input rules, whatever the method: every value is text. In a JSON body a
 * number, boolean, object or array is refused ("must be a string"), because a
 * JSON number loses digits (12345678901234567891 parses as
 * 12345678901234567000); null counts as absent. Text must be valid Unicode:
 * percent-escapes and bodies are decoded as strict UTF-8, and an invalid
 * sequence (`%ED%A0%80`, a raw 0xFF byte) or a lone surrogate (JSON
 * "\ud800") is refused naming its field. The body is read once, at most
 * `maxBytes`, and shared between the token check and the method.
 */
import { isUtf8 } from 'node:buffer';
import type { Context } from 'hono';
import { z } from 'zod';
import { ApiError, invalid } from './errors.js';

export type Params = Record<string, string>;

/** What a request carries: every well-formed parameter, and the first problem found, if any. */
export interface CollectedParams {
  params: Params;
  error?: ApiError;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Stands for an invalid UTF-8 sequence while decoding; never valid on its own, so the value check refuses it. */
const BAD = '\uD800';
const ILL_FORMED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const fatal = new TextDecoder('utf-8', { fatal: true });

/** Length of the valid UTF-8 sequence at b[i], or 0 (overlong forms, surrogates and values above U+10FFFF are invalid). */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  const c1 = b[i + 1]!;
  if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return 0;
  return n;
}

/** UTF-8 bytes → text, each invalid byte standing as a lone surrogate. */
export function decodeUtf8Marked(bytes: Uint8Array): string {
  if (isUtf8(bytes)) return fatal.decode(bytes);
  let out = '';
  let from = 0;
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += fatal.decode(bytes.subarray(from, i)) + BAD;
    i += 1;
    from = i;
  }
  return out + fatal.decode(bytes.subarray(from));
}

/** `a+b%20c` (bytes of a query or form component) → its text; a `%` not followed by two hex digits stays as it is. */
function formDecode(raw: Uint8Array): string {
  const out = new Uint8Array(raw.length);
  let n = 0;
  const hex = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x2b) out[n++] = 0x20;
    else if (c === 0x25 && i + 2 < raw.length && hex(raw[i + 1]!) >= 0 && hex(raw[i + 2]!) >= 0) {
      out[n++] = hex(raw[i + 1]!) * 16 + hex(raw[i + 2]!);
      i += 2;
    } else out[n++] = c;
  }
  return decodeUtf8Marked(out.subarray(0, n));
}

/** `application/x-www-form-urlencoded` bytes (a body, or a query string) → key/value pairs in order. */
export function parseFormEncoded(bytes: Uint8Array): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x26) continue;
    const part = bytes.subarray(start, i);
    start = i + 1;
    if (part.length === 0) continue;
    const eq = part.indexOf(0x3d);
    pairs.push(eq < 0 ? [formDecode(part), ''] : [formDecode(part.subarray(0, eq)), formDecode(part.subarray(eq + 1))]);
  }
  return pairs;
}

/** A field name fit for an error message. */
const shownName = (key: string): string => {
  const clean = key.replace(new RegExp(ILL_FORMED.source, 'g'), '\uFFFD').replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean || '(empty name)';
};

class Collector {
  readonly params: Params = {};
  error: ApiError | undefined;

  fail(err: ApiError): void {
    this.error ??= err;
  }

  put(key: string, value: unknown): void {
    if (ILL_FORMED.test(key)) return this.fail(invalid(shownName(key), 'the parameter name is not valid Unicode text (UTF-8 without lone surrogates)'));
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') {
      const kind = Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
      return this.fail(invalid(key, `must be a string, not ${kind} (put numbers in quotes: a JSON number may lose digits)`));
    }
    if (ILL_FORMED.test(value)) return this.fail(invalid(key, 'must be valid Unicode text (UTF-8 without lone surrogates)'));
    const prev = this.params[key];
    if (prev !== undefined && prev !== value) return this.fail(invalid(key, 'given more than once with different values'));
    this.params[key] = value;
  }
}

/** The raw query string of a URL, as bytes. */
function queryBytes(url: string): Uint8Array {
  const q = url.indexOf('?');
  if (q < 0) return new Uint8Array(0);
  const h = url.indexOf('#', q);
  return Buffer.from(url.slice(q + 1, h < 0 ? undefined : h), 'utf8');
}

/** The body, at most maxBytes (PAYLOAD_TOO_LARGE beyond). */
export async function readBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new ApiError('PAYLOAD_TOO_LARGE', 'request body is too large');
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      void reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Checks the text parts of a multipart body for invalid UTF-8 (the form parser silently replaces it). */
function multipartProblem(bytes: Uint8Array, contentType: string): ApiError | undefined {
  if (isUtf8(bytes)) return undefined;
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const delimiter = Buffer.from(`--${b}`, 'latin1');
  let at = buf.indexOf(delimiter);
  while (at >= 0) {
    const partStart = at + delimiter.length;
    const next = buf.indexOf(delimiter, partStart);
    if (next < 0) break;
    const part = buf.subarray(partStart, next);
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd >= 0) {
      const head = part.subarray(0, headEnd);
      const name = /name="([^"]*)"/i.exec(decodeUtf8Marked(head))?.[1] ?? 'body';
      const isFile = /filename\*?=/i.test(head.toString('latin1'));
      if (!isUtf8(head)) return invalid(shownName(name), 'the parameter name is not valid Unicode text (UTF-8 without lone surrogates)');
      const content = part.subarray(headEnd + 4, Math.max(headEnd + 4, part.length - 2));
      if (!isFile && !isUtf8(content)) return invalid(name, 'must be valid Unicode text (UTF-8 without lone surrogates)');
    }
    at = next;
  }
  return undefined;
}

/** The query string's parameters alone (no body is read). */
export function queryParams(url: string): CollectedParams {
  const out = new Collector();
  for (const [k, v] of parseFormEncoded(queryBytes(url))) out.put(k, v);
  return { params: out.params, error: out.error };
}

async function collect(req: Request, maxBytes: number): Promise<CollectedParams> {
  const out = new Collector();
  for (const [k, v] of parseFormEncoded(queryBytes(req.url))) out.put(k, v);
  if (req.method !== 'POST') return { params: out.params, error: out.error };
  const type = (req.headers.get('content-type') ?? '').toLowerCase();
  const isJson = type.startsWith('application/json');
  const isForm = type.startsWith('application/x-www-form-urlencoded');
  const isMultipart = type.startsWith('multipart/form-data');
  if (!isJson && !isForm && !isMultipart) return { params: out.params, error: out.error };
  let bytes: Uint8Array;
  try {
    bytes = await readBody(req, maxBytes);
  } catch (err) {
    if (err instanceof ApiError) out.fail(err);
    else out.fail(new ApiError('INVALID_PARAMETER', 'body: could not be read', 'body'));
    return { params: out.params, error: out.error };
  }
  if (isJson) {
    let body: unknown;
    try {
      const text = decodeUtf8Marked(bytes).replace(/^\uFEFF/, '');
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      out.fail(new ApiError('INVALID_PARAMETER', 'body: is not valid JSON', 'body'));
      return { params: out.params, error: out.error };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      out.fail(new ApiError('INVALID_PARAMETER', 'body: must be a JSON object', 'body'));
    } else {
      for (const [k, v] of Object.entries(body)) out.put(k, v);
    }
  } else if (isForm) {
    for (const [k, v] of parseFormEncoded(bytes)) out.put(k, v);
  } else {
    let form: FormData;
    try {
      form = await new Request('http://body.invalid/', { method: 'POST', headers: { 'content-type': req.headers.get('content-type') ?? '' }, body: bytes }).formData();
    } catch {
      out.fail(new ApiError('INVALID_PARAMETER', 'body: is not a valid form', 'body'));
      return { params: out.params, error: out.error };
    }
    for (const [k, v] of form) {
      if (typeof v !== 'string') out.fail(invalid(k, 'must be a text field, not a file'));
    }
    const problem = multipartProblem(bytes, req.headers.get('content-type') ?? '');
    if (problem) out.fail(problem);
    else for (const [k, v] of form) if (typeof v === 'string') out.put(k, v);
  }
  return { params: out.params, error: out.error };
}

const collected = new WeakMap<Request, Promise<CollectedParams>>();

/**
 * Every parameter of the request and the first problem with them, without
 * throwing. The answer is kept per request, so the token check and the
 * method read the body once.
 */
export function collectParams(c: Context, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<CollectedParams> {
  const req = c.req.raw;
  let p = collected.get(req);
  if (!p) {
    p = collect(req, maxBytes);
    collected.set(req, p);
  }
  return p;
}

/** The request's parameters; throws the first problem (INVALID_PARAMETER naming the field, PAYLOAD_TOO_LARGE). */
export async function readParams(c: Context, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<Params> {
  const { params, error } = await collectParams(c, maxBytes);
  if (error) throw error;
  return { ...params };
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
