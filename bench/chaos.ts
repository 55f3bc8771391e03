/**
 * `npm run chaos`: N click-to-calls in flight over the cast's outcomes, then
 * faults: drops of the AMI link, of the ARI link (once, and ten in a row), and
 * the daemon killed with SIGKILL and started again on the same database, in
 * each control mode. The daemon runs in a process of its own (bench/daemon-proc.ts)
 * against a simulated Asterisk in this process; every scenario is compared
 * with a run of the same calls without faults, in the same run.
 *
 * Per scenario it prints: calls without exactly one final status, calls whose
 * final status differs from the run without faults, calls whose billsec differs
 * by more than 1 s, recording files on disk without their row, rows without
 * their file, and duplicated rows (final statuses, recordings). Targets: 0
 * everywhere for single drops and restarts; for ten drops in a row, 0 calls
 * without a final status and at most 2% differing (each one is listed).
 *
 * Sizes (environment): CHAOS_CALLS (30), CHAOS_TIME_SCALE (0.5),
 * CHAOS_ONLY=ari,ami limits the modes, CHAOS_SCENARIO=<part of a name> the scenarios. Bounded: each scenario waits at most
 * 60 s for its calls to end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { AMI_USER_EVENT_FILTERS, SimulatedAsterisk, amiWriteClasses } from '../src/simulator/index.js';
import { silentLogger } from '../src/log.js';

const CALLS = Number(process.env.CHAOS_CALLS ?? 30);
const TIME_SCALE = Number(process.env.CHAOS_TIME_SCALE ?? 0.5);
const MODES = (process.env.CHAOS_ONLY ?? 'ari,ami').split(',').filter((m): m is 'ari' | 'ami' => m === 'ari' || m === 'ami');
/** client outcomes by last digit (SPEC cast): 0 talks 3 s, 7 talks 1 s, 5 busy, 6 no answer, 8 congestion */
const DIGITS = ['0', '7', '5', '6', '0', '8', '7', '0'];
const AMI_SECRET = 'chaos-ami-secret-0123';
const ARI_PASSWORD = 'chaos-ari-password-0123';

type Fault = { kind: 'none' } | { kind: 'drop'; link: 'ami' | 'ari'; times: number; everyMs: number; downMs: number } | { kind: 'kill'; downMs: number };

interface Scenario {
  name: string;
  fault: Fault;
  /** the 0/0/0/0 targets apply (single faults); ten drops are allowed 2% differing */
  strict: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'AMI dropped once', fault: { kind: 'drop', link: 'ami', times: 1, everyMs: 0, downMs: 1000 }, strict: true },
  { name: 'ARI dropped once', fault: { kind: 'drop', link: 'ari', times: 1, everyMs: 0, downMs: 1000 }, strict: true },
  { name: 'daemon killed -9, restarted', fault: { kind: 'kill', downMs: 1500 }, strict: true },
  { name: 'AMI dropped 10 times, 0.7 s apart', fault: { kind: 'drop', link: 'ami', times: 10, everyMs: 700, downMs: 200 }, strict: false },
  { name: 'ARI dropped 10 times, 0.7 s apart', fault: { kind: 'drop', link: 'ari', times: 10, everyMs: 700, downMs: 200 }, strict: false },
];

interface CallOutcome {
  index: number;
  phone: string;
  finals: string[];
  billsec: number | null;
  /** the final status's reason, which explains a difference */
  reason?: string;
}

interface Result {
  name: string;
  calls: CallOutcome[];
  noFinal: number;
  recordingsWithoutRow: string[];
  rowsWithoutFile: Array<{ call_id: number; file: string }>;
  duplicateRecordings: number;
  elapsedMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class DaemonProcess {
  private child: ChildProcess | undefined;
  port = 0;

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    const child = fork(fileURLToPath(new URL('./daemon-proc.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...this.env },
      // CHAOS_LOG_FILE=<path> (with CHAOS_LOG_LEVEL) appends the daemons' log lines there
      stdio: ['ignore', process.env.CHAOS_LOG_FILE ? openSync(process.env.CHAOS_LOG_FILE, 'a') : 'ignore', 'inherit', 'ipc'],
    });
    this.child = child;
    this.port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { type: string; port: number }) => (m.type === 'ready' ? resolve(m.port) : reject(new Error('unexpected message'))));
      child.once('exit', (code) => reject(new Error(`daemon exited (${code}) before it was ready`)));
    });
  }

  kill(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.send({ type: 'stop' });
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
  }

  async api(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
}

async function runScenario(mode: 'ari' | 'ami', name: string, fault: Fault): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-chaos-'));
  const recordingsDir = join(dir, 'recordings');
  const sim = new SimulatedAsterisk({
    amiUser: 'callbridge', amiSecret: AMI_SECRET, ariUser: 'callbridge', ariPassword: ARI_PASSWORD,
    recordingsDir, timeScale: TIME_SCALE, extraOperators: CALLS, amiWrite: amiWriteClasses(mode), amiEventFilters: AMI_USER_EVENT_FILTERS, logger: silentLogger(),
  });
  const { amiPort, ariUrl } = await sim.start();
  const dbPath = join(dir, 'callbridge.db');
  const daemon = new DaemonProcess({
    CALLBRIDGE_DB_PATH: dbPath,
    CALLBRIDGE_RECORDINGS_DIR: recordingsDir,
    CALLBRIDGE_HTTP_HOST: '127.0.0.1',
    CALLBRIDGE_HTTP_PORT: '0',
    CALLBRIDGE_AMI_PORT: String(amiPort),
    CALLBRIDGE_AMI_SECRET: AMI_SECRET,
    CALLBRIDGE_ARI_URL: ariUrl,
    CALLBRIDGE_ARI_PASSWORD: ARI_PASSWORD,
    CALLBRIDGE_CONTROL: mode,
    CALLBRIDGE_LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'silent',
  });
  const started = Date.now();
  try {
    await daemon.start();
    for (let i = 0; ; i++) {
      const h = await daemon.api('/health');
      if (h.body.status === 'ok') break;
      if (i > 200) throw new Error('the daemon never became healthy');
      await sleep(50);
    }
    const ids: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const phone = `38063992${String(i).padStart(3, '0')}${DIGITS[i % DIGITS.length]}`;
      const res = await daemon.api(`/api/makeCall.json?sip=${201 + i}&phone=${phone}&order_id=chaos-${i}`);
      if (res.status !== 200) throw new Error(`makeCall ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      ids.push(res.body.call_id as number);
    }
    // the faults, while the calls ring and talk
    await sleep(1200 * TIME_SCALE * 2);
    if (fault.kind === 'drop') {
      for (let k = 0; k < fault.times; k++) {
        sim.disconnect(fault.link, fault.downMs);
        if (k < fault.times - 1) await sleep(fault.everyMs);
      }
    } else if (fault.kind === 'kill') {
      daemon.kill();
      await sleep(fault.downMs);
      await daemon.start();
    }
    // every call ends on the PBX within the cast's times; then the daemon gets a little while to settle
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const open = db.prepare('SELECT count(*) AS n FROM calls WHERE final = 0');
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        if (sim.channelNames().length === 0 && (open.get() as { n: number }).n === 0) break;
        await sleep(200);
      }
      await sleep(6000 * Math.max(TIME_SCALE, 0.2)); // recordings finish after their calls
      const finals = db.prepare("SELECT call_id, status, details FROM call_statuses WHERE status IN ('OPERATOR_OFFLINE','OPERATOR_NOANSWER','OPERATOR_BUSY','CLIENT_NOANSWER','CLIENT_BUSY','CLIENT_CANCEL','OPERATOR_CANCEL','ERROR','FINISH') ORDER BY id").all() as Array<{ call_id: number; status: string; details: string | null }>;
      const rows = db.prepare('SELECT id, phone, billsec FROM calls').all() as Array<{ id: number; phone: string; billsec: number | null }>;
      const recs = db.prepare('SELECT call_id, file FROM recordings').all() as Array<{ call_id: number; file: string }>;
      const calls: CallOutcome[] = ids.map((id, index) => {
        const row = rows.find((r) => r.id === id)!;
        const mine = finals.filter((f) => f.call_id === id);
        const reason = (JSON.parse(mine.at(-1)?.details ?? '{}') as { reason?: string }).reason;
        return { index, phone: row.phone, finals: mine.map((f) => f.status), billsec: row.billsec, ...(reason ? { reason } : {}) };
      });
      const files = existsSync(recordingsDir) ? readdirSync(recordingsDir).map((f) => join(recordingsDir, f)) : [];
      const byCall = new Map<number, number>();
      for (const r of recs) byCall.set(r.call_id, (byCall.get(r.call_id) ?? 0) + 1);
      return {
        name,
        calls,
        noFinal: calls.filter((c) => c.finals.length !== 1).length,
        recordingsWithoutRow: files.filter((f) => !recs.some((r) => r.file === f)),
        rowsWithoutFile: recs.filter((r) => !existsSync(r.file)),
        duplicateRecordings: [...byCall.values()].filter((n) => n > 1).length,
        elapsedMs: Date.now() - started,
      };
    } finally {
      db.close();
    }
  } finally {
    await daemon.stop().catch(() => undefined);
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function compare(base: Result, r: Result): { statusDiff: CallOutcome[]; billsecDiff: CallOutcome[] } {
  const statusDiff: CallOutcome[] = [];
  const billsecDiff: CallOutcome[] = [];
  for (const c of r.calls) {
    const b = base.calls[c.index]!;
    if (c.finals.join() !== b.finals.join()) statusDiff.push(c);
    else if (Math.abs((c.billsec ?? 0) - (b.billsec ?? 0)) > 1) billsecDiff.push(c);
  }
  return { statusDiff, billsecDiff };
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);

async function main(): Promise<void> {
  console.log(`chaos: ${CALLS} click-to-calls in flight per scenario, time scale ${TIME_SCALE}, modes ${MODES.join(', ')}`);
  let failed = false;
  for (const mode of MODES) {
    const base = await runScenario(mode, 'no faults (baseline)', { kind: 'none' });
    console.log(`\n${mode.toUpperCase()} control`);
    console.log(`${pad('scenario', 36)}${pad('no single final', 17)}${pad('status differs', 16)}${pad('billsec differs', 17)}${pad('files w/o row', 15)}${pad('rows w/o file', 15)}${pad('duplicates', 12)}time`);
    const line = (r: Result, d: { statusDiff: CallOutcome[]; billsecDiff: CallOutcome[] }) =>
      console.log(`${pad(r.name, 36)}${pad(r.noFinal, 17)}${pad(d.statusDiff.length, 16)}${pad(d.billsecDiff.length, 17)}${pad(r.recordingsWithoutRow.length, 15)}${pad(r.rowsWithoutFile.length, 15)}${pad(r.duplicateRecordings, 12)}${(r.elapsedMs / 1000).toFixed(1)} s`);
    line(base, { statusDiff: [], billsecDiff: [] });
    if (base.noFinal > 0) failed = true;
    for (const s of SCENARIOS.filter((x) => !process.env.CHAOS_SCENARIO || x.name.includes(process.env.CHAOS_SCENARIO))) {
      const r = await runScenario(mode, s.name, s.fault);
      const d = compare(base, r);
      line(r, d);
      for (const c of [...d.statusDiff, ...d.billsecDiff]) {
        const b = base.calls[c.index]!;
        console.log(`    call ${c.index} (${c.phone}): ${c.finals.join('+') || 'no final'} billsec ${c.billsec} (without faults: ${b.finals.join('+')} billsec ${b.billsec})${c.reason ? `: ${c.reason}` : ''}`);
      }
      for (const f of r.recordingsWithoutRow) console.log(`    file without a row: ${f}`);
      for (const f of r.rowsWithoutFile) console.log(`    row without its file: call ${f.call_id} ${f.file}`);
      const differing = d.statusDiff.length + d.billsecDiff.length;
      const ok = s.strict
        ? r.noFinal === 0 && differing === 0 && r.recordingsWithoutRow.length === 0 && r.duplicateRecordings === 0
        : r.noFinal === 0 && differing <= Math.floor(CALLS * 0.02) && r.duplicateRecordings === 0;
      if (!ok) failed = true;
    }
  }
  console.log(failed ? '\nchaos: some targets were missed (see above)' : '\nchaos: every target met');
  process.exitCode = failed ? 1 : 0;
}

await main();
