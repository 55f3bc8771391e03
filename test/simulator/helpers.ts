import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log.js';
import { SimulatedAsterisk, type SimulatorAddresses, type SimulatorOptions } from '../../src/simulator/index.js';

export const AMI_USER = 'callbridge';
export const AMI_SECRET = 'amisecret';
export const ARI_USER = 'callbridge';
export const ARI_PASSWORD = 'arisecret';

export interface Running {
  sim: SimulatedAsterisk;
  addrs: SimulatorAddresses;
  dir: string;
  close(): Promise<void>;
}

/** Starts a simulator on free loopback ports with a fast clock and a fresh recordings directory. */
export async function startSim(opts: Partial<SimulatorOptions> = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-sim-'));
  const sim = new SimulatedAsterisk({
    amiUser: AMI_USER, amiSecret: AMI_SECRET, ariUser: ARI_USER, ariPassword: ARI_PASSWORD,
    recordingsDir: dir, timeScale: 0.02, logger: silentLogger(), ...opts,
  });
  const addrs = await sim.start();
  return {
    sim,
    addrs,
    dir,
    close: async () => {
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One AMI message as received: exact text (without the terminating empty line) and its headers. */
export class Frame {
  readonly headers: Array<[string, string]>;

  constructor(readonly raw: string) {
    this.headers = raw.split('\r\n').filter((l) => l.includes(':')).map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i), l.slice(i + 1).replace(/^ /, '')] as [string, string];
    });
  }

  get(key: string): string | undefined {
    return this.headers.find(([k]) => k === key)?.[1];
  }

  keys(): string[] {
    return this.headers.map(([k]) => k);
  }
}

/** A bare TCP AMI client that keeps every byte it receives. */
export class RawAmi {
  text = '';
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.text += d;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawAmi> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawAmi(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Complete messages received so far (the banner line excluded). */
  frames(): Frame[] {
    const body = this.text.startsWith('Asterisk Call Manager/') ? this.text.slice(this.text.indexOf('\r\n') + 2) : this.text;
    const parts = body.split('\r\n\r\n');
    parts.pop();
    return parts.map((p) => new Frame(p));
  }

  send(headers: Array<[string, string]>): void {
    this.socket.write(headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
  }

  async waitFor(pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames().find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for an AMI frame; got:\n${this.frames().map((f) => f.raw.split('\r\n')[0]).join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket still open');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async login(user = AMI_USER, secret = AMI_SECRET, extra: Array<[string, string]> = []): Promise<Frame> {
    this.send([['Action', 'Login'], ['Username', user], ['Secret', secret], ['ActionID', 'login-1'], ...extra]);
    return this.waitFor((f) => f.get('ActionID') === 'login-1');
  }

  close(): void {
    this.socket.destroy();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value. */
export async function until<T>(fn: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Messages of a recorded AMI stream (a copy of a trace in test/fixtures), banner excluded. */
export function fixtureFrames(text: string): Frame[] {
  const body = text.startsWith('Asterisk Call Manager/') ? text.slice(text.indexOf('\r\n') + 2) : text;
  const parts = body.split('\r\n\r\n');
  parts.pop();
  return parts.map((p) => new Frame(p));
}
