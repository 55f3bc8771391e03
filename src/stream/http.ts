/**
 * GET /api/stream: Server-Sent Events of call statuses and presence changes
 * (and, once connectors record them, deliveries), resumable with
 * `Last-Event-ID` or `since_id`, filtered by call_id, order_id, sip and kind,
 * with heartbeat comments. The API token rules of every /api route apply
 * (the app checks them before this route runs).
 */
import { z } from 'zod';
import type { RouteGroup } from '../http/app.js';
import { ApiError, invalid } from '../http/errors.js';
import { parse, queryParams } from '../http/params.js';
import { parseCursor } from './cursor.js';
import { DEFAULT_HEARTBEAT_MS, type StreamHub } from './hub.js';

export interface StreamRouteOptions {
  sipPattern: RegExp;
  /** default heartbeat interval (ms); `heartbeat=<seconds>` overrides it per stream */
  heartbeatMs?: number;
}

export function streamParamsSchema(sipPattern: RegExp, kinds: readonly string[]) {
  return z.object({
    since_id: z.string().max(200, 'is too long').optional(),
    call_id: z.string().regex(/^[1-9]\d{0,15}$/, 'must be a positive integer').transform(Number).optional(),
    order_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"').optional(),
    sip: z.string().max(40, 'is too long').regex(sipPattern, 'is not a valid SIP endpoint name').optional(),
    kind: z
      .string()
      .transform((v, ctx) => {
        const list = v.split(',').map((k) => k.trim().toLowerCase());
        const bad = list.find((k) => !kinds.includes(k) && k !== 'delivery');
        if (bad !== undefined || list.length === 0) {
          ctx.addIssue({ code: 'custom', message: `must be a comma list of ${[...kinds, ...(kinds.includes('delivery') ? [] : ['delivery'])].join(', ')}` });
          return z.NEVER;
        }
        return new Set(list);
      })
      .optional(),
    heartbeat: z
      .string()
      .regex(/^\d{1,3}$/, 'must be whole seconds between 1 and 300')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 300, 'must be whole seconds between 1 and 300')
      .optional(),
  });
}

export function streamRoutes(hub: StreamHub, opts: StreamRouteOptions): RouteGroup {
  const schema = streamParamsSchema(opts.sipPattern, hub.kinds);
  return {
    prefix: '/api/stream',
    doc: [
      {
        method: 'get',
        path: '/api/stream',
        operation: {
          summary: 'Live events (Server-Sent Events): call statuses and presence changes, resumable',
          description:
            'Each event has `id:` = the stream cursor after it (`s<status id>.p<presence id>`); reconnect with `Last-Event-ID` (or `since_id`) to get exactly what was missed. Without either the stream starts from now; `since_id=0` replays everything. The first event, `ready`, carries the starting cursor. Heartbeat comments every 15 s.',
          tags: ['stream'],
          parameters: [
            { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, example: 's12.p5' },
            { name: 'since_id', in: 'query', required: false, schema: { type: 'string' }, example: 's12.p5' },
            { name: 'call_id', in: 'query', required: false, schema: { type: 'string', pattern: '^[1-9]\\d{0,15}$' } },
            { name: 'order_id', in: 'query', required: false, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
            { name: 'sip', in: 'query', required: false, schema: { type: 'string' } },
            { name: 'kind', in: 'query', required: false, schema: { type: 'string' }, example: 'status,presence' },
            { name: 'heartbeat', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,3}$' }, description: 'seconds between heartbeat comments (1-300)' },
          ],
          responses: {
            '200': {
              description: 'the event stream',
              content: {
                'text/event-stream': {
                  schema: { type: 'string' },
                  example:
                    'retry: 2000\nid: s41.p7.d0\nevent: ready\ndata: {"cursor":"s41.p7.d0","kinds":["status","presence","delivery"]}\n\nid: s42.p7.d0\nevent: status\ndata: {"id":42,"call_id":9,"order_id":"15","status":"CALL","final":false,"time":"2026-12-02T10:00:00.000Z","details":{"sip":"101","phone":"380639920000"},"sip":"101","phone":"380639920000","direction":"outgoing","origin":"click-to-call"}\n\n',
                },
              },
            },
          },
        },
        errors: ['INVALID_PARAMETER', 'METHOD_NOT_ALLOWED'],
      },
    ],
    install(app) {
      app.all('/api/stream', (c) => {
        const method = c.req.method;
        if (method !== 'GET' && method !== 'HEAD') throw new ApiError('METHOD_NOT_ALLOWED', 'the event stream answers GET only');
        const { params, error } = queryParams(c.req.url);
        if (error) throw error;
        delete params.token;
        const p = parse(schema, params);
        const header = c.req.header('last-event-id')?.trim();
        if (header !== undefined && /[\r\n]/.test(header)) throw invalid('Last-Event-ID', 'must not contain CR or LF');
        const from = header ? { text: header, field: 'Last-Event-ID' } : p.since_id !== undefined ? { text: p.since_id, field: 'since_id' } : undefined;
        const cursor = from ? parseCursor(from.text, hub.letters, from.field) : undefined;
        const kinds = p.kind ?? new Set(hub.kinds);
        const headers = {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          'x-accel-buffering': 'no',
        };
        if (method === 'HEAD') return new Response(null, { status: 200, headers });
        const body = hub.stream({
          cursor,
          kinds,
          filter: { callId: p.call_id, orderId: p.order_id, sip: p.sip },
          heartbeatMs: p.heartbeat !== undefined ? p.heartbeat * 1000 : (opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS),
        });
        return new Response(body, { status: 200, headers });
      });
    },
  };
}
