/**
 * A small stand-in for Asterisk's HTTP server (ARI) for the adapter tests:
 * real HTTP and websocket on an ephemeral port, serving the recorded swagger
 * documents (basePath rewritten from the Host header, as Asterisk does),
 * answering REST calls with recorded answers from the traces, and requiring
 * Basic auth or `api_key=user:pass` on everything under /ari like Asterisk
 * (401 {"message":"Authentication required"}).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export interface RestTraceEntry {
  method: string;
  path: string;
  request_body: unknown;
  status: number;
  response_body: unknown;
}

export interface ReceivedRequest {
  method: string;
  /** path including the query string, as sent */
  path: string;
  pathname: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  rawBody: string;
  body: unknown;
  authorized: boolean;
}

export interface WsAttempt {
  url: string;
  authorized: boolean;
  accepted: boolean;
}

/** Return undefined to let the next handler answer; 'hang' never answers. */
export type Responder = (req: ReceivedRequest) => { status: number; body?: unknown } | 'hang' | undefined;

export interface FakeAriOptions {
  username: string;
  password: string;
  /** recorded REST exchanges to answer from */
  traces?: RestTraceEntry[];
  /** answer websocket pings (default true); false simulates a dead link */
  autoPong?: boolean;
}

export function fixturePath(rel: string): string {
  return `${FIXTURES}${rel}`;
}

export function readJsonl<T>(rel: string): T[] {
  return readFileSync(fixturePath(rel), 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as T);
}

/** Events of a recorded ari-events.jsonl (without the ws open/close markers). */
export function readEvents(rel: string): Array<Record<string, unknown>> {
  return readJsonl<{ event?: Record<string, unknown> }>(rel)
    .filter((line) => line.event !== undefined)
    .map((line) => line.event as Record<string, unknown>);
}

export class FakeAri {
  readonly requests: ReceivedRequest[] = [];
  readonly wsAttempts: WsAttempt[] = [];
  readonly sockets = new Set<WebSocket>();
  /** consulted first, newest first */
  private readonly responders: Responder[] = [];
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly tcp = new Set<Socket>();
  private readonly held: ServerResponse[] = [];
  private connectionListeners: Array<(ws: WebSocket) => void> = [];
  /** when set, websocket upgrades are answered with this status */
  rejectUpgradesWith: number | undefined;
  /** pathname patterns answered with 401 even with good credentials */
  denyPaths: RegExp[] = [];

  private constructor(private readonly opts: FakeAriOptions) {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.wss = new WebSocketServer({ noServer: true, autoPong: opts.autoPong ?? true });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
    this.server.on('connection', (s: Socket) => {
      this.tcp.add(s);
      s.on('close', () => this.tcp.delete(s));
    });
  }

  static async start(opts: FakeAriOptions): Promise<FakeAri> {
    const fake = new FakeAri(opts);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  respond(responder: Responder): void {
    this.responders.unshift(responder);
  }

  onConnection(listener: (ws: WebSocket) => void): void {
    this.connectionListeners.push(listener);
  }

  /** Sends one event (as JSON text) to every open websocket. */
  send(event: unknown): void {
    const text = typeof event === 'string' ? event : JSON.stringify(event);
    for (const ws of this.sockets) ws.send(text);
  }

  /** Drops every websocket without a close frame (client sees code 1006). */
  killSockets(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  restRequests(): ReceivedRequest[] {
    return this.requests.filter((r) => !r.pathname.startsWith('/ari/api-docs/'));
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    for (const res of this.held) res.destroy();
    for (const s of this.tcp) s.destroy();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private isAuthorized(req: IncomingMessage, query: URLSearchParams): boolean {
    const expected = `${this.opts.username}:${this.opts.password}`;
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      return Buffer.from(header.slice(6), 'base64').toString('utf8') === expected;
    }
    return query.get('api_key') === expected;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = rawBody;
    }
    const received: ReceivedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      pathname: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      body,
      authorized: this.isAuthorized(req, url.searchParams),
    };
    this.requests.push(received);
    if (!received.authorized || this.denyPaths.some((re) => re.test(url.pathname))) {
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Basic realm="Asterisk REST Interface"',
      });
      res.end(JSON.stringify({ message: 'Authentication required' }));
      return;
    }
    const docs = /^\/ari\/api-docs\/([A-Za-z]+)\.json$/.exec(url.pathname);
    if (docs) {
      let text: string;
      try {
        text = readFileSync(fixturePath(`ari-api-docs/${docs[1]}.json`), 'utf8');
      } catch {
        return send(res, 404, { message: 'Resource not found' });
      }
      const doc = JSON.parse(text) as { basePath?: string };
      doc.basePath = `http://${req.headers.host}/ari`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(doc));
      return;
    }
    for (const responder of this.responders) {
      const answer = responder(received);
      if (answer === 'hang') {
        this.held.push(res);
        return;
      }
      if (answer) return send(res, answer.status, answer.body);
    }
    const traces = this.opts.traces ?? [];
    const recorded =
      traces.find((t) => t.method === received.method && t.path === received.path) ??
      traces.find((t) => t.method === received.method && t.path.split('?')[0] === url.pathname);
    if (recorded) return send(res, recorded.status, recorded.response_body);
    send(res, 404, { message: 'Resource not found' });
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const authorized = this.isAuthorized(req, url.searchParams) && !this.denyPaths.some((re) => re.test(url.pathname));
    const attempt: WsAttempt = { url: req.url ?? '', authorized, accepted: false };
    this.wsAttempts.push(attempt);
    const reject = (status: number, message: string): void => {
      const body = JSON.stringify({ message });
      socket.end(
        `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Error'}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (url.pathname !== '/ari/events') return reject(404, 'Resource not found');
    if (!authorized) return reject(401, 'Authentication required');
    if (!url.searchParams.get('app')) return reject(400, 'Missing parameter app');
    if (this.rejectUpgradesWith) return reject(this.rejectUpgradesWith, 'Service Unavailable');
    attempt.accepted = true;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      for (const listener of this.connectionListeners) listener(ws);
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined || body === null) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
