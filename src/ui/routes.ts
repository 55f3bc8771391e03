/**
 * The status page: `/` and `/ui` answer the page, `/ui/<file>` its assets
 * (plain HTML, CSS and JavaScript from src/ui/assets/, no build step, nothing
 * from elsewhere: the Content-Security-Policy allows this origin only). The
 * page and its assets need no token; everything they show comes from the
 * token-protected API, which the page calls with the token the user typed
 * (kept in sessionStorage, sent as an Authorization header, never in a URL).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import type { Env, RouteGroup } from '../http/app.js';
import { ApiError } from '../http/errors.js';

/** src/ui/assets, also from a build in dist/ (the assets are not compiled). */
export const ASSETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/ui/assets');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
};

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  type: string;
  body: Uint8Array;
}

export interface UiOptions {
  /** simulated mode: the page shows the simulator's buttons */
  simulated: boolean;
  /** API tokens are configured: the page asks for one before it calls the API */
  tokenRequired: boolean;
  assetsDir?: string;
}

function loadAssets(dir: string, opts: UiOptions): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type || !/^[a-z0-9-]+\.[a-z]+$/.test(name)) continue;
    let body: Uint8Array = readFileSync(join(dir, name));
    if (name === 'index.html') {
      const html = Buffer.from(body)
        .toString('utf8')
        .replace('<meta name="callbridge-simulated" content="0">', `<meta name="callbridge-simulated" content="${opts.simulated ? '1' : '0'}">`)
        .replace('<meta name="callbridge-auth" content="0">', `<meta name="callbridge-auth" content="${opts.tokenRequired ? '1' : '0'}">`);
      body = new TextEncoder().encode(html);
    }
    assets.set(name, { type, body });
  }
  return assets;
}

export function uiRoutes(opts: UiOptions): RouteGroup[] {
  const assets = loadAssets(opts.assetsDir ?? ASSETS_DIR, opts);
  const answer = (c: Context<Env>, name: string) => {
    const asset = assets.get(name);
    if (!asset) throw new ApiError('NOT_FOUND', 'no such file');
    const headers: Record<string, string> = {
      'content-type': asset.type,
      'content-length': String(asset.body.byteLength),
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': CSP,
    };
    // the worker that adds the token to the page's recording requests controls the whole origin
    if (name === 'sw.js') headers['service-worker-allowed'] = '/';
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, headers);
  };
  const page = {
    method: 'get' as const,
    operation: { summary: 'The status page (HTML)', tags: ['status page'], responses: { '200': { description: 'the page', content: { 'text/html': { schema: { type: 'string' } } } } } },
  };
  return [
    {
      prefix: '/',
      open: true,
      doc: [{ ...page, path: '/' }],
      install(app) {
        app.get('/', (c) => answer(c, 'index.html'));
      },
    },
    {
      prefix: '/ui',
      open: true,
      doc: [
        { ...page, path: '/ui' },
        { ...page, path: '/ui/' },
        {
          method: 'get',
          path: '/ui/{file}',
          operation: {
            summary: "The status page's assets (scripts, styles)",
            tags: ['status page'],
            parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' }, example: 'app.js' }],
            responses: { '200': { description: 'the file' } },
          },
          errors: ['NOT_FOUND'],
        },
      ],
      install(app) {
        app.get('/ui', (c) => answer(c, 'index.html'));
        app.get('/ui/', (c) => answer(c, 'index.html'));
        app.get('/ui/:file', (c) => answer(c, c.req.param('file')));
      },
    },
  ];
}
