import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { CastOperator } from '../../src/simulator/index.js';
import { clientBehaviour, type RemoteBehaviour } from '../../src/simulator/cast.js';
import { ARI_PASSWORD, ARI_USER, RawAmi, sleep, startSim, until, type Running } from './helpers.js';

/**
 * Replays the recorded A/B/C/F scenarios (test/fixtures, copies of the traces) against the
 * simulator the way the recorder drove the real Asterisk: the same AMI actions and ARI
 * requests at the same moments, with the reference installation's phones (1000 registered,
 * 1001 and 1002 not) instead of the standard cast. Client numbers pick the client's
 * behaviour by their last digit, as everywhere in the simulator, except the recorder's own
 * client number (LAB_CLIENT): a scenario started with `client` gives it that behaviour, so
 * the stream carries the recorded number (it appears in the ARI events' Stasis arguments).
 */

/** The client number every A and B scenario dialled. */
export const LAB_CLIENT = '79001234567';

export const fixture = (p: string): string => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'latin1');

/** The recorded ARI websocket events of a scenario (open/close markers dropped). */
export function fixtureAri(p: string): Array<Record<string, any>> {
  return fixture(p).trim().split('\n').map((l) => JSON.parse(l) as { event?: Record<string, any> }).flatMap((l) => (l.event ? [l.event] : []));
}

/** Keeps a simulated stream for inspection when SIM_SHAPE_OUT=<dir> is set. */
export function keep(name: string, text: string): void {
  const dir = process.env.SIM_SHAPE_OUT;
  if (dir) writeFileSync(join(dir, name), text);
}

const ANSWER: RemoteBehaviour = { kind: 'answer', ringMs: 1500 };

/** Operators 1000–1002 of the reference installation; 1000 behaves as the scenario's phone did. */
export function labCast(op1000: RemoteBehaviour = ANSWER, registered = true): CastOperator[] {
  return [
    { sip: '1000', registeredAtStart: registered, behaviour: op1000, userAgent: 'SIPp' },
    { sip: '1001', registeredAtStart: false, behaviour: ANSWER, userAgent: 'SIPp' },
    { sip: '1002', registeredAtStart: false, behaviour: ANSWER, userAgent: 'SIPp' },
  ];
}

export const TIME_SCALE = 0.02;

export async function startLab(op1000?: RemoteBehaviour, registered = true, timeScale = TIME_SCALE, client?: RemoteBehaviour): Promise<Running> {
  const clients = client ? (n: string) => (n === LAB_CLIENT ? client : clientBehaviour(n)) : undefined;
  return startSim({ timeScale, operators: labCast(op1000, registered), listTrunk: true, ...(clients ? { clients } : {}) });
}

/** An AMI session logged in like the recorder (ActionID rec-1, all events). */
export async function recorderAmi(run: Running): Promise<RawAmi> {
  const c = await RawAmi.connect(run.addrs.amiPort);
  c.send([['Action', 'Login'], ['Username', 'callbridge'], ['Secret', 'amisecret'], ['ActionID', 'rec-1']]);
  await c.waitFor((f) => f.get('Event') === 'FullyBooted');
  return c;
}

export async function logoff(c: RawAmi, actionId: string): Promise<string> {
  c.send([['Action', 'Logoff'], ['ActionID', actionId]]);
  await c.waitClosed();
  return c.text;
}

export function hangups(c: RawAmi): number {
  return c.frames().filter((f) => f.get('Event') === 'Hangup').length;
}

/** Waits for `n` Hangups, then lets the trailing events (Cdr, device states, BridgeDestroy) out. */
export async function settled(c: RawAmi, n: number): Promise<void> {
  await c.waitFor(() => hangups(c) >= n, 5000);
  await sleep(40);
}

export interface LabOriginate {
  id: string;
  client: string;
  timeoutMs?: number;
  dialTimeout?: number;
}

/** The recorder's Originate: operator 1000 into the reference `outbound-bridge` context. */
export function labOriginate(c: RawAmi, o: LabOriginate): void {
  c.send([
    ['Action', 'Originate'], ['ActionID', `orig-${o.id}`], ['Channel', 'PJSIP/1000'], ['Context', 'outbound-bridge'], ['Exten', o.client],
    ['Priority', '1'], ['CallerID', `"${o.client}" <${o.client}>`], ['Timeout', String(o.timeoutMs ?? 30000)],
    ['Variable', 'ORDER_ID=15'], ['Variable', 'EXTERNAL_KEY=24'], ...(o.dialTimeout ? [['Variable', `DIAL_TIMEOUT=${o.dialTimeout}`] as [string, string]] : []),
    ['Async', 'true'],
  ]);
}

/** A bare ARI event websocket for app `calld` that keeps every event in order. */
export class AriSocket {
  readonly events: Array<Record<string, any>> = [];
  closed = false;
  /** index in `events` where each (re)connection started */
  readonly opens: number[] = [];
  private ws!: WebSocket;

  private constructor(private readonly run: Running, private readonly app: string) {}

  static async open(run: Running, app = 'calld'): Promise<AriSocket> {
    const s = new AriSocket(run, app);
    await s.reopen();
    return s;
  }

  /** Connects again (after a drop); the new socket's events are appended to the same log. */
  async reopen(): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${this.run.addrs.ariPort}/ari/events?app=${this.app}&api_key=${ARI_USER}:${ARI_PASSWORD}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.ws = ws;
    this.closed = false;
    this.opens.push(this.events.length);
    ws.on('message', (d: Buffer) => this.events.push(JSON.parse(d.toString('utf8')) as Record<string, any>));
    ws.on('close', () => (this.closed = true));
    ws.on('error', () => undefined);
  }

  async waitFor(pred: (e: Record<string, any>) => boolean, timeoutMs = 5000): Promise<Record<string, any>> {
    return until(() => this.events.find(pred), timeoutMs);
  }

  /** Normal close (code 1000). */
  async close(): Promise<void> {
    this.ws.close();
    await until(() => this.closed);
  }

  /** A drop without a close frame, as a dead TCP connection (code 1006 on the client). */
  async terminate(): Promise<void> {
    this.ws.terminate();
    await until(() => this.closed);
    await sleep(10);
  }
}

/** An ARI REST call with the simulator's credentials: status and parsed body. */
export async function ari(run: Running, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const auth = `Basic ${Buffer.from(`${ARI_USER}:${ARI_PASSWORD}`).toString('base64')}`;
  const res = await fetch(`${run.addrs.ariUrl}/ari${path}`, {
    method,
    headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

export interface StasisCall {
  op?: string;
  client?: string;
  bridge?: string;
}

/**
 * The B recorder's Stasis app: originate the operator; at its StasisStart a mixing bridge,
 * the operator in it and the client originated; at the client's StasisStart the client in
 * the bridge and a bridge recording; when one side is destroyed, DELETE the other and the bridge.
 */
export async function stasisCall(run: Running, ws: AriSocket, o: { client: string; opTimeout?: number; clientTimeout?: number; noCleanup?: boolean }): Promise<StasisCall> {
  const call: StasisCall = {};
  const q = (p: Record<string, string>): string => new URLSearchParams(p).toString();
  let seen = 0;
  let cleaning = false;
  let busy = false;
  const pump = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      await drain();
    } finally {
      busy = false;
    }
  };
  const drain = async (): Promise<void> => {
    while (seen < ws.events.length) {
      const e = ws.events[seen++]!;
      if (e.type === 'StasisStart' && e.args?.[0] === 'operator') {
        const b = await ari(run, 'POST', `/bridges?${q({ type: 'mixing', name: 'order-15' })}`);
        call.bridge = b.body.id as string;
        await ari(run, 'POST', `/bridges/${call.bridge}/addChannel?${q({ channel: call.op! })}`);
        const cl = await ari(run, 'POST', `/channels?${q({
          endpoint: `PJSIP/${o.client}@clients`, app: 'calld', appArgs: 'client,15,24', callerId: '1000',
          timeout: String(o.clientTimeout ?? 30), originator: call.op!,
        })}`, { variables: { ORDER_ID: '15', EXTERNAL_KEY: '24' } });
        call.client = cl.body.id as string;
      } else if (e.type === 'StasisStart' && e.args?.[0] === 'client') {
        await ari(run, 'POST', `/bridges/${call.bridge}/addChannel?${q({ channel: call.client! })}`);
        await ari(run, 'POST', `/bridges/${call.bridge}/record?${q({ name: `order-15-${Date.now()}`, format: 'wav', ifExists: 'overwrite', beep: 'false' })}`);
      } else if (e.type === 'ChannelDestroyed' && !cleaning && !o.noCleanup) {
        cleaning = true;
        const other = e.channel.id === call.op ? call.client : call.op;
        if (other && e.channel.id !== other) await ari(run, 'DELETE', `/channels/${other}`);
        if (call.bridge) await ari(run, 'DELETE', `/bridges/${call.bridge}`);
      }
    }
  };
  const timer = setInterval(() => void pump(), 2);
  const op = await ari(run, 'POST', `/channels?${q({
    endpoint: 'PJSIP/1000', app: 'calld', appArgs: `operator,15,24,${o.client}`, callerId: `"${o.client}" <${o.client}>`, timeout: String(o.opTimeout ?? 30),
  })}`, { variables: { ORDER_ID: '15', EXTERNAL_KEY: '24' } });
  call.op = op.body?.id as string | undefined;
  (call as { stop?: () => void }).stop = () => clearInterval(timer);
  return call;
}

export function stopStasis(call: StasisCall): void {
  (call as { stop?: () => void }).stop?.();
}
