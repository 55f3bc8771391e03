/**
 * The Hono app: path and format rules, access control, the error envelope,
 * and dispatch of `/api/<method>` to the methods the features register.
 *
 * Paths under /api are case-insensitive and may end in `.json` or `.xml`
 * (which picks the format); Hono cannot match `:method.:fmt` in one segment,
 * so `getPath` strips the suffix and lower-cases before routing.
 *
 * Order of checks for every request: the network allow-list (403), then the
 * API token (401) for everything but /health and open route groups, before
 * any method or path is looked up (404/405) and before parameters are
 * validated (400/413). HEAD is answered like GET, without a body.
 */
import { Hono, type Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Logger } from '../log.js';
import { ApiError } from './errors.js';
import { splitFormat, toXml, type Format } from './format.js';
import { collectParams, DEFAULT_MAX_BODY_BYTES, queryParams, readParams, type Params } from './params.js';
import { bearer, networkAllowList, tokenChecker } from './auth.js';
import type { ApiDoc, RouteDoc } from '../openapi/types.js';

export interface ApiMethod {
  /** names the method answers to, any case (e.g. ['recordList', 'RecordsList']) */
  names: readonly string[];
  handle(params: Params, c: Context<Env>): Promise<Record<string, unknown>> | Record<string, unknown>;
  /** the method changes something (places a call, stores an event): HEAD, which must be safe, does not run it */
  changes?: boolean;
  /** `/api/<name>.txt`: the answer as plain text (for dialplan CURL); null answers 404 with an empty body */
  text?(params: Params, c: Context<Env>): Promise<string | null> | string | null;
  /** how /openapi.json describes the method (its parameter schema is the one `handle` parses with) */
  doc?: ApiDoc;
}

/** Plain routes under a prefix (downloads, simulator control): they get access control and the error envelope. */
export interface RouteGroup {
  prefix: string;
  install(app: Hono<Env>): void;
  /** no API token needed (the network allow-list still applies) */
  open?: boolean;
  /** how /openapi.json describes the group's routes */
  doc?: readonly RouteDoc[];
  /** the group's own answer to an error thrown in its routes (undefined: the API's error envelope) */
  error?(err: unknown, c: Context<Env>): Response | undefined;
}

/** One answered request, for metrics: `route` is `/api/<first name>`, a group's prefix, `/health`, or `other`. */
export interface RequestInfo {
  method: string;
  route: string;
  status: number;
  seconds: number;
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
  /** called once per answered request (HTTP duration metrics) */
  onResponse?: (info: RequestInfo) => void;
  /**
   * Called as a request starts; the function it returns resolves once the writes waiting in the
   * database's batch are committed (src/db/batch.ts commitGuard), false when a COMMIT failed
   * meanwhile: an answer leaves only once what it wrote, or read, is on disk.
   */
  commitGuard?: () => () => Promise<boolean>;
  /** told when a request arrives and when its answer is ready (src/http/answer-gate.ts) */
  answerGate?: { begin(): void; end(): void };
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

  const gate = opts.answerGate;
  if (gate) {
    app.use(async (_c, next) => {
      gate.begin();
      try {
        await next();
      } finally {
        gate.end();
      }
    });
  }

  const guard = opts.commitGuard;
  if (guard) {
    app.use(async (c, next) => {
      const committed = guard();
      await next();
      // the answers of one moment share its COMMIT
      if (!(await committed())) {
        // whatever this request wrote may not have reached the disk: never answer as if it had
        c.res = undefined;
        c.res = send(c, new ApiError('INTERNAL', 'internal error').toBody(), 500);
      }
    });
  }

  // Request durations, by route (bounded labels: methods by their first name, groups by prefix).
  const onResponse = opts.onResponse;
  if (onResponse) {
    const prefixes = (opts.routes ?? []).map((g) => g.prefix);
    const routeOf = (path: string): string => {
      const group = prefixes.find((p) => path === p || path.startsWith(`${p}/`));
      if (group !== undefined) return group;
      const api = /^\/api\/([^/]+(?:\/[^/]+)?)$/.exec(path)?.[1];
      if (api !== undefined) {
        const m = methods.get(api) ?? methods.get(api.replace(/\.txt$/, ''));
        return m ? `/api/${m.names[0]}` : 'other';
      }
      return path === '/health' ? path : 'other';
    };
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      try {
        onResponse({ method: c.req.method, route: routeOf(routingPath(c.req.url)), status: c.res.status, seconds: (performance.now() - started) / 1000 });
      } catch {
        // metrics must never break a request
      }
    });
  }

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

  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const openPrefixes = (opts.routes ?? []).filter((g) => g.open).map((g) => g.prefix);
  const isOpen = (path: string): boolean =>
    path === '/health' || openPrefixes.some((p) => path === p || (p !== '/' && path.startsWith(`${p}/`))); // prefix '/' opens '/' alone

  /**
   * Token check, for every path but the open ones, before anything else is
   * looked at. The token comes from the Authorization header, else the query,
   * else (API methods only) a form or JSON body; a body that cannot be read
   * counts as presenting no token, so its problems are reported only to an
   * authenticated caller.
   */
  app.use(async (c, next) => {
    if (!tokenOk) return next();
    const path = routingPath(c.req.url);
    if (isOpen(path)) return next();
    let presented = bearer(c.req.header('authorization')) ?? queryParams(c.req.url).params.token;
    if (presented === undefined && /^\/api\//.test(path)) presented = (await collectParams(c, maxBody)).params.token;
    if (!presented) return fail(c, new ApiError('UNAUTHORIZED', 'an API token is required (Authorization: Bearer <token> or token=<token>)'));
    if (!tokenOk(presented)) return fail(c, new ApiError('UNAUTHORIZED', 'the API token is not valid'));
    await next();
  });

  app.get('/health', (c) => {
    const body = opts.health();
    return send(c, body, body.status === 'ok' ? 200 : 503);
  });

  // `/api/<group>/<name>` (e.g. /api/events/callDetailRecord) is the method named "<group>/<name>".
  // Groups under /api/ (the event stream) take their paths before the method dispatch below.
  const apiGroup = (g: RouteGroup) => g.prefix.startsWith('/api/');
  for (const group of opts.routes ?? []) if (apiGroup(group)) group.install(app);

  app.all('/api/:method/:sub?', async (c) => {
    const name = [c.req.param('method'), c.req.param('sub')].filter(Boolean).join('/');
    const plain = name.endsWith('.txt') ? methods.get(name.slice(0, -4)) : undefined;
    const method = plain?.text ? plain : methods.get(name);
    if (!method) throw new ApiError('NOT_FOUND', `unknown method "${name}"`);
    if (c.req.method !== 'GET' && c.req.method !== 'POST' && c.req.method !== 'HEAD') {
      throw new ApiError('METHOD_NOT_ALLOWED', 'use GET or POST');
    }
    if (c.req.method === 'HEAD' && method.changes) throw new ApiError('METHOD_NOT_ALLOWED', `HEAD does not run "${name}", which changes data; use GET or POST`);
    const params = await readParams(c, maxBody);
    delete params.token;
    if (plain?.text) {
      const text = await plain.text(params, c);
      return text === null ? c.body(null, 404) : c.text(text);
    }
    return send(c, await method.handle(params, c));
  });

  for (const group of opts.routes ?? []) if (!apiGroup(group)) group.install(app);

  app.notFound((c) => fail(c, new ApiError('NOT_FOUND', 'no such path')));
  const groupErrors = (opts.routes ?? []).flatMap((g) => (g.error ? [g.error.bind(g)] : []));
  app.onError((err, c) => {
    for (const answer of groupErrors) {
      const res = answer(err, c);
      if (res) return res;
    }
    if (err instanceof ApiError) return fail(c, err);
    opts.log.error({ err, path: pathname(c.req.url) }, 'request failed');
    return fail(c, new ApiError('INTERNAL', 'internal error'));
  });
  return app;
}
