/** Path, format, parameter, auth and error rules of the HTTP API (SPEC section 4). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp, type ApiMethod } from '../../src/http/app.js';
import { parse, paginationShape } from '../../src/http/params.js';
import { silentLogger } from '../../src/log.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { PresenceStore } from '../../src/presence/store.js';
import { PresenceService } from '../../src/presence/service.js';
import { presenceMethods } from '../../src/presence/http.js';

const json = (r: Response): Promise<any> => r.json();

const TOKEN = 'test-token-0123456789abcdef';

const echo: ApiMethod = {
  names: ['echo', 'EchoAlias'],
  handle(params) {
    const p = parse(z.object({ ...paginationShape, name: z.string().regex(/^[a-z]+$/, 'must be lower-case letters') }), params);
    return { page: p.page, per_page: p.per_page, name: p.name, items: [{ n: 1 }, { n: 2 }] };
  },
};

function app(tokens: string[] = []) {
  return createApp({
    log: silentLogger(),
    apiTokens: tokens,
    allowedNetworks: [],
    methods: [echo],
    health: () => ({ status: 'ok', ami: 'connected', ari: 'disabled', db: 'ok', version: 'x' }),
  });
}

describe('paths and formats', () => {
  it('is case-insensitive and takes .json / .xml suffixes', async () => {
    for (const path of ['/api/echo?name=ab', '/API/Echo?name=ab', '/api/ECHO.json?name=ab', '/api/echoalias?name=ab']) {
      const res = await app().request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await json(res)).toEqual({ page: 1, per_page: 20, name: 'ab', items: [{ n: 1 }, { n: 2 }] });
    }
  });

  it('answers XML with a declaration, the same names and singular list items', async () => {
    const res = await app().request('/api/Echo.xml?name=ab&page=2');
    expect(res.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    expect(await res.text()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<response><page>2</page><per_page>20</per_page><name>ab</name>' +
        '<items><item><n>1</n></item><item><n>2</n></item></items></response>',
    );
  });

  it('takes parameters from POST form and JSON bodies', async () => {
    const form = await app().request('/api/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=xy&per_page=5',
    });
    expect(await json(form)).toMatchObject({ name: 'xy', per_page: 5 });
    const jsonRes = await app().request('/api/echo.json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'zz', page: '3' }),
    });
    expect(await json(jsonRes)).toMatchObject({ name: 'zz', page: 3 });
  });
});

describe('errors', () => {
  it('names the bad field in INVALID_PARAMETER, in both formats', async () => {
    const res = await app().request('/api/echo?name=AB');
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ error: { code: 'INVALID_PARAMETER', message: 'name: must be lower-case letters', field: 'name' } });
    const xml = await app().request('/api/echo.xml?name=ab&per_page=1000');
    expect(xml.status).toBe(400);
    expect(await xml.text()).toContain('<error><code>INVALID_PARAMETER</code><message>per_page: must be an integer between 1 and 100</message><field>per_page</field></error>');
  });

  it('refuses malformed JSON, conflicting repeats, unknown methods and other verbs', async () => {
    const bad = await app().request('/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.field).toBe('body');
    const twice = await app().request('/api/echo?name=ab&name=cd');
    expect((await json(twice)).error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'name' });
    const unknown = await app().request('/api/nosuch.xml');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('<code>NOT_FOUND</code>');
    const put = await app().request('/api/echo?name=ab', { method: 'PUT' });
    expect(put.status).toBe(405);
    expect((await app().request('/nothing/here')).status).toBe(404);
  });
});

describe('tokens', () => {
  it('accepts a Bearer header or a token parameter and refuses anything else', async () => {
    const a = app([TOKEN]);
    expect((await a.request('/api/echo?name=ab')).status).toBe(401);
    expect((await json(await a.request('/api/echo?name=ab'))).error.code).toBe('UNAUTHORIZED');
    expect((await a.request('/api/echo?name=ab&token=wrong-token-0123456789')).status).toBe(401);
    expect((await a.request('/api/echo?name=ab', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await a.request(`/api/echo?name=ab&token=${TOKEN}`)).status).toBe(200);
    const form = await a.request('/api/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `name=ab&token=${TOKEN}`,
    });
    expect(form.status).toBe(200);
  });

  it('leaves /health open and reports it in the documented shape', async () => {
    const res = await app([TOKEN]).request('/health');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok', ami: 'connected', ari: 'disabled', db: 'ok', version: 'x' });
  });
});

describe('sipList and operatorHistory', () => {
  let db: Db;
  beforeEach(() => {
    db = openDatabase(':memory:');
  });
  afterEach(() => db.$client.close());

  it('pages, filters by status and answers newest history first', async () => {
    const store = new PresenceStore(db);
    let clock = Date.UTC(2026, 10, 24, 4, 0, 0, 0);
    const svc = new PresenceService(store, silentLogger(), () => (clock += 1000));
    svc.resync(
      ['101', '102', '103'].map((sip) => ({ sip, tech: 'PJSIP', device: 'NOT_INUSE' as const, reachable: true, contact: `sip:${sip}@10.0.0.1:5060`, userAgent: 'UA' })),
      'AMI',
    );
    svc.apply({ kind: 'device', sip: '102', state: 'INUSE' });
    svc.apply({ kind: 'device', sip: '103', state: 'UNAVAILABLE' });
    const a = createApp({ log: silentLogger(), apiTokens: [], allowedNetworks: [], methods: presenceMethods(store), health: () => ({ status: 'ok' }) });

    const all = await json(await a.request('/api/sipList.json'));
    expect(all).toMatchObject({ page: 1, per_page: 20, total: 3 });
    expect(all.sips.map((s: { sip: string; status: string }) => [s.sip, s.status])).toEqual([
      ['101', 'online'],
      ['102', 'inuse'],
      ['103', 'offline'],
    ]);
    expect(all.sips[0]).toEqual({ sip: '101', status: 'online', since: '2026-11-24T04:00:01.000Z', contact: 'sip:101@10.0.0.1:5060', user_agent: 'UA' });

    const filtered = await json(await a.request('/api/siplist?status=inuse,offline&per_page=1&page=2'));
    expect(filtered).toMatchObject({ page: 2, per_page: 1, total: 2 });
    expect(filtered.sips.map((s: { sip: string }) => s.sip)).toEqual(['103']);
    expect((await json(await a.request('/api/sipList?status=away'))).total).toBe(0);
    expect((await a.request('/api/sipList?status=busy')).status).toBe(400);

    const hist = await json(await a.request('/api/operatorHistory?sip=102'));
    expect(hist.total).toBe(2);
    expect(hist.history[0]).toMatchObject({ sip: '102', status: 'inuse', previous_status: 'online', reason: 'DeviceStateChange INUSE', time: '2026-11-24T04:00:02.000Z' });
    expect(hist.history[1]).toMatchObject({ sip: '102', status: 'online', previous_status: null });
    const xml = await (await a.request('/api/operatorHistory.xml?per_page=1')).text();
    expect(xml).toMatch(/<history><entry><id>\d+<\/id><sip>103<\/sip><status>offline<\/status><previous_status>online<\/previous_status>/);
  });
});
