/**
 * The delivery worker of one connector. It takes the head of each call's
 * queue (deliveries of one call go out one at a time, in order), up to
 * `concurrency` calls at once, sends each with a timeout, and records the
 * outcome: a 2xx is delivered (never sent again), anything else (an HTTP
 * error, a timeout, a refused or closed connection) is retried with
 * exponential backoff and jitter, and after `max_attempts` the delivery is
 * failed. Each connector has its own worker, so a slow CRM holds up only its
 * own deliveries. Everything it needs is in SQLite: after a restart it simply
 * picks up the pending rows.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import type { Connector, ConnectorContext, OutboundEvent } from '../connectors/types.js';
import { HEADER_DELIVERY, HEADER_EVENT, HEADER_IDEMPOTENCY, HEADER_SIGNATURE, HEADER_TIMESTAMP, signature } from './sign.js';
import type { DeliveryRow, OutboxStore } from './store.js';

/** Answers longer than this are cut (a connector reads at most a small JSON). */
const MAX_ANSWER_CHARS = 64 * 1024;
/** How long stop() lets requests in flight finish before aborting them. */
const STOP_GRACE_MS = 2000;

export interface ConnectorHealth {
  type: string;
  pending: number;
  failed: number;
  last_success: string | null;
  last_error: string | null;
  last_error_at: string | null;
}

export function backoffDelay(attempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  // "equal jitter": half fixed, half random, so retries of many deliveries spread out but never come at once
  return Math.round(full / 2 + (random() * full) / 2);
}

class TimeoutError extends Error {}

/** One POST over a keep-alive agent; the answer's status and (cut) body, or an error. */
function post(
  url: string,
  headers: Record<string, string>,
  body: string | Buffer,
  agents: { http: HttpAgent; https: HttpsAgent },
  timeoutMs: number,
  stop: AbortSignal,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const https = u.protocol === 'https:';
    let timedOut = false;
    const req = (https ? httpsRequest : httpRequest)(
      u,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: https ? agents.https : agents.http, signal: stop },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_ANSWER_CHARS) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_CHARS) });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(timedOut ? new TimeoutError() : err);
        });
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new TimeoutError());
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(timedOut ? new TimeoutError() : err);
    });
    req.end(body);
  });
}

/** A short, secret-free description of why a request failed (never the URL's query). */
function failureText(err: unknown, timeoutMs: number): string {
  if (err instanceof TimeoutError) return `timed out after ${timeoutMs} ms`;
  const e = err as { message?: string; code?: string };
  const text = (e?.message ?? String(err)).replace(/\?\S*/g, '');
  return e?.code && !text.includes(e.code) ? `${text} (${e.code})` : text;
}

export class DeliveryWorker {
  private running = false;
  private readonly busyCalls = new Set<number>();
  private readonly inflight = new Map<number, { done: Promise<void>; abort: AbortController }>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private wakeQueued = false;
  private lastSuccess: number | null = null;
  private lastError: { at: number; text: string } | null = null;
  private readonly ctx: ConnectorContext;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };

  constructor(
    readonly connector: Connector,
    private readonly store: OutboxStore,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.ctx = { state: store.state(connector.settings.name), now: this.now };
    const agent = { keepAlive: true, maxSockets: connector.settings.concurrency, scheduling: 'lifo' as const };
    this.agents = { http: new HttpAgent(agent), https: new HttpsAgent(agent) };
  }

  get name(): string {
    return this.connector.settings.name;
  }

  start(): void {
    this.running = true;
    this.wake();
  }

  /** Stops taking deliveries; requests in flight get a moment to finish, then are aborted (they stay pending). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const all = [...this.inflight.values()];
    if (all.length === 0) return;
    const grace = new Promise<void>((r) => setTimeout(r, STOP_GRACE_MS).unref());
    await Promise.race([Promise.allSettled(all.map((f) => f.done)), grace]);
    for (const f of this.inflight.values()) f.abort.abort(new Error('daemon stopping'));
    await Promise.allSettled([...this.inflight.values()].map((f) => f.done));
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Something may be ready: look soon (coalesced). */
  wake(): void {
    if (this.wakeQueued || !this.running) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      this.pump();
    });
  }

  health(): ConnectorHealth {
    const c = this.store.counts(this.name);
    const iso = (t: number | null | undefined) => (t == null ? null : new Date(t).toISOString());
    return {
      type: this.connector.settings.type,
      pending: c.pending,
      failed: c.failed,
      last_success: iso(this.lastSuccess),
      last_error: this.lastError?.text ?? null,
      last_error_at: iso(this.lastError?.at),
    };
  }

  private pump(): void {
    if (!this.running) return;
    const limit = this.connector.settings.concurrency;
    const now = this.now();
    if (this.inflight.size < limit) {
      let rows: DeliveryRow[];
      try {
        rows = this.store.ready(this.name, now, limit + this.inflight.size);
      } catch (err) {
        this.log.error({ connector: this.name, err: (err as Error).message }, 'outbox not readable');
        this.arm(now + 1000);
        return;
      }
      for (const d of rows) {
        if (this.inflight.size >= limit) break;
        if (this.inflight.has(d.id) || (d.call_id !== null && this.busyCalls.has(d.call_id))) continue;
        this.send(d);
      }
    }
    if (this.inflight.size < limit) {
      const due = this.store.nextDue(this.name, now);
      if (due !== undefined) this.arm(due);
    }
  }

  private arm(at: number): void {
    if (!this.running || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private send(d: DeliveryRow): void {
    const abort = new AbortController();
    if (d.call_id !== null) this.busyCalls.add(d.call_id);
    const done = this.attempt(d, abort)
      .catch((err: unknown) => this.log.error({ connector: this.name, delivery_id: d.id, err: (err as Error).message }, 'delivery failed unexpectedly'))
      .finally(() => {
        this.inflight.delete(d.id);
        if (d.call_id !== null) this.busyCalls.delete(d.call_id);
        this.wake();
      });
    this.inflight.set(d.id, { done, abort });
  }

  private async attempt(d: DeliveryRow, stop: AbortController): Promise<void> {
    const s = this.connector.settings;
    const ev = this.store.event(d.event_id);
    if (!ev) {
      this.store.markFailed(d.id, this.now(), null, 'event row missing');
      return;
    }
    let req;
    try {
      req = await this.connector.request(ev, this.ctx);
    } catch (err) {
      this.outcome(d, ev, { code: null, error: `could not build the request: ${(err as Error).message}` });
      return;
    }
    if (!req) {
      this.store.markDelivered(d.id, this.now(), null);
      return;
    }
    const timestamp = String(Math.floor(this.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': req.contentType,
      'user-agent': `callbridge/${VERSION}`,
      [HEADER_IDEMPOTENCY]: ev.id,
      [HEADER_EVENT]: ev.type,
      [HEADER_DELIVERY]: String(d.id),
      [HEADER_TIMESTAMP]: timestamp,
    };
    if (s.secret) headers[HEADER_SIGNATURE] = signature(s.secret, timestamp, req.body);
    let status: number;
    let answer: string;
    try {
      ({ status, body: answer } = await post(req.url, headers, req.body, this.agents, s.timeout_ms, stop.signal));
    } catch (err) {
      if (stop.signal.aborted) return; // the daemon is stopping: the delivery stays pending, unattempted
      this.outcome(d, ev, { code: null, error: failureText(err, s.timeout_ms) });
      return;
    }
    if (status >= 200 && status < 300) {
      const at = this.now();
      this.store.db.$client.transaction(() => {
        this.store.markDelivered(d.id, at, status);
        try {
          this.connector.delivered?.(ev, { status, body: answer }, this.ctx);
        } catch (err) {
          this.log.warn({ connector: this.name, delivery_id: d.id, err: (err as Error).message }, 'connector could not read the answer');
        }
      })();
      this.lastSuccess = at;
      this.log.debug({ connector: this.name, delivery_id: d.id, event: ev.type, call_id: d.call_id, status }, 'delivered');
      return;
    }
    this.outcome(d, ev, { code: status, error: `HTTP ${status}` });
  }

  private outcome(d: DeliveryRow, ev: OutboundEvent, r: { code: number | null; error: string }): void {
    const s = this.connector.settings;
    const at = this.now();
    const attempts = d.attempts + 1;
    this.lastError = { at, text: r.error };
    if (attempts >= s.max_attempts) {
      this.store.markFailed(d.id, at, r.code, r.error);
      this.log.warn({ connector: this.name, delivery_id: d.id, event: ev.type, call_id: d.call_id, attempts, err: r.error }, 'delivery failed for good');
      return;
    }
    const next = at + backoffDelay(attempts, s.backoff_ms, s.backoff_max_ms);
    this.store.markRetry(d.id, at, next, r.code, r.error);
    this.log.info({ connector: this.name, delivery_id: d.id, event: ev.type, call_id: d.call_id, attempts, retry_in_ms: next - at, err: r.error }, 'delivery failed, will retry');
  }
}
