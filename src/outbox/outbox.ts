/**
 * The durable outbox of the CRM connectors. The call service tells it, inside
 * the transaction that writes a status, what it wrote; the outbox derives the
 * domain events (derive.ts), stores each once with the call's snapshot, and
 * one pending delivery per connector that wants it, in that same transaction.
 * Events-API facts arrive from the domain bus after their own commit and are
 * stored the same way. One delivery worker per connector sends them, and the
 * retention (retention.ts) removes what was delivered long enough ago.
 */
import { randomUUID } from 'node:crypto';
import type { CallTap } from '../calls/service.js';
import type { CallRow, RecordingRow } from '../db/schema.js';
import type { CallStore } from '../calls/store.js';
import type { DomainEvent } from '../domain/bus.js';
import type { Logger } from '../log.js';
import type { StatusStep } from '../calls/chain.js';
import { API_EVENT_TYPES, type ApiEventType, type CallSnapshot, type Connector, type Direction, type EventType, type OutboundEvent, type RecordingFacts } from '../connectors/types.js';
import { deriveCallEvents, deriveMemberEvents, type DerivedEvent } from './derive.js';
import { membersOf } from '../calls/children.js';
import { OutboxStore } from './store.js';
import { DeliveryWorker, type ConnectorHealth } from './worker.js';
import { DEFAULT_RETENTION_MS, OutboxRetention } from './retention.js';

type ChainRow = { status: string; time: number; details: Record<string, unknown> };
type RecordingRef = Pick<RecordingRow, 'id' | 'file' | 'format' | 'size' | 'duration' | 'startedAt' | 'endedAt'>;

const FINAL = new Set(['OPERATOR_OFFLINE', 'OPERATOR_NOANSWER', 'OPERATOR_BUSY', 'CLIENT_NOANSWER', 'CLIENT_BUSY', 'CLIENT_CANCEL', 'OPERATOR_CANCEL', 'ERROR', 'FINISH']);

export interface OutboxOptions {
  log: Logger;
  /** download URL of a recording */
  urlOf: (recordingId: number) => string;
  now?: () => number;
  /** delivered deliveries (their attempts, and events none is left for) older than this are removed; 0 keeps them forever; default 30 days */
  retentionMs?: number;
  /** the contact book's entry for a client's number (the snapshot's `contact`) */
  contactOf?: (phone: string) => { id: number; name: string | null; companyName: string | null; url: string | null } | undefined;
}

export class Outbox implements CallTap {
  readonly store: OutboxStore;
  readonly retention: OutboxRetention;
  private readonly workers: DeliveryWorker[];
  private readonly now: () => number;

  constructor(
    private readonly calls: CallStore,
    readonly connectors: readonly Connector[],
    private readonly opts: OutboxOptions,
  ) {
    this.store = new OutboxStore(calls.db);
    this.now = opts.now ?? Date.now;
    this.workers = connectors.map((c) => new DeliveryWorker(c, this.store, opts.log.child({ connector: c.settings.name }), this.now));
    this.retention = new OutboxRetention(calls.db, { retentionMs: opts.retentionMs ?? DEFAULT_RETENTION_MS, log: opts.log, now: this.now });
  }

  get enabled(): boolean {
    return this.connectors.length > 0;
  }

  /** Starts the workers, and the retention (even without connectors: rows of an earlier configuration are pruned too). */
  start(): void {
    for (const w of this.workers) w.start();
    this.retention.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.retention.stop(), ...this.workers.map((w) => w.stop())]);
  }

  health(): Record<string, ConnectorHealth> {
    return Object.fromEntries(this.workers.map((w) => [w.name, w.health()]));
  }

  /** Failed deliveries (one, or all, of every or one connector) are sent again from their first attempt. */
  retry(target: { id: number } | { connector?: string }): number {
    const n = this.store.retry(target, this.now());
    if (n > 0) for (const w of this.workers) w.wake();
    return n;
  }

  // ------------------------------------------------------------ CallTap

  written(callId: number, before: CallRow | undefined, steps: ReadonlyArray<StatusStep & { at: number }>, at: number): void {
    if (!this.enabled) return;
    const after = this.calls.get(callId);
    if (!after) return;
    const chain = this.store.chain(callId);
    const recs = this.store.recordings(callId);
    const beforeStatuses = chain.slice(0, Math.max(0, chain.length - steps.length)).map((c) => c.status);
    let derived: DerivedEvent[];
    const uuid = this.store.uuidOf(callId);
    try {
      derived = deriveCallEvents({
        origin: after.origin,
        direction: after.direction,
        before: beforeStatuses,
        steps: steps.map((s) => ({ status: s.status, at: s.at, details: (s.details ?? {}) as Record<string, unknown> })),
        transfersBefore: (before?.transfers ?? []).length,
        transfers: after.transfers ?? [],
        billsec: after.billsec,
        cause: after.hangupCause,
        causeText: after.hangupCauseText,
        hasRecordingFile: after.recordingFile !== null,
        recordingReady: recs.some((r) => r.endedAt !== null),
        at,
      });
      const members = deriveMemberEvents(before ? membersOf(before, uuid) : [], membersOf(after, uuid));
      if (members.length > 0) {
        // the operators' rings and ends come after the call's own news, and before its end
        const last = derived.filter((d) => d.type === 'call.finished');
        derived = [...derived.filter((d) => d.type !== 'call.finished'), ...members, ...last];
      }
    } catch (err) {
      this.opts.log.error({ call_id: callId, err: (err as Error).message }, 'domain events not derived');
      return;
    }
    if (derived.length === 0) return;
    for (const d of derived) {
      const snapshot = this.snapshot(after, uuid, cutAt(chain, d.status), recs);
      this.enqueue({ id: randomUUID(), type: d.type, time: d.time, call: snapshot, data: d.data });
    }
  }

  recordingReady(rec: RecordingRow): void {
    if (!this.enabled) return;
    const call = this.calls.get(rec.callId);
    if (!call) return;
    const recs = this.store.recordings(rec.callId);
    const snapshot = this.snapshot(call, this.store.uuidOf(call.id), this.store.chain(call.id), recs);
    const facts = recordingFacts(rec, this.opts.urlOf);
    this.enqueue({ id: randomUUID(), type: 'recording.ready', time: rec.endedAt ?? this.now(), call: snapshot, data: { recording: facts, call_ended: call.final } });
  }

  // ------------------------------------------------------------ events API (domain bus)

  /** A fact the events API committed (cdr, call_asterisk, event, coming): stored in a transaction of its own. */
  domainEvent(ev: DomainEvent): void {
    if (!this.enabled || !(API_EVENT_TYPES as readonly string[]).includes(ev.type)) return;
    const { type, time, ...facts } = ev;
    const callId = typeof facts.call_id === 'number' ? facts.call_id : null;
    this.calls.db.$client.transaction(() => {
      const call = callId !== null ? this.calls.get(callId) : undefined;
      const snapshot = call ? this.snapshot(call, this.store.uuidOf(call.id), this.store.chain(call.id), this.store.recordings(call.id)) : null;
      this.enqueue({ id: randomUUID(), type: type as ApiEventType, time, call: snapshot, data: facts });
    })();
  }

  /** Stores an event with a delivery for every connector that wants it (inside the caller's transaction, if any). */
  enqueue(ev: OutboundEvent): void {
    const wanted = this.workers.filter((w) => wants(w.connector, ev));
    if (wanted.length === 0) return;
    this.store.add(
      ev,
      wanted.map((w) => w.name),
      this.now(),
    );
    // woken after this tick: the transaction has committed by then (or rolled back, and there is nothing to send)
    for (const w of wanted) w.wake();
  }

  private contactOf(c: CallRow): CallSnapshot['contact'] {
    if (!this.opts.contactOf || !c.phone || c.direction === 'internal') return null;
    const found = this.opts.contactOf(c.phone);
    return found ? { id: found.id, name: found.name, company_name: found.companyName, url: found.url } : null;
  }

  private snapshot(c: CallRow, uuid: string, chain: readonly ChainRow[], recs: readonly RecordingRef[]): CallSnapshot {
    const last = chain.at(-1)?.status ?? c.status;
    const final = FINAL.has(last);
    return {
      call_id: c.id,
      uuid,
      origin: c.origin === 'api' ? 'click-to-call' : 'pbx',
      direction: c.direction as Direction,
      phone: c.phone,
      did: c.did,
      sip: c.sip,
      operators: c.operators ?? (c.sip ? [c.sip] : []),
      order_id: c.orderId,
      external_key: c.externalKey,
      linkedid: c.linkedid,
      status: last,
      final,
      started_at: c.createdAt,
      answered_at: c.answeredAt ?? c.clientAnswerAt,
      ended_at: final ? c.endedAt : null,
      billsec: final ? c.billsec : null,
      recording_file: c.recordingFile,
      contact: this.contactOf(c),
      ...(c.groupKind ? { group: { kind: c.groupKind, ext: c.groupExt }, members: membersOf(c, uuid).map(({ uniqueid: _u, channel: _c, ...m }) => m) } : {}),
      chain: chain.map((s) => ({ status: s.status, time: s.time, details: s.details })),
      recordings: recs.map((r) => recordingFacts(r, this.opts.urlOf)),
    };
  }
}

/** The chain up to the (last) entry with this status; the whole chain without one. */
function cutAt(chain: readonly ChainRow[], status: string | undefined): readonly ChainRow[] {
  if (status === undefined) return chain;
  for (let i = chain.length - 1; i >= 0; i--) if (chain[i]!.status === status) return chain.slice(0, i + 1);
  return chain;
}

function recordingFacts(r: RecordingRef, urlOf: (id: number) => string): RecordingFacts {
  return { id: r.id, file: r.file, format: r.format, size: r.size, duration: r.duration, url: urlOf(r.id), started_at: r.startedAt, ended_at: r.endedAt };
}

/** The connector's own choice, then its `events` and `directions` filters. */
function wants(c: Connector, ev: OutboundEvent): boolean {
  const s = c.settings;
  if (s.events && !s.events.includes(ev.type as EventType)) return false;
  if (s.directions && ev.call && !s.directions.includes(ev.call.direction)) return false;
  try {
    return c.accepts(ev);
  } catch {
    return false;
  }
}
