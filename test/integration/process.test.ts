/**
 * The daemon as a process: with no Asterisk reachable it starts, serves the
 * API (makeCall answers PBX_UNAVAILABLE), logs every reconnect attempt, and
 * shuts down cleanly on SIGTERM with exit code 0. Secrets never reach the log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon.js';

let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

it('runs without Asterisk, answers PBX_UNAVAILABLE, retries, and stops on SIGTERM', async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-proc-'));
  const dead = await closedPort();
  const secret = 'never-log-this-secret-42';
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      CALLBRIDGE_HTTP_PORT: '0',
      CALLBRIDGE_DB_PATH: join(dir, 'db.sqlite'),
      CALLBRIDGE_AMI_PORT: String(dead),
      CALLBRIDGE_AMI_SECRET: secret,
      CALLBRIDGE_ARI_URL: `http://127.0.0.1:${dead}`,
      CALLBRIDGE_ARI_PASSWORD: secret,
      CALLBRIDGE_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

  const listening = await waitFor('HTTP listening', () => lines().find((l) => l.msg === 'HTTP API listening'), 20_000);
  const base = `http://127.0.0.1:${listening.port as number}`;
  expect(lines().some((l) => l.level === 40 && /loopback only/.test(String(l.msg)))).toBe(true);

  const health = await fetch(`${base}/health`);
  expect(health.status).toBe(503);
  expect(await health.json()).toMatchObject({ status: 'degraded', ami: 'disconnected', ari: 'disconnected', db: 'ok' });

  const call = await fetch(`${base}/api/makeCall.json?sip=101&phone=380639920000&order_id=1`);
  expect(call.status).toBe(503);
  expect(((await call.json()) as { error: { code: string } }).error.code).toBe('PBX_UNAVAILABLE');

  await waitFor('two AMI retries logged', () => lines().filter((l) => /AMI unreachable, retrying in \d+ ms/.test(String(l.msg))).length >= 2, 10_000);

  const t0 = Date.now();
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
  expect(code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(lines().some((l) => l.msg === 'stopped')).toBe(true);
  expect(out).not.toContain(secret);
}, 40_000);
