/**
 * GET /metrics: the Prometheus text exposition. Access: with
 * CALLBRIDGE_METRICS_TOKEN set, that token (or an API token) as
 * `Authorization: Bearer` or `?token=`; without it, the API tokens like any
 * route (none configured: open, on loopback). The network allow-list applies
 * either way.
 */
import type { RouteGroup } from '../http/app.js';
import { bearer, tokenChecker } from '../http/auth.js';
import { ApiError } from '../http/errors.js';
import { queryParams } from '../http/params.js';
import type { Metrics } from './index.js';

export function metricsRoutes(metrics: Metrics, opts: { metricsToken?: string; apiTokens: readonly string[] }): RouteGroup {
  const own = opts.metricsToken ? tokenChecker([opts.metricsToken, ...opts.apiTokens]) : undefined;
  return {
    prefix: '/metrics',
    // with a metrics token the group checks it itself (an API token is accepted too)
    open: own !== undefined,
    install(app) {
      app.get('/metrics', async (c) => {
        if (own) {
          const presented = bearer(c.req.header('authorization')) ?? queryParams(c.req.url).params.token;
          if (!presented) throw new ApiError('UNAUTHORIZED', 'a metrics token is required (Authorization: Bearer <token> or token=<token>)');
          if (!own(presented)) throw new ApiError('UNAUTHORIZED', 'the metrics token is not valid');
        }
        const { text, contentType } = await metrics.expose();
        return c.body(text, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
      });
    },
    doc: [
      {
        method: 'get',
        path: '/metrics',
        errors: ['UNAUTHORIZED'],
        operation: {
          tags: ['service'],
          summary: 'Prometheus metrics',
          description:
            'Text exposition format. With CALLBRIDGE_METRICS_TOKEN set it needs that token (or an API token); otherwise an API token, like the API.',
          ...(own ? { security: [{ bearer: [] }, { token: [] }] } : {}),
          responses: {
            '200': {
              description: 'the metrics',
              content: { 'text/plain': { schema: { type: 'string' }, example: 'callbridge_asterisk_connected{link="ami"} 1\ncallbridge_open_calls{origin="click-to-call"} 0\n' } },
            },
          },
        },
      },
    ],
  };
}
