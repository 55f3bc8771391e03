/**
 * crm-events (seed 000 seen from the PBX side): the CRM's own events API.
 * Form POST of `call_asterisk` (call_id) when a call starts, and of
 * `callDetailRecord` (event_id = the call_id, phone, extension, path = the
 * recording's download URL or empty, call_at, type, duration = billsec) when
 * it ends; a call that talked and is being recorded posts its record once the
 * recording is ready, so `path` is never missing for it. `url` is the CRM's
 * base (`https://crm.example`) or its `/api/events`.
 */
import { z } from 'zod';
import { defineConnector } from './module.js';
import { formEncode, type OutboundEvent } from './types.js';

export function eventsUrl(base: string, kind: 'call_asterisk' | 'callDetailRecord'): string {
  const u = new URL(base);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = /\/api\/events$/i.test(path) ? `${path}/${kind}` : `${path}/api/events/${kind}`;
  return u.toString();
}

export function crmEventsRequest(ev: OutboundEvent, opts: { token?: string | undefined }): { kind: 'call_asterisk' | 'callDetailRecord'; fields: Array<[string, string | number | null | undefined]> } | null {
  const call = ev.call;
  if (!call) return null;
  const token: Array<[string, string | undefined]> = [['token', opts.token]];
  if (ev.type === 'call.started') return { kind: 'call_asterisk', fields: [['call_id', call.call_id], ...token] };
  let path: string | undefined;
  if (ev.type === 'call.finished' && ev.data.recording_expected !== true) {
    path = call.recordings.find((r) => r.ended_at !== null)?.url ?? '';
  } else if (ev.type === 'recording.ready' && ev.data.call_ended === true) {
    path = (ev.data.recording as { url?: string } | undefined)?.url ?? '';
  } else {
    return null;
  }
  return {
    kind: 'callDetailRecord',
    fields: [
      ['event_id', call.call_id],
      ['phone', call.phone ?? ''],
      ['extension', call.sip ?? call.operators[0] ?? ''],
      ['path', path],
      ['call_at', new Date(call.started_at).toISOString()],
      ['type', call.direction],
      ['duration', call.billsec ?? 0],
      ...token,
    ],
  };
}

export const crmEvents = defineConnector<{ token?: string | undefined }>({
  type: 'crm-events',
  options: {
    token: z.string().regex(/^[\x21-\x7e]{1,256}$/, 'must be 1-256 printable characters').optional(),
  },
  create: (settings) => ({
    settings,
    accepts: (ev) => crmEventsRequest(ev, settings) !== null,
    request: (ev) => {
      const r = crmEventsRequest(ev, settings);
      return r ? { url: eventsUrl(settings.url, r.kind), contentType: 'application/x-www-form-urlencoded', body: formEncode(r.fields) } : null;
    },
  }),
});
