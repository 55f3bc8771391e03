/**
 * The Hono app: path and format rules, access control, the error envelope,
 * and dispatch of `/api/<method>` to the methods the features register.
 *
 * Paths under /api are case-insensitive and may end in `.json` or `.xml`
 * (which picks the format); Hono cannot match `:method.:fmt` in one segment,
 * so `getPath` strips the suffix and lower-cases before routing.
 */
import { Hono, type Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../log.js';
import { ApiError } from './errors.js';
import { splitFormat, toXml, type Format } from './format.js';
import { readParams, type Params } from './params.js';
import { bearer, networkAllowList, tokenChecker } from './auth.js';

export interface ApiMethod {
  /** names the method answers to, any case (e.g. ['recordList', 'RecordsList']) */
  names: readonly string[];
  handle(params: Params, c: Context<Env>): Promise<Record<string, unknown>> | Record<string, unknown>;
}

/** Plain routes under a prefix (downloads, simulator control): they get access control and the error envelope. */
export interface RouteGroup {
  prefix: string;
  install(app: Hono<Env>): void;
}

export type Env = { Variables: { format: Format } };

export interface AppOptions {
  log: Logger;
  apiTokens: readonly string[];
  allowedNetworks: readonly string[];
  methods: readonly ApiMethod[];
  health: () => Record<string, unknown> & { status: string };
  routes?: readonly RouteGroup[];
  maxBodyBytes?: number;
}

function pathname(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const end = url.search(/[?#]/);
  return start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end);
}

/** Routing path: format suffix stripped; /api and /health paths lower-cased. */
export function routingPath(url: string): string {
  const { path } = splitFormat(pathname(url));
  return /^\/(api|health)(\/|$)/i.test(path) ? path.toLowerCase() : path;
}

export function send(c: Context<Env>, body: Record<string, unknown>, status = 200): Response {
  if (c.get('format') === 'xml') {
    return c.body(toXml(body), status as 200, { 'content-type': 'application/xml; charset=utf-8' });
  }
  return c.json(body, status as 200);
}

export function createApp(opts: AppOptions): Hono<Env> {
  const app = new Hono<Env>({ getPath: (req) => routingPath(req.url) });
  const allowed = networkAllowList(opts.allowedNetworks);
  const tokenOk = opts.apiTokens.length > 0 ? tokenChecker(opts.apiTokens) : undefined;
  const methods = new Map<string, ApiMethod>();
  for (const m of opts.methods) for (const n of m.names) methods.set(n.toLowerCase(), m);

  const fail = (c: Context<Env>, err: ApiError) => send(c, err.toBody(), err.status);

  app.use(async (c, next) => {
    c.set('format', splitFormat(pathname(c.req.url)).format);
    if (allowed) {
      let ip: string | undefined;
      try {
        ip = getConnInfo(c).remote.address;
      } catch {
        ip = undefined;
      }
      if (!allowed(ip)) return fail(c, new ApiError('FORBIDDEN', 'this client network is not allowed'));
    }
    await next();
  });

  app.use(
    bodyLimit({
      maxSize: opts.maxBodyBytes ?? 1024 * 1024,
      onError: (c) => fail(c as Context<Env>, new ApiError('PAYLOAD_TOO_LARGE', 'request body is too large')),
    }),
  );

  /** Token check; `params` supplies the `token` parameter where there is one. */
  const authorize = (c: Context<Env>, params?: Params): void => {
    if (!tokenOk) return;
    const presented = bearer(c.req.header('authorization')) ?? params?.token ?? new URL(c.req.url).searchParams.get('token') ?? undefined;
    if (!presented) throw new ApiError('UNAUTHORIZED', 'an API token is required (Authorization: Bearer <token> or token=<token>)');
    if (!tokenOk(presented)) throw new ApiError('UNAUTHORIZED', 'the API token is not valid');
  };

  app.get('/health', (c) => {
    const body = opts.health();
    return send(c, body, body.status === 'ok' ? 200 : 503);
  });

  app.all('/api/:method', async (c) => {
    const method = methods.get(c.req.param('method'));
    if (!method) throw new ApiError('NOT_FOUND', `unknown method "${c.req.param('method')}"`);
    if (c.req.method !== 'GET' && c.req.method !== 'POST') {
      throw new ApiError('METHOD_NOT_ALLOWED', 'use GET or POST');
    }
    const params = await readParams(c);
    authorize(c, params);
    delete params.token;
    return send(c, await method.handle(params, c));
  });

  for (const group of opts.routes ?? []) {
    app.use(`${group.prefix}/*`, async (c, next) => {
      authorize(c);
      await next();
    });
    group.install(app);
  }

  app.notFound((c) => fail(c, new ApiError('NOT_FOUND', 'no such path')));
  app.onError((err, c) => {
    if (err instanceof ApiError) return fail(c, err);
    opts.log.error({ err, path: pathname(c.req.url) }, 'request failed');
    return fail(c, new ApiError('INTERNAL', 'internal error'));
  });
  return app;
}
