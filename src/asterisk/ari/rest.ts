import { Pool, type Dispatcher } from 'undici';
import { EventEmitter } from 'node:events';
import { AriError, AriHttpError } from './errors.js';

/**
 * ARI REST over a keep-alive undici connection pool (requests reuse open
 * connections; no per-call TCP handshake, no WHATWG stream layer of fetch).
 *
 * The swagger-generated methods of ari-client 2.2.0 are not used for REST
 * because (measured): they have no timeout and cannot be aborted, a failed
 * call rejects with `new Error(<body text>)` so the HTTP status is lost
 * (a 404 on hangup cannot be told from a 500), and they authenticate with
 * credentials stored globally in the swagger-client module. Here every call
 * carries its own Basic auth header, rejects after `timeoutMs`, and can be
 * aborted by `abortAll()`.
 */

export type QueryValue = string | number | boolean | undefined;

export interface RestRequest {
  query?: Record<string, QueryValue>;
  body?: unknown;
}

export interface AriRestOptions {
  /** e.g. http://127.0.0.1:8088/ari (no trailing slash) */
  baseUrl: string;
  username: string;
  password: string;
  timeoutMs: number;
}

/**
 * Query string with encodeURIComponent (spaces as %20, commas as %2C), in
 * insertion order, the way real ARI clients send it; undefined values are left out.
 */
export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** One encoded path segment. */
export function seg(value: string): string {
  if (value.length === 0) throw new TypeError('ARI path segment must not be empty');
  return encodeURIComponent(value);
}

/** Connections kept open to Asterisk's HTTP server, and how long an idle one is kept. */
const POOL_CONNECTIONS = 16;
const KEEP_ALIVE_MS = 30_000;

export class AriRest {
  private readonly inflight = new Set<Abort>();
  private readonly authorization: string;
  private readonly origin: string;
  private readonly basePath: string;
  private pool: Pool | undefined;

  constructor(private readonly opts: AriRestOptions) {
    this.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    const url = new URL(opts.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
  }

  private connections(): Pool {
    this.pool ??= new Pool(this.origin, {
      connections: POOL_CONNECTIONS,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
      connect: { timeout: this.opts.timeoutMs },
    });
    return this.pool;
  }

  /**
   * Performs one call. Resolves with the parsed JSON answer (undefined for an
   * empty body, e.g. 204). Rejects with AriError AUTH on 401, AriHttpError on
   * any other non-2xx status, AriError TIMEOUT / STOPPED, or the network error.
   */
  async request<T>(method: string, path: string, req: RestRequest = {}): Promise<T> {
    const pathWithQuery = `${path}${buildQuery(req.query)}`;
    const controller = new Abort();
    this.inflight.add(controller);
    const timer = setTimeout(() => {
      controller.abort(
        new AriError('TIMEOUT', `ARI ${method} ${pathWithQuery} got no answer within ${this.opts.timeoutMs} ms`),
      );
    }, this.opts.timeoutMs);
    try {
      const headers: Record<string, string> = { authorization: this.authorization, accept: 'application/json' };
      let body: string | undefined;
      if (req.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(req.body);
      }
      const res = await this.connections().request({
        method: method as Dispatcher.HttpMethod,
        path: `${this.basePath}${pathWithQuery}`,
        headers,
        body,
        signal: controller,
      });
      const text = await res.body.text();
      const status = res.statusCode;
      const parsed = parseBody(text);
      if (status === 401) {
        throw new AriError('AUTH', `ARI rejected the credentials (HTTP 401) on ${method} ${path}`);
      }
      if (status < 200 || status > 299) {
        throw new AriHttpError(method, pathWithQuery, status, parsed);
      }
      return parsed as T;
    } catch (err) {
      const reason: unknown = controller.reason;
      if (controller.aborted && reason instanceof AriError) throw reason;
      if (err instanceof AriError || err instanceof AriHttpError) throw err;
      throw new Error(`ARI ${method} ${pathWithQuery} failed: ${errorText(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      this.inflight.delete(controller);
    }
  }

  /** Aborts every call in flight; they reject with AriError STOPPED. */
  abortAll(): void {
    for (const controller of this.inflight) {
      controller.abort(new AriError('STOPPED', 'ARI client stopped'));
    }
    this.inflight.clear();
  }

  /** Aborts every call in flight and closes the pooled connections; a later request opens new ones. */
  close(): void {
    this.abortAll();
    const pool = this.pool;
    this.pool = undefined;
    void pool?.destroy().catch(() => undefined);
  }
}

/**
 * The abort signal of one request, in the EventEmitter form undici also takes: a fraction of the
 * cost of an AbortController and its EventTarget, on every request.
 */
class Abort extends EventEmitter {
  aborted = false;
  reason: unknown;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

function parseBody(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Message of an error including its cause (e.g. "fetch failed" with the socket error as cause). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${err.message} (${code ? `${code}: ` : ''}${cause.message})`;
  }
  return err.message;
}
