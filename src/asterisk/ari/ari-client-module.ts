/**
 * Loading of npm `ari-client` 2.2.0 and the fixes applied to its
 * swagger-client 2.0.26 dependency. Everything that knows about ari-client
 * internals lives in this file and in client.ts.
 *
 * What ari-client is used for: loading and checking the ARI API description
 * (`connect()` fetches /ari/api-docs/*.json with the credentials) and the
 * events websocket (`start(app)`), whose messages it parses into events.
 * Reconnection, heartbeat and REST are done by the adapter (see client.ts, rest.ts).
 *
 * Process-wide effects, applied once when this module is first imported:
 * - `SwaggerApi.prototype.fail` no longer throws: the original reports the
 *   failure and then throws from inside an HTTP response callback, so a 401
 *   while loading the API description was an uncaught exception (a crash).
 * - handlers of swagger's HTTP responses are wrapped so an exception in them
 *   (e.g. a non-JSON answer) fails the current load instead of escaping.
 * - swagger-client assigns a global `log` function that writes to stdout with
 *   console.log (a "deprecated version of Swagger" line on every connect, which
 *   would break JSON log output) and keeps every logged line forever in
 *   `log.history`; it is replaced by a no-op.
 *
 * Credentials: swagger-client keeps the Basic auth credentials used to load
 * the API description in one module-global slot ('basic-auth'), set by every
 * `connect()`. To keep two AriClient instances with different credentials
 * from using each other's, loads are serialized through `apiLoadQueue`. The
 * websocket URL and the REST calls carry each instance's own credentials.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { AriError } from './errors.js';

/** The `ws` 6 WebSocket that ari-client creates (only what the adapter uses). */
export interface LegacyWebSocket extends EventEmitter {
  readonly readyState: number;
  ping(data?: unknown, mask?: boolean, cb?: (err?: Error) => void): void;
  close(code?: number, data?: string): void;
  terminate(): void;
}

/** An ari-client Client (only what the adapter uses). */
export interface LegacyAriClient extends EventEmitter {
  start(apps: string | string[], subscribeAll?: boolean): PromiseLike<void>;
  /** the current websocket, created synchronously by start() */
  _ws?: LegacyWebSocket;
  /** when true, ari-client treats the next close as intentional and does not reconnect */
  _wsClosed?: boolean;
}

interface AriClientModule {
  connect(url: string, user: string, pass: string): PromiseLike<LegacyAriClient>;
}

type Handler = (...args: unknown[]) => unknown;

interface SwaggerModule {
  SwaggerApi: { prototype: { fail(this: { failure(message: unknown): void }, message: unknown): void } };
  SwaggerHttp: { prototype: { execute(obj: { on?: Record<string, Handler> }): unknown } };
}

export const WS_OPEN = 1;
export const WS_CLOSED = 3;

const requireHere = createRequire(import.meta.url);
const ariClientPath = requireHere.resolve('ari-client');
const ariClient = requireHere('ari-client') as AriClientModule;
/** the swagger-client instance ari-client itself resolves */
const swagger = createRequire(ariClientPath)('swagger-client') as SwaggerModule;

const AUTH_WHILE_LOADING = 'ARI rejected the credentials (HTTP 401) while loading the API description';

/** Failure callback of the API load currently running (loads are serialized). */
let reportLoadFailure: ((err: unknown) => void) | undefined;

function patchSwagger(): void {
  const marker = Symbol.for('callbridge.ari.swaggerPatched');
  const holder = swagger as unknown as Record<symbol, boolean>;
  if (holder[marker]) return;
  holder[marker] = true;

  swagger.SwaggerApi.prototype.fail = function fail(message: unknown): void {
    this.failure(message);
  };

  const execute = swagger.SwaggerHttp.prototype.execute;
  swagger.SwaggerHttp.prototype.execute = function guardedExecute(obj) {
    if (obj && obj.on) {
      for (const key of Object.keys(obj.on)) {
        const handler = obj.on[key];
        if (typeof handler !== 'function') continue;
        obj.on[key] = function guarded(this: unknown, ...args: unknown[]): unknown {
          // swagger's own failure messages for a resource document do not carry the status
          if (key === 'error' && (args[0] as { status?: unknown } | undefined)?.status === 401) {
            reportLoadFailure?.(new AriError('AUTH', AUTH_WHILE_LOADING));
          }
          try {
            return handler.apply(this, args);
          } catch (err) {
            reportLoadFailure?.(err);
            return undefined;
          }
        };
      }
    }
    return execute.call(this, obj);
  };

  const g = globalThis as unknown as { log?: unknown };
  if (typeof g.log === 'function' && String(g.log).includes('log.history')) {
    g.log = function noop(): void {};
  }
}

patchSwagger();

let apiLoadQueue: Promise<void> = Promise.resolve();

/**
 * `ari-client.connect()`: loads the API description with the given
 * credentials. Serialized process-wide (see above); rejects after
 * `timeoutMs` because swagger-client has no timeout and never calls back when
 * a connection is refused mid-load. Rejects with AriError AUTH on 401.
 */
export function loadAriApi(baseUrl: string, username: string, password: string, timeoutMs: number): Promise<LegacyAriClient> {
  const run = apiLoadQueue.then(() => loadOnce(baseUrl, username, password, timeoutMs));
  apiLoadQueue = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

function loadOnce(baseUrl: string, username: string, password: string, timeoutMs: number): Promise<LegacyAriClient> {
  return new Promise<LegacyAriClient>((resolve, reject) => {
    let settled = false;
    const finish = (err: unknown, client?: LegacyAriClient): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (reportLoadFailure === fail) reportLoadFailure = undefined;
      if (client) resolve(client);
      else reject(toLoadError(err));
    };
    const fail = (err: unknown): void => finish(err);
    const timer = setTimeout(
      () => fail(new AriError('TIMEOUT', `loading the ARI API description took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
    reportLoadFailure = fail;
    try {
      ariClient.connect(baseUrl, username, password).then(
        (client) => finish(undefined, client),
        (err: unknown) => finish(err),
      );
    } catch (err) {
      finish(err);
    }
  });
}

/** swagger-client fails with plain strings such as "401 : undefined http://host/ari/api-docs/resources.json". */
function toLoadError(err: unknown): Error {
  if (err instanceof AriError) return err;
  const text = err instanceof Error ? err.message : String(err);
  if (/^401\b/.test(text)) {
    return new AriError('AUTH', AUTH_WHILE_LOADING);
  }
  return err instanceof Error ? err : new Error(`loading the ARI API description failed: ${text}`);
}
