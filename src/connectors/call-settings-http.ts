/**
 * `callSettings` (phone, did, field): what the CRM's call.settings says about
 * a caller, for the dialplan of inbound calls (asterisk-config/
 * extensions_custom.conf, [callbridge-call-settings]). JSON
 * `{"phone", "did", "name", "responsible_ext", "known", "cached"}`; as
 * `/api/callSettings.txt` just the `field` asked for (`name`, the default, or
 * `ext`), or 404 with an empty body when the CRM has none. Answers within the
 * connector's call_settings_timeout_ms whatever the CRM does.
 */
import { z } from 'zod';
import type { ApiMethod } from '../http/app.js';
import { ApiError } from '../http/errors.js';
import { parse, type Params } from '../http/params.js';
import type { CallSettingsClient } from './call-settings.js';

const PHONE = /^(\+?[0-9*#]{1,32}|anonymous|unknown|restricted|private|unavailable)$/i;

const schema = z.object({
  phone: z.string({ message: 'is required' }).regex(PHONE, 'must be a phone number (digits with an optional leading "+", 1-32) or anonymous/unknown/restricted/private/unavailable'),
  did: z.string().regex(/^[A-Za-z0-9+*#_.-]{1,80}$/, 'must be 1-80 letters, digits or "+*#_.-"').optional(),
  field: z.enum(['name', 'ext'], { message: 'must be name or ext' }).default('name'),
});

/**
 * `contactName` (the contact book, /rest/crm/contacts/v2) names a caller the
 * CRM does not, or answers alone when no CRM is configured.
 */
export function callSettingsMethods(client: CallSettingsClient | undefined, contactName?: (phone: string) => string | undefined): ApiMethod[] {
  const answer = async (params: Params) => {
    const p = parse(schema, Object.fromEntries(Object.entries(params).filter(([k, v]) => k !== 'token' && v !== '')));
    if (!client && !contactName) throw new ApiError('NOT_FOUND', 'no phonet connector with call_settings_url is configured');
    // a withheld number is nobody the CRM can know
    const dialable = /^\+?[0-9*#]+$/.test(p.phone);
    const found = dialable && client ? await client.lookup(p.phone, p.did) : { name: null, responsibleExt: null, known: false, cached: false };
    const fromBook = found.name === null && dialable ? contactName?.(p.phone) : undefined;
    return { p, found: fromBook ? { ...found, name: fromBook, known: true } : found };
  };
  return [
    {
      names: ['callSettings'],
      doc: {
        tag: 'connectors',
        summary: "The CRM's name and responsible employee of a caller (phonet call.settings)",
        description:
          'For the dialplan of inbound calls. Asks the phonet connector\'s `call_settings_url` (cached 5 minutes for a known contact, 1 minute for an unknown one) and answers within its `call_settings_timeout_ms`; a caller the CRM does not name is looked up in the contact book (/rest/crm/contacts/v2). ' +
          '`/api/callSettings.txt` answers the `field` asked for (`name`, or `ext`: the responsible employee\'s extension) as text/plain, or 404 with an empty body when the CRM has none. NOT_FOUND when no phonet connector has a call_settings_url and the contact book is off.',
        params: schema,
        errors: ['NOT_FOUND'],
        text: "the caller's name (field=name) or the responsible employee's extension (field=ext); 404 with an empty body when unknown",
        example: {
          request: { phone: '+380442246595', did: '0800218500' },
          response: { phone: '+380442246595', did: '0800218500', name: 'Иван Иванов', responsible_ext: '001', known: true, cached: false },
        },
      },
      async handle(params) {
        const { p, found } = await answer(params);
        return { phone: p.phone, did: p.did ?? null, name: found.name, responsible_ext: found.responsibleExt, known: found.known, cached: found.cached };
      },
      async text(params) {
        try {
          const { p, found } = await answer(params);
          return (p.field === 'ext' ? found.responsibleExt : found.name) ?? null;
        } catch (err) {
          if (err instanceof ApiError && err.code === 'NOT_FOUND') return null;
          throw err;
        }
      },
    },
  ];
}
