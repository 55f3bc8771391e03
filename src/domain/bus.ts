/**
 * The domain bus: one typed 'event' carrying `{type, time, ...facts}` for
 * every fact a feature has committed to SQLite (a CDR stored, a CRM event
 * recorded, ...). Listeners (connectors, streams) subscribe with
 * `bus.on('event', ...)`. `publish` calls each listener in turn; one that
 * throws does not stop the others, nor the feature that published.
 */
import { EventEmitter } from 'node:events';

export interface DomainEvent {
  /** what happened, e.g. 'cdr', 'call_asterisk', 'event', 'coming' */
  type: string;
  /** epoch ms */
  time: number;
  [fact: string]: unknown;
}

export interface DomainEvents {
  event: [DomainEvent];
}

export class DomainBus extends EventEmitter<DomainEvents> {
  constructor(private readonly onListenerError?: (err: unknown, event: DomainEvent) => void) {
    super();
  }

  publish(event: DomainEvent): void {
    for (const listener of this.listeners('event')) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError?.(err, event);
      }
    }
  }
}

/** A bus for the composition root; listener failures are reported through `onListenerError`. */
export function createDomainBus(onListenerError?: (err: unknown, event: DomainEvent) => void): DomainBus {
  return new DomainBus(onListenerError);
}
