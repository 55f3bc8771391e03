/**
 * `callbridge doctor` against the simulated Asterisk: a good setup passes
 * (exit 0), and each broken one (a wrong AMI secret, a wrong ARI password, a
 * missing dialplan context in AMI control mode, an unreadable recordings
 * directory, a channel template of the wrong technology) fails with a line
 * that names the problem and the fix. `--call` places a real call through a
 * running daemon and prints its chain.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, shippedContexts, type CheckLine } from '../../src/doctor/index.js';
import { SimulatedAsterisk } from '../../src/simulator/index.js';
import { silentLogger } from '../../src/log.js';
import { RawAmi } from '../helpers/raw-ami.js';
import { AMI_SECRET, ARI_PASSWORD, startHarness, type Harness } from '../helpers/daemon.js';

const ROOT = join(import.meta.dirname, '../..');
let dir: string;
let sim: SimulatedAsterisk;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-doctor-'));
  mkdirSync(join(dir, 'recordings'));
  sim = new SimulatedAsterisk({
    amiUser: 'callbridge', amiSecret: AMI_SECRET, ariUser: 'callbridge', ariPassword: ARI_PASSWORD,
    recordingsDir: join(dir, 'recordings'), timeScale: 0.05, logger: silentLogger(),
  });
  const { amiPort, ariUrl } = await sim.start();
  env = {
    CALLBRIDGE_DB_PATH: join(dir, 'callbridge.db'),
    CALLBRIDGE_RECORDINGS_DIR: join(dir, 'recordings'),
    CALLBRIDGE_MONITOR_DIR: join(dir, 'recordings'),
    CALLBRIDGE_AMI_PORT: String(amiPort),
    CALLBRIDGE_AMI_SECRET: AMI_SECRET,
    CALLBRIDGE_ARI_URL: ariUrl,
    CALLBRIDGE_ARI_PASSWORD: ARI_PASSWORD,
    CALLBRIDGE_LOG_LEVEL: 'silent',
  };
}, 30_000);
afterAll(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function doctor(extra: Record<string, string> = {}, more: Parameters<typeof runDoctor>[0] = {}) {
  const printed: string[] = [];
  const r = await runDoctor({ env: { ...env, ...extra }, argv: [], print: (l) => printed.push(l), eventWaitMs: 1500, timeoutMs: 3000, ...more });
  return { ...r, printed, line: (id: string) => r.lines.filter((l) => l.id === id) };
}
const failed = (lines: CheckLine[]) => lines.filter((l) => l.outcome === 'fail');

describe('a good setup', () => {
  it('passes every check, one printed line each, exit 0', async () => {
    const r = await doctor();
    expect(failed(r.lines), r.printed.join('\n')).toEqual([]);
    expect(r.code).toBe(0);
    for (const id of ['config', 'database', 'recordings', 'ami.reachable', 'ami.login', 'ami.permissions', 'ami.events', 'ari.reachable', 'ari.credentials', 'ari.app', 'dialplan', 'template.operator', 'template.client']) {
      expect(r.line(id).map((l) => l.outcome), id).toContain('ok');
    }
    expect(r.line('ami.events')[0]!.text).toMatch(/FullyBooted/);
    expect(r.line('dialplan')[0]!.text).toMatch(/callbridge-click2call/);
    expect(r.line('template.operator')[0]!.text).toMatch(/PJSIP endpoint\(s\), e\.g\. PJSIP\/\d+/);
    expect(r.line('template.client')[0]!.text).toMatch(/context \[from-internal\] is loaded/);
    // no daemon is connected: the doctor registered the Stasis app itself, for a moment
    expect(r.line('ari.app')[0]!.text).toMatch(/registers \(no daemon is connected now/);
    expect(r.printed.at(-1)).toMatch(/all needed checks passed/);
    // nothing secret is printed
    expect(r.printed.join('\n')).not.toContain(AMI_SECRET);
    expect(r.printed.join('\n')).not.toContain(ARI_PASSWORD);
  }, 30_000);

  it('reads the shipped contexts from asterisk-config/', () => {
    const contexts = shippedContexts();
    expect(contexts).toContain('callbridge-click2call');
    expect(contexts).toContain('callbridge-cdr');
    expect(contexts).not.toContain('globals');
  });
});

describe('broken setups', () => {
  it('a wrong AMI secret: says exactly that, exit 1', async () => {
    const r = await doctor({ CALLBRIDGE_AMI_SECRET: 'not-the-secret-000' });
    expect(r.code).toBe(1);
    const login = r.line('ami.login')[0]!;
    expect(login.outcome).toBe('fail');
    expect(login.text).toMatch(/AMI login refused for user "callbridge".*secret is wrong/);
    expect(login.fix).toMatch(/CALLBRIDGE_AMI_SECRET.*manager_custom\.conf/);
    expect(r.printed.some((l) => /^FAIL\s+ami\.login\s+AMI login refused/.test(l) && / → set CALLBRIDGE_AMI_SECRET/.test(l))).toBe(true);
    expect(r.printed.join('\n')).not.toContain('not-the-secret-000');
    // ARI still checked on its own
    expect(r.line('ari.credentials')[0]!.outcome).toBe('ok');
  }, 30_000);

  it('a wrong ARI password', async () => {
    const r = await doctor({ CALLBRIDGE_ARI_PASSWORD: 'wrong-ari-password' });
    expect(r.code).toBe(1);
    expect(r.line('ari.credentials')[0]).toMatchObject({ outcome: 'fail', text: expect.stringMatching(/ARI refuses user "callbridge" \(401\)/) });
  }, 30_000);

  it('nothing listening on the AMI port', async () => {
    const r = await doctor({ CALLBRIDGE_AMI_PORT: '1' });
    expect(r.code).toBe(1);
    expect(r.line('ami.reachable')[0]).toMatchObject({ outcome: 'fail', text: expect.stringMatching(/not reachable \(ECONNREFUSED\)/) });
    expect(r.line('dialplan')[0]!.outcome).toBe('skip');
  }, 30_000);

  it('a missing click-to-call context fails in AMI control mode and only warns in ARI mode', async () => {
    const raw = await RawAmi.open(Number(env.CALLBRIDGE_AMI_PORT), 'callbridge', AMI_SECRET);
    try {
      const removed = await raw.send({ Action: 'Command', Command: 'dialplan remove context callbridge-click2call' });
      expect(removed.Response).toBe('Success');
      const ami = await doctor({ CALLBRIDGE_CONTROL: 'ami' });
      expect(ami.code).toBe(1);
      const missing = ami.line('dialplan').find((l) => l.outcome === 'fail')!;
      expect(missing.text).toMatch(/context \[callbridge-click2call\] is not loaded \(AMI call control\)/);
      expect(missing.fix).toMatch(/extensions_custom\.conf.*dialplan reload/);
      const ari = await doctor();
      expect(ari.code).toBe(0);
      expect(ari.line('dialplan').find((l) => /click2call\]/.test(l.text))!.outcome).toBe('warn');
    } finally {
      await raw.send({ Action: 'Command', Command: 'dialplan reload' });
      raw.close();
    }
  }, 30_000);

  it('ARI control needs [callbridge-ari] unless CALLBRIDGE_ARI_CONTEXT=off', async () => {
    const raw = await RawAmi.open(Number(env.CALLBRIDGE_AMI_PORT), 'callbridge', AMI_SECRET);
    try {
      expect((await raw.send({ Action: 'Command', Command: 'dialplan remove context callbridge-ari' })).Response).toBe('Success');
      const ari = await doctor();
      expect(ari.code).toBe(1);
      const missing = ari.line('dialplan').find((l) => l.outcome === 'fail')!;
      expect(missing.text).toMatch(/context \[callbridge-ari\] is not loaded \(ARI call control; or set CALLBRIDGE_ARI_CONTEXT=off\)/);
      const off = await doctor({ CALLBRIDGE_ARI_CONTEXT: 'off' });
      expect(off.code).toBe(0);
    } finally {
      await raw.send({ Action: 'Command', Command: 'dialplan reload' });
      raw.close();
    }
  }, 30_000);

  it('an operator template of a technology Asterisk does not have', async () => {
    const r = await doctor({ CALLBRIDGE_OPERATOR_CHANNEL: 'SIP/{sip}' });
    expect(r.code).toBe(1);
    expect(r.line('template.operator')[0]).toMatchObject({ outcome: 'fail', text: expect.stringMatching(/Asterisk has no SIP endpoint \(it has PJSIP/) });
    const client = await doctor({ CALLBRIDGE_CLIENT_CHANNEL: 'Local/{phone}@no-such-context' });
    expect(client.line('template.client')[0]).toMatchObject({ outcome: 'fail', text: expect.stringMatching(/context \[no-such-context\] is not in Asterisk's dialplan/) });
  }, 30_000);

  it('a recordings path that is a file', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await doctor({ CALLBRIDGE_RECORDINGS_DIR: file, CALLBRIDGE_MONITOR_DIR: file });
    expect(r.code).toBe(1);
    expect(r.line('recordings')[0]).toMatchObject({ outcome: 'fail', text: expect.stringMatching(/is not a directory/) });
  }, 30_000);

  it('an unreadable recordings directory (the doctor as a process, without root\'s override)', () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o000);
    try {
      const cmd = [process.execPath, '--import', 'tsx', join(ROOT, 'src/main.ts'), 'doctor'];
      // only the directory matters here: no PBX to wait for (AMI on a closed port, ARI off)
      const childEnv = { ...process.env, ...env, CALLBRIDGE_RECORDINGS_DIR: locked, CALLBRIDGE_MONITOR_DIR: locked, CALLBRIDGE_AMI_PORT: '1', CALLBRIDGE_ARI_URL: 'off', CALLBRIDGE_CONTROL: 'ami' };
      const asRoot = process.getuid?.() === 0;
      const r = asRoot
        ? spawnSync('capsh', ['--drop=cap_dac_override,cap_dac_read_search', '--', '-c', cmd.map((c) => `'${c}'`).join(' ')], { env: childEnv, encoding: 'utf8', cwd: ROOT, timeout: 30_000 })
        : spawnSync(cmd[0]!, cmd.slice(1), { env: childEnv, encoding: 'utf8', cwd: ROOT, timeout: 30_000 });
      if (r.error && asRoot) throw new Error(`capsh is needed to run this test as root: ${r.error.message}`);
      const line = r.stdout.split('\n').find((l) => /^\S+\s+recordings\s/.test(l));
      expect(line, r.stdout + r.stderr).toMatch(/^FAIL\s+recordings\s+.*locked is not readable \(EACCES\) → let the daemon's user read it/);
      expect(r.status).toBe(1);
    } finally {
      chmodSync(locked, 0o755);
    }
  }, 40_000);

  it('an invalid setting: exit 2 with the variable named', async () => {
    const r = await doctor({ CALLBRIDGE_AMI_PORT: 'abc' });
    expect(r.code).toBe(2);
    expect(r.lines[0]).toMatchObject({ id: 'config', outcome: 'fail', text: expect.stringMatching(/CALLBRIDGE_AMI_PORT: must be a number/) });
  });
});

describe('--call through a running daemon', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ control: 'ari' });
  }, 30_000);
  afterAll(async () => h?.close());

  it('places a real call and prints the chain to FINISH', async () => {
    const printed: string[] = [];
    const r = await runDoctor({
      env: {
        CALLBRIDGE_DB_PATH: join(h.dir, 'callbridge.db'),
        CALLBRIDGE_RECORDINGS_DIR: join(h.dir, 'recordings'),
        CALLBRIDGE_HTTP_PORT: String(h.daemon.port),
        CALLBRIDGE_AMI_PORT: String(h.amiPort),
        CALLBRIDGE_AMI_SECRET: AMI_SECRET,
        CALLBRIDGE_ARI_URL: h.ariUrl,
        CALLBRIDGE_ARI_PASSWORD: ARI_PASSWORD,
      },
      call: { sip: '101', phone: '380639920000' },
      print: (l) => printed.push(l),
      eventWaitMs: 1500,
      callTimeoutMs: 20_000,
    });
    const text = printed.join('\n');
    expect(r.code, text).toBe(0);
    // the daemon is connected: its Stasis app is seen registered, the doctor does not register it again
    expect(r.lines.find((l) => l.id === 'ari.app')!.text).toMatch(/is registered \(the daemon is connected\)/);
    const chain = printed.filter((l) => /^\s+\+\s*[\d.]+ s\s+[A-Z_]+/.test(l)).map((l) => /s\s+([A-Z_]+)/.exec(l)![1]);
    expect(chain).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']);
    expect(r.lines.find((l) => l.id === 'call')).toMatchObject({ outcome: 'ok', text: expect.stringMatching(/FINISH/) });
    // the call is the daemon's own, in its database
    const calls = await h.api('/api/callList.json');
    expect(calls.body.calls[0].order_id).toMatch(/^doctor-/);
  }, 40_000);

  it('a refused call fails with the reason', async () => {
    const printed: string[] = [];
    const r = await runDoctor({
      env: { CALLBRIDGE_HTTP_PORT: String(h.daemon.port), CALLBRIDGE_AMI_PORT: String(h.amiPort), CALLBRIDGE_AMI_SECRET: AMI_SECRET, CALLBRIDGE_ARI_URL: h.ariUrl, CALLBRIDGE_ARI_PASSWORD: ARI_PASSWORD, CALLBRIDGE_DB_PATH: join(h.dir, 'callbridge.db'), CALLBRIDGE_RECORDINGS_DIR: join(h.dir, 'recordings') },
      call: { sip: '999', phone: '380639920000' },
      print: (l) => printed.push(l),
      eventWaitMs: 1000,
    });
    expect(r.code).toBe(1);
    expect(r.lines.find((l) => l.id === 'call')).toMatchObject({ outcome: 'fail', text: expect.stringMatching(/makeCall refused: UNKNOWN_OPERATOR/) });
  }, 30_000);
});
