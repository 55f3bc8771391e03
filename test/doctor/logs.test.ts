/**
 * Logs: pino JSON lines by default (systemd's journal, pipes), readable
 * single lines on a terminal, the call id first on every call state change;
 * secrets are redacted either way.
 */
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

const ROOT = join(import.meta.dirname, '../..');

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

describe('logs', () => {
  it('are JSON lines by default', () => {
    const out = sink();
    const log = createLogger({ level: 'info', destination: out.stream });
    log.child({ component: 'calls' }).info({ call_id: 12, order_id: '15', status: 'CLIENT_PICKUP' }, 'call status');
    const line = JSON.parse(out.text().trim());
    expect(line).toMatchObject({ level: 30, component: 'calls', call_id: 12, status: 'CLIENT_PICKUP', msg: 'call status' });
  });

  it('are one readable line per entry when pretty, the call id first; secrets stay redacted', () => {
    const out = sink();
    const log = createLogger({ level: 'debug', destination: out.stream, pretty: true });
    log.child({ component: 'calls' }).info({ call_id: 12, order_id: '15', status: 'CLIENT_PICKUP', sip: '101' }, 'call status');
    log.warn({ secret: 'do-not-show-0123', url: 'http://x' }, 'AMI unreachable');
    log.debug('quiet');
    const lines = out.text().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: \[calls\] call 12: call status \{.*"status":"CLIENT_PICKUP"/);
    expect(lines[0]).not.toMatch(/"call_id"/);
    expect(lines[1]).toMatch(/WARN: AMI unreachable .*"secret":"\[redacted\]"/);
    expect(out.text()).not.toContain('do-not-show-0123');
    expect(lines[2]).toMatch(/DEBUG: quiet$/);
  });

  it('are readable on a terminal and JSON through a pipe, CALLBRIDGE_LOG_LEVEL deciding what shows', () => {
    const code = "import('./src/log.ts').then(({ createLogger }) => { const l = createLogger({ level: process.env.CALLBRIDGE_LOG_LEVEL }); l.info({ call_id: 3 }, 'call status'); l.debug('detail'); })";
    const cmd = `${process.execPath} --import tsx -e "${code.replace(/"/g, '\\"')}"`;
    const env = { ...process.env, CALLBRIDGE_LOG_LEVEL: 'info', NO_COLOR: '1' };
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, env, encoding: 'utf8', timeout: 20_000 });
    if (tty.error) throw new Error(`script(1) is needed for this test: ${tty.error.message}`);
    expect(tty.stdout).toMatch(/INFO: call 3: call status/);
    expect(tty.stdout).not.toMatch(/detail/);
    const piped = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, env: { ...env, CALLBRIDGE_LOG_LEVEL: 'debug' }, encoding: 'utf8', timeout: 20_000 });
    const lines = piped.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual(['call status', 'detail']);
    expect(lines[0].call_id).toBe(3);
  }, 30_000);
});
