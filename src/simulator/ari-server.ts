import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../listen.js';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Logger } from '../log.js';
import { installBridgeHooks } from './ari-bridges.js';
import { apiDeclaration, ARI_OPERATIONS, resourceListing, type OpSpec } from './ari-docs.js';
import { ASTERISK_ID, renderAriEvent } from './ari-format.js';
import { ROUTES, type RouteResult } from './ari-routes.js';
import type { World } from './world.js';
import type { SimEvent } from './types.js';

/** What an observer learns about each ARI REST request. */
export interface AriRequestInfo {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  body: unknown;
}

export interface AriServerOptions {
  world: World;
  user: string;
  password: string;
  logger: Logger;
  onRequest?: (info: AriRequestInfo) => void;
}

/** A Stasis application: its websockets and its event subscriptions. */
export interface AriApp {
  name: string;
  sockets: Set<WebSocket>;
  endpointIds: Set<string>;
  deviceNames: Set<string>;
  subscribeAll: boolean;
}

const MAX_BODY = 1_000_000;

/** Whether `path` names an inner node of the operation's path (its first segments). */
function compilePrefix(op: OpSpec, path: string): boolean {
  const n = path.split('/').length;
  const head = op.path.split('/').slice(0, n).join('/');
  return new RegExp(`^${head.replace(/\{[^}]+\}/g, '([^/]+)')}$`).test(path);
}

function compile(op: OpSpec): RegExp {
  return new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '([^/]+)')}$`);
}

/** The ARI front-end: REST over node:http, events over `ws`, swagger 1.1 docs generated from the operation table. */
export class AriServer {
  readonly apps = new Map<string, AriApp>();
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly routes = ARI_OPERATIONS.map((op) => ({ op, re: compile(op) }));
  private readonly listener = (e: SimEvent): void => this.onWorldEvent(e);

  constructor(readonly opts: AriServerOptions) {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.server.on('connection', (socket) => {
      this.restSockets.add(socket);
      socket.on('close', () => this.restSockets.delete(socket));
    });
    opts.world.on('event', this.listener);
    installBridgeHooks(opts.world);
    // an app is active while at least one websocket is connected for it; events meanwhile are dropped, never replayed (F1, F2)
    opts.world.stasisActive = (app) => (this.apps.get(app)?.sockets.size ?? 0) > 0;
  }

  get world(): World {
    return this.opts.world;
  }

  listen(port: number, host: string): Promise<number> {
    return listen(this.server, port, host);
  }

  /** Requests and websockets are cut at once until then (epoch ms): the link stays down for a while. */
  private refuseUntil = 0;
  /** The REST connections open now: a cut of the whole link closes them, answers in flight included. */
  private readonly restSockets = new Set<Duplex>();

  /**
   * Cuts every event websocket and clients may reconnect; with `downMs`, the whole link stays cut
   * that long: the REST connections close too, so a request Asterisk is carrying out at that moment
   * is done but its answer never arrives, and one that arrives during the cut is never carried out.
   */
  disconnectAll(downMs = 0): number {
    if (downMs > 0) {
      this.refuseUntil = Date.now() + downMs;
      for (const s of this.restSockets) s.destroy();
      this.restSockets.clear();
    }
    let n = 0;
    for (const ws of this.wss.clients) {
      ws.terminate();
      n++;
    }
    return n;
  }

  close(): Promise<void> {
    this.opts.world.off('event', this.listener);
    this.disconnectAll();
    this.wss.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  app(name: string): AriApp {
    let app = this.apps.get(name);
    if (!app) {
      app = { name, sockets: new Set(), endpointIds: new Set(), deviceNames: new Set(), subscribeAll: false };
      this.apps.set(name, app);
    }
    return app;
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const { user, password } = this.opts;
    const apiKey = url.searchParams.get('api_key');
    if (apiKey !== null) return apiKey === `${user}:${password}`;
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Basic ')) return false;
    return Buffer.from(auth.slice(6), 'base64').toString('utf8') === `${user}:${password}`;
  }

  private onWorldEvent(e: SimEvent): void {
    const routed = renderAriEvent(e, this.opts.world);
    if (!routed) return;
    const targets = new Set(routed.apps);
    for (const app of this.apps.values()) {
      if (app.subscribeAll) targets.add(app.name);
      if (routed.endpoint && (app.endpointIds.has(`PJSIP/${routed.endpoint}`) || app.endpointIds.has('PJSIP'))) targets.add(app.name);
      if (routed.device && app.deviceNames.has(routed.device)) targets.add(app.name);
    }
    for (const name of targets) {
      const app = this.apps.get(name);
      if (!app || app.sockets.size === 0) continue;
      const text = JSON.stringify({ ...routed.body, asterisk_id: ASTERISK_ID, application: name });
      for (const ws of app.sockets) if (ws.readyState === WebSocket.OPEN) ws.send(text);
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (Date.now() < this.refuseUntil) {
      socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reject = (status: number, reason: string, message: string): void => {
      const body = JSON.stringify({ message });
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (url.pathname !== '/ari/events') return reject(404, 'Not Found', 'Not found');
    if (!this.authorized(req, url)) return reject(401, 'Unauthorized', 'Authentication required');
    const appNames = (url.searchParams.getAll('app').join(',')).split(',').map((a) => a.trim()).filter(Boolean);
    if (appNames.length === 0) return reject(400, 'Bad Request', "Missing param 'app'");
    const subscribeAll = /^(true|yes|1)$/i.test(url.searchParams.get('subscribeAll') ?? '');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const apps = appNames.map((n) => this.app(n));
      for (const app of apps) {
        app.sockets.add(ws);
        if (subscribeAll) app.subscribeAll = true;
      }
      ws.on('error', () => undefined);
      ws.on('close', () => {
        for (const app of apps) app.sockets.delete(ws);
      });
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (Date.now() < this.refuseUntil) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body?: unknown): void => {
      if (body === undefined) {
        res.writeHead(status).end();
        return;
      }
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
    };
    try {
      if (!url.pathname.startsWith('/ari/')) return send(404, { message: 'Not found' });
      if (!this.authorized(req, url)) return send(401, { message: 'Authentication required' });
      const basePath = `http://${req.headers.host ?? 'localhost'}/ari`;
      const docs = /^\/ari\/api-docs\/([A-Za-z]+)\.json$/.exec(url.pathname);
      if (docs) {
        const doc = docs[1] === 'resources' ? resourceListing(basePath) : apiDeclaration(docs[1]!, basePath);
        return doc ? send(200, doc) : send(404, { message: 'Not found' });
      }
      const body = await readBody(req);
      const query: Record<string, string | string[]> = {};
      for (const [k, v] of url.searchParams) {
        const prev = query[k];
        query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      const path = url.pathname.slice(4);
      this.opts.onRequest?.({ method: req.method ?? 'GET', path, query, body: body.value });
      // the link was cut as the request came in (by a listener of onRequest): it never reaches Asterisk
      if (Date.now() < this.refuseUntil) return void req.socket.destroy();
      if (body.error) return send(400, { message: 'Invalid JSON body' });
      const matches = this.routes.filter((r) => r.re.test(path));
      if (matches.length === 0) {
        // an inner node of the REST tree without handlers of its own, e.g. /recordings/live (F2): 405, as Asterisk answers
        const inner = this.routes.some((r) => r.op.path.split('/').length > path.split('/').length && compilePrefix(r.op, path));
        return inner ? send(405, { message: 'Invalid method' }) : send(404, { message: 'Not found' });
      }
      const route = matches.find((r) => r.op.method === req.method);
      if (!route) return send(405, { message: 'Invalid method' });
      const values = route.re.exec(path)!.slice(1).map((v) => decodeURIComponent(v));
      const names = [...route.op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      const params: Record<string, string> = {};
      names.forEach((n, i) => (params[n] = values[i]!));
      const handler = ROUTES[`${route.op.resource}.${route.op.nickname}`];
      if (!handler) return send(501, { message: 'Not implemented' });
      const result: RouteResult = handler({ server: this, world: this.opts.world }, { params, query: url.searchParams, body: body.value });
      if (result.raw) {
        res.writeHead(result.status, { 'Content-Type': result.raw.contentType, 'Content-Length': result.raw.data.length }).end(result.raw.data);
        return;
      }
      send(result.status, result.body);
    } catch (err) {
      this.opts.logger.error({ err }, 'simulated ARI request failed');
      if (!res.headersSent) send(500, { message: 'Internal Server Error' });
    }
  }
}

function readBody(req: IncomingMessage): Promise<{ value: unknown; error?: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({ value: undefined });
      try {
        resolve({ value: JSON.parse(text) as unknown });
      } catch {
        resolve({ value: text, error: true });
      }
    });
    req.on('error', () => resolve({ value: undefined }));
  });
}
