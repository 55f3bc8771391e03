/**
 * Prometheus metrics (prom-client), served at GET /metrics: the default
 * process metrics, the AMI / ARI links, AMI events by type, calls started and
 * finished, makeCall and HTTP durations, open calls, SIP endpoints by status,
 * SQLite write latency, and the CRM connectors' outbox once they register.
 * Everything is read from the events the services already emit, or at scrape
 * time from the database, so nothing here sits on a call's path.
 */
import type { EventEmitter } from 'node:events';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastHistogram } from './histogram.js';
import type Database from 'better-sqlite3';
import type { RequestInfo } from '../http/app.js';
import { FINAL_STATUSES } from '../calls/chain.js';

export { metricsRoutes } from './routes.js';

/** At most this many distinct AMI event names are counted by name; the rest count as "other". */
const MAX_EVENT_TYPES = 300;

/** the final statuses (calls/chain.ts), for status names read as plain strings */
const FINAL: ReadonlySet<string> = FINAL_STATUSES;

/** What the connectors report: one row per connector. */
export interface OutboxCounts {
  connector: string;
  pending: number;
}

export interface OutboxMetrics {
  /** `n` events delivered to `connector` */
  delivered(connector: string, n?: number): void;
  /** `n` deliveries to `connector` failed for good (or were retried: see `attempt`) */
  failed(connector: string, n?: number): void;
  /** read at every scrape: the events each connector still has to deliver */
  pendingFrom(source: () => readonly OutboxCounts[]): void;
}

interface LinkLike extends EventEmitter {
  readonly connected: boolean;
}

export interface MetricsSources {
  ami: LinkLike;
  ari?: LinkLike;
  /** CallService: 'status' events */
  calls: EventEmitter;
  db: { $client: Database.Database };
}

/** The process metrics, one set per process (prom-client's collectors watch the process, not a daemon). */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly http: FastHistogram<'method' | 'route' | 'status'>;
  private readonly makeCall: FastHistogram<'result'>;
  private readonly sqliteWrite: FastHistogram<'statement'>;
  private readonly detach: Array<() => void> = [];
  private outbox: OutboxMetrics | undefined;
  private readonly process: Registry | undefined;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    this.process = (opts.defaultMetrics ?? true) ? processMetrics() : undefined;
    // the histograms of every request and every write: FastHistogram (./histogram.ts) looks a label set up once
    this.http = new FastHistogram(
      'callbridge_http_request_duration_seconds',
      'HTTP requests by method, route (/api/<method>, a route prefix, /health or other) and status, until the answer is ready',
      ['method', 'route', 'status'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      this.registry,
    );
    this.makeCall = new FastHistogram(
      'callbridge_make_call_duration_seconds',
      'makeCall answer time by result: accepted (200), refused (409 / 503: operator offline, busy, unknown, PBX down), invalid (4xx), error (5xx)',
      ['result'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      this.registry,
    );
    this.sqliteWrite = new FastHistogram(
      'callbridge_sqlite_write_duration_seconds',
      'SQLite statements that write (INSERT, UPDATE, DELETE, REPLACE), by kind',
      ['statement'],
      [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      this.registry,
    );
  }

  /** The hook createApp calls once per answered request. */
  readonly onResponse = (info: RequestInfo): void => {
    this.http.observe({ method: info.method, route: info.route, status: String(info.status) }, info.seconds);
    if (info.route === '/api/makeCall' && info.method !== 'HEAD') {
      const s = info.status;
      const result = s === 200 ? 'accepted' : s === 409 || s === 503 ? 'refused' : s < 500 ? 'invalid' : 'error';
      this.makeCall.observe({ result }, info.seconds);
    }
  };

  /** Follows the links, the calls and the database of a running daemon. */
  attach(src: MetricsSources): void {
    const r = [this.registry];
    const links: Array<['ami' | 'ari', LinkLike | undefined]> = [['ami', src.ami], ['ari', src.ari]];
    new Gauge({
      name: 'callbridge_asterisk_connected',
      help: '1 while the link to Asterisk is up (AMI logged in, ARI websocket open and app registered)',
      labelNames: ['link'],
      registers: r,
      collect() {
        for (const [link, client] of links) if (client) this.set({ link }, client.connected ? 1 : 0);
      },
    });
    const connects = new Counter({ name: 'callbridge_asterisk_connects_total', help: 'sessions established (the first one and every reconnect)', labelNames: ['link'], registers: r });
    const disconnects = new Counter({ name: 'callbridge_asterisk_disconnects_total', help: 'established sessions lost', labelNames: ['link'], registers: r });
    const attempts = new Counter({ name: 'callbridge_asterisk_reconnect_attempts_total', help: 'reconnect attempts scheduled after a failure or a lost session', labelNames: ['link'], registers: r });
    const loginFailures = new Counter({ name: 'callbridge_ami_login_failures_total', help: 'AMI logins refused (wrong user or secret)', registers: r });
    const events = new Counter({ name: 'callbridge_ami_events_total', help: 'AMI events received, by Event name', labelNames: ['type'], registers: r });
    const started = new Counter({ name: 'callbridge_calls_started_total', help: 'calls started (status CALL), by origin and control mode', labelNames: ['origin', 'control'], registers: r });
    const finished = new Counter({ name: 'callbridge_calls_finished_total', help: 'calls ended, by final status, origin and control mode', labelNames: ['status', 'origin', 'control'], registers: r });

    for (const [link, client] of links) {
      if (!client) continue;
      connects.inc({ link }, 0);
      disconnects.inc({ link }, 0);
      attempts.inc({ link }, 0);
      let first = true;
      this.on(client, 'connected', () => connects.inc({ link }));
      this.on(client, 'disconnected', () => disconnects.inc({ link }));
      this.on(client, 'attempt', (a: { delayMs?: number } | undefined) => {
        // ARI announces its very first connect as an attempt without delay; that is no reconnect
        const initial = first && link === 'ari' && (a?.delayMs ?? 0) === 0;
        first = false;
        if (!initial) attempts.inc({ link });
      });
    }
    this.on(src.ami, 'loginFailed', () => loginFailures.inc());
    // one labelled child per event type, looked up by name (prom-client would hash the labels on every event)
    const byType = new Map<string, { inc(): void }>();
    const other = events.labels({ type: 'other' });
    const count = (name: string) => {
      let child = byType.get(name);
      if (!child) {
        if (byType.size >= MAX_EVENT_TYPES) return other.inc();
        byType.set(name, (child = events.labels({ type: name })));
      }
      child.inc();
    };
    this.on(src.ami, 'event', (msg: Record<string, unknown>) => count(typeof msg.event === 'string' ? msg.event : 'unknown'));
    // the events the client passes over unparsed (CEL and Newexten when the Filter was refused, VarSet of unread variables) were received too
    this.on(src.ami, 'skipped', (name: string) => count(name));

    const origin = src.db.$client.prepare<[number], { origin: string; control: string | null }>('SELECT origin, control FROM calls WHERE id = ?');
    const labels = (callId: number) => {
      const row = origin.get(callId);
      return { origin: row?.origin === 'pbx' ? 'pbx' : 'click-to-call', control: row?.control ?? 'none' };
    };
    this.on(src.calls, 'status', (ev: { callId: number; status: string }) => {
      if (ev.status === 'CALL') started.inc(labels(ev.callId));
      else if (FINAL.has(ev.status)) finished.inc({ status: ev.status, ...labels(ev.callId) });
    });

    const openCalls = src.db.$client.prepare<[], { origin: string; n: number }>('SELECT origin, count(*) AS n FROM calls WHERE final = 0 GROUP BY origin');
    new Gauge({
      name: 'callbridge_open_calls',
      help: 'calls in progress (no final status yet), by origin',
      labelNames: ['origin'],
      registers: r,
      collect() {
        this.reset();
        this.set({ origin: 'click-to-call' }, 0);
        this.set({ origin: 'pbx' }, 0);
        for (const row of openCalls.all()) this.set({ origin: row.origin === 'pbx' ? 'pbx' : 'click-to-call' }, row.n);
      },
    });
    const endpoints = src.db.$client.prepare<[], { status: string; n: number }>('SELECT status, count(*) AS n FROM endpoints GROUP BY status');
    new Gauge({
      name: 'callbridge_sip_endpoints',
      help: 'SIP endpoints by presence status (online, offline, inuse, away)',
      labelNames: ['status'],
      registers: r,
      collect() {
        this.reset();
        for (const s of ['online', 'offline', 'inuse', 'away']) this.set({ status: s }, 0);
        for (const row of endpoints.all()) this.set({ status: row.status }, row.n);
      },
    });
  }

  /**
   * The outbox metrics of the CRM connectors: pending (read at every scrape),
   * delivered and failed (counted as they happen), by connector.
   */
  registerOutbox(): OutboxMetrics {
    if (this.outbox) return this.outbox;
    const r = [this.registry];
    const delivered = new Counter({ name: 'callbridge_outbox_delivered_total', help: 'events delivered to a CRM connector', labelNames: ['connector'], registers: r });
    const failed = new Counter({ name: 'callbridge_outbox_failed_total', help: 'deliveries to a CRM connector that failed', labelNames: ['connector'], registers: r });
    let source: (() => readonly OutboxCounts[]) | undefined;
    new Gauge({
      name: 'callbridge_outbox_pending',
      help: 'events a CRM connector still has to deliver',
      labelNames: ['connector'],
      registers: r,
      collect() {
        this.reset();
        for (const row of source?.() ?? []) this.set({ connector: row.connector }, row.pending);
      },
    });
    this.outbox = {
      delivered: (connector, n = 1) => delivered.inc({ connector }, n),
      failed: (connector, n = 1) => failed.inc({ connector }, n),
      pendingFrom: (fn) => {
        source = fn;
      },
    };
    return this.outbox;
  }

  /** The exposition text and its content type. */
  async expose(): Promise<{ text: string; contentType: string }> {
    const own = await this.registry.metrics();
    return { text: this.process ? `${await this.process.metrics()}\n${own}` : own, contentType: this.registry.contentType };
  }

  /** Stops following the sources (the counters stay). */
  close(): void {
    for (const off of this.detach.splice(0)) off();
  }

  private on(emitter: EventEmitter, event: string, fn: (...args: any[]) => void): void {
    const safe = (...args: unknown[]) => {
      try {
        fn(...args);
      } catch {
        // a metric must never break the emitter
      }
    };
    emitter.on(event, safe);
    this.detach.push(() => emitter.off(event, safe));
  }

  /** The write batch's COMMITs and the writes they held (src/db/batch.ts), read at every scrape. */
  countCommits(batch: { commits: number; committedWrites: number; failedCommits: number }): void {
    const r = [this.registry];
    const counter = (name: string, help: string, value: () => number) =>
      new Counter({
        name,
        help,
        registers: r,
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    counter('callbridge_sqlite_commits_total', 'SQLite COMMITs of the write batch (writes of a moment share one)', () => batch.commits);
    counter('callbridge_sqlite_batched_writes_total', 'writes committed by the write batch', () => batch.committedWrites);
    counter('callbridge_sqlite_failed_commits_total', 'COMMITs that failed (each write was then tried on its own)', () => batch.failedCommits);
  }

  /**
   * Times every statement that writes, by wrapping the connection's prepare
   * (the statements drizzle prepares included): call it right after opening
   * the database, before anything prepares its statements.
   */
  timeWrites(client: Database.Database): void {
    const histogram = this.sqliteWrite;
    const original = client.prepare;
    const wrapped = function (this: Database.Database, source: string, ...rest: unknown[]) {
      const stmt = (original as (...a: unknown[]) => Database.Statement).call(this, source, ...rest);
      const kind = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.exec(source)?.[1]?.toUpperCase();
      if (!kind) return stmt;
      const observed = histogram.labels({ statement: kind });
      for (const fn of ['run', 'get', 'all'] as const) {
        const inner = stmt[fn] as (...a: unknown[]) => unknown;
        (stmt as unknown as Record<string, unknown>)[fn] = function (this: unknown, ...args: unknown[]) {
          const t0 = performance.now();
          try {
            return inner.apply(this, args);
          } finally {
            observed((performance.now() - t0) / 1000);
          }
        };
      }
      return stmt;
    } as typeof client.prepare;
    client.prepare = wrapped;
    this.detach.push(() => {
      if (client.prepare === wrapped) client.prepare = original;
    });
  }
}
