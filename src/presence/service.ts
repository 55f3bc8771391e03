/**
 * Presence service: keeps every endpoint's state in memory, applies live
 * signals and full resyncs, and writes each real status change to SQLite
 * (endpoint row + one operator-history row, in one transaction) before it is
 * visible anywhere else. Repeated identical signals and resyncs that change
 * nothing write no history. Queue pauses name their member several ways
 * (MemberName, Interface): they apply to the first name that is a known
 * endpoint and are dropped when none is.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { EndpointSnapshot } from '../asterisk/presence-signals.js';
import {
  applySignal,
  describePauses,
  describeSignal,
  emptyState,
  resolveMember,
  statusOf,
  type EndpointState,
  type PresenceSignal,
  type PresenceStatus,
} from './model.js';
import type { EndpointWrite, HistoryWrite, PresenceStore } from './store.js';
import { batchOf, type WriteBatch } from '../db/batch.js';

interface Entry {
  state: EndpointState;
  status: PresenceStatus | undefined;
  since: number;
}

export interface StatusChange {
  sip: string;
  status: PresenceStatus;
  previousStatus: PresenceStatus | null;
  reason: string;
  time: number;
}

export class PresenceService extends EventEmitter {
  private readonly entries = new Map<string, Entry>();
  private resyncCount = 0;
  private reloadQueued = false;

  constructor(
    private readonly store: PresenceStore,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.load();
  }

  /** The entries as SQLite has them (at start, and after a write the database refused). */
  private load(): void {
    let rows;
    try {
      rows = this.store.all();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'endpoint rows not readable');
      return;
    }
    this.entries.clear();
    for (const row of rows) {
      this.entries.set(row.sip, {
        state: { ...emptyState(row.sip, row.tech), contact: row.contact ?? undefined, userAgent: row.userAgent ?? undefined },
        status: row.status,
        since: row.since,
      });
    }
  }

  /** Full resyncs done since start. */
  get resyncs(): number {
    return this.resyncCount;
  }

  /** Current status of an endpoint, undefined if Asterisk never reported it. */
  status(sip: string): PresenceStatus | undefined {
    return this.entries.get(sip)?.status;
  }

  /** A live event. */
  apply(signal: PresenceSignal): void {
    let sig = signal;
    if (sig.kind === 'queue') {
      const sip = resolveMember(sig.candidates, (s) => this.entries.has(s));
      if (sip === undefined) {
        this.log.debug({ member: sig.candidates, queue: sig.queue }, 'queue member is no known endpoint, ignored');
        return;
      }
      sig = { ...sig, sip };
    }
    const entry = this.entries.get(sig.sip);
    const before = entry?.state ?? emptyState(sig.sip);
    const after = applySignal(before, sig);
    this.commit([{ previous: entry, state: after, reason: describeSignal(sig) }]);
  }

  /**
   * A full picture after a (re)connect. Endpoints missing from it are no
   * longer configured in Asterisk: they are marked offline.
   */
  resync(snapshot: readonly EndpointSnapshot[], source: string): void {
    const seen = new Set<string>();
    const changes: Array<{ previous: Entry | undefined; state: EndpointState; reason: string }> = [];
    for (const snap of snapshot) {
      seen.add(snap.sip);
      const state: EndpointState = {
        sip: snap.sip,
        tech: snap.tech,
        device: snap.device,
        reachable: snap.reachable,
        contact: snap.contact,
        userAgent: snap.userAgent,
        paused: snap.paused ?? {},
      };
      changes.push({
        previous: this.entries.get(snap.sip),
        state,
        reason: statusOf(state) === 'away' ? `resync (${source}): ${describePauses(state.paused)}` : `resync (${source})`,
      });
    }
    for (const [sip, entry] of this.entries) {
      if (seen.has(sip) || entry.status === 'offline') continue;
      changes.push({
        previous: entry,
        state: { ...entry.state, device: 'UNAVAILABLE', reachable: false, paused: {} },
        reason: `resync (${source}): endpoint not reported by Asterisk`,
      });
    }
    this.commit(changes);
    this.resyncCount += 1;
    this.log.info({ endpoints: snapshot.length, source }, 'presence resynchronized');
  }

  private commit(changes: ReadonlyArray<{ previous: Entry | undefined; state: EndpointState; reason: string }>): void {
    const time = this.now();
    const rows: EndpointWrite[] = [];
    const history: HistoryWrite[] = [];
    const next: Array<[string, Entry]> = [];
    for (const { previous, state, reason } of changes) {
      const status = statusOf(state);
      const changed = previous?.status !== status;
      const detailsChanged =
        previous === undefined ||
        previous.state.device !== state.device ||
        previous.state.contact !== state.contact ||
        previous.state.userAgent !== state.userAgent ||
        previous.state.tech !== state.tech;
      const entry: Entry = { state, status, since: changed ? time : (previous?.since ?? time) };
      next.push([state.sip, entry]);
      if (!changed && !detailsChanged) continue;
      rows.push({
        sip: state.sip,
        tech: state.tech,
        status,
        since: entry.since,
        deviceState: state.device ?? null,
        contact: state.contact ?? null,
        userAgent: state.userAgent ?? null,
        updatedAt: time,
      });
      if (changed) history.push({ sip: state.sip, status, previousStatus: previous?.status ?? null, reason, time });
    }
    // Durable first (in the write batch), then visible: told once committed. The next signal compares
    // with these entries at once; a write the database never takes has them read back from SQLite.
    this.batch.write(
      'presence',
      () => this.store.write(rows, history),
      () => {
        for (const h of history) {
          this.log.info({ sip: h.sip, status: h.status, previous: h.previousStatus, reason: h.reason }, 'endpoint status changed');
          this.emit('change', h satisfies StatusChange);
        }
      },
      (err) => {
        if (!this.reloadQueued) {
          this.reloadQueued = true;
          queueMicrotask(() => {
            this.reloadQueued = false;
            this.load();
          });
        }
        this.emit('lost', err);
      },
    );
    for (const [sip, entry] of next) this.entries.set(sip, entry);
  }

  /** The connection's write batch (src/db/batch.ts; the daemon creates it with its logger). */
  private get batch(): WriteBatch {
    return batchOf(this.store.db.$client);
  }
}
