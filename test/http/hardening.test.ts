/**
 * Input hardening of the HTTP API: text-only JSON values, valid Unicode,
 * access control before anything else, HEAD, and the database check of
 * /health against a database that refuses writes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, send, type ApiMethod, type Env, type RouteGroup } from '../../src/http/app.js';
import { decodeUtf8Marked } from '../../src/http/params.js';
import { silentLogger } from '../../src/log.js';
import { databaseHealth, DatabaseNotWritableError, openDatabase, type Db } from '../../src/db/index.js';
import * as schema from '../../src/db/schema.js';
import { chattrWorks } from '../helpers/chattr.js';

const TOKEN = 'test-token-0123456789abcdef';
const json = (r: Response): Promise<any> => r.json();

/** Answers with the parameters it got. */
const echo: ApiMethod = { names: ['echo'], handle: (params) => ({ params }) };
let placed = 0;
const place: ApiMethod = { names: ['place'], changes: true, handle: () => ({ placed: ++placed }) };

const group = (prefix: string, open = false): RouteGroup => ({
  prefix,
  open,
  install(app: Hono<Env>) {
    app.post(`${prefix}/poke`, (c) => send(c, { poked: true }));
    app.get(`${prefix}/file`, (c) => c.body('0123456789', 200, { 'content-type': 'audio/wav', 'content-length': '10' }));
  },
});

function app(opts: { tokens?: string[]; networks?: string[]; maxBodyBytes?: number } = {}) {
  return createApp({
    log: silentLogger(),
    apiTokens: opts.tokens ?? [],
    allowedNetworks: opts.networks ?? [],
    methods: [echo, place],
    health: () => ({ status: 'ok', ami: 'connected', ari: 'disabled', db: 'ok', version: 'x' }),
    routes: [group('/simulator'), group('/public', true)],
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
}

const postJson = (body: string | Uint8Array, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
});
const postForm = (body: string | Uint8Array, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body,
});

describe('JSON values must be strings', () => {
  it.each([
    ['phone', 12345678901234567891n.toString(), 'a number'],
    ['sip', '101', 'a number'],
    ['order_id', '15.0', 'a number'],
    ['external_key', 'true', 'a boolean'],
    ['page', '{"n":1}', 'an object'],
    ['per_page', '[20]', 'an array'],
  ])('%s given as %s → 400 naming the field', async (field, raw, kind) => {
    const res = await app().request('/api/echo', postJson(`{"name":"x","${field}":${raw}}`));
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toMatchObject({ code: 'INVALID_PARAMETER', field });
    expect(body.error.message).toContain(`${field}: must be a string, not ${kind}`);
  });

  it('the big number of the issue never reaches the method in any form', async () => {
    const res = await app().request('/api/echo.xml', postJson('{"phone":12345678901234567891}'));
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('<field>phone</field>');
    expect(text).not.toContain('12345678901234567000');
  });

  it('strings pass untouched, null counts as absent', async () => {
    const res = await app().request('/api/echo', postJson('{"phone":"12345678901234567891","sip":"101","note":null}'));
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ params: { phone: '12345678901234567891', sip: '101' } });
  });
});

describe('text must be valid Unicode', () => {
  const cases: Array<[string, () => Response | Promise<Response>, string]> = [
    ['query, encoded lone surrogate', () => app().request('/api/echo?name=a%ED%A0%80b'), 'name'],
    ['query, stray continuation byte', () => app().request('/api/echo?x=1&name=%80'), 'name'],
    ['query, overlong encoding', () => app().request('/api/echo?name=%C0%AF'), 'name'],
    ['query, truncated sequence', () => app().request('/api/echo?name=%E2%82'), 'name'],
    ['form, encoded', () => app().request('/api/echo', postForm('phone=1&name=%ED%A0%80')), 'name'],
    ['form, raw byte', () => app().request('/api/echo', postForm(new Uint8Array([...Buffer.from('name=a'), 0xff]))), 'name'],
    ['JSON, \\ud800 escape', () => app().request('/api/echo', postJson('{"name":"a\\ud800"}')), 'name'],
    ['JSON, lone low surrogate', () => app().request('/api/echo', postJson('{"name":"\\udc00x"}')), 'name'],
    ['JSON, raw invalid bytes', () => app().request('/api/echo', postJson(new Uint8Array([...Buffer.from('{"sip":"1","name":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')]))), 'name'],
  ];
  it.each(cases)('%s → 400 naming the field', async (_what, request, field) => {
    const res = await request();
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toMatchObject({ code: 'INVALID_PARAMETER', field });
    expect(body.error.message).toMatch(/valid Unicode/);
  });

  it('multipart: an invalid text field is named; valid UTF-8 passes', async () => {
    const multipart = (value: Uint8Array) => {
      const b = 'XyZboundary';
      const head = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="sip"\r\n\r\n101\r\n--${b}\r\nContent-Disposition: form-data; name="name"\r\n\r\n`);
      return app().request('/api/echo', {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${b}` },
        body: Buffer.concat([head, value, Buffer.from(`\r\n--${b}--\r\n`)]),
      });
    };
    const bad = await multipart(new Uint8Array([0x61, 0xed, 0xa0, 0x80]));
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'name' });
    const good = await multipart(Buffer.from('Жанна'));
    expect(await json(good)).toEqual({ params: { sip: '101', name: 'Жанна' } });
  });

  it('a bad parameter name is refused too', async () => {
    const res = await app().request('/api/echo', postJson('{"na\\ud800me":"x"}'));
    expect(res.status).toBe(400);
    expect((await json(res)).error.field).toBe('na\uFFFDme');
  });

  it('valid non-ASCII text, an encoded U+FFFD and a stray % are kept', async () => {
    const res = await app().request('/api/echo?name=%D0%96%F0%9F%98%80&r=%EF%BF%BD&p=100%25&q=50%&s=a+b');
    expect(await json(res)).toEqual({ params: { name: 'Ж😀', r: '\uFFFD', p: '100%', q: '50%', s: 'a b' } });
    const form = await app().request('/api/echo', postForm(Buffer.from('name=Жанна&x=%2B1')));
    expect(await json(form)).toEqual({ params: { name: 'Жанна', x: '+1' } });
  });

  it('decodes like TextDecoder where valid, marks each invalid byte', () => {
    expect(decodeUtf8Marked(Buffer.from('aЖ😀'))).toBe('aЖ😀');
    expect(decodeUtf8Marked(new Uint8Array([0x61, 0xff, 0x62]))).toBe('a\uD800b');
    expect(decodeUtf8Marked(new Uint8Array([0xf4, 0x90, 0x80, 0x80]))).toBe('\uD800'.repeat(4));
  });
});

describe('access control comes first', () => {
  const a = app({ tokens: [TOKEN] });
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it.each([
    ['malformed JSON', () => a.request('/api/echo', postJson('{"name":'))],
    ['a JSON number', () => a.request('/api/echo', postJson('{"phone":1}'))],
    ['the token as a JSON number', () => a.request('/api/echo', postJson('{"token":123456789012345678}'))],
    ['invalid UTF-8', () => a.request('/api/echo?name=%ED%A0%80')],
    ['an unknown method', () => a.request('/api/nosuch')],
    ['an unknown method, XML', () => a.request('/api/nosuch.xml')],
    ['an unknown path', () => a.request('/nothing/here')],
    ['another verb', () => a.request('/api/echo', { method: 'PUT' })],
    ['a body too large', () => app({ tokens: [TOKEN], maxBodyBytes: 10 }).request('/api/echo', postForm('name=0123456789abcdef'))],
    ['a simulator route', () => a.request('/simulator/poke', { method: 'POST' })],
    ['a download', () => a.request('/simulator/file')],
    ['a wrong token', () => a.request(`/api/nosuch?token=wrong-token-0123456789`)],
  ])('%s without a valid token → 401', async (_what, request) => {
    const res = await request();
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).toContain('UNAUTHORIZED');
  });

  it('with a token the real problem is reported', async () => {
    expect((await a.request('/api/echo', postJson('{"name":', bearer))).status).toBe(400);
    expect((await json(await a.request('/api/echo', postJson('{"phone":1}', bearer)))).error.field).toBe('phone');
    expect((await a.request('/api/nosuch', { headers: bearer })).status).toBe(404);
    expect((await a.request('/nothing/here', { headers: bearer })).status).toBe(404);
    expect((await a.request('/api/echo', { method: 'PUT', headers: bearer })).status).toBe(405);
    const big = await app({ tokens: [TOKEN], maxBodyBytes: 10 }).request('/api/echo', postForm('name=0123456789abcdef', bearer));
    expect(big.status).toBe(413);
    expect((await json(big)).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await a.request('/simulator/poke', { method: 'POST', headers: bearer })).status).toBe(200);
    expect((await a.request(`/simulator/poke?token=${TOKEN}`, { method: 'POST' })).status).toBe(200);
  });

  it('the token may still come in a form or JSON body, and is not passed on', async () => {
    const form = await a.request('/api/echo', postForm(`name=ab&token=${TOKEN}`));
    expect(await json(form)).toEqual({ params: { name: 'ab' } });
    const body = await a.request('/api/echo', postJson(JSON.stringify({ name: 'ab', token: TOKEN })));
    expect(await json(body)).toEqual({ params: { name: 'ab' } });
    // a valid token in the body, a bad value beside it: now the value is the problem
    const bad = await a.request('/api/echo', postJson(JSON.stringify({ phone: 1, token: TOKEN })));
    expect(bad.status).toBe(400);
  });

  it('/health and open route groups need no token; the allow-list applies to everything', async () => {
    expect((await a.request('/health')).status).toBe(200);
    expect((await a.request('/public/poke', { method: 'POST' })).status).toBe(200);
    // app.request has no client address: outside any allowed network
    const closed = app({ tokens: [TOKEN], networks: ['10.0.0.0/8'] });
    for (const path of ['/health', '/api/echo', '/nothing/here', '/public/poke']) {
      const res = await closed.request(path, { headers: bearer });
      expect(res.status, path).toBe(403);
      expect((await json(res)).error.code).toBe('FORBIDDEN');
    }
  });
});

describe('HEAD', () => {
  it('answers like GET without a body', async () => {
    const a = app({ tokens: [TOKEN] });
    const bearer = { authorization: `Bearer ${TOKEN}` };
    for (const [path, status] of [
      ['/health', 200],
      ['/api/echo.xml?name=x', 200],
      ['/api/nosuch', 404],
      ['/simulator/file', 200],
    ] as const) {
      const get = await a.request(path, { headers: bearer });
      const head = await a.request(path, { method: 'HEAD', headers: bearer });
      expect(head.status, path).toBe(status);
      expect(get.status, path).toBe(status);
      expect(head.headers.get('content-type'), path).toBe(get.headers.get('content-type'));
      expect(await head.text(), path).toBe('');
    }
    expect((await a.request('/simulator/file', { method: 'HEAD', headers: bearer })).headers.get('content-length')).toBe('10');
    expect((await a.request('/api/echo', { method: 'HEAD' })).status).toBe(401);
  });

  it('does not run a method that changes data (HEAD must be safe): 405, nothing done', async () => {
    const a = app({ tokens: [TOKEN] });
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const before = placed;
    const head = await a.request('/api/place?x=1', { method: 'HEAD', headers: bearer });
    expect(head.status).toBe(405);
    expect(placed).toBe(before);
    expect((await a.request('/api/place?x=1', { headers: bearer })).status).toBe(200);
    expect(placed).toBe(before + 1);
  });
});

const CHATTR = chattrWorks();
const chattr = (flag: '+i' | '-i', file: string) => execFileSync('chattr', [flag, file]);

describe('the database check of /health', () => {
  let dir: string | undefined;
  let db: Db | undefined;
  const frozen: string[] = [];
  afterEach(() => {
    for (const f of frozen.splice(0)) chattr('-i', f);
    db?.$client.close();
    db = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is ok on a writable database, and a read-only connection is an error', () => {
    dir = mkdtempSync(join(tmpdir(), 'callbridge-dbh-'));
    const path = join(dir, 'db.sqlite');
    db = openDatabase(path);
    expect(databaseHealth(db)).toMatchObject({ ok: true });
    const ro = new Database(path, { readonly: true });
    try {
      const health = databaseHealth(drizzle(ro, { schema }) as unknown as Db);
      expect(health.ok).toBe(false);
      expect(health.error).toMatch(/SQLITE_READONLY/);
    } finally {
      ro.close();
    }
  });

  it.skipIf(!CHATTR)('detects an immutable WAL and an immutable database file, and recovers', () => {
    dir = mkdtempSync(join(tmpdir(), 'callbridge-dbh-'));
    const path = join(dir, 'db.sqlite');
    db = openDatabase(path);
    let t = 1_000_000;
    const check = () => databaseHealth(db!, (t += 5000));
    expect(check().ok).toBe(true);

    // the WAL cannot be written: every commit fails
    chattr('+i', `${path}-wal`);
    frozen.push(`${path}-wal`);
    expect(() => db!.$client.prepare('INSERT INTO endpoints (sip, status, since, updated_at) VALUES (?, ?, ?, ?)').run('x', 'online', 1, 1)).toThrow();
    const wal = check();
    expect(wal).toMatchObject({ ok: false });
    expect(wal.error).toMatch(/SQLITE_IOERR/);
    chattr('-i', frozen.pop()!);
    expect(check().ok).toBe(true);

    // the database file itself: commits still reach the WAL, but it can never be checkpointed
    chattr('+i', path);
    frozen.push(path);
    const main = check();
    expect(main.ok).toBe(false);
    expect(main.error).toMatch(/SQLITE_IOERR/);
    chattr('-i', frozen.pop()!);
    expect(check().ok).toBe(true);
  });

  it.skipIf(!CHATTR)('refuses to open a database file that cannot be written', () => {
    dir = mkdtempSync(join(tmpdir(), 'callbridge-dbh-'));
    const path = join(dir, 'db.sqlite');
    openDatabase(path).$client.close();
    chattr('+i', path);
    frozen.push(path);
    expect(() => openDatabase(path)).toThrow(DatabaseNotWritableError);
    expect(() => openDatabase(path)).toThrow(/is not writable: SQLITE_READONLY/);
  });
});
