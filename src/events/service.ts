/**
 * The events API's work: store a CDR (idempotent per event_id) and link it
 * and its recording to the call it belongs to; record CRM events; resolve
 * masked numbers. Every stored fact is published on the domain bus once its
 * transaction has committed.
 */
import { createHash } from 'node:crypto';
import type { DomainBus } from '../domain/bus.js';
import type { CdrRow, CrmEventRow } from '../db/schema.js';
import { ApiError } from '../http/errors.js';
import type { Logger } from '../log.js';
import { dialable, type NumberId, type NumberLookup } from './number-lookup.js';
import { locateRecording, type RecordingDirs } from './paths.js';
import type { EventStore } from './store.js';

export interface CdrInput {
  eventId: string;
  phone: string;
  extension: string;
  /** as received; "" = no recording */
  path: string;
  callAt?: number;
  type?: 'incoming' | 'outgoing' | 'internal';
  duration?: number;
  billsec?: number;
  disposition?: string;
  uniqueid?: string;
  linkedid?: string;
  did?: string;
  src?: string;
  dst?: string;
  /** every field as received */
  fields: Record<string, string>;
}

export interface CrmEventInput {
  kind: CrmEventRow['kind'];
  orderId?: string;
  /** an Asterisk id (call_asterisk) to find the tracked call by */
  channelId?: string;
  text?: string;
  payload: Record<string, string>;
}

export interface EventServiceOptions extends RecordingDirs {
  log: Logger;
  now?: () => number;
}

/** The content a repeat must carry to be a repeat: the parsed values and every other field received. */
function fingerprint(input: CdrInput): string {
  const known = {
    event_id: input.eventId,
    phone: input.phone,
    extension: input.extension,
    path: input.path,
    call_at: input.callAt ?? null,
    type: input.type ?? null,
    duration: input.duration ?? null,
    billsec: input.billsec ?? null,
    disposition: input.disposition ?? null,
    uniqueid: input.uniqueid ?? null,
    linkedid: input.linkedid ?? null,
    did: input.did ?? null,
    src: input.src ?? null,
    dst: input.dst ?? null,
  };
  const extra = Object.entries(input.fields)
    .filter(([k, v]) => !(k in known) && k !== 'call_type' && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify([known, extra])).digest('hex');
}

export class EventService {
  private readonly now: () => number;

  constructor(
    private readonly store: EventStore,
    private readonly bus: DomainBus | undefined,
    private readonly lookup: NumberLookup,
    private readonly opts: EventServiceOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Stores a CDR; a repeat with the same content answers the stored one, other content under the same event_id is refused. */
  async recordCdr(input: CdrInput): Promise<CdrRow> {
    const print = fingerprint(input);
    const before = this.store.cdrByEventId(input.eventId);
    if (before) return this.repeat(before, print);
    const now = this.now();
    const recording = input.path === '' ? undefined : await locateRecording(input.path, input.callAt, this.opts, now);
    const { row, created, recordingId } = this.store.insertCdr(
      {
        eventId: input.eventId,
        fingerprint: print,
        uniqueid: input.uniqueid ?? null,
        linkedid: input.linkedid ?? null,
        phone: input.phone,
        extension: input.extension,
        path: recording?.path ?? '',
        servable: recording?.servable ?? false,
        type: input.type ?? null,
        callAt: input.callAt ?? null,
        duration: input.duration ?? null,
        billsec: input.billsec ?? null,
        disposition: input.disposition ?? null,
        fields: input.fields,
        createdAt: now,
      },
      { uniqueid: input.uniqueid, linkedid: input.linkedid, phone: input.phone, extension: input.extension, callAt: input.callAt },
      recording,
      now,
    );
    if (!created) return this.repeat(row, print);
    const call = row.callId !== null ? this.store.call(row.callId) : undefined;
    this.opts.log.info(
      { cdr_id: row.id, event_id: row.eventId, call_id: row.callId, servable: row.servable, recording_id: recordingId },
      row.callId !== null ? 'CDR stored and linked to its call' : 'CDR stored (no tracked call matches)',
    );
    if (recording && !recording.servable) this.opts.log.info({ cdr_id: row.id, path: row.path }, 'CDR recording outside the recordings directories: kept, not served');
    this.publish({
      type: 'cdr',
      time: now,
      cdr_id: row.id,
      event_id: row.eventId,
      call_id: row.callId,
      order_id: call?.orderId ?? null,
      phone: row.phone,
      extension: row.extension,
      path: row.path,
      servable: row.servable,
      call_type: row.type,
      call_at: row.callAt,
      duration: row.duration,
      billsec: row.billsec,
      disposition: row.disposition,
      uniqueid: row.uniqueid,
      linkedid: row.linkedid,
      did: input.did ?? null,
      recording_id: recordingId,
    });
    return row;
  }

  private repeat(row: CdrRow, print: string): CdrRow {
    if (row.fingerprint !== print) {
      throw new ApiError('DUPLICATE_EVENT_ID', `event_id "${row.eventId}" was already stored with other content`, undefined, { cdr_id: row.id });
    }
    return row;
  }

  recordEvent(input: CrmEventInput): CrmEventRow {
    const now = this.now();
    const callId = input.channelId !== undefined ? this.store.callOfChannel(input.channelId) : undefined;
    const call = callId !== undefined ? this.store.call(callId) : undefined;
    const row = this.store.insertEvent({
      kind: input.kind,
      orderId: input.orderId ?? call?.orderId ?? null,
      callId: callId ?? null,
      text: input.text ?? null,
      payload: input.payload,
      time: now,
    });
    this.opts.log.info({ crm_event_id: row.id, kind: row.kind, order_id: row.orderId, call_id: row.callId }, 'CRM event recorded');
    this.publish({ type: row.kind, time: row.time, event_id: row.id, order_id: row.orderId, call_id: row.callId, text: row.text, details: row.payload });
    return row;
  }

  /** A masked identifier's number: the order's latest makeCall first, then the CRM look-up. */
  async numberFor(id: NumberId): Promise<{ number: string; source: 'calls' | 'lookup' } | undefined> {
    if (id.kind === 's') {
      const own = this.store.lastOrderPhone(id.first);
      if (own && dialable(own) !== '') return { number: dialable(own), source: 'calls' };
    }
    const found = await this.lookup.lookup(id.id);
    return found ? { number: dialable(found), source: 'lookup' } : undefined;
  }

  private publish(event: { type: string; time: number; [k: string]: unknown }): void {
    try {
      this.bus?.publish(event);
    } catch (err) {
      this.opts.log.warn({ type: event.type, err: (err as Error).message }, 'domain event not published');
    }
  }
}
