import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import type { Logger } from '../../log.js';
import { Backoff } from '../backoff.js';
import { ActionTracker, type ListResult } from './actions.js';
import { AmiError } from './errors.js';
import { commandOutput, field, type AmiMessage } from './message.js';
import { AmiParser } from './parser.js';
import { serializeAction, type ActionFields } from './serialize.js';

export type { AmiMessage } from './message.js';
export type { ListResult } from './actions.js';
export { field } from './message.js';
export { AmiError } from './errors.js';

export interface AmiClientOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  logger: Logger;
  /** reconnect backoff, default 500..30000 ms, full jitter */
  backoff?: { minMs: number; maxMs: number };
  /** after an authentication failure retry slowly, default 30000 */
  loginFailedDelayMs?: number;
  /** TCP connect timeout, default 5000 */
  connectTimeoutMs?: number;
  /** action timeout (Login included), default 10000 */
  actionTimeoutMs?: number;
  /** heartbeat, default 10000; a Ping unanswered within pingTimeoutMs (default 5000) destroys the socket → reconnect */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** Login `Events:` value, default 'on' */
  events?: string;
  /** `Filter` patterns added after each login (see events.ts); a refused filter is logged, events then arrive unfiltered */
  filters?: readonly string[];
  /** events passed over unparsed should they arrive (those `filters` leave out, for when Asterisk refuses them); each is emitted as 'skipped' */
  skipEvents?: ReadonlySet<string>;
  /** when set, `VarSet` events of other variables are passed over unparsed too (emitted as 'skipped'); leading underscores ignored */
  varSetVariables?: ReadonlySet<string>;
}

/** Events emitted by AmiClient and their arguments. */
export type AmiClientEvents = {
  /** after a successful login on a new socket */
  connected: [{ banner: string }];
  /** once per lost socket that had been logged in (stop() included, reason 'stopped') */
  disconnected: [{ reason: string }];
  /** authentication refused (logged at error level); retried after loginFailedDelayMs */
  loginFailed: [{ message: string }];
  /** every Event frame except the items and Complete event of a pending listAction */
  event: [AmiMessage];
  /** an event passed over unparsed (of `skipEvents`, or a VarSet of a variable not in `varSetVariables`), by name */
  skipped: [string];
  /** before each reconnect wait; `attempt` counts retries since the last stable session */
  attempt: [{ attempt: number; delayMs: number }];
};

/**
 * The backoff (and the attempt count) is reset once a session has stayed logged in this long, not at
 * login: a server that accepts the login and drops the link at once is retried with growing delays.
 */
export const STABLE_SESSION_MS = 30_000;
/** How long stop() waits for the Logoff answer, then for the socket to close. */
const STOP_WAIT_MS = 1_000;

/** One TCP connection with its own parser, listeners and timers; never reused. */
interface Connection {
  readonly socket: Socket;
  readonly parser: AmiParser;
  readonly timers: Set<NodeJS.Timeout>;
  readonly closed: Promise<void>;
  markClosed(): void;
  isClosed: boolean;
  loggedIn: boolean;
  /** when the login was accepted (epoch ms) */
  loggedInAt?: number;
  authFailed: boolean;
  closeReason?: string;
}

/**
 * AMI session built on asterisk-manager's parser (see AmiParser): a fresh socket, parser and listener set
 * per connection (the library's keepConnected would reuse a parse buffer holding a stale partial frame),
 * login with the configured `Events:`, counter ActionIDs `cb-<n>`, action timeouts, list collection,
 * heartbeat, reconnect with capped exponential backoff and full jitter.
 */
export class AmiClient extends EventEmitter<AmiClientEvents> {
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly actions: ActionTracker;
  private conn: Connection | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private retries = 0;

  constructor(private readonly opts: AmiClientOptions) {
    super();
    this.log = opts.logger; // callers bind their own context (e.g. component: 'ami')
    this.backoff = new Backoff(opts.backoff ?? { minMs: 500, maxMs: 30_000 });
    this.actions = new ActionTracker(this.log);
  }

  /** Begins the connect loop (idempotent); reconnects forever until stop(). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.open();
  }

  /** Logs off if logged in, closes the socket, cancels timers, rejects pending actions STOPPED; final. */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** True once logged in on the current socket. */
  get connected(): boolean {
    return !this.stopped && this.conn?.loggedIn === true;
  }

  /**
   * Sends an action; resolves with the Response message when it is Success (or Follows/Goodbye). Rejects
   * AmiError ACTION_FAILED (with .response) on Error, NOT_CONNECTED at once when not logged in, TIMEOUT,
   * DISCONNECTED if the socket dies while waiting, STOPPED, INVALID_VALUE when a key or value contains
   * CR or LF (nothing is sent). Array values become repeated headers (Variable).
   */
  async action(fields: ActionFields, opts: { timeoutMs?: number } = {}): Promise<AmiMessage> {
    return (await this.request(fields, opts.timeoutMs, false)).response;
  }

  /**
   * A list action (PJSIPShowEndpoints, DeviceStateList, CoreShowChannels, …): resolves when the event with
   * `EventList: Complete` arrives, with the item events in order (not the Complete event, which is
   * `complete`); these events are not emitted as 'event'. An Error response rejects ACTION_FAILED.
   */
  listAction(fields: ActionFields, opts: { timeoutMs?: number } = {}): Promise<ListResult> {
    return this.request(fields, opts.timeoutMs, true);
  }

  /** Runs `Command` and returns its output as one string (Output lines joined with LF; '' when none). */
  async command(cmd: string): Promise<string> {
    return commandOutput(await this.action({ Action: 'Command', Command: cmd }));
  }

  private request(fields: ActionFields, timeoutMs: number | undefined, list: boolean): Promise<ListResult> {
    if (this.stopped) return Promise.reject(new AmiError('STOPPED', 'AMI client stopped'));
    const conn = this.conn;
    if (!conn?.loggedIn || conn.isClosed) {
      try {
        serializeAction(fields, 'cb-0'); // an invalid value is reported as such even when offline
      } catch (err) {
        return Promise.reject(err);
      }
      return Promise.reject(new AmiError('NOT_CONNECTED', 'AMI is not connected'));
    }
    const timeout = timeoutMs ?? this.opts.actionTimeoutMs ?? 10_000;
    return this.actions.send(conn, (text) => conn.socket.write(text), fields, timeout, list);
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    this.actions.rejectAll(undefined, 'STOPPED', 'AMI client stopped');
    const conn = this.conn;
    if (!conn || conn.isClosed) return;
    for (const t of conn.timers) clearTimeout(t);
    conn.closeReason ??= 'stopped';
    if (conn.loggedIn) {
      await new Promise<void>((resolve) => this.internal(conn, { Action: 'Logoff' }, STOP_WAIT_MS, () => resolve()));
      conn.socket.end();
    } else {
      conn.socket.destroy();
    }
    const timer = setTimeout(() => conn.socket.destroy(), STOP_WAIT_MS);
    await conn.closed;
    clearTimeout(timer);
  }

  private open(): void {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    const socket = createConnection({ host: this.opts.host, port: this.opts.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    let markClosed = (): void => undefined;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const parser = new AmiParser(
      (msg) => this.onMessage(conn, msg),
      (reason, sample) => this.log.warn({ reason, sample: sample.slice(0, 200) }, 'AMI: skipped malformed input'),
      this.opts.skipEvents || this.opts.varSetVariables
        ? { names: this.opts.skipEvents ?? new Set(), variables: this.opts.varSetVariables, onSkip: (name) => this.emitSafe('skipped', name) }
        : undefined,
    );
    const conn: Connection = { socket, parser, timers: new Set(), closed, markClosed, isClosed: false, loggedIn: false, authFailed: false };
    this.conn = conn;
    const connectTimeoutMs = this.opts.connectTimeoutMs ?? 5_000;
    const connectTimer = this.timer(conn, connectTimeoutMs, () =>
      this.destroy(conn, `no TCP connection within ${connectTimeoutMs} ms`),
    );
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      this.login(conn);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (err) {
        this.log.error({ err }, 'AMI: failed to parse received data');
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      conn.closeReason ??= err.code ?? err.message;
    });
    socket.once('close', () => this.onClose(conn));
  }

  /** Sends Login; the answer is handled synchronously, so 'connected' precedes the events that follow it. */
  private login(conn: Connection): void {
    const { host, port, username, secret } = this.opts;
    const fields = { Action: 'Login', Username: username, Secret: secret, Events: this.opts.events ?? 'on' };
    this.internal(conn, fields, this.opts.actionTimeoutMs ?? 10_000, (result) => {
      if (conn.isClosed || this.stopped) return;
      if (!(result instanceof AmiError)) {
        conn.loggedIn = true;
        conn.loggedInAt = Date.now();
        const banner = conn.parser.banner ?? '';
        this.log.info({ host, port, banner, version: banner.split('/')[1] }, 'AMI connected');
        this.timer(conn, STABLE_SESSION_MS, () => {
          this.backoff.reset();
          this.retries = 0;
        });
        this.heartbeat(conn);
        this.addFilters(conn);
        this.emitSafe('connected', { banner });
      } else if (result.code === 'ACTION_FAILED') {
        const message = (result.response && field(result.response, 'message')) ?? 'login refused';
        conn.authFailed = true;
        this.log.error({ host, port, username, message }, 'AMI login refused');
        this.emitSafe('loginFailed', { message });
        this.destroy(conn, `login refused: ${message}`);
      } else {
        this.destroy(conn, result.message);
      }
    });
  }

  private heartbeat(conn: Connection): void {
    const pingTimeoutMs = this.opts.pingTimeoutMs ?? 5_000;
    this.timer(conn, this.opts.pingIntervalMs ?? 10_000, () => {
      this.internal(conn, { Action: 'Ping' }, pingTimeoutMs, (result) => {
        if (conn.isClosed) return;
        if (result instanceof AmiError && result.code === 'TIMEOUT') {
          this.log.warn({ pingTimeoutMs }, 'AMI heartbeat: Ping unanswered, dropping the connection');
          this.destroy(conn, `Ping unanswered within ${pingTimeoutMs} ms`);
        } else {
          this.heartbeat(conn); // any answer, an Error too, shows the link is alive
        }
      });
    });
  }

  private addFilters(conn: Connection): void {
    for (const filter of this.opts.filters ?? []) {
      this.internal(conn, { Action: 'Filter', Operation: 'Add', Filter: filter }, this.opts.actionTimeoutMs ?? 10_000, (result) => {
        if (!(result instanceof AmiError) || conn.isClosed) return;
        const message = (result.response && field(result.response, 'message')) ?? result.message;
        this.log.info({ filter, message }, 'AMI event filter not accepted (the AMI user needs write = system): events arrive unfiltered');
      });
    }
  }

  /** Login, Ping and Logoff: sent whatever the login state, answered through a synchronous callback. */
  private internal(conn: Connection, fields: ActionFields, timeoutMs: number, done: (r: ListResult | AmiError) => void): void {
    this.actions.start(conn, (text) => conn.socket.write(text), fields, timeoutMs, false, done);
  }

  private onMessage(conn: Connection, msg: AmiMessage): void {
    if (conn !== this.conn || conn.isClosed) return;
    if (!this.actions.take(msg)) this.emitSafe('event', msg);
  }

  private onClose(conn: Connection): void {
    if (conn.isClosed) return;
    conn.isClosed = true;
    for (const t of conn.timers) clearTimeout(t);
    if (this.conn === conn) this.conn = undefined;
    const reason = conn.closeReason ?? 'connection closed by Asterisk';
    this.actions.rejectAll(conn, this.stopped ? 'STOPPED' : 'DISCONNECTED', reason);
    const sessionMs = conn.loggedIn && conn.loggedInAt !== undefined ? Date.now() - conn.loggedInAt : undefined;
    if (conn.loggedIn) {
      conn.loggedIn = false;
      this.log.warn({ reason }, 'AMI disconnected');
      this.emitSafe('disconnected', { reason });
    }
    conn.markClosed();
    if (!this.stopped) this.scheduleReconnect(conn.authFailed, reason, sessionMs);
  }

  /** `sessionMs`: how long the lost connection had been logged in (undefined: it never was). */
  private scheduleReconnect(authFailed: boolean, reason: string, sessionMs?: number): void {
    const delayMs = authFailed
      ? (this.opts.loginFailedDelayMs ?? 30_000)
      : sessionMs !== undefined
        ? this.backoff.afterDrop(sessionMs)
        : this.backoff.next();
    if (delayMs === 0) this.retries = 0;
    const attempt = ++this.retries;
    if (authFailed) this.log.warn({ attempt, delayMs }, `AMI login refused, retrying in ${delayMs} ms`);
    else this.log.warn({ attempt, delayMs, reason }, `AMI unreachable, retrying in ${delayMs} ms`);
    this.emitSafe('attempt', { attempt, delayMs });
    this.reconnectTimer = setTimeout(() => this.open(), delayMs);
  }

  private destroy(conn: Connection, reason: string): void {
    conn.closeReason ??= reason;
    conn.socket.destroy();
  }

  /** A timer owned by `conn`, cleared when it closes. */
  private timer(conn: Connection, ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      conn.timers.delete(t);
      fn();
    }, ms);
    conn.timers.add(t);
    return t;
  }

  /** Listener exceptions must not escape into socket callbacks. */
  private emitSafe<K extends keyof AmiClientEvents>(name: K, ...args: AmiClientEvents[K]): void {
    try {
      (this.emit as (name: K, ...args: AmiClientEvents[K]) => boolean)(name, ...args);
    } catch (err) {
      this.log.error({ err, event: name }, 'AMI: a listener threw');
    }
  }
}
