/**
 * The command line: --help and --version print and exit 0 without starting
 * anything; a port already in use and a database that cannot be written stop
 * the daemon with one line on stderr and exit code 1, no stack trace.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';

const PKG_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let dir: string | undefined;
let blocker: Server | undefined;
let frozen: string | undefined;
afterEach(async () => {
  if (frozen) execFileSync('chattr', ['-i', frozen]);
  frozen = undefined;
  if (blocker) await new Promise((r) => blocker!.close(r));
  blocker = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    // a setting that would be refused: --help and --version must not even read the configuration
    env: { ...process.env, CALLBRIDGE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    }),
  );
}

it('--help prints the usage with the settings and exits 0', async () => {
  const r = await run(['--help'], { CALLBRIDGE_HTTP_PORT: 'not-a-port' });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^Usage: callbridge/);
  for (const name of ['CALLBRIDGE_HTTP_PORT', 'CALLBRIDGE_DB_PATH', 'CALLBRIDGE_AMI_SECRET', 'CALLBRIDGE_API_TOKENS', 'CALLBRIDGE_SIMULATE', '--version']) {
    expect(r.stdout).toContain(name);
  }
  expect(r.stdout).not.toContain('HTTP API listening');
  expect(r.stderr).toBe('');
}, 30_000);

it('--version prints the package version and exits 0', async () => {
  const r = await run(['--version'], { CALLBRIDGE_HTTP_PORT: 'not-a-port' });
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`callbridge ${PKG_VERSION}\n`);
  expect(r.stderr).toBe('');
}, 30_000);

it('a port already in use is one line and exit code 1', async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-cli-'));
  blocker = createServer();
  await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const r = await run([], { CALLBRIDGE_HTTP_PORT: String(port), CALLBRIDGE_DB_PATH: join(dir, 'db.sqlite'), CALLBRIDGE_AMI_PORT: '1' });
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`callbridge: HTTP port ${port} on 127.0.0.1 is already in use\n`);
  expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stdout).not.toContain('HTTP API listening');
}, 30_000);

it('a database file that cannot be written is one line and exit code 1', async (ctx) => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-cli-'));
  const path = join(dir, 'db.sqlite');
  // an existing (empty) database file, made immutable: root ignores file modes, so a chmod would prove nothing
  writeFileSync(path, '');
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
  } catch {
    ctx.skip();
  }
  frozen = path;
  const r = await run([], { CALLBRIDGE_HTTP_PORT: '0', CALLBRIDGE_DB_PATH: path, CALLBRIDGE_AMI_PORT: '1' });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^callbridge: database ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not writable: .+\n$`));
  expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).not.toContain('HTTP API listening');
}, 30_000);
