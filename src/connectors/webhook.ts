/**
 * webhook: callbridge's own JSON for every domain event, for a CRM without a
 * fixed format. Body (README "CRM connectors"):
 * `{"id", "type", "time", "call": {... "chain": [...]} | null, "data": {...}}`,
 * every time ISO 8601 UTC with milliseconds.
 */
import { defineConnector } from './module.js';
import type { OutboundEvent } from './types.js';

/** Epoch-ms fields (`time`, `*_at`) as ISO 8601, at any depth. */
function isoTimes(v: unknown, key = ''): unknown {
  if (typeof v === 'number' && (key === 'time' || key.endsWith('_at')) && Number.isFinite(v)) return new Date(v).toISOString();
  if (Array.isArray(v)) return v.map((x) => isoTimes(x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isoTimes(x, k)]));
  return v;
}

export function webhookBody(ev: OutboundEvent): Record<string, unknown> {
  return { id: ev.id, type: ev.type, time: new Date(ev.time).toISOString(), call: isoTimes(ev.call), data: isoTimes(ev.data) };
}

export const webhook = defineConnector({
  type: 'webhook',
  options: {},
  create: (settings) => ({
    settings,
    accepts: () => true,
    request: (ev) => ({ url: settings.url, contentType: 'application/json', body: JSON.stringify(webhookBody(ev)) }),
  }),
});
