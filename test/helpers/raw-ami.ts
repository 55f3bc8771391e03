/** A bare AMI connection for tests: log in, send actions, read answers and list items. */
import { connect, type Socket } from 'node:net';

export type Frame = Record<string, string>;

export class RawAmi {
  private buf = '';
  private frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  private n = 0;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\r\n\r\n')) >= 0) {
        const block = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 4);
        const f: Frame = {};
        for (const line of block.split('\r\n')) {
          const c = line.indexOf(':');
          if (c > 0) f[line.slice(0, c)] = line.slice(c + 1).trim();
        }
        this.frames.push(f);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(port: number, user: string, secret: string): Promise<RawAmi> {
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const ami = new RawAmi(sock);
    const r = await ami.send({ Action: 'Login', Username: user, Secret: secret });
    if (r.Response !== 'Success') throw new Error(`login failed: ${r.Message}`);
    return ami;
  }

  private async next(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      if (Date.now() > until) throw new Error('no matching AMI frame');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async send(fields: Record<string, string>): Promise<Frame> {
    const id = `t-${++this.n}`;
    this.sock.write(Object.entries({ ...fields, ActionID: id }).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
    return this.next((f) => f.ActionID === id && f.Response !== undefined && f.Event === undefined);
  }

  /** A list action's items. */
  async list(fields: Record<string, string>): Promise<Frame[]> {
    const id = `t-${++this.n}`;
    this.sock.write(Object.entries({ ...fields, ActionID: id }).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
    await this.next((f) => f.ActionID === id && f.Response !== undefined && f.Event === undefined);
    const items: Frame[] = [];
    for (;;) {
      const f = await this.next((x) => x.ActionID === id);
      if (f.EventList === 'Complete') return items;
      items.push(f);
    }
  }

  /** Hangs up the live channel of an endpoint (e.g. PJSIP/101), as a person putting the phone down. */
  async hangupEndpoint(endpoint: string): Promise<string> {
    const channels = await this.list({ Action: 'CoreShowChannels' });
    const ch = channels.find((c) => c.Channel?.startsWith(`${endpoint}-`));
    if (!ch) throw new Error(`no live channel of ${endpoint}`);
    const r = await this.send({ Action: 'Hangup', Channel: ch.Channel!, Cause: '16' });
    if (r.Response !== 'Success') throw new Error(`hangup failed: ${r.Message}`);
    return ch.Channel!;
  }

  close(): void {
    this.sock.destroy();
  }
}
