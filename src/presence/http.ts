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
