/** The status page's routes: served without a token, locked to this origin by CSP, nothing else opened by them. */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { silentLogger } from '../../src/log.js';
import { uiRoutes } from '../../src/ui/routes.js';

const TOKEN = 'ui-routes-token-0123456789';

function app(simulated: boolean) {
  return createApp({
    log: silentLogger(),
    apiTokens: [TOKEN],
    allowedNetworks: [],
    methods: [{ names: ['sipList'], handle: () => ({ sips: [] }) }],
    health: () => ({ status: 'ok' }),
    routes: uiRoutes({ simulated, tokenRequired: true }),
  });
}

describe('status page routes', () => {
  it('answers the page at / and /ui without a token, with a same-origin-only CSP', async () => {
    const a = app(true);
    for (const path of ['/', '/ui', '/ui/']) {
      const res = await a.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
      const html = await res.text();
      expect(html).toContain('<meta name="callbridge-simulated" content="1">');
      expect(html).toContain('<meta name="callbridge-auth" content="1">');
      // nothing is loaded from another origin
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
    const plain = await app(false).request('/');
    expect(await plain.text()).toContain('<meta name="callbridge-simulated" content="0">');
  });

  it('serves the assets with their types; the worker may control the whole origin', async () => {
    const a = app(false);
    const js = await a.request('/ui/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain("fetch('/api/stream'");
    expect((await a.request('/ui/style.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const sw = await a.request('/ui/sw.js');
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
    const head = await a.request('/ui/app.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('opens nothing but the page: unknown files 404, the API still needs the token', async () => {
    const a = app(false);
    for (const path of ['/ui/nope.js', '/ui/..%2Fpackage.json', '/ui/routes.ts']) {
      const res = await a.request(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    for (const path of ['/api/sipList.json', '//api/sipList', '/nothing', '/ui-evil']) {
      expect((await a.request(path)).status, path).toBe(401);
    }
    expect((await a.request('/api/sipList.json', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });
});
