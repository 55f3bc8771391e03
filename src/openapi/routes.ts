/**
 * GET /openapi.json (the document) and /docs (Swagger UI, from the
 * swagger-ui-dist package's own files, served by the daemon: no CDN, nothing
 * fetched from elsewhere; its Content-Security-Policy lets the page load and
 * call nothing but this daemon). Both are open like /health: they describe
 * the API, they hold no data, and a browser cannot send a bearer token when
 * it opens a page; "Authorize" in the page takes the token for "Try it out".
 * The network allow-list applies.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ApiMethod, RouteGroup } from '../http/app.js';
import { ApiError } from '../http/errors.js';
import { openApiDocument } from './document.js';

/** The files of swagger-ui-dist the page uses, with their content types. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'";

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>callbridge API</title>
<link rel="stylesheet" href="./swagger-ui.css">
<link rel="icon" type="image/png" href="./favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="./swagger-ui-bundle.js"></script>
<script src="./init.js"></script>
</body>
</html>
`;

/** Swagger UI's start: the document of this daemon, no validator badge (it would call an outside service). */
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '../openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    docExpansion: 'none',
    defaultModelsExpandDepth: 0
  });
});
`;

function assetDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

export interface DocsSource {
  methods: () => readonly ApiMethod[];
  routes: () => readonly RouteGroup[];
  tokens: boolean;
}

/** /openapi.json and /docs; the document is built once, at the first request. */
export function docsRoutes(src: DocsSource): RouteGroup[] {
  let document: string | undefined;
  const cache = new Map<string, Buffer>();
  const self: RouteGroup[] = [];
  const docOf = () =>
    (document ??= JSON.stringify(openApiDocument({ methods: src.methods(), routes: src.routes(), tokens: src.tokens })));
  self.push(
    {
      prefix: '/openapi',
      open: true,
      install(app) {
        // the app strips a .json / .xml suffix before routing: /openapi.json arrives as /openapi
        app.get('/openapi', (c) => {
          if (c.get('format') === 'xml') throw new ApiError('NOT_FOUND', 'the document is JSON: /openapi.json');
          return c.body(docOf(), 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
        });
      },
      doc: [
        {
          method: 'get',
          path: '/openapi.json',
          errors: [],
          operation: {
            tags: ['service'],
            summary: 'This document',
            description: 'OpenAPI 3.1, generated from the schemas that validate the requests. Open (no token; the network allow-list applies).',
            responses: { '200': { description: 'the document', content: { 'application/json': { schema: { type: 'object' } } } } },
          },
        },
      ],
    },
    {
      prefix: '/docs',
      open: true,
      install(app) {
        app.get('/docs', (c) => c.redirect('/docs/', 302));
        app.get('/docs/', (c) => c.html(PAGE, 200, { 'content-security-policy': DOCS_CSP, 'cache-control': 'no-cache' }));
        app.get('/docs/:file', async (c) => {
          const file = c.req.param('file');
          const headers = { 'content-security-policy': DOCS_CSP, 'cache-control': 'public, max-age=3600' };
          if (file === 'init.js') return c.body(INIT, 200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' });
          const type = ASSETS[file];
          if (!type) throw new ApiError('NOT_FOUND', 'no such file');
          let bytes = cache.get(file);
          if (!bytes) {
            bytes = await readFile(join(assetDir(), file));
            cache.set(file, bytes);
          }
          return c.body(new Uint8Array(bytes), 200, { ...headers, 'content-type': type });
        });
      },
      doc: [
        {
          method: 'get',
          path: '/docs',
          errors: [],
          operation: {
            tags: ['service'],
            summary: 'Interactive API documentation',
            description: 'Redirects to /docs/, Swagger UI served from the daemon itself (works without internet). Open; "Authorize" takes the API token for "Try it out".',
            responses: { '302': { description: 'to /docs/' } },
          },
        },
        {
          method: 'get',
          path: '/docs/',
          errors: [],
          operation: { tags: ['service'], summary: 'Interactive API documentation (page)', responses: { '200': { description: 'the page', content: { 'text/html': { schema: { type: 'string' } } } } } },
        },
        {
          method: 'get',
          path: '/docs/{file}',
          errors: ['NOT_FOUND'],
          operation: {
            tags: ['service'],
            summary: 'Assets of the documentation page',
            parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string', enum: ['init.js', ...Object.keys(ASSETS)] } }],
            responses: { '200': { description: 'the file' } },
          },
        },
      ],
    },
  );
  return self;
}
