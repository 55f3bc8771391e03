/**
 * The events API of the dialplan hooks and the CRM (seed 000):
 * `/api/events/callDetailRecord`, `/api/events/call_asterisk`,
 * `/api/events` (text or call), `/api/events/coming`, the same through
 * `/api/events?type=<type>`, and `/api/getNumberFromId` (also `.txt`, the
 * bare number as text/plain for dialplan CURL).
 */
import { z } from 'zod';
import type { Db } from '../db/index.js';
import type { CdrRow, CrmEventRow } from '../db/schema.js';
import type { DomainBus } from '../domain/bus.js';
import type { ApiMethod } from '../http/app.js';
import { ApiError, invalid } from '../http/errors.js';
import { isoTime, parse, type Params } from '../http/params.js';
import type { Logger } from '../log.js';
import { EVENT_ID, EVENT_ID_MESSAGE, callAtField, receivedFields, refuseLineBreaks, secondsField, withoutEmpty } from './fields.js';
import { NumberLookup, parseNumberId } from './number-lookup.js';
import { EventService } from './service.js';
import { EventStore, orderEvents } from './store.js';

const PHONE = /^(\+?[0-9*#]{1,32}|anonymous|unknown|restricted|private|unavailable)$/i;
const EXTENSION = /^[A-Za-z0-9_.*#+-]{1,40}$/;
const NUMBERISH = /^[A-Za-z0-9+*#_.-]{1,80}$/;

const required = () => z.string({ message: 'is required' });
const eventId = required().regex(EVENT_ID, EVENT_ID_MESSAGE);
const channelId = z.string().regex(EVENT_ID, 'must be an Asterisk unique id (letters, digits, ".", "_", "-"; at most 150)');
const numberish = z.string().regex(NUMBERISH, 'must be 1-80 letters, digits or "+*#_.-"');
const direction = z
  .string()
  .regex(/^(incoming|outgoing|internal)$/i, 'must be incoming, outgoing or internal')
  .transform((v) => v.toLowerCase() as 'incoming' | 'outgoing' | 'internal');
const integerId = z.string().regex(/^\d{1,18}$/, 'must be an integer');
const requestId = required().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"');

const cdrShape = {
  event_id: eventId,
  phone: required().regex(PHONE, 'must be a phone number (digits with an optional leading "+", 1-32) or anonymous/unknown/restricted/private/unavailable'),
  extension: required().regex(EXTENSION, 'must be 1-40 letters, digits or "_.*#+-"'),
  path: z.string({ message: 'is required (give it empty when there is no recording)' }).max(1024, 'must be at most 1024 characters'),
  call_at: callAtField.optional(),
  call_type: direction.optional(),
  duration: secondsField.optional(),
  billsec: secondsField.optional(),
  disposition: z
    .string()
    .regex(/^(ANSWERED|NO ANSWER|BUSY|FAILED|CONGESTION)$/i, 'must be ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION')
    .transform((v) => v.toUpperCase())
    .optional(),
  uniqueid: channelId.optional(),
  linkedid: channelId.optional(),
  did: numberish.optional(),
  src: numberish.optional(),
  dst: numberish.optional(),
};
/** `/api/events/callDetailRecord`: `type` is the call's direction. */
const cdrSchema = z.object({ ...cdrShape, type: direction.optional() });
/** `/api/events?type=callDetailRecord`: `type` names the event, the direction is `call_type`. */
const cdrViaEventsSchema = z.object(cdrShape);

const EVENT_TYPES = 'call_asterisk, callDetailRecord or coming';

const callAsteriskSchema = z.object({ call_id: eventId });
const textOrCallSchema = z.object({ text: integerId.optional(), call: integerId.optional() });
const comingSchema = z.object({ id: requestId });
const numberSchema = z.object({
  number: required().transform((v, ctx) => {
    const id = parseNumberId(v);
    if (!id) {
      ctx.addIssue({ code: 'custom', message: 'must be +<order>s<client> or +<contract>d<index> (digits, e.g. +123456s654321 or +7000d0)' });
      return z.NEVER;
    }
    return id;
  }),
});

const CDR_EXAMPLE = {
  id: 1, event_id: '1700000000.123', call_id: 7, phone: '89001234567', extension: '101',
  path: '/var/spool/asterisk/monitor/2026/11/24/in-74950000000-89001234567-20261124-130005-1700000000.123.wav', servable: true,
  type: 'incoming', call_at: '2026-11-24T10:00:05.000Z', duration: 20, billsec: 15, disposition: 'ANSWERED', created_at: '2026-11-24T10:00:31.412Z',
};
const CDR_DESCRIPTION =
  'The dialplan\'s hangup hook: one CDR per call (event_id = the call\'s linkedid), idempotent per event_id. An empty `path` means no recording; ' +
  'a bare file name is looked up under CALLBRIDGE_MONITOR_DIR/YYYY/MM/DD/. Matched to a tracked call by uniqueid, linkedid, or phone + extension + time. ' +
  'Parameters the daemon does not know are stored with the record.';
const event = (kind: string, extra: Record<string, unknown>) => ({ event: { id: 1, kind, order_id: null, call_id: null, text: null, time: '2026-11-24T10:00:31.412Z', ...extra } });

/** A stored CDR as the API shows it (events API answers, callList). */
export const cdrJson = (r: CdrRow) => ({
  id: r.id,
  event_id: r.eventId,
  call_id: r.callId,
  phone: r.phone,
  extension: r.extension,
  path: r.path,
  servable: r.servable,
  type: r.type,
  call_at: isoTime(r.callAt),
  duration: r.duration,
  billsec: r.billsec,
  disposition: r.disposition,
  created_at: isoTime(r.createdAt),
});

const eventJson = (e: CrmEventRow) => ({
  id: e.id,
  kind: e.kind,
  order_id: e.orderId,
  call_id: e.callId,
  text: e.text,
  time: isoTime(e.time),
  details: e.payload,
});

/** An order's CRM events, oldest first, as orderHistory lists them. */
export const orderEventsJson = (db: Db, orderId: string) =>
  orderEvents(db, orderId).map((e) => ({ id: e.id, kind: e.kind, time: isoTime(e.time), details: e.payload }));

export interface EventsOptions {
  recordingsDir: string;
  monitorDir: string;
  /** CALLBRIDGE_NUMBER_LOOKUP_URL */
  numberLookupUrl: string | undefined;
  log: Logger;
  bus?: DomainBus;
  now?: () => number;
  lookupTimeoutMs?: number;
  lookupCacheMs?: number;
}

export function eventMethods(db: Db, opts: EventsOptions): ApiMethod[] {
  const store = new EventStore(db);
  const lookup = new NumberLookup({
    url: opts.numberLookupUrl,
    log: opts.log,
    timeoutMs: opts.lookupTimeoutMs,
    cacheMs: opts.lookupCacheMs,
    now: opts.now,
  });
  const service = new EventService(store, opts.bus, lookup, { recordingsDir: opts.recordingsDir, monitorDir: opts.monitorDir, log: opts.log, now: opts.now });

  const callDetailRecord = async (params: Params, viaEvents: boolean) => {
    const fields = receivedFields(params);
    const input = withoutEmpty(fields, ['path']);
    const p = viaEvents ? { ...parse(cdrViaEventsSchema, input), type: undefined } : parse(cdrSchema, input);
    if (p.type !== undefined && p.call_type !== undefined && p.type !== p.call_type) throw invalid('call_type', 'differs from type');
    const row = await service.recordCdr({
      eventId: p.event_id,
      phone: p.phone,
      extension: p.extension,
      path: p.path,
      callAt: p.call_at,
      type: p.type ?? p.call_type,
      duration: p.duration,
      billsec: p.billsec,
      disposition: p.disposition,
      uniqueid: p.uniqueid,
      linkedid: p.linkedid,
      did: p.did,
      src: p.src,
      dst: p.dst,
      fields,
    });
    return { cdr: cdrJson(row) };
  };

  const callAsterisk = (params: Params) => {
    const fields = receivedFields(params);
    const p = parse(callAsteriskSchema, withoutEmpty(fields));
    return { event: eventJson(service.recordEvent({ kind: 'call_asterisk', channelId: p.call_id, payload: fields })) };
  };

  const textOrCall = (params: Params) => {
    const fields = receivedFields(params);
    const p = parse(textOrCallSchema, withoutEmpty(fields));
    if (p.text === undefined && p.call === undefined) throw invalid('text', 'text or call is required (at least one)');
    return { event: eventJson(service.recordEvent({ kind: 'event', text: p.text, payload: fields })) };
  };

  const coming = (params: Params) => {
    const fields = receivedFields(params);
    const p = parse(comingSchema, withoutEmpty(fields));
    return { event: eventJson(service.recordEvent({ kind: 'coming', orderId: p.id, payload: fields })) };
  };

  const resolveNumber = async (params: Params) => {
    refuseLineBreaks(params);
    const p = parse(numberSchema, params);
    return { id: p.number, found: await service.numberFor(p.number) };
  };

  return [
    {
      names: ['events'],
      changes: true,
      doc: {
        tag: 'events',
        summary: 'A text or call event, or (with type) any event type',
        description:
          'Without `type`: a text and/or call request for the CRM (`text`, `call`: integers, at least one). With `type=callDetailRecord` (the direction is then `call_type`), ' +
          '`type=call_asterisk` or `type=coming`: the same as /api/events/<type>. An empty value counts as absent; unknown parameters are stored with the event.',
        params: [
          { name: 'text or call', schema: textOrCallSchema },
          { name: 'callDetailRecord', schema: cdrViaEventsSchema, fixed: { type: 'callDetailRecord' } },
          { name: 'call_asterisk', schema: callAsteriskSchema, fixed: { type: 'call_asterisk' } },
          { name: 'coming', schema: comingSchema, fixed: { type: 'coming' } },
        ],
        extraParams: true,
        errors: ['DUPLICATE_EVENT_ID'],
        example: { request: { text: '501' }, response: event('event', { text: '501', details: { text: '501' } }) },
      },
      handle(params) {
        refuseLineBreaks(params);
        const type = params.type ?? '';
        switch (type.toLowerCase()) {
          case '':
            return textOrCall(params);
          case 'calldetailrecord':
            return callDetailRecord(params, true);
          case 'call_asterisk':
            return callAsterisk(params);
          case 'coming':
            return coming(params);
          default:
            throw invalid('type', `must be ${EVENT_TYPES}, or absent for a text or call event`);
        }
      },
    },
    {
      names: ['events/callDetailRecord'],
      changes: true,
      handle: (params) => callDetailRecord(params, false),
      doc: {
        tag: 'events',
        summary: 'A call detail record from the dialplan',
        description: CDR_DESCRIPTION,
        params: cdrSchema,
        extraParams: true,
        errors: ['DUPLICATE_EVENT_ID'],
        example: {
          request: { event_id: '1700000000.123', phone: '89001234567', extension: '101', path: 'in-74950000000-89001234567-20261124-130005-1700000000.123.wav', call_at: '2026-11-24 13:00:05', type: 'incoming', duration: '20', billsec: '15', disposition: 'ANSWERED' },
          response: { cdr: CDR_EXAMPLE },
        },
      },
    },
    {
      names: ['events/call_asterisk'],
      changes: true,
      handle: (params) => callAsterisk(params),
      doc: {
        tag: 'events',
        summary: 'A dialplan hook saw an Asterisk call',
        description: 'Linked to the tracked call (and its order) whose channel or linkedid `call_id` names.',
        params: callAsteriskSchema,
        extraParams: true,
        example: { request: { call_id: '1700000000.123' }, response: event('call_asterisk', { order_id: '15', call_id: 7, details: { call_id: '1700000000.123' } }) },
      },
    },
    {
      names: ['events/coming'],
      changes: true,
      handle: (params) => coming(params),
      doc: {
        tag: 'events',
        summary: 'The client of an order has arrived',
        params: comingSchema,
        extraParams: true,
        example: { request: { id: '15' }, response: event('coming', { order_id: '15', details: { id: '15' } }) },
      },
    },
    {
      names: ['getNumberFromId'],
      doc: {
        tag: 'events',
        summary: 'Resolve a masked identifier to a phone number',
        description:
          '`+<order>s<client>` (the phone the latest makeCall of that order dialled) or `+<contract>d<index>`; otherwise the CRM look-up (CALLBRIDGE_NUMBER_LOOKUP_URL) is asked. ' +
          'Answered as 8XXXXXXXXXX for an 11-digit number starting with 7.',
        params: numberSchema,
        example: { request: { number: '+15s1' }, response: { number: '89001234567', source: 'calls' } },
        text: 'just the number as text/plain, or 404 with an empty body when it is not known (for dialplan CURL)',
      },
      async handle(params) {
        const { id, found } = await resolveNumber(params);
        if (!found) throw new ApiError('NOT_FOUND', `no number is known for "${id.id}"`);
        return { number: found.number, source: found.source };
      },
      async text(params) {
        return (await resolveNumber(params)).found?.number ?? null;
      },
    },
  ];
}
