/**
 * A minimal AMI server for the ingestion benchmarks: banner, Login, Ping,
 * Logoff, and Originate (answered "queued", and reported to the benchmark with
 * its ActionID and CALLBRIDGE_CALL_ID), plus `write()` to push recorded event
 * text at the connected client as fast as the socket takes it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface OriginateSeen {
  actionId: string;
  callId: number;
  channel: string;
}

export class BenchAmiServer {
  private socket: Socket | undefined;
  private readonly sockets = new Set<Socket>();
  /** called for every Originate received */
  onOriginate: (o: OriginateSeen) => void = () => undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<BenchAmiServer> {
    let self: BenchAmiServer | undefined;
    const server = createServer((sock) => self!.accept(sock));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new BenchAmiServer(server, (server.address() as AddressInfo).port);
    return self;
  }

  private accept(sock: Socket): void {
    this.socket = sock;
    this.sockets.add(sock);
    sock.setNoDelay(true);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.write('Asterisk Call Manager/11.0.0\r\n');
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 4);
        this.answer(sock, block);
      }
    });
  }

  private answer(sock: Socket, block: string): void {
    const headers: Array<[string, string]> = block.split('\r\n').map((line) => {
      const c = line.indexOf(':');
      return [line.slice(0, c).toLowerCase(), line.slice(c + 1).trim()];
    });
    const get = (k: string) => headers.find(([h]) => h === k)?.[1] ?? '';
    const action = get('action').toLowerCase();
    const id = get('actionid');
    switch (action) {
      case 'login':
        sock.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n`);
        return;
      case 'ping':
        sock.write(`Response: Success\r\nActionID: ${id}\r\nPing: Pong\r\nTimestamp: ${Date.now() / 1000}\r\n\r\n`);
        return;
      case 'logoff':
        sock.end(`Response: Goodbye\r\nActionID: ${id}\r\nMessage: Thanks for all the fish.\r\n\r\n`);
        return;
      case 'originate': {
        const vars = headers.filter(([h]) => h === 'variable').map(([, v]) => v);
        const callVar = vars.find((v) => v.startsWith('CALLBRIDGE_CALL_ID='));
        sock.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Originate successfully queued\r\n\r\n`);
        this.onOriginate({ actionId: id, callId: Number(callVar?.split('=')[1]), channel: get('channel') });
        return;
      }
      default:
        sock.write(`Response: Success\r\nActionID: ${id}\r\n\r\n`);
    }
  }

  /** Writes to the connected client; resolves once the data is handed to the kernel. */
  write(data: Buffer | string): Promise<void> {
    const sock = this.socket;
    if (!sock) return Promise.reject(new Error('no AMI client connected'));
    return new Promise((resolve, reject) => sock.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
