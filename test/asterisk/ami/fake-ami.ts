/** A scriptable AMI server on 127.0.0.1:0 speaking raw AMI text, and byte-chunking helpers. */
import { once } from 'node:events';
import net from 'node:net';

export interface ReceivedAction {
  headers: Array<[string, string]>;
  raw: string;
  get(name: string): string | undefined;
}

export type ActionHandler = (conn: FakeAmiConnection, action: ReceivedAction) => void | Promise<void>;

export type Chunking =
  | { kind: 'whole' }
  | { kind: 'fixed'; size: number }
  | { kind: 'random'; seed: number; max: number }
  /** every chunk ends right after a CR, so each CRLF is split across two chunks */
  | { kind: 'afterCR' };

export const BANNER = 'Asterisk Call Manager/11.0.0\r\n';

/** mulberry32: a small seeded PRNG so "random" chunkings and junk are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function splitChunks(data: Buffer, chunking: Chunking): Buffer[] {
  const out: Buffer[] = [];
  if (chunking.kind === 'whole') return [data];
  if (chunking.kind === 'afterCR') {
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] === 0x0d) {
        out.push(data.subarray(start, i + 1));
        start = i + 1;
      }
    }
    if (start < data.length) out.push(data.subarray(start));
    return out;
  }
  const rnd = chunking.kind === 'random' ? seeded(chunking.seed) : undefined;
  for (let i = 0; i < data.length; ) {
    const size = chunking.kind === 'fixed' ? chunking.size : 1 + Math.floor((rnd as () => number)() * chunking.max);
    out.push(data.subarray(i, i + size));
    i += size;
  }
  return out;
}

export class FakeAmiConnection {
  received = '';
  readonly actions: ReceivedAction[] = [];
  readonly closed: Promise<void>;
  private buffer = '';
  private queue: Promise<void> = Promise.resolve();
  private waiters: Array<() => void> = [];

  constructor(
    readonly socket: net.Socket,
    private readonly handler: ActionHandler,
  ) {
    socket.setNoDelay(true);
    this.closed = once(socket, 'close').then(() => undefined);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('utf8')));
  }

  /** Writes `data` after everything queued before it. */
  write(data: string | Buffer): Promise<void> {
    return this.writeChunked(data, { kind: 'whole' });
  }

  /** Ends the socket after everything queued before. */
  end(): Promise<void> {
    return this.enqueue(async () => void this.socket.end());
  }

  /**
   * Writes `data` in chunks, waiting for each write to be flushed so the chunks travel separately.
   * Writes are queued, so concurrent answers never interleave.
   */
  writeChunked(data: string | Buffer, chunking: Chunking): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.enqueue(async () => {
      for (const chunk of splitChunks(buf, chunking)) {
        if (!this.socket.writable) return;
        await new Promise<void>((resolve) => this.socket.write(chunk, () => setImmediate(resolve)));
      }
    });
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(job, job);
    return this.queue;
  }

  /** Resolves with the first received action named `name` (case-insensitive), past or future. */
  async waitForAction(name: string, timeoutMs = 5_000): Promise<ReceivedAction> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.actions.find((a) => a.get('action')?.toLowerCase() === name.toLowerCase());
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${name} action received`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  private onData(text: string): void {
    this.received += text;
    this.buffer += text;
    let end = this.buffer.indexOf('\r\n\r\n');
    while (end !== -1) {
      const raw = this.buffer.slice(0, end + 4);
      this.buffer = this.buffer.slice(end + 4);
      const headers = raw
        .slice(0, -4)
        .split('\r\n')
        .map((line): [string, string] => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, '')];
        });
      const action: ReceivedAction = {
        headers,
        raw,
        get: (name) => headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1],
      };
      this.actions.push(action);
      for (const w of this.waiters.splice(0)) w();
      void Promise.resolve(this.handler(this, action)).catch(() => undefined);
      end = this.buffer.indexOf('\r\n\r\n');
    }
  }
}

export class FakeAmiServer {
  readonly connections: FakeAmiConnection[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** `onConnect` runs first for each connection (default: send the banner). */
  static async start(handler: ActionHandler, onConnect?: (conn: FakeAmiConnection) => void): Promise<FakeAmiServer> {
    let self: FakeAmiServer | undefined;
    const server = net.createServer((socket) => {
      const conn = new FakeAmiConnection(socket, handler);
      self?.sockets.add(socket);
      socket.on('close', () => self?.sockets.delete(socket));
      self?.connections.push(conn);
      if (onConnect) onConnect(conn);
      else void conn.write(BANNER);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    self = new FakeAmiServer(server, (server.address() as net.AddressInfo).port);
    return self;
  }

  async waitForConnections(n: number, timeoutMs = 5_000): Promise<FakeAmiConnection> {
    const deadline = Date.now() + timeoutMs;
    while (this.connections.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} connections, got ${this.connections.length}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.connections[n - 1] as FakeAmiConnection;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Standard answers: Login accepted (the recorded C4 response), Ping → Pong, Logoff → Goodbye + close. */
export function standardAnswer(conn: FakeAmiConnection, action: ReceivedAction): boolean {
  const id = action.get('actionid') ?? '';
  switch (action.get('action')?.toLowerCase()) {
    case 'login':
      void conn.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n`);
      return true;
    case 'ping':
      void conn.write(`Response: Success\r\nActionID: ${id}\r\nPing: Pong\r\nTimestamp: 1795493011.341733\r\n\r\n`);
      return true;
    case 'logoff':
      void conn.write(`Response: Goodbye\r\nActionID: ${id}\r\nMessage: Thanks for all the fish.\r\n\r\n`);
      void conn.end();
      return true;
    default:
      return false;
  }
}

/** Polls until `predicate` holds. */
export async function until(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
