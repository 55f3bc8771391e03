/** The daemon as a real process (`node --import tsx src/main.ts`), for the kill and SIGTERM tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './daemon.js';

export interface DaemonProcess {
  proc: ChildProcess;
  /** the HTTP port, once its "HTTP API listening" line was logged */
  port(): Promise<number>;
  /** resolves with the exit code */
  exited: Promise<number | null>;
}

export function spawnDaemon(env: Record<string, string>): DaemonProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const port = async () => {
    const l = await waitFor('HTTP listening', () => out.split('\n').filter((x) => x.startsWith('{')).map((x) => JSON.parse(x) as { msg?: string; port?: number }).find((x) => x.msg === 'HTTP API listening'), 20_000);
    return l.port!;
  };
  return { proc, port, exited };
}
