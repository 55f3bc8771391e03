/**
 * binotel (seed 001): form-encoded POST to `<crm>/api/Binotel/Push`.
 * receivedTheCall at the call's first ringing, answeredTheCall when the
 * conversation begins, hangupTheCall (with billsec) at the end of a call that
 * rang. Fields: didNumber (incoming), externalNumber (the client),
 * internalNumber (the operator), generalCallID (the call_id), callType
 * (0 incoming, 1 outgoing), companyID; camelCase or PascalCase names
 * (`field_case`). Internal calls are not sent (binotel has no such type).
 */
import { z } from 'zod';
import { defineConnector } from './module.js';
import { chainHas, formEncode, isFirstRinging, withPath, type OutboundEvent } from './types.js';

export const BINOTEL_PATH = '/api/Binotel/Push';

type Field = [string, string | number | null | undefined];

export function binotelFields(ev: OutboundEvent, opts: { company_id?: string | undefined }): Field[] | null {
  const call = ev.call;
  if (!call || call.direction === 'internal') return null;
  const callType = call.direction === 'incoming' ? 0 : 1;
  const did: Field[] = call.direction === 'incoming' ? [['didNumber', call.did]] : [];
  const sipOf = (v: unknown) => (typeof v === 'string' && v !== '' ? v : call.sip);
  if (isFirstRinging(ev)) {
    return [...did, ['externalNumber', call.phone], ['internalNumber', sipOf(ev.data.sip)], ['generalCallID', call.call_id], ['callType', callType], ['companyID', opts.company_id], ['requestType', 'receivedTheCall']];
  }
  if (ev.type === 'call.bridged') {
    return [...did, ['externalNumber', call.phone], ['internalNumber', sipOf(ev.data.sip)], ['generalCallID', call.call_id], ['callType', callType], ['companyID', opts.company_id], ['requestType', 'answeredTheCall']];
  }
  if (ev.type === 'call.finished' && chainHas(ev, 'OPERATOR_CALLTO', 'CLIENT_CALLTO')) {
    return [['generalCallID', call.call_id], ['billsec', Number(ev.data.billsec ?? 0)], ['companyID', opts.company_id], ['requestType', 'hangupTheCall']];
  }
  return null;
}

const pascal = (k: string) => k.charAt(0).toUpperCase() + k.slice(1);

export const binotel = defineConnector<{ company_id?: string | undefined; field_case: 'camel' | 'pascal' }>({
  type: 'binotel',
  options: {
    company_id: z
      .union([z.string(), z.number().int().nonnegative()])
      .transform(String)
      .pipe(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"'))
      .optional(),
    field_case: z.enum(['camel', 'pascal'], { message: 'must be "camel" or "pascal"' }).default('camel'),
  },
  create: (settings) => ({
    settings,
    accepts: (ev) => binotelFields(ev, settings) !== null,
    request: (ev) => {
      const fields = binotelFields(ev, settings);
      if (!fields) return null;
      const named = settings.field_case === 'pascal' ? fields.map(([k, v]) => [pascal(k), v] as Field) : fields;
      return { url: withPath(settings.url, BINOTEL_PATH), contentType: 'application/x-www-form-urlencoded', body: formEncode(named) };
    },
  }),
});
