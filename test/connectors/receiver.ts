/**
 * A real HTTP receiver for connector tests: records every request (method,
 * path, headers, raw body) and answers as told: a status, after a delay, never
 * (hangs), or by closing the socket.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** form-encoded body as ordered pairs */
  form(): Array<[string, string]>;
  json(): any;
  at: number;
  /** the HTTP status it was answered with (undefined while hanging) */
  answered?: number;
}

export type Behaviour = { status?: number; body?: string; delayMs?: number; hang?: boolean; destroy?: boolean };

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** how to answer the next requests (by request number, 0-based), else `fallback` */
  plan: Array<Behaviour | undefined>;
  fallback: Behaviour;
  /** answer based on the request (overrides plan/fallback when it returns something) */
  answer?: (r: Received) => Behaviour | undefined;
  close(): Promise<void>;
  /** start listening again on the same port after close() */
  reopen(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  let server: Server;
  const sockets = new Set<Socket>();
  let count = 0;
  const r: Receiver = {
    url: '',
    port: 0,
    received: [],
    plan: [],
    fallback: { status: 200, body: '{"ok":true}' },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async reopen() {
      await listen(r.port);
    },
  };
  const listen = (p: number) => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const rec: Received = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          text: body.toString('utf8'),
          form: () => [...new URLSearchParams(body.toString('utf8')).entries()],
          json: () => JSON.parse(body.toString('utf8')),
          at: Date.now(),
        };
        const n = count++;
        const how = r.answer?.(rec) ?? r.plan[n] ?? r.fallback;
        if (how.destroy) {
          req.socket.destroy();
          return;
        }
        r.received.push(rec);
        if (how.hang) return;
        const send = () => {
          rec.answered = how.status ?? 200;
          res.writeHead(rec.answered, { 'content-type': 'application/json' });
          res.end(how.body ?? '{"ok":true}');
        };
        if (how.delayMs) setTimeout(send, how.delayMs);
        else send();
      });
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    return new Promise<void>((resolve) => server.listen(p, '127.0.0.1', () => {
      r.port = (server.address() as AddressInfo).port;
      r.url = `http://127.0.0.1:${r.port}`;
      resolve();
    }));
  };
  await listen(port);
  return r;
}
