import type { Logger } from '../../log.js';
import { WS_CLOSED, WS_OPEN, type LegacyAriClient, type LegacyWebSocket } from './ari-client-module.js';
import { AriError } from './errors.js';
import type { AriEvent } from './types.js';

export interface EventSocketOptions {
  app: string;
  /** the handshake fails after this */
  timeoutMs: number;
  pingIntervalMs: number;
  log: Logger;
  /** event types dropped unparsed (their `"type"` found in the text; compact and pretty JSON alike) */
  ignoreTypes?: readonly string[];
}

export interface EventSocketHandlers {
  /** one websocket message, parsed */
  event(ev: AriEvent): void;
  /** the open socket went away (closed, errored or no pong); called at most once */
  lost(reason: string): void;
  /** the first pong arrived: the link survived a full heartbeat round trip */
  stable(): void;
}

const noop = (): void => {};

/**
 * The events websocket of one ari-client instance, used once: created by
 * `start(app)`, never reconnected by ari-client (the adapter makes a new
 * instance instead), closed by `close()`, after which no handler is called.
 */
export class EventSocket {
  private readonly ws: LegacyWebSocket;
  private readonly openPromise: Promise<void>;
  private readonly closedPromise: Promise<void>;
  private disposed = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private heartbeatFailed = false;
  private sawPong = false;

  private readonly ignored: RegExp | undefined;

  constructor(
    private readonly legacy: LegacyAriClient,
    private readonly opts: EventSocketOptions,
    private readonly handlers: EventSocketHandlers,
  ) {
    const types = (opts.ignoreTypes ?? []).filter((t) => /^\w+$/.test(t));
    this.ignored = types.length > 0 ? new RegExp(`"type"\\s*:\\s*"(?:${types.join('|')})"`) : undefined;
    // This promise settles only on open (ari-client's retries are disabled below); never leave it unhandled.
    Promise.resolve(legacy.start(opts.app)).then(noop, noop);
    const ws = legacy._ws;
    if (!ws) throw new Error('ari-client did not create a websocket');
    this.ws = ws;
    this.closedPromise = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    this.openPromise = this.watch();
    this.openPromise.catch(noop);
    this.guardMessages();
  }

  /** Resolves when the websocket is open; rejects with AriError AUTH / TIMEOUT or the socket error. */
  opened(): Promise<void> {
    return this.openPromise;
  }

  private watch(): Promise<void> {
    const { ws, legacy, opts } = this;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      let timedOut = false;
      let lastError: Error | undefined;
      const openTimer = setTimeout(() => {
        timedOut = true;
        ws.terminate();
      }, opts.timeoutMs);
      // These run before ari-client's own handlers: `_wsClosed` makes them skip their reconnect.
      ws.prependListener('error', (err: Error) => {
        legacy._wsClosed = true;
        lastError = err;
      });
      ws.prependListener('close', (code: number) => {
        legacy._wsClosed = true;
        clearTimeout(openTimer);
        clearInterval(this.pingTimer);
        if (!opened) {
          reject(timedOut ? new AriError('TIMEOUT', `websocket handshake took longer than ${opts.timeoutMs} ms`) : socketError(code, lastError));
          return;
        }
        if (this.disposed) return;
        this.disposed = true;
        this.handlers.lost(
          this.heartbeatFailed
            ? `no websocket pong within ${opts.pingIntervalMs} ms`
            : `websocket closed (code ${code}${lastError ? `: ${lastError.message}` : ''})`,
        );
      });
      ws.on('open', () => {
        opened = true;
        clearTimeout(openTimer);
        resolve();
      });
      ws.on('pong', () => {
        this.awaitingPong = false;
        if (!this.sawPong && !this.disposed) {
          this.sawPong = true;
          this.handlers.stable();
        }
      });
    });
  }

  /**
   * Each message is parsed here, once, into the plain event the adapter hands
   * on. ari-client's own message handler is taken off: it builds resource
   * objects (a Channel, a Bridge with generated REST methods) for every event,
   * which nothing here uses (REST goes through rest.ts), and it throws on bad
   * JSON and on event types missing from the API description, which breaks
   * its socket handling. Its handler measured a quarter of the daemon's CPU
   * per ARI click-to-call.
   */
  private guardMessages(): void {
    const { ws } = this;
    ws.removeAllListeners('message');
    ws.on('message', (data: unknown) => this.deliverRaw(data));
  }

  private deliverRaw(data: unknown): void {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
    // a `"type": "X"` member can only be the event's own: inside a JSON string its quotes would be escaped
    if (this.ignored?.test(text)) return;
    let ev: unknown;
    try {
      ev = JSON.parse(text);
    } catch {
      ev = undefined;
    }
    if (ev && typeof ev === 'object' && typeof (ev as { type?: unknown }).type === 'string') {
      this.deliver(ev as AriEvent);
    } else {
      this.opts.log.warn({ length: String(data).length }, 'dropping an ARI websocket message that is not an event');
    }
  }

  private deliver(ev: AriEvent): void {
    if (!this.disposed) this.handlers.event(ev);
  }

  /** Pings every pingIntervalMs; when the previous ping got no pong, drops the link. */
  startHeartbeat(): void {
    if (this.disposed || this.pingTimer) return;
    this.pingTimer = setInterval(() => {
      if (this.disposed) return;
      if (this.awaitingPong) {
        this.heartbeatFailed = true;
        this.opts.log.warn({ pingIntervalMs: this.opts.pingIntervalMs }, 'no pong on the ARI websocket; dropping the link');
        this.ws.terminate();
        return;
      }
      this.awaitingPong = true;
      try {
        this.ws.ping();
      } catch {
        this.ws.terminate();
      }
    }, this.opts.pingIntervalMs);
  }

  /**
   * Closes the websocket (with a close frame when `graceful` and open, else
   * at once). No handler is called afterwards. Resolves when the socket is
   * closed, at most ~1.5 s later.
   */
  close(graceful: boolean): Promise<void> {
    if (!this.disposed) {
      this.disposed = true;
      clearInterval(this.pingTimer);
      const { ws, legacy } = this;
      legacy._wsClosed = true;
      legacy.removeAllListeners();
      ws.removeAllListeners('message');
      ws.removeAllListeners('pong');
      ws.removeAllListeners('open');
      ws.on('error', noop); // a late error must not become an unhandled 'error' event
      if (ws.readyState !== WS_CLOSED) {
        if (graceful && ws.readyState === WS_OPEN) {
          ws.close(1000);
          const force = setTimeout(() => ws.terminate(), 1000);
          ws.once('close', () => clearTimeout(force));
        } else {
          ws.terminate();
        }
      }
    }
    if (this.ws.readyState === WS_CLOSED) return Promise.resolve();
    return Promise.race([this.closedPromise, new Promise<void>((resolve) => setTimeout(resolve, 1500).unref())]);
  }
}

function socketError(code: number, err: Error | undefined): Error {
  if (err && /Unexpected server response: 401\b/.test(err.message)) {
    return new AriError('AUTH', 'ARI rejected the credentials (HTTP 401) on the events websocket');
  }
  return err ?? new Error(`websocket closed (code ${code}) before it opened`);
}
