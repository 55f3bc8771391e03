/** makeCall and the call history API: callHistory, orderHistory, orderRecords, recordList / RecordsList. */
import { z } from 'zod';
import type { ApiMethod } from '../http/app.js';
import { ApiError, invalid } from '../http/errors.js';
import { isoTime, paginationShape, parse, type Params } from '../http/params.js';
import type { CallRow, CallStatusRow, RecordingRow } from '../db/schema.js';
import type { CallService } from './service.js';
import type { CallStore } from './store.js';
import { orderEventsJson } from '../events/http.js';

const orderId = z.string({ message: 'is required' }).regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"');
const callId = z.string().regex(/^[1-9]\d{0,15}$/, 'must be a positive integer').transform(Number);

function makeCallSchema(sipPattern: RegExp) {
  return z.object({
    sip: z.string({ message: 'is required' }).max(40, 'is too long').regex(sipPattern, 'is not a valid SIP endpoint name'),
    phone: z.string({ message: 'is required' }).regex(/^\+?\d{3,20}$/, 'must be 3-20 digits with an optional leading "+"'),
    order_id: orderId,
    external_key: z
      .string()
      .regex(/^[^\p{Cc}]{1,128}$/u, 'must be 1-128 printable characters')
      .optional(),
  });
}

/** CR or LF anywhere is refused before anything else looks at the request. */
function refuseLineBreaks(params: Params): void {
  for (const [k, v] of Object.entries(params)) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw invalid(/[\r\n]/.test(k) ? 'parameters' : k, 'must not contain CR or LF');
  }
}

const callHistorySchema = z.object({
  call_id: callId.optional(),
  since_id: z.string().regex(/^\d{1,16}$/, 'must be a non-negative integer').transform(Number).optional(),
  ...paginationShape,
});
const orderHistorySchema = z.object({ order_id: orderId, group_by_call: z.enum(['0', '1'], { message: 'must be 0 or 1' }).optional() });
const orderRecordsSchema = z.object({ order_id: orderId });
const recordListSchema = z.object({ ...paginationShape, before_id: callId.optional() });

const statusJson = (s: CallStatusRow) => ({ id: s.id, call_id: s.callId, status: s.status, time: isoTime(s.time), details: s.details });

export type UrlOf = (recordingId: number) => string;

/** A recording as the API shows it (recordList, orderRecords, callList). */
export const recordingJson = (r: RecordingRow, c: CallRow | undefined, urlOf: UrlOf) => ({
  id: r.id,
  call_id: r.callId,
  order_id: r.orderId,
  external_key: c?.externalKey ?? null,
  sip: c?.sip ?? null,
  phone: c?.phone ?? null,
  file: r.file,
  url: urlOf(r.id),
  format: r.format,
  size: r.size,
  duration: r.duration,
  created_at: isoTime(r.startedAt),
});

export function callMethods(service: CallService, store: CallStore, opts: { sipPattern: RegExp; urlOf: UrlOf }): ApiMethod[] {
  const makeCall = makeCallSchema(opts.sipPattern);
  return [
    {
      names: ['makeCall'],
      changes: true,
      doc: {
        tag: 'calls',
        summary: 'Place a click-to-call',
        description:
          'Rings the operator\'s phone (`sip`), then dials the client (`phone`); answers at once with the call id, the call proceeds on its own (follow it with callHistory). ' +
          'The same `external_key` with the same sip, phone and order_id returns the same call_id and places no second call. ' +
          'A refused attempt is recorded: its error carries the `call_id`. CR or LF in any parameter is refused.',
        params: makeCall,
        errors: ['DUPLICATE_EXTERNAL_KEY', 'UNKNOWN_OPERATOR', 'OPERATOR_OFFLINE', 'OPERATOR_BUSY', 'PBX_UNAVAILABLE'],
        example: { request: { sip: '101', phone: '380639920000', order_id: '15', external_key: '24' }, response: { call_id: 1 } },
      },
      handle(params) {
        refuseLineBreaks(params);
        const p = parse(makeCall, params);
        const r = service.makeCall({ sip: p.sip, phone: p.phone, orderId: p.order_id, externalKey: p.external_key });
        return { call_id: r.callId };
      },
    },
    {
      names: ['callHistory'],
      doc: {
        tag: 'calls',
        summary: 'Status chain of a call, or all statuses (paged, or since an id)',
        description:
          'With `call_id`: that call\'s chain in order. With `since_id`: the statuses after that id, oldest first, up to `per_page`, and `next_since_id` to poll with next. ' +
          'Without either: the newest statuses first, paged, with `next_since_id` = the newest status id.',
        params: callHistorySchema,
        example: {
          request: { call_id: '1' },
          response: { call_id: 1, history: [{ id: 1, call_id: 1, status: 'CALL', time: '2026-11-24T04:00:16.093Z', details: { sip: '101', phone: '380639920000' } }] },
        },
      },
      handle(params) {
        const p = parse(callHistorySchema, params);
        if (p.call_id !== undefined) {
          if (!store.get(p.call_id)) throw new ApiError('NOT_FOUND', `no call ${p.call_id}`);
          return { call_id: p.call_id, history: store.chain(p.call_id).map(statusJson) };
        }
        if (p.since_id !== undefined) {
          const rows = store.statusesSince(p.since_id, p.per_page);
          return { history: rows.map(statusJson), next_since_id: rows.at(-1)?.id ?? p.since_id };
        }
        const { rows, maxId } = store.latestStatuses(p.page, p.per_page);
        return { page: p.page, per_page: p.per_page, history: rows.map(statusJson), next_since_id: maxId };
      },
    },
    {
      names: ['orderHistory'],
      doc: {
        tag: 'calls',
        summary: 'Statuses of every call of an order, and its CRM events',
        description: '`group_by_call=1` groups the statuses by call.',
        params: orderHistorySchema,
        example: {
          request: { order_id: '15', group_by_call: '1' },
          response: { order_id: '15', calls: [{ call_id: 1, history: [{ id: 1, call_id: 1, status: 'CALL', time: '2026-11-24T04:00:16.093Z', details: { sip: '101', phone: '380639920000' } }] }], events: [] },
        },
      },
      handle(params) {
        const p = parse(orderHistorySchema, params);
        const chain = store.orderChain(p.order_id);
        const events = orderEventsJson(store.db, p.order_id);
        if (p.group_by_call !== '1') return { order_id: p.order_id, history: chain.map(statusJson), events };
        const byCall = new Map<number, CallStatusRow[]>();
        for (const s of chain) byCall.set(s.callId, [...(byCall.get(s.callId) ?? []), s]);
        return { order_id: p.order_id, calls: [...byCall].map(([id, rows]) => ({ call_id: id, history: rows.map(statusJson) })), events };
      },
    },
    {
      names: ['orderRecords'],
      doc: {
        tag: 'calls',
        summary: 'Every call of an order with its outcome and recordings',
        params: orderRecordsSchema,
        example: {
          request: { order_id: '15' },
          response: {
            order_id: '15',
            calls: [{ call_id: 1, sip: '101', phone: '380639920000', status: 'FINISH', final: true, started_at: '2026-11-24T04:00:16.093Z', answered_at: '2026-11-24T04:00:21.410Z', ended_at: '2026-11-24T04:00:31.002Z', billsec: 10, records: [] }],
          },
        },
      },
      handle(params) {
        const p = parse(orderRecordsSchema, params);
        const calls = store.orderCalls(p.order_id);
        const recs = store.recordingsOf(calls.map((c) => c.id));
        return {
          order_id: p.order_id,
          calls: calls.map((c) => ({
            call_id: c.id,
            sip: c.sip,
            phone: c.phone,
            status: c.status,
            final: c.final,
            started_at: isoTime(c.createdAt),
            answered_at: isoTime(c.clientAnswerAt),
            ended_at: isoTime(c.endedAt),
            billsec: c.billsec,
            records: recs.filter((r) => r.callId === c.id).map((r) => recordingJson(r, c, opts.urlOf)),
          })),
        };
      },
    },
    {
      names: ['recordList', 'RecordsList'],
      doc: {
        tag: 'calls',
        summary: 'Recordings, newest first',
        description: 'Page with `page`, or for deep paging pass `before_id=<next_before_id>` of the previous answer. `url` downloads the file (GET /recordings/{id}).',
        params: recordListSchema,
        example: {
          request: { per_page: '1' },
          response: {
            page: 1, per_page: 1, total: 1, next_before_id: 1,
            records: [{ id: 1, call_id: 1, order_id: '15', external_key: '24', sip: '101', phone: '380639920000', file: '/var/lib/callbridge/recordings/order-15-call-1-mifb3k.wav', url: 'http://127.0.0.1:8095/recordings/1', format: 'wav', size: 160044, duration: 10, created_at: '2026-11-24T04:00:21.410Z' }],
          },
        },
      },
      handle(params) {
        const p = parse(recordListSchema, params);
        const { total, rows } = store.listRecordings(p.page, p.per_page, p.before_id);
        const records = rows.map((r) => recordingJson(r.recording, r.call, opts.urlOf));
        // next_before_id: the cursor for the next (older) page, for deep paging without offsets
        return { page: p.page, per_page: p.per_page, total, records, next_before_id: records.at(-1)?.id ?? null };
      },
    },
  ];
}
