import { createServer, type Server, type Socket } from 'node:net';
import { listen } from '../listen.js';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import { frame, formatTv, renderAmiEvent, type AmiEvent, type Headers } from './ami-format.js';
import { handleAction } from './ami-actions.js';
import { passes, type EventFilter } from './ami-filters.js';
import type { World } from './world.js';
import type { SimEvent } from './types.js';

export const AMI_BANNER = 'Asterisk Call Manager/11.0.0\r\n';

/** One received action: headers in wire order and original case, looked up case-insensitively like Asterisk. */
export class AmiMessage {
  constructor(readonly headers: Headers, readonly raw: string) {}

  get(name: string): string | undefined {
    const n = name.toLowerCase();
    return this.headers.find(([k]) => k.toLowerCase() === n)?.[1];
  }

  getAll(name: string): string[] {
    const n = name.toLowerCase();
    return this.headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
  }

  /** Record form for observers: repeated keys become arrays. */
  fields(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of this.headers) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return out;
  }
}

/** One AMI TCP session. */
export class AmiSession {
  authenticated = false;
  username = '';
  /** `all`, `none`, or the set of event classes the session asked for */
  events: 'all' | 'none' | Set<string> = 'all';
  readonly id = `0x${randomBytes(6).toString('hex')}`;
  readonly since = new Date();
  buffer = '';
  closing = false;

  constructor(readonly socket: Socket) {}

  send(text: string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(text);
  }

  /** the session's event filters: the user's `eventfilter` lines (given at login), then AMI `Filter` actions */
  readonly filters: EventFilter[] = [];

  wants(classes: string[], text?: string): boolean {
    if (!this.authenticated || this.closing) return false;
    if (this.events === 'none') return false;
    if (this.events !== 'all') {
      const set = this.events;
      if (!classes.some((c) => set.has(c))) return false;
    }
    // manager.c's should_send_event (src/simulator/ami-filters.ts)
    return text === undefined || passes(this.filters, text);
  }

  localAddress(): string {
    return `IPV4/TCP/${this.socket.localAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1'}/${this.socket.localPort ?? 0}`;
  }

  remoteAddress(): string {
    return `IPV4/TCP/${this.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1'}/${this.socket.remotePort ?? 0}`;
  }
}

export interface AmiServerOptions {
  /** the user's `write =` classes (manager.conf); undefined: every class. Filter needs `system`, as in manager.c */
  write?: readonly string[];
  /** the user's `eventfilter` lines of manager.conf (`eventfilter(...) = ...`), applied to each of its sessions */
  eventFilters?: readonly string[];
  world: World;
  user: string;
  secret: string;
  logger: Logger;
  onAction?: (msg: AmiMessage) => void;
}

/** Builds a `Response:` message: Response, ActionID (when the action had one), then the rest. */
export function response(kind: string, msg: AmiMessage | undefined, rest: Headers = []): string {
  const h: Headers = [['Response', kind]];
  const id = msg?.get('ActionID');
  if (id !== undefined) h.push(['ActionID', id]);
  return frame([...h, ...rest]);
}

/** The AMI front-end: a TCP server speaking the manager protocol of Asterisk 22. */
export class AmiServer {
  readonly sessions = new Set<AmiSession>();
  private readonly server: Server;
  private readonly listener = (e: SimEvent): void => this.onWorldEvent(e);

  constructor(readonly opts: AmiServerOptions) {
    this.server = createServer((socket) => this.accept(socket));
    opts.world.on('event', this.listener);
  }

  get world(): World {
    return this.opts.world;
  }

  listen(port: number, host: string): Promise<number> {
    return listen(this.server, port, host);
  }

  /** New connections are cut at once until then (epoch ms): a link that stays down for a while. */
  private refuseUntil = 0;

  /** Cuts every current session; the server keeps listening (and cuts new sessions for `downMs`). */
  disconnectAll(downMs = 0): number {
    if (downMs > 0) this.refuseUntil = Date.now() + downMs;
    const n = this.sessions.size;
    for (const s of this.sessions) s.socket.destroy();
    this.sessions.clear();
    return n;
  }

  close(): Promise<void> {
    this.opts.world.off('event', this.listener);
    this.disconnectAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  broadcast(ev: AmiEvent, except?: AmiSession): void {
    for (const s of this.sessions) if (s !== except && s.wants(ev.classes, ev.text)) s.send(ev.text);
  }

  /** A security event about an AMI session (SuccessfulAuth, InvalidPassword, RequestBadFormat). */
  securityEvent(name: string, s: AmiSession, severity: string, version: string, body: Headers, tail: Headers = []): AmiEvent {
    return {
      text: frame([
        ['Event', name], ['Privilege', 'security,all'], ['EventTV', formatTv(new Date())], ['Severity', severity], ['Service', 'AMI'],
        ['EventVersion', version], ...body, ['SessionID', s.id], ['LocalAddress', s.localAddress()], ['RemoteAddress', s.remoteAddress()], ...tail,
      ]),
      classes: ['security'],
    };
  }

  private onWorldEvent(e: SimEvent): void {
    const ev = renderAmiEvent(e, this.opts.world);
    if (ev) this.broadcast(ev);
  }

  private accept(socket: Socket): void {
    if (Date.now() < this.refuseUntil) {
      socket.destroy();
      return;
    }
    const s = new AmiSession(socket);
    this.sessions.add(s);
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.write(AMI_BANNER);
    socket.on('data', (chunk: string) => this.onData(s, chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.sessions.delete(s));
  }

  private onData(s: AmiSession, chunk: string): void {
    s.buffer += chunk;
    if (s.buffer.length > 1_000_000) {
      s.socket.destroy();
      return;
    }
    for (;;) {
      const m = /\r?\n\r?\n/.exec(s.buffer);
      if (!m) break;
      const raw = s.buffer.slice(0, m.index + m[0].length);
      s.buffer = s.buffer.slice(m.index + m[0].length);
      const headers: Headers = [];
      for (const line of raw.split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).replace(/^\s+/, '')]);
      }
      if (headers.length === 0) continue;
      const msg = new AmiMessage(headers, raw);
      this.opts.onAction?.(msg);
      if (s.closing) continue;
      try {
        handleAction(this, s, msg);
      } catch (err) {
        this.opts.logger.error({ err }, 'simulated AMI action failed');
        s.send(response('Error', msg, [['Message', 'Internal error']]));
      }
    }
  }
}
