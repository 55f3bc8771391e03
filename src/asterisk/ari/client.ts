import { Backoff } from '../backoff.js';
import type { Logger } from '../../log.js';
import { loadAriApi } from './ari-client-module.js';
import { AriError, AriHttpError } from './errors.js';
import { EventSocket } from './event-socket.js';
import { AriOperations } from './operations.js';
import { AriRest, errorText, seg, type RestRequest } from './rest.js';
import type { AriAsteriskInfo, AriEvent } from './types.js';

export interface AriClientOptions {
  /** e.g. http://127.0.0.1:8088 (a trailing /ari is accepted too) */
  url: string;
  username: string;
  password: string;
  /** Stasis app name */
  app: string;
  logger: Logger;
  /** reconnect delays; default 500..30000 ms */
  backoff?: { minMs: number; maxMs: number };
  /** every REST call (and each connect step) fails after this; default 10000 ms */
  requestTimeoutMs?: number;
  /** websocket ping period; no pong within one period drops the link; default 15000 ms */
  pingIntervalMs?: number;
  /** event sources subscribed after every connect, e.g. ['endpoint:PJSIP'] */
  subscriptions?: string[];
  /** event types nothing reads, dropped before their JSON is parsed (e.g. ChannelVarset, half of a call's events) */
  ignoreTypes?: readonly string[];
}

export interface AriDisconnectInfo {
  reason: string;
}

export interface AriAttemptInfo {
  /** 1 for the first attempt after start() or after a lost connection */
  attempt: number;
  /** delay before this attempt starts */
  delayMs: number;
}

export interface AriClient {
  on(event: 'connected', listener: () => void): this;
  on(event: 'disconnected', listener: (info: AriDisconnectInfo) => void): this;
  on(event: 'event', listener: (ev: AriEvent) => void): this;
  on(event: 'attempt', listener: (info: AriAttemptInfo) => void): this;
  once(event: 'connected', listener: () => void): this;
  once(event: 'disconnected', listener: (info: AriDisconnectInfo) => void): this;
  once(event: 'event', listener: (ev: AriEvent) => void): this;
  once(event: 'attempt', listener: (info: AriAttemptInfo) => void): this;
}

/**
 * ARI connection for one Stasis app: keeps the events websocket up from
 * start() until stop() and offers the REST operations (see operations.ts).
 *
 * Each connect attempt checks the credentials with GET /ari/asterisk/info,
 * lets ari-client load the API description and open the websocket, then
 * subscribes `subscriptions`. ari-client's own reconnection (which gives up
 * after 10 tries and cannot be cancelled) is switched off: on any loss the
 * whole ari-client instance is dropped and a new one is created after a
 * backoff delay, forever. A 401 is logged as an error and retried no faster
 * than backoff.maxMs. A websocket ping is sent every pingIntervalMs; when the
 * previous one got no pong the link is considered dead and replaced.
 *
 * REST calls need the websocket to be up (AriError NOT_CONNECTED otherwise,
 * STOPPED after stop()). Events are emitted as 'event' with the JSON object
 * Asterisk sent, in order; an exception thrown by an 'event' listener is
 * logged and does not affect the connection.
 *
 * One instance per process is the intended use; see ari-client-module.ts for
 * how credentials are kept apart if there are several.
 */
export class AriClient extends AriOperations {
  protected readonly appName: string;
  private readonly origin: string;
  private readonly log: Logger;
  private readonly rest: AriRest;
  private readonly backoff: Backoff;
  private readonly backoffMaxMs: number;
  private readonly timeoutMs: number;
  private readonly pingIntervalMs: number;
  private readonly subscriptions: string[];

  private running = false;
  /** bumped whenever the attempt in progress is abandoned; its later steps then do nothing */
  private generation = 0;
  private isConnected = false;
  private attemptNo = 0;
  private socket: EventSocket | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** when the current session became connected (epoch ms) */
  private connectedAt: number | undefined;

  constructor(private readonly opts: AriClientOptions) {
    super();
    this.origin = normalizeUrl(opts.url);
    if (!/^[A-Za-z0-9_.-]+$/.test(opts.app)) throw new TypeError(`invalid Stasis app name ${JSON.stringify(opts.app)}`);
    if (!opts.username) throw new TypeError('ARI username is required');
    this.appName = opts.app;
    this.log = opts.logger;
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.pingIntervalMs = opts.pingIntervalMs ?? 15_000;
    const bounds = opts.backoff ?? { minMs: 500, maxMs: 30_000 };
    this.backoff = new Backoff(bounds);
    this.backoffMaxMs = bounds.maxMs;
    this.subscriptions = [...(opts.subscriptions ?? [])];
    this.rest = new AriRest({
      baseUrl: `${this.origin}/ari`,
      username: opts.username,
      password: opts.password,
      timeoutMs: this.timeoutMs,
    });
  }

  /** websocket open, app registered and subscriptions made */
  get connected(): boolean {
    return this.isConnected;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attemptNo = 0;
    this.backoff.reset();
    this.log.info({ url: this.origin, username: this.opts.username, app: this.appName }, 'ARI starting');
    this.scheduleAttempt(0);
  }

  /** Cancels any scheduled reconnect, aborts REST calls in flight and closes the websocket. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.generation += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const wasConnected = this.isConnected;
    this.isConnected = false;
    const closed = this.dropSocket(true);
    this.rest.close();
    this.log.info('ARI stopped');
    if (wasConnected) this.emitSafe('disconnected', { reason: 'stopped' });
    await closed;
  }

  /** Subscribes now and again after every reconnect (Asterisk may drop an app's subscriptions while its websocket is away). */
  override async subscribe(eventSource: string): Promise<void> {
    await super.subscribe(eventSource);
    if (!this.subscriptions.includes(eventSource)) this.subscriptions.push(eventSource);
  }

  protected async call<T>(method: string, path: string, req?: RestRequest): Promise<T> {
    if (!this.running) throw new AriError('STOPPED', `ARI client is stopped (${method} ${path})`);
    if (!this.isConnected) throw new AriError('NOT_CONNECTED', `ARI is not connected (${method} ${path})`);
    return this.rest.request<T>(method, path, req);
  }

  private isStale(gen: number): boolean {
    return !this.running || gen !== this.generation;
  }

  private scheduleAttempt(delayMs: number): void {
    if (!this.running) return;
    this.attemptNo += 1;
    this.emitSafe('attempt', { attempt: this.attemptNo, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.running) return;
      this.generation += 1;
      void this.connectOnce(this.generation);
    }, delayMs);
  }

  /** One connect attempt; never rejects. On failure schedules the next one. */
  private async connectOnce(gen: number): Promise<void> {
    try {
      const info = await this.rest.request<AriAsteriskInfo | undefined>('GET', '/asterisk/info');
      if (this.isStale(gen)) return;
      const legacy = await loadAriApi(this.origin, this.opts.username, this.opts.password, this.timeoutMs);
      if (this.isStale(gen)) return;
      const socket: EventSocket = new EventSocket(
        legacy,
        { app: this.appName, timeoutMs: this.timeoutMs, pingIntervalMs: this.pingIntervalMs, log: this.log, ignoreTypes: this.opts.ignoreTypes },
        {
          event: (ev) => this.deliver(ev),
          lost: (reason) => this.onSocketLost(socket, reason),
          stable: () => this.backoff.reset(),
        },
      );
      this.socket = socket;
      await socket.opened();
      for (const eventSource of this.subscriptions) {
        if (this.isStale(gen)) return;
        await this.subscribeInternal(eventSource);
      }
      if (this.isStale(gen)) return;
      this.isConnected = true;
      this.connectedAt = Date.now();
      this.attemptNo = 0;
      socket.startHeartbeat();
      this.log.info(
        { url: this.origin, app: this.appName, asteriskVersion: info?.system?.version, subscriptions: this.subscriptions },
        'ARI connected',
      );
      this.emitSafe('connected');
    } catch (err) {
      if (this.isStale(gen)) return;
      void this.dropSocket(false);
      let delayMs = this.backoff.next();
      if (err instanceof AriError && err.code === 'AUTH') {
        delayMs = Math.max(delayMs, this.backoffMaxMs);
        this.log.error(
          { url: this.origin, username: this.opts.username, retryInMs: delayMs },
          'ARI authentication failed (HTTP 401): check the ARI username and password (ari.conf)',
        );
      } else {
        this.log.warn({ url: this.origin, attempt: this.attemptNo, retryInMs: delayMs, err: errorText(err) }, 'ARI connect failed');
      }
      this.scheduleAttempt(delayMs);
    }
  }

  /** A subscription Asterisk refuses (4xx, e.g. 422 unknown event source) is logged, not retried. */
  private async subscribeInternal(eventSource: string): Promise<void> {
    try {
      await this.rest.request('POST', `/applications/${seg(this.appName)}/subscription`, { query: { eventSource } });
    } catch (err) {
      if (err instanceof AriHttpError && err.status >= 400 && err.status < 500) {
        this.log.error({ eventSource, err: errorText(err) }, 'ARI refused the event subscription');
        return;
      }
      throw err;
    }
  }

  private deliver(ev: AriEvent): void {
    try {
      this.emit('event', ev);
    } catch (err) {
      this.log.error({ err: errorText(err), type: ev.type }, "an ARI 'event' listener threw");
    }
  }

  private onSocketLost(socket: EventSocket, reason: string): void {
    if (socket !== this.socket || !this.running) return;
    this.generation += 1; // abandons a connect attempt still subscribing on this socket
    const wasConnected = this.isConnected;
    const sessionMs = wasConnected && this.connectedAt !== undefined ? Date.now() - this.connectedAt : undefined;
    this.isConnected = false;
    void this.dropSocket(false);
    this.log.warn({ reason }, 'ARI websocket lost');
    if (wasConnected) this.emitSafe('disconnected', { reason });
    this.attemptNo = 0;
    this.scheduleAttempt(sessionMs !== undefined ? this.backoff.afterDrop(sessionMs) : this.backoff.next());
  }

  private dropSocket(graceful: boolean): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    return socket ? socket.close(graceful) : Promise.resolve();
  }

  private emitSafe(event: 'connected' | 'disconnected' | 'attempt', arg?: unknown): void {
    try {
      if (arg === undefined) this.emit(event);
      else this.emit(event, arg);
    } catch (err) {
      this.log.error({ err: errorText(err), event }, `an ARI '${event}' listener threw`);
    }
  }
}

/** http(s)://host:port from the configured URL; a trailing /ari is accepted. */
export function normalizeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new TypeError(`invalid ARI url ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError('ARI url must start with http:// or https://');
  if (u.username || u.password) throw new TypeError('ARI url must not contain credentials; use username/password');
  const path = u.pathname.replace(/\/+$/, '');
  if (path !== '' && path !== '/ari') throw new TypeError('ARI url must be http(s)://host:port or http(s)://host:port/ari');
  return `${u.protocol}//${u.host}`;
}
