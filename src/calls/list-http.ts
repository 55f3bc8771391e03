/**
 * callList (also CallsList): every call, click-to-call and PBX-carried,
 * newest first, with a `before_id` keyset cursor and filters.
 */
import { asc, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiMethod } from '../http/app.js';
import { invalid } from '../http/errors.js';
import { isoTime, paginationShape, parse } from '../http/params.js';
import { cdrs, type CallRow, type CdrRow, type RecordingRow } from '../db/schema.js';
import { STATUSES } from './chain.js';
import type { CallStore } from './store.js';
import { transferPath } from '../pbx/derive.js';
import { cdrJson } from '../events/http.js';
import { recordingJson } from './http.js';
import type { Transfer } from '../pbx/mirror.js';

type UrlOf = (recordingId: number) => string;

/** `2026-11-24T04:00:16Z`, a date `2026-11-24`, or epoch milliseconds. */
const time = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    const ms = /^\d{1,15}$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  });

/** The forms a client's number is stored in: as given, with or without a leading +, 8 and 7 for an 11-digit Russian number. */
export function phoneVariants(phone: string): string[] {
  const digits = phone.replace(/^\+/, '');
  const out = new Set([phone, digits, `+${digits}`]);
  if (/^[78]\d{10}$/.test(digits)) {
    const rest = digits.slice(1);
    for (const p of ['7', '8', '+7']) out.add(p + rest);
  }
  return [...out];
}

export function callJson(c: CallRow, recs: readonly RecordingRow[], cdrRows: readonly CdrRow[], urlOf: UrlOf) {
  const transfers = (c.transfers ?? []) as unknown as Transfer[];
  return {
    call_id: c.id,
    direction: c.direction,
    origin: c.origin === 'api' ? 'click-to-call' : 'pbx',
    phone: c.phone,
    did: c.did,
    sip: c.sip,
    operators: c.operators ?? (c.sip ? [c.sip] : []),
    order_id: c.orderId,
    external_key: c.externalKey,
    status: c.status,
    final: c.final,
    linkedid: c.linkedid,
    started_at: isoTime(c.createdAt),
    answered_at: isoTime(c.answeredAt ?? c.clientAnswerAt),
    ended_at: isoTime(c.endedAt),
    billsec: c.billsec,
    hangup_cause: c.hangupCause,
    transfers: transferPath(transfers),
    transfer_history: transfers.map((t) => ({ kind: t.kind, from: t.from, to: t.to, time: isoTime(t.at) })),
    group: c.groupKind ? { kind: c.groupKind, ext: c.groupExt } : null,
    legs: ((c.legs ?? []) as Array<Record<string, unknown>>).map((l) => ({
      channel: l.channel,
      role: l.role,
      sip: l.sip ?? null,
      number: l.number ?? null,
      ring_at: isoTime(l.ring_at as number | null),
      answer_at: isoTime(l.answer_at as number | null),
      end_at: isoTime(l.end_at as number | null),
      cause: l.cause ?? null,
      dial_status: l.dial_status ?? null,
    })),
    recording_file: c.recordingFile,
    records: recs.map((r) => recordingJson(r, c, urlOf)),
    cdr: cdrRows.map(cdrJson),
  };
}

export function callListMethods(store: CallStore, opts: { sipPattern: RegExp; urlOf: UrlOf }): ApiMethod[] {
  const schema = z.object({
    direction: z.enum(['incoming', 'outgoing', 'internal'], { message: 'must be incoming, outgoing or internal' }).optional(),
    origin: z.enum(['click-to-call', 'pbx'], { message: 'must be click-to-call or pbx' }).optional(),
    sip: z.string().max(40, 'is too long').regex(opts.sipPattern, 'is not a valid SIP endpoint name').optional(),
    phone: z.string().regex(/^\+?\d{3,20}$/, 'must be 3-20 digits with an optional leading "+"').optional(),
    status: z.enum(STATUSES, { message: `must be one of ${STATUSES.join(', ')}` }).optional(),
    from: time.optional(),
    to: time.optional(),
    per_page: paginationShape.per_page,
    before_id: z.string().regex(/^[1-9]\d{0,15}$/, 'must be a positive integer').transform(Number).optional(),
  });
  return [
    {
      names: ['callList', 'CallsList'],
      doc: {
        tag: 'calls',
        summary: 'Every call, click-to-call and PBX-carried, newest first',
        description:
          'Filters: `direction`, `origin`, `sip` (the operator who talked or any that rang), `phone` (+7…, 7… and 8… forms of an 11-digit Russian number match each other), ' +
          '`status` (final, or the latest while the call runs), `from` / `to` (start time, ISO 8601 or epoch ms). Page with the `before_id` cursor (`next_before_id`, null on the last page).',
        params: schema,
        example: {
          request: { direction: 'incoming', per_page: '20' },
          response: {
            per_page: 20, next_before_id: null,
            calls: [{ call_id: 7, direction: 'incoming', origin: 'pbx', phone: '79001234567', did: '74950000600', sip: '1001', operators: ['1000', '1001'], order_id: null, external_key: null, status: 'FINISH', final: true, linkedid: '1700000000.123', started_at: '2026-11-24T10:00:05.000Z', answered_at: '2026-11-24T10:00:09.000Z', ended_at: '2026-11-24T10:00:12.000Z', billsec: 3, hangup_cause: 16, transfers: null, transfer_history: [], group: { kind: 'ringgroup', ext: '600' }, legs: [], recording_file: null, records: [], cdr: [] }],
          },
        },
      },
      handle(params) {
        const p = parse(schema, params);
        if (p.from !== undefined && p.to !== undefined && p.from > p.to) throw invalid('from', 'must not be after "to"');
        const rows = store.listCalls(
          {
            ...(p.direction ? { direction: p.direction } : {}),
            ...(p.origin ? { origin: p.origin === 'pbx' ? 'pbx' : 'api' } : {}),
            ...(p.sip ? { sip: p.sip } : {}),
            ...(p.phone ? { phones: phoneVariants(p.phone) } : {}),
            ...(p.status ? { status: p.status } : {}),
            ...(p.from !== undefined ? { from: p.from } : {}),
            ...(p.to !== undefined ? { to: p.to } : {}),
          },
          p.per_page,
          p.before_id,
        );
        const ids = rows.map((r) => r.id);
        const recs = store.recordingsOf(ids);
        const cdrRows = ids.length === 0 ? [] : store.db.select().from(cdrs).where(inArray(cdrs.callId, ids)).orderBy(asc(cdrs.id)).all();
        return {
          per_page: p.per_page,
          calls: rows.map((c) =>
            callJson(
              c,
              recs.filter((r) => r.callId === c.id),
              cdrRows.filter((r) => r.callId === c.id),
              opts.urlOf,
            ),
          ),
          next_before_id: rows.length === p.per_page ? (rows.at(-1)?.id ?? null) : null,
        };
      },
    },
  ];
}
