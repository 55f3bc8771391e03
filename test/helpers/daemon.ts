/**
 * A simulated Asterisk and a daemon connected to it over real AMI and ARI
 * sockets, each with its own temporary database and recordings directory.
 * The daemon can be stopped and started again on the same database while the
 * simulated PBX (and its calls) live on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { AMI_USER_EVENT_FILTERS, SimulatedAsterisk, amiWriteClasses } from '../../src/simulator/index.js';

export const AMI_SECRET = 'sim-ami-secret-0123';
export const ARI_PASSWORD = 'sim-ari-password-0123';

export interface Harness {
  sim: SimulatedAsterisk;
  daemon: Daemon;
  dir: string;
  amiPort: number;
  ariUrl: string;
  /** GET/POST an API path, JSON answer */
  api(path: string, init?: RequestInit): Promise<{ status: number; body: any }>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startHarness(
  opts: { control?: 'ari' | 'ami'; timeScale?: number; extraOperators?: number; env?: Record<string, string>; logLevel?: string; amiWrite?: readonly string[] } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-test-'));
  const sim = new SimulatedAsterisk({
    amiUser: 'callbridge',
    amiSecret: AMI_SECRET,
    ariUser: 'callbridge',
    ariPassword: ARI_PASSWORD,
    recordingsDir: join(dir, 'recordings'),
    timeScale: opts.timeScale ?? 0.05,
    extraOperators: opts.extraOperators ?? 0,
    amiWrite: opts.amiWrite ?? amiWriteClasses(opts.control ?? 'ari'),
    amiEventFilters: AMI_USER_EVENT_FILTERS,
    logger: silentLogger(),
  });
  const { amiPort, ariUrl } = await sim.start();
  const logger = opts.logLevel ? createLogger({ level: opts.logLevel }) : silentLogger();
  const config = loadConfig(
    {
      CALLBRIDGE_DB_PATH: join(dir, 'callbridge.db'),
      CALLBRIDGE_RECORDINGS_DIR: join(dir, 'recordings'),
      CALLBRIDGE_HTTP_PORT: '0',
      CALLBRIDGE_AMI_PORT: String(amiPort),
      CALLBRIDGE_AMI_SECRET: AMI_SECRET,
      CALLBRIDGE_ARI_URL: ariUrl,
      CALLBRIDGE_ARI_PASSWORD: ARI_PASSWORD,
      CALLBRIDGE_CONTROL: opts.control ?? 'ari',
      CALLBRIDGE_LOG_LEVEL: 'silent',
      ...opts.env,
    },
    [],
  );
  const h: Harness = {
    sim,
    daemon: undefined as unknown as Daemon,
    dir,
    amiPort,
    ariUrl,
    async api(path, init) {
      const res = await fetch(`http://127.0.0.1:${h.daemon.port}${path}`, init);
      const text = await res.text();
      return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
    },
    async restart() {
      await h.daemon.stop();
      h.daemon = await startDaemon(config, logger);
      await ready(h);
    },
    async close() {
      await h.daemon?.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  h.daemon = await startDaemon(config, logger);
  await ready(h);
  return h;
}

async function ready(h: Harness): Promise<void> {
  await waitFor('the daemon to connect and resync', async () => {
    const health = await h.api('/health');
    return health.body.status === 'ok' && h.daemon.presence.resyncs > 0;
  });
}
