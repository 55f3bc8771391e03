/**
 * Click-to-call: accepts makeCall requests, refuses what cannot be called (and
 * records the attempt), hands accepted calls to the controller, and turns the
 * controller's events into the stored status chain.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { ApiError } from '../http/errors.js';
import type { PresenceStatus } from '../presence/model.js';
import type { CallRow, RecordingRow } from '../db/schema.js';
import { batchOf, type WriteBatch } from '../db/batch.js';
import { FINAL_STATUSES, step, type CallEvent, type CallStatus, type StatusStep } from './chain.js';
import { causeText } from './causes.js';
import type { CallController, CallSink, CallStart, OpenCall, RecordingInfo } from './controller.js';
import type { CallPatch, CallStore, NewCall } from './store.js';
import { recordingFileFacts } from './wav.js';

export interface MakeCallInput {
  sip: string;
  phone: string;
  /** the CRM's order; null for calls placed through the hosted-PBX REST API */
  orderId: string | null;
  externalKey: string | undefined;
}

export interface CallSettings {
  operatorChannel: string;
  clientChannel: string;
  callerId: string;
  operatorRingTimeout: number;
  clientRingTimeout: number;
}

export interface StatusEvent {
  callId: number;
  orderId: string | null;
  status: CallStatus;
  time: number;
  details: StatusStep['details'];
}

/**
 * The recording's name (without extension): `order-<order>-call-<call id>-<created>`, the call's
 * creation time in base 36 making it unique beyond this database (a reinstall or a second
 * installation writing into the same directory starts its call ids at 1 again).
 */
export const recordingNameOf = (orderId: string | null, callId: number, createdAt: number): string =>
  `order-${orderId ?? 'none'}-call-${callId}-${createdAt.toString(36)}`;

/**
 * Told of what the service writes, inside the transaction that writes it
 * (the CRM connectors' outbox): a failure rolls the write back too.
 */
export interface CallTap {
  /** statuses written (and a PBX call's summary); `before` is the call row as it was, undefined for a new call */
  written(callId: number, before: CallRow | undefined, steps: ReadonlyArray<StatusStep & { at: number }>, at: number): void;
  /** a recording's size and duration were stored */
  recordingReady(recording: RecordingRow): void;
}

export class CallService extends EventEmitter {
  private reconciling: Promise<void> | undefined;
  /** calls accepted but not handed to the controller yet (waiting for the caller name) */
  private readonly starting = new Set<number>();
  private reconcileAgain = false;

  constructor(
    private readonly store: CallStore,
    private readonly presence: { status(sip: string): PresenceStatus | undefined },
    private readonly controller: CallController,
    private readonly settings: CallSettings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly tap?: CallTap,
    /** the caller name to show the operator for a client's number (CRM call.settings), already safe for a CallerID */
    private readonly callerName?: (phone: string) => Promise<string | undefined>,
    /** when an accepted call is handed to the controller: by default on the next turn; the daemon waits for the HTTP answers in progress (src/http/answer-gate.ts) */
    private readonly later: (task: () => void) => void = setImmediate,
  ) {
    super();
  }

  /**
   * Runs a write in the write batch (src/db/batch.ts), with the tap inside the same transaction;
   * `after` runs once it is committed.
   */
  private written<T>(what: string, write: () => T, tell: (result: T) => void, after?: (result: T) => void, lost?: () => void): T {
    return this.batch.write(
      what,
      () => {
        const result = write();
        tell(result);
        return result;
      },
      after,
      lost,
    );
  }

  /** The connection's write batch (src/db/batch.ts; the daemon creates it with its logger). */
  private get batch(): WriteBatch {
    return batchOf(this.store.db.$client);
  }

  /** Accepts or refuses a click-to-call; the call is written in the batch (its HTTP answer waits for the COMMIT), its originate follows the COMMIT. */
  makeCall(input: MakeCallInput): { callId: number; existing: boolean } {
    const fingerprint = JSON.stringify([input.sip, input.phone, input.orderId]);
    if (input.externalKey !== undefined) {
      const existing = this.store.byExternalKey(input.externalKey);
      if (existing) {
        if (existing.requestFingerprint !== fingerprint) {
          throw new ApiError('DUPLICATE_EXTERNAL_KEY', `external_key "${input.externalKey}" was already used for another call (call_id ${existing.id})`);
        }
        return { callId: existing.id, existing: true };
      }
    }
    const refusal = this.refusal(input.sip);
    if (refusal) {
      // The attempt is recorded, without taking the external_key: a retry once the operator is free places the call.
      const status: CallStatus = refusal.code === 'OPERATOR_OFFLINE' || refusal.code === 'OPERATOR_BUSY' ? refusal.code : 'ERROR';
      const refusedAt = this.now();
      const refused = { status, details: { reason: refusal.code, sip: input.sip, phone: input.phone, ...(input.externalKey ? { externalKey: input.externalKey } : {}) } };
      const row = this.written(
        'refused call',
        () =>
          this.store.create(
            { externalKey: null, requestFingerprint: fingerprint, orderId: input.orderId, sip: input.sip, phone: input.phone, control: this.controller.mode },
            [refused],
            refusedAt,
          ),
        (r) => this.tap?.written(r.id, undefined, [{ ...refused, at: refusedAt }], refusedAt),
      );
      this.log.info({ call_id: row.id, order_id: input.orderId, sip: input.sip, status, code: refusal.code }, 'call refused');
      throw new ApiError(refusal.code, refusal.message, undefined, { call_id: row.id });
    }
    const at = this.now();
    const first: StatusStep = { status: 'CALL', details: { sip: input.sip, phone: input.phone } };
    // The originate goes out once the call is committed (a call the database never took is not placed, and
    // the request is answered with an error: src/http/app.ts), on a later turn: in the daemon once the HTTP
    // answers in progress have left (src/http/answer-gate.ts), so a burst of requests is answered before
    // its calls are placed. Until the controller has the call,
    // reconciliation leaves it alone (no channel yet is no sign of a lost call).
    let id = 0;
    const row: CallRow = this.written(
      'new call',
      () =>
        this.store.create(
          { externalKey: input.externalKey ?? null, requestFingerprint: fingerprint, orderId: input.orderId, sip: input.sip, phone: input.phone, control: this.controller.mode },
          [first],
          at,
        ),
      (r) => this.tap?.written(r.id, undefined, [{ ...first, at }], at),
      (r) => {
        this.announce(r, [first], at);
        this.later(() => this.originate(r.id, this.startOf(r), input.phone));
      },
      () => this.starting.delete(id),
    );
    id = row.id;
    this.starting.add(row.id);
    return { callId: row.id, existing: false };
  }

  /** Hands an accepted call to the controller, with the CRM's name of the client when there is one. */
  private originate(callId: number, start: CallStart, phone: string): void {
    const originate = (s: CallStart) =>
      this.controller.start(s, this.sink).catch((err: unknown) => {
        this.log.error({ call_id: callId, err: (err as Error).message }, 'origination failed');
        this.sink.event(callId, { type: 'operator_failed', outcome: 'error', reason: `origination failed: ${(err as Error).message}` });
      });
    // the CRM's name of the client on the operator's phone; the look-up answers within its own timeout, unknown on failure
    const named = this.callerName ? this.callerName(phone).catch(() => undefined) : Promise.resolve(undefined);
    void named.then((name) => {
      const started = originate(name ? { ...start, operatorCallerId: `"${name}" <${phone}>` } : start);
      this.starting.delete(callId);
      return started;
    });
  }

  private refusal(sip: string): { code: 'PBX_UNAVAILABLE' | 'UNKNOWN_OPERATOR' | 'OPERATOR_OFFLINE' | 'OPERATOR_BUSY'; message: string } | undefined {
    if (!this.controller.available) return { code: 'PBX_UNAVAILABLE', message: 'Asterisk is not connected; the call cannot be placed now' };
    const status = this.presence.status(sip);
    if (status === undefined) return { code: 'UNKNOWN_OPERATOR', message: `Asterisk has no SIP endpoint "${sip}"` };
    if (status === 'offline') return { code: 'OPERATOR_OFFLINE', message: `operator ${sip} is not registered or unreachable` };
    if (status === 'inuse' || this.store.hasOpenCall(sip)) {
      return { code: 'OPERATOR_BUSY', message: `operator ${sip} is already in a call` };
    }
    return undefined;
  }

  private startOf(row: CallRow): CallStart {
    const fill = (t: string) =>
      t.replaceAll('{sip}', row.sip ?? '').replaceAll('{phone}', row.phone ?? '').replaceAll('{order_id}', row.orderId ?? '').replaceAll('{call_id}', String(row.id));
    return {
      callId: row.id,
      orderId: row.orderId ?? '',
      sip: row.sip ?? '',
      phone: row.phone ?? '',
      operatorEndpoint: fill(this.settings.operatorChannel),
      clientEndpoint: fill(this.settings.clientChannel),
      operatorCallerId: fill(this.settings.callerId),
      operatorTimeoutSec: this.settings.operatorRingTimeout,
      clientTimeoutSec: this.settings.clientRingTimeout,
      recordingName: recordingNameOf(row.orderId, row.id, row.createdAt),
    };
  }

  /** What controllers report through. */
  readonly sink: CallSink = {
    event: (callId, ev, patch, at) => this.apply(callId, ev, patch ?? {}, at ?? this.now()),
    keep: (callId, patch) => this.apply(callId, undefined, patch, this.now()),
    recordingStarted: (callId, rec, at) => this.recordingStarted(callId, rec, at ?? this.now()),
    recordingFinished: (callId, rec, at) => {
      try {
        this.recordingFinished(callId, rec, at ?? this.now());
      } catch (err) {
        this.log.error({ call_id: callId, file: rec.file, err: (err as Error).message }, 'recording could not be stored');
      }
    },
  };

  private apply(callId: number, ev: CallEvent | undefined, patch: CallPatch, at: number): void {
    // the outbox derives its events from the whole row as it was before this change; without one, a few columns do
    const full = this.tap ? this.store.get(callId) : undefined;
    const row = full ?? this.store.head(callId);
    if (!row) {
      this.log.warn({ call_id: callId, event: ev?.type }, 'event for an unknown call');
      return;
    }
    const steps = row.final || !ev ? [] : step({ last: row.status as CallStatus }, ev);
    const times: CallPatch = {};
    for (const s of steps) {
      s.details = { ...s.details, sip: row.sip ?? undefined, phone: row.phone ?? undefined } as StatusStep['details'];
      if (s.details.cause !== undefined && s.details.causeText === undefined) s.details.causeText = causeText(s.details.cause);
      if (s.status === 'OPERATOR_CALLTO') times.operatorRingAt = row.operatorRingAt ?? at;
      if (s.status === 'OPERATOR_PICKUP') times.operatorAnswerAt = row.operatorAnswerAt ?? at;
      if (s.status === 'CLIENT_CALLTO') times.clientRingAt = row.clientRingAt ?? at;
      if (s.status === 'CLIENT_PICKUP') times.clientAnswerAt = row.clientAnswerAt ?? at;
      if (FINAL_STATUSES.has(s.status)) {
        const answered = times.clientAnswerAt ?? row.clientAnswerAt;
        times.endedAt = at;
        times.billsec = answered ? Math.max(0, Math.round((at - answered) / 1000)) : 0;
        if (ev?.cause !== undefined) {
          times.hangupCause = ev.cause;
          times.hangupCauseText = ev.causeText ?? causeText(ev.cause) ?? null;
        }
      }
    }
    // Channel ids and the like are kept even after the final status (for cleanup and reconciliation).
    const merged: CallPatch = { ...patch, ...times };
    if (steps.length === 0 && Object.keys(patch).length === 0) return;
    this.written(
      'status',
      () => this.store.advance(callId, steps, at, merged, row.orderId),
      () => {
        if (full && steps.length > 0) this.tap?.written(callId, full, steps.map((s) => ({ ...s, at })), at);
      },
      () => this.announce(row, steps, at),
    );
  }

  /** Records a call the PBX carried on its own (origin 'pbx'), with its first status. */
  openPbxCall(call: NewCall, first: StatusStep, at: number, patch: CallPatch): CallRow {
    return this.batch.write(
      'PBX call',
      () => {
        const created = this.store.create({ ...call, origin: 'pbx' }, [first], at);
        this.store.advance(created.id, [], at, patch);
        this.tap?.written(created.id, undefined, [{ ...first, at }], at);
        return created;
      },
      (row) => this.announce(row, [first], at),
    );
  }

  /** Appends a PBX call's new statuses, each at its own time, and its latest summary, in one transaction. */
  advancePbxCall(callId: number, steps: ReadonlyArray<StatusStep & { at: number }>, patch: CallPatch, at: number): void {
    const row = this.store.get(callId);
    if (!row) return;
    this.batch.write(
      'PBX call status',
      () => {
        for (const s of steps) this.store.advance(callId, [{ status: s.status, details: s.details }], s.at, {});
        this.store.advance(callId, [], at, patch);
        this.tap?.written(callId, row, steps, at);
      },
      () => {
        for (const s of steps) this.announce(row, [s], s.at);
      },
    );
  }

  private announce(row: Pick<CallRow, 'id' | 'orderId'>, steps: readonly StatusStep[], at: number): void {
    for (const s of steps) {
      this.log.info({ call_id: row.id, order_id: row.orderId, status: s.status, ...s.details }, 'call status');
      this.emit('status', { callId: row.id, orderId: row.orderId, status: s.status, time: at, details: s.details } satisfies StatusEvent);
    }
  }

  private recordingStarted(callId: number, rec: RecordingInfo, at: number): void {
    const row = this.store.head(callId);
    if (!row) return;
    this.batch.write(
      'recording start',
      () => this.store.startRecording({ callId, orderId: row.orderId, name: rec.name, file: rec.file, format: rec.format, startedAt: at }),
      () => this.log.info({ call_id: callId, file: rec.file }, 'recording started'),
    );
  }

  private recordingFinished(callId: number, rec: RecordingInfo, at: number): void {
    let size = rec.size ?? null;
    let duration = rec.duration ?? null;
    try {
      if (size === null || (duration === null && rec.format === 'wav')) {
        const file = recordingFileFacts(rec.file, duration === null && rec.format === 'wav');
        size ??= file.size;
        duration ??= file.duration;
      }
    } catch (err) {
      this.log.warn({ call_id: callId, file: rec.file, err: (err as Error).message }, 'recording file not readable');
    }
    const stored = this.written(
      'recording',
      () => {
        const updated = this.store.finishRecording(callId, rec.name, { size, duration, endedAt: at });
        if (updated) return updated;
        // A recording never seen to start is taken only from its file: with nothing on disk (the start
        // was lost with a link, or never happened) there is no recording to list.
        if (size === null) return undefined;
        const row = this.store.get(callId);
        if (!row) return undefined;
        const started = this.store.startRecording({ callId, orderId: row.orderId, name: rec.name, file: rec.file, format: rec.format, startedAt: at });
        return this.store.finishRecording(callId, started.name, { size, duration, endedAt: at });
      },
      (r) => {
        if (r) this.tap?.recordingReady(r);
      },
      (r) => {
        if (r) this.log.info({ call_id: callId, file: rec.file, size, duration }, 'recording finished');
      },
    );
    if (!stored && size === null) this.log.warn({ call_id: callId, file: rec.file }, 'no recording of the call: its start was never seen and no file is on disk');
  }

  /** Brings every open call in line with what Asterisk still has; one run at a time, a request meanwhile runs once more after it. */
  async reconcile(): Promise<void> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    const run = async () => {
      do {
        this.reconcileAgain = false;
        try {
          const open: OpenCall[] = this.store.open().filter((c) => !this.starting.has(c.id)).map((c) => ({
            callId: c.id,
            status: c.status,
            operatorChannel: c.operatorChannel,
            clientChannel: c.clientChannel,
            bridgeId: c.bridgeId,
            linkedid: c.linkedid,
            recordingName: recordingNameOf(c.orderId, c.id, c.createdAt),
            start: this.startOf(c),
          }));
          if (open.length > 0) {
            this.log.info({ open: open.length }, 'reconciling open calls with Asterisk');
            await this.controller.reconcile(open, this.sink);
          }
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'reconciliation failed');
        }
      } while (this.reconcileAgain);
    };
    this.reconciling = run().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }
}

