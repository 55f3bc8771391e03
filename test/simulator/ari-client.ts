import { createRequire } from 'node:module';

/** What the tests use of an npm ari-client 2.2.0 Client (the package ships no types). */
export type AriOp = (params?: Record<string, unknown>) => Promise<Record<string, any>>;
export interface AriEvent {
  type: string;
  [key: string]: any;
}
export interface AriClient {
  on(event: string, fn: (event: AriEvent, instance?: unknown) => void): void;
  start(app: string | string[]): Promise<void>;
  stop(): void;
  asterisk: Record<string, AriOp>;
  endpoints: Record<string, AriOp>;
  channels: Record<string, AriOp>;
  bridges: Record<string, AriOp>;
  applications: Record<string, AriOp>;
  recordings: Record<string, AriOp>;
  playbacks: Record<string, AriOp>;
}

const requireHere = createRequire(import.meta.url);
const ari = requireHere('ari-client') as { connect(url: string, user: string, pass: string): Promise<AriClient> };

/** swagger-client logs a deprecation line with console.log on every connect; keep test output clean. */
function quietSwagger(): void {
  (globalThis as unknown as { log?: unknown }).log = () => undefined;
}

export async function connectAri(url: string, user: string, pass: string): Promise<AriClient> {
  quietSwagger();
  const client = await ari.connect(url, user, pass);
  quietSwagger();
  return client;
}

/** Collects the websocket events of a client, and lets a test wait for one. */
export class EventLog {
  readonly events: AriEvent[] = [];

  constructor(client: AriClient) {
    client.on('*', (e) => this.events.push(e));
  }

  async waitFor(pred: (e: AriEvent) => boolean, timeoutMs = 3000): Promise<AriEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out; events: ${this.events.map((e) => e.type).join(', ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Event types concerning one channel, in order. */
  of(channelId: string): AriEvent[] {
    return this.events.filter((e) => (e.channel ?? e.peer)?.id === channelId);
  }
}
