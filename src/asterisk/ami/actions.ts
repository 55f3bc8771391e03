import type { Logger } from '../../log.js';
import { AmiError, type AmiErrorCode } from './errors.js';
import { field, type AmiMessage } from './message.js';
import { serializeAction, type ActionFields } from './serialize.js';

export type ListResult = { response: AmiMessage; events: AmiMessage[]; complete: AmiMessage };

interface Pending {
  /** the connection the action was written on */
  readonly owner: object;
  readonly action: string;
  readonly timer: NodeJS.Timeout;
  /** set for list actions: the response and the items seen so far */
  readonly list?: { response?: AmiMessage; events: AmiMessage[] };
  done(result: ListResult | AmiError): void;
}

/**
 * Actions in flight: assigns ActionIDs (`cb-<n>`, a counter, so two actions in one millisecond never
 * collide), matches responses and list items to them by ActionID, and enforces timeouts.
 */
export class ActionTracker {
  private readonly pending = new Map<string, Pending>();
  /** list actions that timed out: their late items are swallowed until their Complete event */
  private readonly abandonedLists = new Set<string>();
  private lastId = 0;

  constructor(private readonly log: Logger) {}

  /** Promise form of start(). */
  send(owner: object, write: (text: string) => void, fields: ActionFields, timeoutMs: number, list: boolean): Promise<ListResult> {
    return new Promise((resolve, reject) => {
      try {
        this.start(owner, write, fields, timeoutMs, list, (r) => (r instanceof AmiError ? reject(r) : resolve(r)));
      } catch (err) {
        reject(err);
      }
    });
  }

  /**
   * Serializes and writes an action; `done` is called synchronously when its response arrives (a list
   * action: its `EventList: Complete` event), so the caller acts before the next message of the same chunk
   * is handled; or with AmiError ACTION_FAILED / TIMEOUT / the code given to rejectAll. Throws AmiError
   * INVALID_VALUE without writing anything.
   */
  start(
    owner: object,
    write: (text: string) => void,
    fields: ActionFields,
    timeoutMs: number,
    list: boolean,
    done: (result: ListResult | AmiError) => void,
  ): void {
    const id = `cb-${++this.lastId}`;
    const text = serializeAction(fields, id);
    const action = String(Object.entries(fields).find(([k]) => k.toLowerCase() === 'action')?.[1]);
    const timer = setTimeout(() => {
      if (this.pending.get(id)?.list) this.abandonedLists.add(id);
      this.settle(id, new AmiError('TIMEOUT', `${action}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    this.pending.set(id, { owner, action, timer, done, list: list ? { events: [] } : undefined });
    write(text);
  }

  /**
   * Takes a received message: a response to a pending action, or an item / Complete event of a pending
   * (or timed-out) list action. Returns false for an Event frame that belongs to no list action.
   */
  take(msg: AmiMessage): boolean {
    const actionId = field(msg, 'actionid');
    const p = actionId === undefined ? undefined : this.pending.get(actionId);
    if (Object.hasOwn(msg, 'event')) {
      // Events carrying an ActionID (list items, OriginateResponse) are checked before responses:
      // OriginateResponse also has a `Response:` header and the Originate's ActionID.
      if (actionId === undefined) return false;
      const complete = field(msg, 'eventlist')?.toLowerCase() === 'complete';
      if (p?.list) {
        if (complete) this.settle(actionId, msg);
        else p.list.events.push(msg);
        return true;
      }
      if (!this.abandonedLists.has(actionId)) return false;
      if (complete) this.abandonedLists.delete(actionId);
      return true;
    }
    if (!p || actionId === undefined) {
      this.log.debug({ actionId, response: field(msg, 'response') }, 'AMI: response to no pending action');
      return true;
    }
    const kind = field(msg, 'response')?.toLowerCase();
    if (kind === 'success' || kind === 'follows' || kind === 'goodbye') {
      if (p.list) p.list.response = msg; // settled by the Complete event
      else this.settle(actionId, msg);
    } else {
      const message = field(msg, 'message') ?? field(msg, 'response') ?? '';
      this.settle(actionId, new AmiError('ACTION_FAILED', `${p.action}: ${message.trimEnd()}`, msg));
    }
    return true;
  }

  /** Rejects every pending action written on `owner` (all when undefined) with `code`. */
  rejectAll(owner: object | undefined, code: AmiErrorCode, reason: string): void {
    for (const [id, p] of this.pending) {
      if (owner === undefined || p.owner === owner) this.settle(id, new AmiError(code, `${p.action}: ${reason}`));
    }
    this.abandonedLists.clear();
  }

  private settle(id: string, result: AmiMessage | AmiError): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    if (result instanceof AmiError) p.done(result);
    else if (p.list) p.done({ response: p.list.response ?? result, events: p.list.events, complete: result });
    else p.done({ response: result, events: [], complete: result });
  }
}
