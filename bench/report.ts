/** Turns the sections' results into the printed report. */
import type { MakeCallResult } from './makecall.js';
import type { ParseResult } from './parse.js';
import type { IngestResult, IngestWindow } from './ingest.js';
import type { StoreResult } from './store-ops.js';
import type { HistoryResult } from './history.js';
import type { RestResult } from './ari-rest.js';
import type { OutboxResult } from './outbox.js';
import { int, mib, ms, ratio, secs, summarize, table, type MemorySnapshot } from './stats.js';

export interface Results {
  makeCallAri?: MakeCallResult;
  makeCallAmi?: MakeCallResult;
  parse?: ParseResult;
  ingest?: IngestResult;
  store?: StoreResult;
  history?: HistoryResult;
  ariRest?: RestResult;
  outbox?: OutboxResult;
}

const heading = (title: string) => `${title}\n${'='.repeat(title.length)}`;
const counts = (m: Record<string, number>) =>
  Object.keys(m).length === 0 ? 'none' : Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ');

function makeCallSection(runs: MakeCallResult[]): string {
  const rows: string[][] = [];
  for (const r of runs) {
    const base = summarize(r.health);
    const line = (what: string, samples: number[], baseline = true) => {
      const s = summarize(samples);
      return [`${r.mode.toUpperCase()}  ${what}`, int(s.n), ms(s.p50), ms(s.p99), ms(s.max), baseline ? ratio(s.p50, base.p50) : ''];
    };
    rows.push(line(`makeCall -> originate at the PBX, ${r.concurrency} in flight`, r.toOriginate));
    rows.push(line(`makeCall HTTP round trip, ${r.concurrency} in flight`, r.makeCallHttp));
    rows.push(line(`GET /health round trip, ${r.concurrency} in flight (baseline)`, r.health, false));
    rows.push(line('makeCall -> originate at the PBX, 1 in flight', r.sequentialToOriginate));
  }
  const notes = runs.map(
    (r) =>
      `${r.mode.toUpperCase()}: ${r.rounds} rounds of ${r.concurrency}; daemon CPU ${ms(r.daemonCpuMsPerCall)} ms per call (whole call)` +
      (r.daemonCpuMsPerMakeCall !== undefined ? `, ${ms(r.daemonCpuMsPerMakeCall)} ms per makeCall (request to Originate), ${ms(r.daemonCpuMsPerHealth ?? 0)} ms per GET /health; ` : '; ') +
      `refused/failed requests: ${counts(r.errors)}; calls by final status: ${counts(r.statuses)}`,
  );
  return [
    heading('1. makeCall latency (ms): HTTP request sent -> originate request received by the simulated Asterisk'),
    'Daemon in its own process (info-level logging, discarded); simulated Asterisk and HTTP load in another.',
    table(['measurement', 'n', 'p50', 'p99', 'max', 'p50 vs /health'], rows),
    ...notes,
  ].join('\n');
}

function rateRow(name: string, events: number, bytes: number, calls: number, msec: number): string[] {
  const s = msec / 1000;
  return [name, int(events / s), int(calls / s), (bytes / 1024 / 1024 / s).toFixed(1), ((msec * 1000) / events).toFixed(1)];
}

function ingestSection(p: ParseResult | undefined, i: IngestResult | undefined): string {
  const rows: string[][] = [];
  const callsOf = (events: number, perCall: number) => events / perCall;
  const perCall = i?.eventsPerCall ?? (p ? p.events / p.calls : 1);
  for (const r of p?.rows ?? []) rows.push(rateRow(r.name, r.messages, r.bytes, callsOf(r.messages, perCall), r.ms));
  const e2e = (name: string, w: IngestWindow) => rateRow(name, w.events, w.bytes, w.calls, w.ms);
  if (i) {
    rows.push(e2e(`end to end (+ tracker + CallService + SQLite), first ${int(i.first.calls)} calls`, i.first));
    rows.push(e2e(`end to end, last ${int(i.last.calls)} of ${int(i.total.calls)} calls`, i.last));
    rows.push(e2e(`end to end, all ${int(i.total.events)} events`, i.total));
  }
  const lines = [
    heading('2. AMI events ingested per second (recorded A1 click-to-call, repeated with unique ids)'),
    i || p ? `${perCall} events and ~${int(i?.bytesPerCall ?? (p ? p.bytes / p.calls : 0))} bytes per call; parse-only rows: ${int(p?.calls ?? 0)} calls, 64 KiB chunks, median of ${p?.rows[0]?.runs ?? 0} runs` : '',
    table(['path', 'events/s', 'calls/s', 'MB/s', 'us/event'], rows),
  ];
  if (i) {
    lines.push(
      `end to end: ${i.batchSize} calls per batch placed with CallService.makeCall (Originate over the socket), then their events pushed in one write;`,
      `  timed until every call of the batch has its final status and finished recording row in SQLite.`,
      `  check: ${int(i.check.calls)} calls, ${int(i.check.finished)} FINISH, ${int(i.check.statuses)} statuses, ${int(i.check.recordingsWithSize)} recordings with size; database ${mib(i.check.dbBytes)}`,
      `  CallService.makeCall in process (untimed part): ${int(i.makeCallUs.mean)} us per call on average, ${int(i.makeCallUs.lastBatchMean)} us in the last batch (up to ${i.batchSize} calls open)`,
    );
  }
  return lines.join('\n');
}

function memorySection(i: IngestResult): string {
  const row = (name: string, m: MemorySnapshot) => [name, mib(m.rss), mib(m.heapUsed), mib(m.heapTotal), mib(m.external)];
  const d = (a: number, b: number) => `${a >= b ? '+' : ''}${mib(a - b)}`;
  const { baseline, afterFirst, afterMillion, afterTotal } = i.memory;
  return [
    heading('4. Memory of the ingesting process (after a full GC)'),
    table(
      ['point', 'RSS', 'heap used', 'heap total', 'external'],
      [
        row('connected, nothing ingested (baseline)', baseline),
        row(`after ${int(i.first.calls)} calls / ${int(i.first.events)} events`, afterFirst),
        ...(afterMillion ? [row(`after ${int(afterMillion.events)} events`, afterMillion.at)] : []),
        row(`after ${int(i.total.calls)} calls / ${int(i.total.events)} events`, afterTotal),
        ...(afterMillion
          ? [['growth after the first million events', d(afterTotal.rss, afterMillion.at.rss), d(afterTotal.heapUsed, afterMillion.at.heapUsed), d(afterTotal.heapTotal, afterMillion.at.heapTotal), d(afterTotal.external, afterMillion.at.external)]]
          : []),
        ['growth over the baseline', d(afterTotal.rss, baseline.rss), d(afterTotal.heapUsed, baseline.heapUsed), d(afterTotal.heapTotal, baseline.heapTotal), d(afterTotal.external, baseline.external)],
      ],
    ),
  ].join('\n');
}

function storeSection(s: StoreResult): string {
  return [
    heading(`5. SQLite work per event (us per operation, database of ${int(s.calls)} calls)`),
    table(
      ['operation', 'CallStore', 'same SQL, prepared once', 'ratio'],
      s.ops.map((o) => [o.name, o.storeUs.toFixed(1), o.rawUs.toFixed(1), ratio(o.storeUs, o.rawUs)]),
    ),
  ].join('\n');
}

/** The history query with the highest p99 on the large database. */
function slowest(big: HistoryResult['sizes'][number]): { name: string; p99: number } | undefined {
  return big.endpoints.map((e) => ({ name: e.name, p99: summarize(e.samples).p99 })).sort((a, b) => b.p99 - a.p99)[0];
}

/** The history target: every query's p99 under 20 ms on the large database. */
function slowestLine(big: HistoryResult['sizes'][number]): string {
  const worst = slowest(big);
  if (!worst) return '';
  return `slowest p99 on ${int(big.seed.calls)} calls: ${ms(worst.p99)} ms (${worst.name}); target: every p99 under 20 ms: ${worst.p99 < 20 ? 'met' : 'NOT met'}`;
}

/** The name of the bare asterisk-manager row of the parse section (bench/parse.ts). */
const BARE_LIBRARY = 'asterisk-manager parser alone';
/** "Flat" memory: over the events after the first million, heap used grows less than this, and RSS less than RSS_FLAT of its value. */
const HEAP_FLAT_BYTES = 1024 * 1024;
const RSS_FLAT = 0.1;

/**
 * The targets of the hot-path work, each against the figures of this run: the makeCall answer's p99 at
 * most 2× /health's, daemon CPU at most 1 ms per makeCall and 5 ms (ARI) / 3 ms (AMI) per whole call,
 * ingest at least the bare asterisk-manager parser's rate, every history p99 under 20 ms, memory flat
 * after the first million events. Sections that did not run are left out.
 */
export function targetsSection(r: Results): string {
  const rows: string[][] = [];
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  for (const m of [r.makeCallAri, r.makeCallAmi]) {
    if (!m) continue;
    const mode = m.mode.toUpperCase();
    const answer = summarize(m.makeCallHttp).p99 / summarize(m.health).p99;
    rows.push([`${mode} makeCall answer p99, ${m.concurrency} in flight, against /health's`, `${answer.toFixed(2)}x`, 'at most 2x', verdict(answer <= 2)]);
    if (m.daemonCpuMsPerMakeCall !== undefined) {
      rows.push([`${mode} daemon CPU per makeCall`, `${ms(m.daemonCpuMsPerMakeCall)} ms`, 'at most 1 ms', verdict(m.daemonCpuMsPerMakeCall <= 1)]);
    }
    const limit = m.mode === 'ari' ? 5 : 3;
    rows.push([`${mode} daemon CPU per whole call`, `${ms(m.daemonCpuMsPerCall)} ms`, `at most ${limit} ms`, verdict(m.daemonCpuMsPerCall <= limit)]);
  }
  const bare = r.parse?.rows.find((x) => x.name === BARE_LIBRARY);
  if (r.ingest && bare) {
    const rate = r.ingest.total.events / (r.ingest.total.ms / 1000);
    const x = rate / (bare.messages / (bare.ms / 1000));
    rows.push(['AMI ingest end to end against the bare asterisk-manager parser', `${x.toFixed(2)}x`, 'at least 1.0x', verdict(x >= 1)]);
  }
  const big = r.history?.sizes[1];
  const worst = big && slowest(big);
  if (worst) rows.push([`slowest history p99 on ${int(big.seed.calls)} calls`, `${ms(worst.p99)} ms`, 'under 20 ms', verdict(worst.p99 < 20)]);
  const mem = r.ingest?.memory;
  if (mem?.afterMillion) {
    const heap = mem.afterTotal.heapUsed - mem.afterMillion.at.heapUsed;
    const rss = mem.afterTotal.rss - mem.afterMillion.at.rss;
    rows.push([
      `memory after the first million events (${int(mem.afterMillion.events)} -> ${int(r.ingest!.total.events)})`,
      `RSS ${rss >= 0 ? '+' : ''}${mib(rss)}, heap ${heap >= 0 ? '+' : ''}${mib(heap)}`,
      `heap < +1 MiB, RSS < +${RSS_FLAT * 100}%`,
      verdict(heap < HEAP_FLAT_BYTES && rss < RSS_FLAT * mem.afterMillion.at.rss),
    ]);
  }
  if (rows.length === 0) return '';
  const missed = rows.filter((x) => x[3] !== 'met').length;
  return [
    heading('Targets'),
    table(['target', 'this run', 'limit', ''], rows),
    missed === 0 ? 'every target of this run met' : `${missed} of ${rows.length} targets NOT met in this run`,
  ].join('\n');
}

function historySection(h: HistoryResult): string {
  const [small, big] = h.sizes;
  if (!small || !big) return heading('3. History endpoints: incomplete');
  const rows = big.endpoints.map((e, k) => {
    const b = summarize(e.samples);
    const s = summarize(small.endpoints[k]?.samples ?? []);
    return [e.name, ms(s.p50), ms(s.p99), int(b.n), ms(b.p50), ms(b.p99), ms(b.max), ratio(b.p50, s.p50)];
  });
  const seedLine = (x: (typeof h.sizes)[number]) =>
    `${int(x.seed.calls)} calls, ${int(x.seed.statuses)} statuses, ${int(x.seed.recordings)} recordings, ${int(x.seed.presence)} presence changes, ${int(x.seed.orders)} orders: ` +
    `seeded in ${secs(x.seedMs)} (rows ${secs(x.seed.insertMs)}, indexes ${secs(x.seed.indexMs)}), ${mib(x.dbBytes)}`;
  return [
    heading('3. History endpoints (ms, one request at a time, HTTP through the Hono app)'),
    seedLine(big),
    `baseline: ${seedLine(small)}`,
    table(['endpoint', `${int(small.seed.calls)}: p50`, 'p99', `${int(big.seed.calls)}: n`, 'p50', 'p99', 'max', 'p50 ratio'], rows),
    `examples (large database): ${big.endpoints.map((e) => e.example).filter((x) => /recordList|since_id|page=/.test(x)).join('  ')}`,
    slowestLine(big),
  ].join('\n');
}

function outboxSection(o: OutboxResult): string {
  const rows = o.runs.map((r) => {
    const l = summarize(r.latencies);
    return [r.name, String(r.concurrency), int(r.deliveries), int(r.deliveries / (r.drainMs / 1000)), ms(l.p50), ms(l.p99), ms(l.max), r.writeUs.toFixed(0), ratio(r.writeUs, o.baselineWriteUs)];
  });
  return [
    heading(`6. CRM connectors outbox: ${int(o.calls)} click-to-calls in flight, 3 connectors (webhook, binotel, phonet), one local receiver`),
    'every status written through CallService, round by round across all calls; latency = delivery row committed (with its status) -> request at the receiver',
    table(['receiver', 'concurrency', 'deliveries', 'deliveries/s', 'latency p50 ms', 'p99', 'max', 'us per status written', 'vs no connector'], rows),
    `baseline: the same status writes with no connector configured: ${o.baselineWriteUs.toFixed(0)} us per status`,
  ].join('\n');
}

function restSection(r: RestResult): string {
  const rows = r.rows.map((x) => {
    const s = summarize(x.samples);
    return [x.name, String(x.inflight), int(s.n), ms(s.p50), ms(s.p99), ms(s.max), x.cpuUsPerRequest.toFixed(0)];
  });
  return [
    heading('7. ARI REST requests (POST /channels against a local HTTP server; CPU of client and server)'),
    table(['client', 'in flight', 'n', 'p50 ms', 'p99', 'max', 'CPU us/request'], rows),
  ].join('\n');
}

export function report(r: Results): string {
  const parts: string[] = [];
  const mc = [r.makeCallAri, r.makeCallAmi].filter((x): x is MakeCallResult => x !== undefined);
  if (mc.length > 0) parts.push(makeCallSection(mc));
  if (r.parse || r.ingest) parts.push(ingestSection(r.parse, r.ingest));
  if (r.history) parts.push(historySection(r.history));
  if (r.ingest) parts.push(memorySection(r.ingest));
  if (r.store) parts.push(storeSection(r.store));
  if (r.ariRest) parts.push(restSection(r.ariRest));
  if (r.outbox) parts.push(outboxSection(r.outbox));
  const targets = targetsSection(r);
  if (targets) parts.push(targets);
  return parts.join('\n\n');
}
