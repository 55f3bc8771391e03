/** getNumberFromId: both identifier forms, the daemon's own records, the CRM look-up (real HTTP server), its timeout and cache. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { dialable, parseNumberId } from '../../src/events/number-lookup.js';
import { setup, type Env } from './setup.js';

let env: Env | undefined;
afterEach(() => {
  env?.close();
  env = undefined;
});

describe('identifiers and number forms', () => {
  it.each([
    ['+123456s654321', { id: '+123456s654321', kind: 's', first: '123456', second: '654321' }],
    [' 15s1', { id: '+15s1', kind: 's', first: '15', second: '1' }],
    ['15s1', { id: '+15s1', kind: 's', first: '15', second: '1' }],
    ['+7000d0', { id: '+7000d0', kind: 'd', first: '7000', second: '0' }],
    ['+7000D0', undefined],
    ['  15s1', undefined],
    ['+15s', undefined],
  ])('%j', (text, parsed) => {
    expect(parseNumberId(text)).toEqual(parsed);
  });

  it.each([
    ['+79001234567', '89001234567'],
    ['79001234567', '89001234567'],
    ['89001234567', '89001234567'],
    ['+380639920000', '380639920000'],
    ['101', '101'],
  ])('%s → %s', (stored, shown) => expect(dialable(stored)).toBe(shown));
});

describe('from the daemon records', () => {
  it('+<order>s<client>: the phone of the latest makeCall of that order, in 8… form; also as text/plain', async () => {
    env = setup();
    env.insertCall({ origin: 'api', order_id: '15', phone: '+380639920000' });
    env.insertCall({ origin: 'api', order_id: '15', phone: '+79001234567' });
    env.insertCall({ origin: 'pbx', order_id: '15', phone: '74950000000' });
    env.insertCall({ origin: 'api', order_id: '16', phone: '79001112233' });
    const res = await env.request('/api/getNumberFromId?number=%2B15s1');
    expect(res).toMatchObject({ status: 200, body: { number: '89001234567', source: 'calls' } });
    // an unencoded "+" arrives as a space
    expect((await env.request('/api/getNumberFromId.json?number=+15s1')).body).toEqual({ number: '89001234567', source: 'calls' });
    expect((await env.post('/api/getNumberFromId', { number: '+16s99' })).body).toEqual({ number: '89001112233', source: 'calls' });
    const xml = await env.request('/api/getNumberFromId.xml?number=%2B15s1');
    expect(xml.body).toContain('<response><number>89001234567</number><source>calls</source></response>');
    const text = await env.post('/api/getNumberFromId.txt', { number: '+15s1' });
    expect(text).toMatchObject({ status: 200, body: '89001234567' });
    expect(text.type).toMatch(/^text\/plain/);
    expect((await env.request('/api/GetNumberFromId.TXT?number=+15s1')).body).toBe('89001234567');
  });

  it('unknown → 404 NOT_FOUND (.txt: an empty body); malformed → 400; no look-up configured', async () => {
    env = setup();
    const res = await env.request('/api/getNumberFromId?number=%2B15s1');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(await env.request('/api/getNumberFromId?number=%2B7000d0')).toMatchObject({ status: 404 });
    expect(await env.request('/api/getNumberFromId.txt?number=%2B15s1')).toEqual({ status: 404, type: '', body: '' });
    const bad = await env.request('/api/getNumberFromId.txt?number=15');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'number' });
    expect((await env.request('/api/makeCall.txt?sip=1')).status).toBe(404);
  });
});

describe('from the CRM look-up', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  const tokens: Array<string | null> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const number = url.searchParams.get('number') ?? '';
      seen.push(number);
      tokens.push(url.searchParams.get('token'));
      const answer = (status: number, body: string, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      switch (number) {
        case '+7000d0':
          return answer(200, JSON.stringify({ number: '+79001112233' }));
        case '+7000d1':
          return answer(200, JSON.stringify({ phone: 79001112234 }));
        case '+7000d2':
          return answer(200, '89001112235\n', 'text/plain');
        case '+123456s654321':
          return answer(200, JSON.stringify({ number: '380639920001' }));
        case '+7000d3':
          return answer(200, JSON.stringify({ number: null }));
        case '+7000d4':
          return answer(200, 'sorry, try later', 'text/plain');
        case '+7000d5':
          return answer(500, '{"error":"down"}');
        case '+7000d8':
          setTimeout(() => answer(200, JSON.stringify({ number: '89001112239' })), 3500).unref();
          return;
        default:
          return answer(404, '{}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/crm/lookup?token=crm-secret-token`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const count = (n: string) => seen.filter((s) => s === n).length;

  it('found: JSON number or phone, or a plain-text body; in 8… form; the URL keeps its own query', async () => {
    env = setup({ numberLookupUrl: base });
    expect((await env.request('/api/getNumberFromId?number=%2B7000d0')).body).toEqual({ number: '89001112233', source: 'lookup' });
    expect((await env.request('/api/getNumberFromId?number=%2B7000d1')).body).toEqual({ number: '89001112234', source: 'lookup' });
    expect((await env.post('/api/getNumberFromId.txt', { number: '+7000d2' })).body).toBe('89001112235');
    // +<order>s<client> with no makeCall of that order goes to the CRM too
    expect((await env.request('/api/getNumberFromId?number=+123456s654321')).body).toEqual({ number: '380639920001', source: 'lookup' });
    expect(tokens.at(-1)).toBe('crm-secret-token');
  });

  it('not found, a null number, a malformed or failing answer → 404', async () => {
    env = setup({ numberLookupUrl: base });
    for (const n of ['+7000d9', '+7000d3', '+7000d4', '+7000d5']) {
      const res = await env.request(`/api/getNumberFromId?number=${encodeURIComponent(n)}`);
      expect(res.status, n).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('caches found and not-found answers for a minute (also concurrent look-ups), not failures', async () => {
    env = setup({ numberLookupUrl: base });
    const before = { d0: count('+7000d0'), d9: count('+7000d9'), d5: count('+7000d5'), d1: count('+7000d1') };
    await env.request('/api/getNumberFromId?number=%2B7000d0');
    expect((await env.request('/api/getNumberFromId.txt?number=%2B7000d0')).body).toBe('89001112233');
    await env.request('/api/getNumberFromId?number=%2B7000d9');
    await env.request('/api/getNumberFromId?number=%2B7000d9');
    await Promise.all([env.request('/api/getNumberFromId?number=%2B7000d1'), env.request('/api/getNumberFromId?number=%2B7000d1')]);
    await env.request('/api/getNumberFromId?number=%2B7000d5');
    await env.request('/api/getNumberFromId?number=%2B7000d5');
    expect(count('+7000d0') - before.d0).toBe(1);
    expect(count('+7000d9') - before.d9).toBe(1);
    expect(count('+7000d1') - before.d1).toBe(1);
    expect(count('+7000d5') - before.d5).toBe(2);
    env.clock.now += 61_000;
    await env.request('/api/getNumberFromId?number=%2B7000d0');
    expect(count('+7000d0') - before.d0).toBe(2);
  });

  it('a slow CRM times out: NOT_FOUND within ~2.5 s, a warning without the token', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    env = setup({ numberLookupUrl: base, log: createLogger({ level: 'warn', destination: sink }) });
    const started = Date.now();
    const res = await env.request('/api/getNumberFromId?number=%2B7000d8');
    const took = Date.now() - started;
    expect(res.status).toBe(404);
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(2500);
    await env.request('/api/getNumberFromId?number=%2B7000d5');
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings.map((w) => w.problem)).toEqual(['no answer within 2000 ms', 'HTTP 500']);
    expect(warnings[0]).toMatchObject({ level: 40, msg: 'number look-up failed', number: '+7000d8', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/crm\/lookup$/) });
    expect(lines.join('')).not.toContain('crm-secret-token');
  });
});
