/** Strict validation of the events API and getNumberFromId: every bad value is a 400 INVALID_PARAMETER naming its field. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCallAt } from '../../src/events/fields.js';
import { hookCdr, setup, type Env } from './setup.js';

process.env.TZ = 'Europe/Moscow';

let env: Env;
beforeEach(() => {
  env = setup();
});
afterEach(() => env.close());

const without = (p: Record<string, string>, key: string) => Object.fromEntries(Object.entries(p).filter(([k]) => k !== key));

type Case = [name: string, path: string, params: Record<string, string>, field: string, message?: RegExp];

const cdr = hookCdr();
const cases: Case[] = [
  ['event_id missing', '/api/events/callDetailRecord', without(cdr, 'event_id'), 'event_id', /is required/],
  ['event_id empty', '/api/events/callDetailRecord', { ...cdr, event_id: '' }, 'event_id', /is required/],
  ['event_id with a space', '/api/events/callDetailRecord', { ...cdr, event_id: '17 00' }, 'event_id', /integer or an Asterisk unique id/],
  ['event_id with a slash', '/api/events/callDetailRecord', { ...cdr, event_id: '1700000000/1' }, 'event_id'],
  ['event_id too long', '/api/events/callDetailRecord', { ...cdr, event_id: '1'.repeat(151) }, 'event_id'],
  ['event_id negative', '/api/events/callDetailRecord', { ...cdr, event_id: '-5' }, 'event_id'],
  ['phone missing', '/api/events/callDetailRecord', without(cdr, 'phone'), 'phone', /is required/],
  ['phone with a dial string', '/api/events/callDetailRecord', { ...cdr, phone: '123&PJSIP/x' }, 'phone'],
  ['phone with LF', '/api/events/callDetailRecord', { ...cdr, phone: '8900\n1234567' }, 'phone', /CR or LF/],
  ['extension missing', '/api/events/callDetailRecord', without(cdr, 'extension'), 'extension', /is required/],
  ['extension with a space', '/api/events/callDetailRecord', { ...cdr, extension: '10 1' }, 'extension'],
  ['path missing', '/api/events/callDetailRecord', without(cdr, 'path'), 'path', /is required/],
  ['path with CR', '/api/events/callDetailRecord', { ...cdr, path: '/tmp/a\r.wav' }, 'path', /CR or LF/],
  ['path with a control character', '/api/events/callDetailRecord', { ...cdr, path: '/tmp/a\u0007.wav' }, 'path', /control characters/],
  ['path too long', '/api/events/callDetailRecord', { ...cdr, path: `/${'a'.repeat(1100)}` }, 'path'],
  ['call_at words', '/api/events/callDetailRecord', { ...cdr, call_at: 'yesterday' }, 'call_at', /epoch seconds/],
  ['call_at 30 February', '/api/events/callDetailRecord', { ...cdr, call_at: '2026-02-30 10:00:00' }, 'call_at'],
  ['call_at hour 24', '/api/events/callDetailRecord', { ...cdr, call_at: '2026-02-10 24:00:00' }, 'call_at'],
  ['call_at before 2000', '/api/events/callDetailRecord', { ...cdr, call_at: '1999-12-31T23:00:00Z' }, 'call_at'],
  ['type sideways', '/api/events/callDetailRecord', { ...cdr, type: 'sideways' }, 'type', /incoming, outgoing or internal/],
  ['duration negative', '/api/events/callDetailRecord', { ...cdr, duration: '-1' }, 'duration', /whole number/],
  ['duration fraction', '/api/events/callDetailRecord', { ...cdr, duration: '1.5' }, 'duration'],
  ['billsec word', '/api/events/callDetailRecord', { ...cdr, billsec: 'ten' }, 'billsec'],
  ['disposition unknown', '/api/events/callDetailRecord', { ...cdr, disposition: 'MAYBE' }, 'disposition'],
  ['uniqueid with a shell', '/api/events/callDetailRecord', { ...cdr, uniqueid: '$(reboot)' }, 'uniqueid'],
  ['linkedid with a space', '/api/events/callDetailRecord', { ...cdr, linkedid: '1 2' }, 'linkedid'],
  ['did with a slash', '/api/events/callDetailRecord', { ...cdr, did: 'PJSIP/x' }, 'did'],
  ['extra field with a control character', '/api/events/callDetailRecord', { ...cdr, userfield: 'a\u0001b' }, 'userfield'],
  ['extra field with an odd name', '/api/events/callDetailRecord', { ...cdr, 'a b': 'x' }, 'parameters'],
  ['parameter name with LF', '/api/events/callDetailRecord', { ...cdr, 'a\nb': 'x' }, 'parameters', /CR or LF/],
  ['direction via /api/events differs', '/api/events?type=callDetailRecord', { ...without(cdr, 'type'), call_type: 'sideways' }, 'call_type'],
  ['call_id missing', '/api/events/call_asterisk', {}, 'call_id', /is required/],
  ['call_id with a space', '/api/events/call_asterisk', { call_id: '17 1' }, 'call_id'],
  ['call_id with LF', '/api/events/call_asterisk', { call_id: '1\n2' }, 'call_id', /CR or LF/],
  ['neither text nor call', '/api/events', {}, 'text', /at least one/],
  ['text and call empty', '/api/events', { text: '', call: '' }, 'text', /at least one/],
  ['text not an integer', '/api/events', { text: 'hello' }, 'text', /integer/],
  ['call not an integer', '/api/events', { call: '1.5' }, 'call', /integer/],
  ['unknown event type', '/api/events', { type: 'party', text: '1' }, 'type', /call_asterisk, callDetailRecord or coming/],
  ['coming without id', '/api/events/coming', {}, 'id', /is required/],
  ['coming id with a space', '/api/events/coming', { id: '15 16' }, 'id'],
  ['coming via type without id', '/api/events', { type: 'coming' }, 'id'],
  ['number missing', '/api/getNumberFromId', {}, 'number', /is required/],
  ['number without a letter', '/api/getNumberFromId', { number: '+15' }, 'number', /\+<order>s<client>/],
  ['number with another letter', '/api/getNumberFromId', { number: '+15x1' }, 'number'],
  ['number with two pluses', '/api/getNumberFromId', { number: '++15s1' }, 'number'],
  ['number with no order', '/api/getNumberFromId', { number: '+s1' }, 'number'],
  ['number with a trailing part', '/api/getNumberFromId', { number: '+15s1d2' }, 'number'],
  ['number with LF', '/api/getNumberFromId', { number: '+15s1\n' }, 'number', /CR or LF/],
];

describe('validation', () => {
  it.each(cases)('%s → 400 naming the field', async (_name, path, params, field, message) => {
    for (const method of ['GET', 'POST'] as const) {
      const res =
        method === 'GET'
          ? await env.request(`${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(params).toString()}`)
          : await env.post(path, params);
      expect(res.status, `${method} ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.code).toBe('INVALID_PARAMETER');
      expect(res.body.error.field).toBe(field);
      if (message) expect(res.body.error.message).toMatch(message);
    }
    expect(env.rows('SELECT id FROM cdrs')).toEqual([]);
    expect(env.rows('SELECT id FROM crm_events')).toEqual([]);
  });

  it('takes a JSON body; refuses a non-object JSON body', async () => {
    const res = await env.request('/api/events/callDetailRecord', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...hookCdr(), event_id: '42', duration: '20' }),
    });
    expect(res.status).toBe(200);
    expect(res.body.cdr).toMatchObject({ event_id: '42', duration: 20 });
    const bad = await env.request('/api/events/coming', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' });
    expect(bad.status).toBe(400);
  });

  it('treats empty optional values as absent and an empty path as no recording', async () => {
    const res = await env.post('/api/events/callDetailRecord', { ...hookCdr(), call_at: '', type: '', duration: '', billsec: '', disposition: '', uniqueid: '', linkedid: '', did: '' });
    expect(res.status).toBe(200);
    expect(res.body.cdr).toMatchObject({ path: '', servable: false, call_at: null, type: null, duration: null, billsec: null, disposition: null });
  });

  it('normalizes type and disposition case, accepts internal', async () => {
    const res = await env.post('/api/events/callDetailRecord', hookCdr({ type: 'INTERNAL', disposition: 'no answer' }));
    expect(res.body.cdr).toMatchObject({ type: 'internal', disposition: 'NO ANSWER' });
  });

  it.each([
    ['1700000000', Date.UTC(2023, 10, 14, 22, 13, 20)],
    ['1700000000.5', Date.UTC(2023, 10, 14, 22, 13, 20, 500)],
    ['1700000000123', Date.UTC(2023, 10, 14, 22, 13, 20, 123)],
    ['2023-11-14T22:13:20Z', Date.UTC(2023, 10, 14, 22, 13, 20)],
    ['2023-11-14T22:13:20.250Z', Date.UTC(2023, 10, 14, 22, 13, 20, 250)],
    ['2023-11-15T01:13:20+03:00', Date.UTC(2023, 10, 14, 22, 13, 20)],
    ['2023-11-14T17:13:20-0500', Date.UTC(2023, 10, 14, 22, 13, 20)],
    // Asterisk's CDR(start): the PBX's local time (TZ = Europe/Moscow here, UTC+3)
    ['2023-11-15 01:13:20', Date.UTC(2023, 10, 14, 22, 13, 20)],
    ['2023-11-15T01:13:20', Date.UTC(2023, 10, 14, 22, 13, 20)],
  ])('call_at %s', async (text, ms) => {
    expect(parseCallAt(text)).toBe(ms);
    const res = await env.post('/api/events/callDetailRecord', hookCdr({ event_id: '7', call_at: text }));
    expect(res.status).toBe(200);
    expect(res.body.cdr.call_at).toBe(new Date(ms).toISOString());
  });

  it('answers XML with the same names', async () => {
    const res = await env.post('/api/events/callDetailRecord.xml', hookCdr({ event_id: '9' }));
    expect(res.type).toBe('application/xml; charset=utf-8');
    expect(res.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<response><cdr><id>1<\/id><event_id>9<\/event_id><call_id\/><phone>89001234567<\/phone>/);
    const bad = await env.request('/api/events/coming.xml');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('<code>INVALID_PARAMETER</code><message>id: is required</message><field>id</field>');
  });

  it('paths are case-insensitive; an unknown event type path is 404', async () => {
    expect((await env.request('/API/Events/CALLDETAILRECORD.json?' + new URLSearchParams(hookCdr()).toString())).status).toBe(200);
    expect((await env.request('/api/events/Coming?id=15')).status).toBe(200);
    const unknown = await env.request('/api/events/party?id=1');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await env.request('/api/events/coming?id=1', { method: 'PUT' })).status).toBe(405);
  });
});
