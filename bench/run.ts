/**
 * `npm run bench`: runs each section in a child Node process (with
 * --expose-gc, so memory is read after a full collection) one after the
 * other, then prints the report. Figures only: nothing is asserted on timings.
 *
 * Sizes (environment): BENCH_CONCURRENCY (100), BENCH_MAKECALL_ROUNDS (10),
 * BENCH_INGEST_CALLS (1000), BENCH_INGEST_BATCH (100), BENCH_MEMORY_EVENTS (5,000,000),
 * BENCH_STORE_CALLS (100,000), BENCH_DB_CALLS (1,000,000);
 * BENCH_ONLY=makecall,parse,ingest,store,history,rest,outbox runs a subset; BENCH_OUTBOX_CALLS (100).
 */
import { fork } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { report, type Results } from './report.js';

interface Section {
  key: keyof Results;
  group: string;
  title: string;
  file: string;
  env?: Record<string, string>;
}

const SECTIONS: Section[] = [
  { key: 'makeCallAri', group: 'makecall', title: 'makeCall latency, ARI control', file: 'makecall.ts', env: { BENCH_CONTROL: 'ari' } },
  { key: 'makeCallAmi', group: 'makecall', title: 'makeCall latency, AMI control', file: 'makecall.ts', env: { BENCH_CONTROL: 'ami' } },
  { key: 'parse', group: 'parse', title: 'AMI parse rates', file: 'parse.ts' },
  { key: 'ingest', group: 'ingest', title: 'AMI ingestion end to end + memory', file: 'ingest.ts' },
  { key: 'store', group: 'store', title: 'CallStore operations', file: 'store-ops.ts' },
  { key: 'history', group: 'history', title: 'history endpoints on a large database', file: 'history.ts' },
  { key: 'ariRest', group: 'rest', title: 'ARI REST request cost', file: 'ari-rest.ts' },
  { key: 'outbox', group: 'outbox', title: 'CRM connectors outbox: throughput and delivery latency', file: 'outbox.ts' },
];

const TEMP_PREFIX = 'callbridge-bench-';

function runSection(s: Section): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL(`./${s.file}`, import.meta.url)), [], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env: { ...process.env, ...s.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let answer: { ok: boolean; result?: unknown; error?: string } | undefined;
    child.on('message', (m: { ok: boolean; result?: unknown; error?: string }) => (answer = m));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (answer?.ok) resolve(answer.result);
      else reject(new Error(answer?.error ?? `exited with ${signal ?? code} before reporting`));
    });
  });
}

/** Removes temporary directories a crashed section may have left (sections remove their own). */
function removeLeftovers(before: ReadonlySet<string>): void {
  for (const name of readdirSync(tmpdir())) {
    if (name.startsWith(TEMP_PREFIX) && !before.has(name)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim().toLowerCase());
  const selected = SECTIONS.filter((s) => !only || only.includes(s.group));
  const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith(TEMP_PREFIX)));
  const started = performance.now();
  const results: Results = {};
  const failures: string[] = [];
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(`callbridge benchmarks: node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs, load average ${load()}\n`);
  for (const s of selected) {
    const t = performance.now();
    process.stdout.write(`\n[${s.title}]\n`);
    try {
      (results as Record<string, unknown>)[s.key] = await runSection(s);
      process.stdout.write(`  done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      failures.push(`${s.title}: ${(err as Error).message}`);
      process.stdout.write(`  FAILED after ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    } finally {
      removeLeftovers(before);
    }
  }
  process.stdout.write(`\n${report(results)}\n`);
  if (failures.length > 0) process.stdout.write(`\nFailed sections:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
  process.stdout.write(`\nTotal wall time: ${((performance.now() - started) / 1000).toFixed(1)} s (load average at the end ${load()}; other work on the machine shifts every figure, compare rows of one run)\n`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
