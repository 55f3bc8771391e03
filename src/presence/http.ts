/** sipList and operatorHistory. */
import { z } from 'zod';
import type { ApiMethod } from '../http/app.js';
import { isoTime, paginationShape, parse } from '../http/params.js';
import type { PresenceStatus } from './model.js';
import type { PresenceStore } from './store.js';

const STATUSES = ['online', 'offline', 'inuse', 'away'] as const;

const sipListSchema = z.object({
  ...paginationShape,
  status: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const items = v.split(',').map((s) => s.trim().toLowerCase());
      for (const it of items) {
        if (!(STATUSES as readonly string[]).includes(it)) {
          ctx.addIssue({ code: 'custom', message: `"${it.slice(0, 20)}" is not one of ${STATUSES.join(', ')}` });
          return z.NEVER;
        }
      }
      return items as PresenceStatus[];
    }),
});

const historySchema = z.object({
  ...paginationShape,
  sip: z
    .string()
    .max(80, 'is too long')
    .regex(/^[^\r\n]*$/, 'must not contain CR or LF')
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
});

export function presenceMethods(store: PresenceStore): ApiMethod[] {
  return [
    {
      names: ['sipList'],
      doc: {
        tag: 'presence',
        summary: 'SIP endpoints and their status',
        description: '`status`: online (registered, idle), offline, inuse (ringing, in a call, on hold), away (paused in a queue); filter with a comma list.',
        params: sipListSchema,
        example: {
          request: { status: 'online,inuse' },
          response: { page: 1, per_page: 20, total: 1, sips: [{ sip: '101', status: 'online', since: '2026-11-24T04:01:56.953Z', contact: 'sip:101@127.0.0.1:5161', user_agent: 'Yealink SIP-T46S' }] },
        },
      },
      handle(params) {
        const p = parse(sipListSchema, params);
        const { total, rows } = store.listEndpoints({ page: p.page, perPage: p.per_page }, p.status);
        return {
          page: p.page,
          per_page: p.per_page,
          total,
          sips: rows.map((r) => ({
            sip: r.sip,
            status: r.status,
            since: isoTime(r.since),
            contact: r.contact,
            user_agent: r.userAgent,
          })),
        };
      },
    },
    {
      names: ['operatorHistory'],
      doc: {
        tag: 'presence',
        summary: 'Presence changes, newest first, optionally of one sip',
        params: historySchema,
        example: {
          request: { sip: '102', per_page: '5' },
          response: { page: 1, per_page: 5, total: 1, history: [{ id: 1, sip: '102', status: 'online', previous_status: null, reason: 'resync (AMI)', time: '2026-11-24T04:01:56.953Z' }] },
        },
      },
      handle(params) {
        const p = parse(historySchema, params);
        const { total, rows } = store.listHistory({ page: p.page, perPage: p.per_page }, p.sip);
        return {
          page: p.page,
          per_page: p.per_page,
          total,
          history: rows.map((r) => ({
            id: r.id,
            sip: r.sip,
            status: r.status,
            previous_status: r.previousStatus,
            reason: r.reason,
            time: isoTime(r.time),
          })),
        };
      },
    },
  ];
}
