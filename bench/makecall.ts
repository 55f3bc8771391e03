/**
 * Section 1: makeCall latency, from the HTTP request leaving the client to the
 * originate request reaching the simulated Asterisk (ARI `POST /channels`, or
 * AMI `Action: Originate`), with many click-to-calls in flight at once, in the
 * control mode given by BENCH_CONTROL (ari | ami). Baseline in the same run:
 * GET /health under the same concurrency.
 *
 * The daemon runs in a process of its own (bench/daemon-proc.ts, the real
 * startDaemon at its default log level, output discarded); this process holds
 * the simulated Asterisk and the HTTP load, and takes both timestamps of a
 * measurement, so no clocks are compared across processes.
 *
 * One call per operator is allowed, so the simulator gets as many extra
 * answering operators (201, 202, …) as calls are in flight.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/log.js';
import { AMI_USER_EVENT_FILTERS, SimulatedAsterisk, amiWriteClasses } from '../src/simulator/index.js';
import { envInt, until } from './stats.js';
import { progress, section } from './child.js';

/** The simulator's extra operators are 201, 202, … */
const EXTRA_SIP_BASE = 200;
/** Client answers after 1 s and hangs up after 1 s of talk (cast times, scaled by TIME_SCALE). */
const PHONE = '380639920007';
const TIME_SCALE = 0.25;

export interface MakeCallResult {
  mode: 'ari' | 'ami';
  concurrency: number;
  rounds: number;
  /** ms per call: HTTP request sent → originate request received by the simulated PBX */
  toOriginate: number[];
  /** ms per call: HTTP round trip of makeCall */
  makeCallHttp: number[];
  /** ms per request: GET /health round trip, same concurrency */
  health: number[];
  /** ms per call, one request at a time */
  sequentialToOriginate: number[];
  errors: Record<string, number>;
  /** calls by last status at the end (FINISH expected) */
  statuses: Record<string, number>;
  /** CPU time of the daemon process (user + system) per call over the timed rounds, whole calls */
  daemonCpuMsPerCall: number;
  /** the same from the first makeCall request of a round until every Originate reached the PBX, per call */
  daemonCpuMsPerMakeCall?: number;
  /** the same per GET /health request of the baseline rounds */
  daemonCpuMsPerHealth?: number;
}

section(async (): Promise<MakeCallResult> => {
  const mode = process.env.BENCH_CONTROL === 'ami' ? 'ami' : 'ari';
  const concurrency = envInt('BENCH_CONCURRENCY', 100);
  const rounds = envInt('BENCH_MAKECALL_ROUNDS', 10);
  const sips = Array.from({ length: concurrency }, (_, k) => String(EXTRA_SIP_BASE + 1 + k));

  const dir = mkdtempSync(join(tmpdir(), 'callbridge-bench-makecall-'));
  const sim = new SimulatedAsterisk({
    amiUser: 'callbridge',
    amiSecret: 'bench-ami-secret-0123',
    ariUser: 'callbridge',
    ariPassword: 'bench-ari-password-0123',
    recordingsDir: join(dir, 'recordings'),
    timeScale: TIME_SCALE,
    extraOperators: concurrency,
    amiWrite: amiWriteClasses(mode),
    amiEventFilters: AMI_USER_EVENT_FILTERS,
    logger: silentLogger(),
  });
  const { amiPort, ariUrl } = await sim.start();
  const daemon = await startDaemonProcess({
    CALLBRIDGE_DB_PATH: join(dir, 'callbridge.db'),
    CALLBRIDGE_RECORDINGS_DIR: join(dir, 'recordings'),
    CALLBRIDGE_HTTP_PORT: '0',
    CALLBRIDGE_AMI_PORT: String(amiPort),
    CALLBRIDGE_AMI_SECRET: 'bench-ami-secret-0123',
    CALLBRIDGE_ARI_URL: ariUrl,
    CALLBRIDGE_ARI_PASSWORD: 'bench-ari-password-0123',
    CALLBRIDGE_CONTROL: mode,
    CALLBRIDGE_LOG_LEVEL: process.env.CALLBRIDGE_LOG_LEVEL ?? 'info',
  });
  const reached = new Map<number, number>();
  sim.on('ariRequest', (info: { method: string; path: string; query: Record<string, string | string[]> }) => {
    if (info.method !== 'POST' || info.path !== '/channels') return;
    const args = String(info.query.appArgs ?? '').split(',');
    // the operator leg: Stasis app arguments `operator,<call id>`, or the channel id the daemon names `cb-<call id>-op-…`
    const own = /^cb-(\d+)-op-/.exec(String(info.query.channelId ?? ''));
    const callId = args[0] === 'operator' ? Number(args[1]) : own ? Number(own[1]) : undefined;
    if (callId !== undefined && !reached.has(callId)) reached.set(callId, performance.now());
  });
  sim.on('amiAction', ({ fields }: { fields: Record<string, string | string[]> }) => {
    if (String(fields.Action).toLowerCase() !== 'originate') return;
    const vars = ([] as string[]).concat(fields.Variable ?? []);
    const id = vars.find((v) => v.startsWith('CALLBRIDGE_CALL_ID='));
    if (id) reached.set(Number(id.split('=')[1]), performance.now());
  });

  const errors: Record<string, number> = {};
  const base = `http://127.0.0.1:${daemon.port}`;
  let order = 0;

  /** One makeCall per sip, all sent at once; returns per-call latencies. */
  const callRound = async (batch: readonly string[]) => {
    const sent: Array<{ callId: number; t0: number; http: number }> = [];
    await Promise.all(
      batch.map(async (sip) => {
        const t0 = performance.now();
        const res = await fetch(`${base}/api/makeCall.json?sip=${sip}&phone=${PHONE}&order_id=bench-${++order}`);
        const body = (await res.json()) as { call_id?: number; error?: { code: string } };
        const http = performance.now() - t0;
        if (res.status === 200 && body.call_id) sent.push({ callId: body.call_id, t0, http });
        else errors[body.error?.code ?? String(res.status)] = (errors[body.error?.code ?? String(res.status)] ?? 0) + 1;
      }),
    );
    await until('every originate to reach the PBX', () => sent.every((s) => reached.has(s.callId)), 30_000, 2);
    return sent.map((s) => ({ toOriginate: reached.get(s.callId)! - s.t0, http: s.http }));
  };

  const healthRound = async () =>
    Promise.all(
      sips.map(async () => {
        const t0 = performance.now();
        const res = await fetch(`${base}/health`);
        await res.arrayBuffer();
        if (res.status !== 200) errors[`health ${res.status}`] = (errors[`health ${res.status}`] ?? 0) + 1;
        return performance.now() - t0;
      }),
    );

  /** Calls of the round over, every phone back to idle. */
  const settle = async (): Promise<DaemonState> => {
    const end = Date.now() + 60_000;
    for (;;) {
      const s = await daemon.state(sips);
      if (s.open === 0 && s.notOnline === 0 && s.ami && s.ari) return s; // ARI is configured in both modes: /health needs it
      if (Date.now() > end) throw new Error(`calls still open after 60 s: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  try {
    await settle(); // connected, resynced: every extra operator online
    const result: MakeCallResult = { mode, concurrency, rounds, toOriginate: [], makeCallHttp: [], health: [], sequentialToOriginate: [], errors, statuses: {}, daemonCpuMsPerCall: 0 };
    await callRound(sips); // warm-up: connections, JIT
    await settle();
    await healthRound();
    let cpuMs = 0;
    let makeCallCpuMs = 0;
    let healthCpuMs = 0;
    for (let r = 0; r < rounds; r++) {
      const before = (await daemon.state(sips)).cpuMs;
      for (const s of await callRound(sips)) {
        result.toOriginate.push(s.toOriginate);
        result.makeCallHttp.push(s.http);
      }
      makeCallCpuMs += (await daemon.state(sips)).cpuMs - before;
      const settled = (await settle()).cpuMs;
      cpuMs += settled - before;
      result.health.push(...(await healthRound()));
      healthCpuMs += (await daemon.state(sips)).cpuMs - settled;
    }
    result.daemonCpuMsPerCall = cpuMs / Math.max(1, result.toOriginate.length);
    result.daemonCpuMsPerMakeCall = makeCallCpuMs / Math.max(1, result.toOriginate.length);
    result.daemonCpuMsPerHealth = healthCpuMs / Math.max(1, result.health.length);
    for (const sip of sips) result.sequentialToOriginate.push(...(await callRound([sip])).map((s) => s.toOriginate));
    await settle();
    result.statuses = (await daemon.state(sips, true)).statuses;
    progress(`makeCall (${mode}): ${result.toOriginate.length} calls at ${concurrency} in flight`);
    return result;
  } finally {
    await daemon.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

interface DaemonState {
  open: number;
  notOnline: number;
  ami: boolean;
  ari: boolean;
  statuses: Record<string, number>;
  cpuMs: number;
}

/** Forks bench/daemon-proc.ts and waits for its HTTP port. */
async function startDaemonProcess(env: Record<string, string>): Promise<{ port: number; state(sips: string[], statuses?: boolean): Promise<DaemonState>; stop(): Promise<void> }> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./daemon-proc.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_DAEMON_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_DAEMON_PROF}`] : [])],
    env: { PATH: process.env.PATH ?? '', ...env },
    // BENCH_DAEMON_LOG=<file> keeps the daemon's log lines
    stdio: ['ignore', process.env.BENCH_DAEMON_LOG ? openSync(process.env.BENCH_DAEMON_LOG, 'w') : 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { type: string; port: number }) => (m.type === 'ready' ? resolve(m.port) : reject(new Error(`unexpected ${m.type}`))));
    child.once('exit', (code) => reject(new Error(`daemon process exited with ${code}`)));
  });
  return {
    port,
    state: (sips, statuses = false) =>
      new Promise<DaemonState>((resolve) => {
        child.once('message', (m: DaemonState) => resolve(m));
        child.send({ type: 'state', sips, statuses });
      }),
    async stop() {
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
