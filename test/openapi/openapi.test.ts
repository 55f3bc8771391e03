/**
 * GET /openapi.json of a daemon in simulated mode: a valid OpenAPI 3.1
 * document that describes exactly the routes the app serves (taken from the
 * app's own route table and registered methods), with parameters from the
 * very schemas that validate them; and /docs, served from the daemon with
 * nothing loaded from elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../helpers/daemon.js';
import { ERROR_CODES } from '../../src/openapi/document.js';
import { loadConfig } from '../../src/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';

/** A daemon in simulated mode (so the simulator's control routes are served too). */
let h: { daemon: Daemon; dir: string };
let doc: any;
const base = () => `http://127.0.0.1:${h.daemon.port}`;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-openapi-'));
  const config = loadConfig({
    CALLBRIDGE_SIMULATE: '1',
    CALLBRIDGE_HTTP_PORT: '0',
    CALLBRIDGE_DB_PATH: join(dir, 'db.sqlite'),
    CALLBRIDGE_RECORDINGS_DIR: join(dir, 'recordings'),
    CALLBRIDGE_SIM_TIME_SCALE: '0.05',
    CALLBRIDGE_LOG_LEVEL: 'silent',
  }, []);
  h = { daemon: await startDaemon(config, silentLogger()), dir };
  const res = await fetch(`${base()}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = await res.json();
}, 30_000);
afterAll(async () => {
  await h?.daemon.stop();
  if (h) rmSync(h.dir, { recursive: true, force: true });
});

/** The OpenAPI paths a Hono route pattern stands for: `:id{[0-9]+}` → `{id}`, `:action{a|b}` → both words. */
function expand(honoPath: string): string[] {
  let out = [''];
  for (const seg of honoPath.split('/').slice(1)) {
    const m = /^:(\w+)(?:\{(.+)\})?$/.exec(seg);
    let options: string[];
    if (!m) options = [seg];
    else if (m[2] && /^[\w-]+(\|[\w-]+)*$/.test(m[2])) options = m[2].split('|');
    else options = [`{${m[1]}}`];
    out = out.flatMap((p) => options.map((o) => `${p}/${o}`));
  }
  return out.length ? out : ['/'];
}

/** Every "VERB path" the app serves, from its route table and its registered API methods. */
function served(): Set<string> {
  const out = new Set<string>();
  const methods = (h.daemon.app as any).routes as Array<{ method: string; path: string }>;
  for (const r of methods) {
    if (r.path === '/*' && r.method === 'ALL') continue; // middleware
    if (r.path === '/rest/*' && r.method === 'ALL') continue; // the /rest session check and its plain-text 404
    if (r.path.startsWith('/api/:method')) continue; // the API methods, listed below
    for (const p of expand(r.path)) out.add(`${r.method} ${p}`);
  }
  return out;
}

describe('the document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route the app serves, and no other', () => {
    const documented = new Set<string>();
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const verb of Object.keys(item)) documented.add(`${verb.toUpperCase()} ${path}`);
    }
    const routes = served();
    expect(routes.size).toBeGreaterThan(5);
    // the app routes a path without its .json / .xml suffix: /openapi.json is served by the route /openapi
    const has = (r: string) => {
      const [verb, path] = r.split(' ') as [string, string];
      // an ALL route (e.g. an event stream) is documented under the verbs it means
      if (verb === 'ALL') return [...documented].some((d) => d.endsWith(` ${path}`));
      return documented.has(r) || documented.has(`${r}.json`);
    };
    const missing = [...routes].filter((r) => !has(r));
    expect(missing, 'served but not in /openapi.json').toEqual([]);
    const nonApi = [...documented].filter((d) => !/^(GET|POST) \/api\//.test(d));
    const phantom = nonApi.filter((d) => !routes.has(d) && !routes.has(d.replace(/\.json$/, '')) && !routes.has(d.replace(/^\w+/, 'ALL')));
    expect(phantom, 'in /openapi.json but not served').toEqual([]);
  });

  it('has every name of every API method, GET and POST, plain, .json and .xml', async () => {
    const names = ['makeCall', 'callHistory', 'orderHistory', 'orderRecords', 'recordList', 'RecordsList', 'callList', 'CallsList', 'sipList', 'operatorHistory',
      'events', 'events/callDetailRecord', 'events/call_asterisk', 'events/coming', 'getNumberFromId'];
    for (const n of names) {
      for (const p of [`/api/${n}`, `/api/${n}.json`, `/api/${n}.xml`]) {
        expect(doc.paths[p]?.get, p).toBeDefined();
        expect(doc.paths[p]?.post, p).toBeDefined();
      }
    }
    expect(doc.paths['/api/getNumberFromId.txt'].get.responses['200'].content['text/plain']).toBeDefined();
    const apiPaths = Object.keys(doc.paths).filter((p) => p.startsWith('/api/') && !p.endsWith('.txt'));
    // and each of them is really answered (not 404 "unknown method")
    for (const p of apiPaths) {
      const res = await fetch(`${base()}${p}`, { method: 'HEAD' });
      expect([200, 400, 404, 405], p).toContain(res.status);
      if (res.status === 404) {
        const body = await (await fetch(`${base()}${p}`)).text();
        expect(body, p).not.toMatch(/unknown method/);
      }
    }
  });

  it('documents every API method: a summary, a tag, its parameters', () => {
    const undocumented = Object.entries<any>(doc.paths)
      .filter(([p]) => p.startsWith('/api/'))
      .flatMap(([p, item]) => Object.values<any>(item).filter((op) => op.tags?.includes('other')).map(() => p));
    expect([...new Set(undocumented)], 'ApiMethods without a doc field (src/openapi/types.ts: ApiDoc)').toEqual([]);
  });

  it('takes parameters from the validating schemas', () => {
    const op = doc.paths['/api/makeCall'].get;
    const byName = Object.fromEntries(op.parameters.map((p: any) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(['external_key', 'order_id', 'phone', 'sip']);
    expect(byName.phone).toMatchObject({ in: 'query', required: true, schema: { type: 'string', pattern: '^\\+?\\d{3,20}$' } });
    expect(byName.external_key.required).toBe(false);
    // the sip pattern is the configured CALLBRIDGE_SIP_PATTERN
    expect(byName.sip.schema.pattern).toBe('^[A-Za-z0-9_.-]{1,40}$');
    const post = doc.paths['/api/makeCall.xml'].post;
    expect(Object.keys(post.requestBody.content).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
    expect(post.responses['200'].content['application/xml']).toBeDefined();
    expect(post.responses['409'].description).toMatch(/OPERATOR_BUSY/);
    const list = Object.fromEntries(doc.paths['/api/callList'].get.parameters.map((p: any) => [p.name, p]));
    expect(list.status.schema.enum).toContain('FINISH');
    expect(list.direction.schema.enum).toEqual(['incoming', 'outgoing', 'internal']);
    // the events method's alternatives: type selects the set
    const events = doc.components.schemas.eventsParams;
    expect(events.oneOf.map((s: any) => s.title)).toEqual(['text or call', 'callDetailRecord', 'call_asterisk', 'coming']);
    const type = doc.paths['/api/events'].get.parameters.find((p: any) => p.name === 'type');
    expect(type.schema.enum).toEqual(['callDetailRecord', 'call_asterisk', 'coming']);
  });

  it('every example request is accepted by the method it documents', async () => {
    let tried = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      if (!/^\/api\/[^.]+$/.test(path)) continue;
      const example = item.post?.requestBody?.content?.['application/json']?.example;
      if (!example) continue;
      tried++;
      const res = await fetch(`${base()}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(example) });
      expect(res.status, `${path} ${JSON.stringify(example)}: ${await res.clone().text()}`).not.toBe(400);
    }
    expect(tried).toBeGreaterThan(10);
  });

  it('has the error envelope with every code, and the access rules', () => {
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual([...ERROR_CODES]);
    expect(doc.paths['/api/sipList'].get.responses['401']).toBeDefined();
    expect(doc.paths['/api/sipList'].get.responses['403']).toBeDefined();
    expect(doc.paths['/health'].get.security).toEqual([]);
    expect(doc.paths['/openapi.json'].get.security).toEqual([]);
    expect(doc.paths['/docs/'].get.security).toEqual([]);
    expect(doc.paths['/recordings/{id}'].get.parameters.map((p: any) => p.name)).toEqual(['id', 'Range']);
    expect(doc.paths['/recordings/{id}'].get.responses['206']).toBeDefined();
    expect(doc.paths['/recordings/{id}'].get.responses['416']).toBeDefined();
  });

  it('marks the simulator control endpoints as simulator-only', () => {
    const sim = Object.entries<any>(doc.paths).filter(([p]) => p.startsWith('/simulator/'));
    expect(sim.length).toBeGreaterThanOrEqual(9);
    for (const [, item] of sim) {
      for (const op of Object.values<any>(item)) {
        expect(op.tags).toEqual(['simulator']);
        expect(op['x-simulator-only']).toBe(true);
      }
    }
  });

  it('answers /openapi.xml with 404 (the document is JSON)', async () => {
    expect((await fetch(`${base()}/openapi.xml`)).status).toBe(404);
  });
});

describe('/docs', () => {
  it('serves Swagger UI and every asset from the daemon, nothing from elsewhere', async () => {
    const first = await fetch(`${base()}/docs`, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const page = await fetch(`${base()}/docs/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/connect-src 'self'(;|$)/);
    const html = await page.text();
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      expect(ref, 'an absolute or protocol-relative URL').not.toMatch(/^([a-z]+:)?\/\//i);
      const res = await fetch(new URL(ref, `${base()}/docs/`));
      expect(res.status, ref).toBe(200);
      const body = await res.text();
      if (ref.endsWith('.css')) {
        // styles and fonts: only data: URLs or files next to it
        for (const m of body.matchAll(/url\(\s*['"]?([^'")]+)/g)) expect(m[1], 'css url()').toMatch(/^(data:|#|[^:/]+$|\.\/)/);
        expect(body).not.toMatch(/@import/);
      }
      if (ref.endsWith('init.js')) {
        expect(body).toMatch(/url: '\.\.\/openapi\.json'/);
        expect(body).toMatch(/validatorUrl: null/);
      }
      if (ref.endsWith('.js')) expect(res.headers.get('content-type')).toMatch(/javascript/);
    }
    expect((await fetch(`${base()}/docs/../package.json`)).status).toBe(404);
    expect((await fetch(`${base()}/docs/swagger-ui.js.map`)).status).toBe(404);
  });
});

describe('with API tokens', () => {
  let t: Harness;
  const TOKEN = 'docs-test-token-0123456789';
  beforeAll(async () => {
    t = await startHarness({ env: { CALLBRIDGE_API_TOKENS: TOKEN } });
  }, 30_000);
  afterAll(async () => t?.close());

  it('/openapi.json and /docs stay open; the document says a token is needed', async () => {
    const res = await fetch(`http://127.0.0.1:${t.daemon.port}/openapi.json`);
    expect(res.status).toBe(200);
    const d: any = await res.json();
    expect(d.security).toEqual([{ bearer: [] }, { token: [] }]);
    expect((await fetch(`http://127.0.0.1:${t.daemon.port}/docs/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${t.daemon.port}/api/sipList`)).status).toBe(401);
  });
});
