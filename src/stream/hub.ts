/**
 * The stream hub: opens one Server-Sent Events stream per client over the
 * sources, and ends them all when the daemon stops.
 *
 * Each stream subscribes to its sources' notifications first, then reads
 * from SQLite everything after its cursor, and after that reads again from
 * the cursor on every notification (or heartbeat). A notification is only a
 * wake-up: what is sent is always read back from the committed rows after
 * the cursor, so live delivery cannot race the catch-up read, and an event is
 * never sent twice or skipped. Reading is pulled by the client's socket (a
 * slow client does not make the daemon buffer its backlog).
 */
import type { Logger } from '../log.js';
import { formatCursor, type Cursor } from './cursor.js';
import type { StreamFilter, StreamRow, StreamSource } from './sources.js';

export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Rows read per source per step. */
const BATCH = 200;
/** What the client waits before reconnecting (SSE `retry:`). */
const RETRY_MS = 2000;

export interface StreamRequest {
  /** where to start; undefined = from now */
  cursor: Cursor | undefined;
  kinds: ReadonlySet<string>;
  filter: StreamFilter;
  heartbeatMs: number;
}

const encoder = new TextEncoder();

function frame(event: string, id: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class StreamHub {
  private readonly open = new Set<() => void>();
  private closed = false;

  constructor(
    readonly sources: readonly StreamSource[],
    private readonly log: Logger,
  ) {}

  get letters(): string[] {
    return this.sources.map((s) => s.letter);
  }

  get kinds(): string[] {
    return this.sources.map((s) => s.kind);
  }

  /** Streams open now. */
  get size(): number {
    return this.open.size;
  }

  /** The cursor of the newest rows: where a stream without Last-Event-ID starts. */
  now(): Cursor {
    return new Map(this.sources.map((s) => [s.letter, s.latest()]));
  }

  /** A text/event-stream body for one client. */
  stream(req: StreamRequest): ReadableStream<Uint8Array> {
    const cursor: Cursor = req.cursor ? new Map(req.cursor) : this.now();
    const sources = this.sources.filter((s) => req.kinds.has(s.kind));
    let wake: (() => void) | undefined;
    let pending = true; // read at least once
    let heartbeatDue = false;
    let done = false;
    const poke = () => {
      pending = true;
      wake?.();
    };
    const unsubscribe: Array<() => void> = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      for (const u of unsubscribe) u();
      clearInterval(timer);
      this.open.delete(end);
      wake?.();
    };
    let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
    const end = () => {
      finish();
      try {
        controllerRef?.close();
      } catch {
        // already closed or cancelled
      }
    };

    /** The next rows after the cursor, merged across sources in time order; a full batch caps how far the merge may go. */
    const read = (): Array<{ source: StreamSource; row: StreamRow }> => {
      const batches = sources.map((s) => ({ source: s, rows: s.after(cursor.get(s.letter) ?? 0, req.filter, BATCH) }));
      let cap = Infinity;
      for (const b of batches) if (b.rows.length === BATCH) cap = Math.min(cap, b.rows[b.rows.length - 1]!.time);
      const out: Array<{ source: StreamSource; row: StreamRow }> = [];
      const heads = batches.map(() => 0);
      for (;;) {
        let best = -1;
        for (let i = 0; i < batches.length; i++) {
          const row = batches[i]!.rows[heads[i]!];
          // past the cap only for the first row, so a step always makes progress
          if (row === undefined || (row.time > cap && out.length > 0)) continue;
          if (best < 0 || row.time < batches[best]!.rows[heads[best]!]!.time) best = i;
        }
        if (best < 0) break;
        out.push({ source: batches[best]!.source, row: batches[best]!.rows[heads[best]!]! });
        heads[best]! += 1;
      }
      return out;
    };

    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          controllerRef = controller;
          if (this.closed) {
            controller.close();
            done = true;
            return;
          }
          this.open.add(end);
          for (const s of sources) unsubscribe.push(s.subscribe(poke));
          timer = setInterval(() => {
            heartbeatDue = true;
            wake?.();
          }, req.heartbeatMs);
          timer.unref();
          const ready = { cursor: formatCursor(cursor, this.letters), kinds: sources.map((s) => s.kind) };
          controller.enqueue(encoder.encode(`retry: ${RETRY_MS}\n${frame('ready', ready.cursor, ready)}`));
        },
        pull: async (controller) => {
          for (;;) {
            if (done) return;
            if (pending) {
              pending = false;
              let rows: Array<{ source: StreamSource; row: StreamRow }>;
              try {
                rows = read();
              } catch (err) {
                this.log.warn({ err: (err as Error).message }, 'event stream read failed; the client will reconnect');
                end();
                return;
              }
              if (rows.length > 0) {
                let text = '';
                for (const { source, row } of rows) {
                  cursor.set(source.letter, row.id);
                  text += frame(source.kind, formatCursor(cursor, this.letters), row.data);
                }
                // more may be waiting (a full batch, or rows committed meanwhile): read again on the next pull
                pending = true;
                controller.enqueue(encoder.encode(text));
                return;
              }
            }
            if (heartbeatDue) {
              heartbeatDue = false;
              // a heartbeat also re-reads, so nothing waits longer than it even without a notification
              pending = true;
              controller.enqueue(encoder.encode(': heartbeat\n\n'));
              return;
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
              if (pending || heartbeatDue || done) resolve();
            });
            wake = undefined;
          }
        },
        cancel: () => finish(),
      },
      { highWaterMark: 0 },
    );
  }

  /** Ends every open stream (clients see the end and reconnect); new ones end at once. */
  close(): void {
    this.closed = true;
    for (const end of [...this.open]) end();
  }
}
