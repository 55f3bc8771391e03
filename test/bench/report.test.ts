/** The benchmark's verdict on its targets (bench/report.ts targetsSection), on hand-made results. */
import { describe, expect, it } from 'vitest';
import { targetsSection, type Results } from '../../bench/report.js';
import type { MakeCallResult } from '../../bench/makecall.js';
import type { IngestResult } from '../../bench/ingest.js';
import type { ParseResult } from '../../bench/parse.js';

const MiB = 1024 * 1024;
const snapshot = (rss: number, heapUsed: number) => ({ rss: rss * MiB, heapUsed: heapUsed * MiB, heapTotal: 40 * MiB, external: 2 * MiB, arrayBuffers: 0 });

function makeCall(mode: 'ari' | 'ami', answerMs: number, healthMs: number, cpuCall: number, cpuMakeCall: number): MakeCallResult {
  return {
    mode, concurrency: 100, rounds: 1, toOriginate: [1], makeCallHttp: Array(100).fill(answerMs), health: Array(100).fill(healthMs),
    sequentialToOriginate: [1], errors: {}, statuses: {}, daemonCpuMsPerCall: cpuCall, daemonCpuMsPerMakeCall: cpuMakeCall, daemonCpuMsPerHealth: 0.2,
  };
}

function ingest(eventsPerSec: number, rssAfterMillion: number, rssAfter: number, heapGrowth: number): IngestResult {
  const w = { calls: 1000, events: 5_000_000, bytes: 1, ms: (5_000_000 / eventsPerSec) * 1000 };
  return {
    eventsPerCall: 130, bytesPerCall: 1, batchSize: 100, first: w, last: w, total: w, makeCallUs: { mean: 1, lastBatchMean: 1 },
    memory: { baseline: snapshot(100, 10), afterFirst: snapshot(150, 10), afterMillion: { events: 1_000_000, at: snapshot(rssAfterMillion, 10) }, afterTotal: snapshot(rssAfter, 10 + heapGrowth) },
    check: { calls: 1, finished: 1, statuses: 1, recordingsWithSize: 1, dbBytes: 1 },
  };
}

const parse = (bareEventsPerSec: number): ParseResult => ({
  calls: 1000, events: 130_000, bytes: 1, chunkBytes: 65536,
  rows: [{ name: 'asterisk-manager parser alone', messages: 130_000, bytes: 1, ms: (130_000 / bareEventsPerSec) * 1000, runs: 3 }],
});

/** The verdict column of each target row, by the row's first words. */
function verdicts(r: Results): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of targetsSection(r).split('\n').slice(4, -1)) {
    const key = line.split(/\s{2,}/)[0]!;
    out[key] = line.trim().endsWith('NOT met') ? 'NOT met' : 'met';
  }
  return out;
}

describe('the targets of a benchmark run', () => {
  it.each([
    ['every target met', makeCall('ari', 60, 40, 4.9, 0.9), makeCall('ami', 70, 40, 2.9, 0.7), 110_000, 72_000, [180, 170, 0.2], 'every target of this run met'],
    ['the limits themselves count as met', makeCall('ari', 80, 40, 5, 1), makeCall('ami', 80, 40, 3, 1), 72_000, 72_000, [180, 197, 0.9], 'every target of this run met'],
    ['just over each limit', makeCall('ari', 80.1, 40, 5.01, 1.01), makeCall('ami', 81, 40, 3.01, 1.2), 71_000, 72_000, [180, 199, 1.1], '8 of 8 targets NOT met in this run'],
  ] as const)('%s', (_name, ari, ami, rate, bare, [rssMillion, rssEnd, heap], last) => {
    const r: Results = { makeCallAri: ari, makeCallAmi: ami, parse: parse(bare), ingest: ingest(rate, rssMillion, rssEnd, heap) };
    const text = targetsSection(r);
    expect(text.split('\n').at(-1)).toBe(last);
    expect(Object.keys(verdicts(r))).toHaveLength(8);
  });

  it('names what is missed, one target at a time', () => {
    const r: Results = { makeCallAri: makeCall('ari', 60, 40, 4.9, 0.9), makeCallAmi: makeCall('ami', 70, 40, 3.01, 0.7), parse: parse(72_000), ingest: ingest(110_000, 180, 230, 0.1) };
    const v = verdicts(r);
    expect(Object.entries(v).filter(([, x]) => x === 'NOT met').map(([k]) => k)).toEqual([
      'AMI daemon CPU per whole call',
      'memory after the first million events (1,000,000 -> 5,000,000)',
    ]);
  });

  it('leaves out what did not run', () => {
    expect(targetsSection({})).toBe('');
    expect(targetsSection({ makeCallAmi: makeCall('ami', 70, 40, 2.9, 0.7) }).split('\n').at(-1)).toBe('every target of this run met');
  });
});
