/**
 * The outbox over the API: `deliveryList` (filters status, connector,
 * call_id; newest first; `before_id` cursor) and `deliveryRetry` (one failed
 * delivery by `id`, or every failed one with `all=1`, optionally of one
 * `connector`).
 */
import { z } from 'zod';
import type { ApiMethod } from '../http/app.js';
import { ApiError, invalid } from '../http/errors.js';
import { isoTime, paginationShape, parse } from '../http/params.js';
import type { Outbox } from './outbox.js';
import type { DeliveryListRow } from './store.js';

const positive = z.string().regex(/^[1-9]\d{0,15}$/, 'must be a positive integer').transform(Number);

const deliveryJson = (d: DeliveryListRow) => ({
  id: d.id,
  connector: d.connector,
  event_id: d.event_uuid,
  event_type: d.event_type,
  call_id: d.call_id,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.status === 'pending' ? isoTime(d.next_at) : null,
  created_at: isoTime(d.created_at),
  last_attempt_at: isoTime(d.last_attempt_at),
  delivered_at: isoTime(d.delivered_at),
  last_status: d.last_status,
  last_error: d.last_error,
});

export function outboxMethods(outbox: Outbox): ApiMethod[] {
  const names = outbox.connectors.map((c) => c.settings.name);
  const connector = z
    .string()
    .refine((v) => names.includes(v), names.length > 0 ? `must be one of ${names.join(', ')}` : 'no connector is configured')
    .optional();
  const listSchema = z.object({
    status: z.enum(['pending', 'delivered', 'failed'], { message: 'must be pending, delivered or failed' }).optional(),
    connector,
    call_id: positive.optional(),
    per_page: paginationShape.per_page,
    before_id: positive.optional(),
  });
  const retrySchema = z.object({
    id: positive.optional(),
    all: z.enum(['1', 'true'], { message: 'must be 1 (every failed delivery)' }).optional(),
    connector,
  });
  return [
    {
      names: ['deliveryList', 'DeliveriesList'],
      doc: {
        tag: 'connectors',
        summary: 'Deliveries of the CRM connectors, newest first',
        description:
          'One row per connector and domain event: `pending` (waiting for its turn or a retry), `delivered` (a 2xx came back) or `failed` (max_attempts used up). ' +
          'Filters: `status`, `connector` (a configured name), `call_id`. Paging: `per_page` (1-100, default 20) and the `before_id` cursor (`next_before_id` of the previous page).',
        params: listSchema,
        example: {
          request: { status: 'failed', per_page: '20' },
          response: {
            per_page: 20,
            deliveries: [
              {
                id: 41,
                connector: 'binotel',
                event_id: '0f8e0c59-7a61-4c9f-9a1e-3f5c1b2a9d10',
                event_type: 'call.finished',
                call_id: 12,
                status: 'failed',
                attempts: 10,
                next_attempt_at: null,
                created_at: '2026-12-01T10:00:44.000Z',
                last_attempt_at: '2026-12-01T10:31:02.113Z',
                delivered_at: null,
                last_status: 500,
                last_error: 'HTTP 500',
              },
            ],
            next_before_id: null,
          },
        },
      },
      handle(params) {
        const p = parse(listSchema, params);
        const rows = outbox.store.list(
          { ...(p.status ? { status: p.status } : {}), ...(p.connector ? { connector: p.connector } : {}), ...(p.call_id !== undefined ? { callId: p.call_id } : {}) },
          p.per_page,
          p.before_id,
        );
        return { per_page: p.per_page, deliveries: rows.map(deliveryJson), next_before_id: rows.length === p.per_page ? (rows.at(-1)?.id ?? null) : null };
      },
    },
    {
      names: ['deliveryRetry'],
      changes: true,
      doc: {
        tag: 'connectors',
        summary: 'Send failed deliveries again',
        description: '`id`: one failed delivery; or `all=1`: every failed delivery (of one `connector` if given). They go back to pending from their first attempt, in their order per call.',
        params: retrySchema,
        errors: ['NOT_FOUND'],
        example: { request: { all: '1' }, response: { retried: 3 } },
      },
      handle(params) {
        const p = parse(retrySchema, params);
        if (p.id !== undefined && p.all !== undefined) throw invalid('all', 'give either id or all, not both');
        if (p.id === undefined && p.all === undefined) throw invalid('id', 'is required (or all=1 for every failed delivery)');
        if (p.id !== undefined) {
          const d = outbox.store.delivery(p.id);
          if (!d) throw new ApiError('NOT_FOUND', `no delivery ${p.id}`);
          if (d.status !== 'failed') throw invalid('id', `delivery ${p.id} is ${d.status}, only failed deliveries are retried`);
          return { retried: outbox.retry({ id: p.id }) };
        }
        return { retried: outbox.retry(p.connector ? { connector: p.connector } : {}) };
      },
    },
  ];
}
