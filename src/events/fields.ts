/**
 * Validation of what dialplan hooks and the CRM post: CR/LF refused first,
 * empty optional values treated as absent (a dialplan variable that is not
 * set arrives as ""), extra fields kept only when they are sane, and the
 * time formats a PBX sends.
 */
import { z } from 'zod';
import { invalid } from '../http/errors.js';
import type { Params } from '../http/params.js';

/**
 * An integer, or an Asterisk unique id: `1700000000.123`, with a system name
 * prefix (`pbx1-1700000000.123`), or an id ARI gave a channel (`cb-12-op-0a1b`).
 */
export const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,149}$/;
export const EVENT_ID_MESSAGE = 'must be an integer or an Asterisk unique id like 1700000000.123 (letters, digits, ".", "_", "-"; at most 150)';

/** What an extra (undocumented) field may look like; the names are also valid XML element names. */
const EXTRA_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const MAX_VALUE = 1024;
const MAX_FIELDS = 64;

/** CR or LF anywhere is refused before anything else looks at the request. */
export function refuseLineBreaks(params: Params): void {
  for (const [k, v] of Object.entries(params)) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw invalid(/[\r\n]/.test(k) ? 'parameters' : k, 'must not contain CR or LF');
  }
}

/**
 * Every field as received, checked for what a stored and re-sent value must
 * not carry: control characters, huge values, odd names, too many fields.
 */
export function receivedFields(params: Params): Record<string, string> {
  refuseLineBreaks(params);
  const entries = Object.entries(params);
  if (entries.length > MAX_FIELDS) throw invalid('parameters', `at most ${MAX_FIELDS} parameters`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!EXTRA_NAME.test(k)) throw invalid('parameters', `"${k.slice(0, 64)}" is not a valid parameter name`);
    if (/\p{Cc}/u.test(v)) throw invalid(k, 'must not contain control characters');
    if (v.length > MAX_VALUE) throw invalid(k, `must be at most ${MAX_VALUE} characters`);
    out[k] = v;
  }
  return out;
}

/** The params without the optional ones given empty (`keep` lists those where "" means something). */
export function withoutEmpty(params: Params, keep: readonly string[] = []): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) if (v !== '' || keep.includes(k)) out[k] = v;
  return out;
}

const MIN_YEAR = 2000;
const MAX_YEAR = 2100;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * A call time: epoch seconds (optionally with a fraction, as CDR(start,u)),
 * epoch milliseconds, ISO 8601, or Asterisk's CDR(start) `YYYY-MM-DD HH:MM:SS`
 * in the PBX's (= the daemon's) local time. Undefined when not a valid time.
 */
export function parseCallAt(v: string): number | undefined {
  let ms: number | undefined;
  if (/^\d{9,11}(\.\d{1,6})?$/.test(v)) ms = Math.round(Number(v) * 1000);
  else if (/^\d{12,14}$/.test(v)) ms = Number(v);
  else {
    const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(v);
    if (!m) return undefined;
    const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
    const frac = Math.round(Number(`0.${m[7] ?? '0'}`) * 1000);
    if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
    const zone = m[8];
    if (zone === undefined) {
      ms = new Date(y, mo - 1, d, h, mi, s, frac).getTime();
    } else {
      let offsetMin = 0;
      if (zone.toUpperCase() !== 'Z') {
        const z2 = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
        const oh = Number(z2[2]);
        const om = Number(z2[3] ?? '0');
        if (oh > 14 || om > 59) return undefined;
        offsetMin = (z2[1] === '-' ? -1 : 1) * (oh * 60 + om);
      }
      ms = Date.UTC(y, mo - 1, d, h, mi, s, frac) - offsetMin * 60_000;
    }
  }
  if (!Number.isFinite(ms)) return undefined;
  const year = new Date(ms).getUTCFullYear();
  return year >= MIN_YEAR && year <= MAX_YEAR ? ms : undefined;
}

export const callAtField = z.string().transform((v, ctx) => {
  const ms = parseCallAt(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be epoch seconds or milliseconds, ISO 8601, or "YYYY-MM-DD HH:MM:SS" (PBX local time), in 2000-2100' });
    return z.NEVER;
  }
  return ms;
});

export const secondsField = z
  .string()
  .regex(/^\d{1,7}$/, 'must be a whole number of seconds')
  .transform(Number);
