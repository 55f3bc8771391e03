/**
 * Sections 2 and 4: AMI events ingested end to end, and memory.
 *
 * The daemon's real AmiClient connects over TCP to the benchmark's AMI server;
 * AmiCallController + AmiCallTracker follow the calls and CallService /
 * CallStore write them to a temporary SQLite database. Calls are placed in
 * batches with CallService.makeCall (its Originate goes out over the socket),
 * then the batch's recorded A1 events are pushed at the client in one go.
 * Timed: from the first byte of the batch's events to the moment every call
 * of the batch has its final status in SQLite, its recording row finished and
 * the batch's end marker has been read. The logger is silent: the daemon's
 * info-level line per status is not in these figures (it is in section 1's).
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/log.js';
import { openDatabase } from '../src/db/index.js';
import { AmiClient, field } from '../src/asterisk/ami/index.js';
import { AmiCallController } from '../src/calls/controllers.js';
import { CallService, type StatusEvent } from '../src/calls/service.js';
import { CallStore } from '../src/calls/store.js';
import { FINAL_STATUSES } from '../src/calls/chain.js';
import { silenceWav } from '../src/simulator/wav.js';
import { BenchAmiServer } from './ami-server.js';
import { END_FRAME, loadCallTemplate } from './a1-stream.js';
import { envInt, memory, until, type MemorySnapshot } from './stats.js';
import { progress, section } from './child.js';

export interface IngestWindow {
  calls: number;
  events: number;
  bytes: number;
  /** time spent with the events on the wire (see the file comment) */
  ms: number;
}

export interface IngestResult {
  eventsPerCall: number;
  bytesPerCall: number;
  batchSize: number;
  /** the first `BENCH_INGEST_CALLS` calls */
  first: IngestWindow;
  /** the last `BENCH_INGEST_CALLS` calls of the long run (database already holding the others) */
  last: IngestWindow;
  total: IngestWindow;
  /** CallService.makeCall in process, per call, with up to batchSize calls open */
  makeCallUs: { mean: number; lastBatchMean: number };
  memory: { baseline: MemorySnapshot; afterFirst: MemorySnapshot; afterMillion?: { events: number; at: MemorySnapshot }; afterTotal: MemorySnapshot };
  check: { calls: number; finished: number; statuses: number; recordingsWithSize: number; dbBytes: number };
}

section(async (): Promise<IngestResult> => {
  const tpl = loadCallTemplate();
  const firstCalls = envInt('BENCH_INGEST_CALLS', 1000);
  const totalEvents = envInt('BENCH_MEMORY_EVENTS', 5_000_000);
  const batchSize = Math.min(firstCalls, envInt('BENCH_INGEST_BATCH', 100));
  const totalCalls = Math.max(firstCalls, Math.ceil(totalEvents / tpl.events / batchSize) * batchSize);

  const dir = mkdtempSync(join(tmpdir(), 'callbridge-bench-ingest-'));
  const recDir = join(dir, 'monitor');
  mkdirSync(recDir);
  const server = await BenchAmiServer.start();
  const db = openDatabase(join(dir, 'ingest.db'));
  const log = silentLogger();
  const ami = new AmiClient({ host: '127.0.0.1', port: server.port, username: 'bench', secret: 'bench-secret-0123', logger: log, pingIntervalMs: 3_600_000, actionTimeoutMs: 120_000 });
  const controller = new AmiCallController(ami, recDir, log);
  const store = new CallStore(db);
  const settings = { operatorChannel: 'PJSIP/{sip}', clientChannel: 'Local/{phone}@from-internal', callerId: '"{phone}" <{phone}>', operatorRingTimeout: 30, clientRingTimeout: 30 };
  const service = new CallService(store, { status: () => 'online' }, controller, settings, log);

  // Counters only: what the timed window waits for.
  let finals = 0;
  let ends = 0;
  let recordingsFinished = 0;
  service.on('status', (e: StatusEvent) => void (FINAL_STATUSES.has(e.status) && finals++));
  ami.on('event', (m) => void (field(m, 'event') === 'BenchEnd' && ends++));
  const finishRecording = store.finishRecording.bind(store);
  store.finishRecording = (...args) => {
    recordingsFinished++;
    return finishRecording(...args);
  };
  const actionIds = new Map<number, string>();
  server.onOriginate = (o) => actionIds.set(o.callId, o.actionId);

  try {
    ami.start();
    await until('AMI login', () => ami.connected, 10_000);
    const wav = silenceWav(0.1);
    const baseline = memory();
    let afterFirst = baseline;
    let afterMillion: { events: number; at: MemorySnapshot } | undefined;
    let pushedEvents = 0;
    const windows: IngestWindow[] = [];
    const makeCallMs: number[] = [];

    /** Renders a batch's events, pushes them, waits until they are stored; a function of its own so the batch's text dies with it. */
    const pushBatch = async (ids: number[], first: number): Promise<{ ms: number; bytes: number }> => {
      let text = '';
      ids.forEach((callId, j) => {
        const index = first + j;
        const recordingFile = join(recDir, `order-o${index}-call-${callId}.wav`);
        writeFileSync(recordingFile, wav);
        text += tpl.render({ index, callId, actionId: actionIds.get(callId)!, sip: String(100000 + index), recordingFile });
        actionIds.delete(callId);
      });
      const buf = Buffer.from(text + END_FRAME, 'latin1');
      const want = { finals: finals + ids.length, ends: ends + 1, recordings: recordingsFinished + ids.length };
      const t1 = performance.now();
      await server.write(buf);
      await until('the batch to be stored', () => ends >= want.ends && finals >= want.finals && recordingsFinished >= want.recordings, 300_000, 1);
      return { ms: performance.now() - t1, bytes: buf.length };
    };

    for (let first = 0; first < totalCalls; first += batchSize) {
      const ids: number[] = [];
      const t0 = performance.now();
      for (let k = first; k < first + batchSize; k++) {
        ids.push(service.makeCall({ sip: String(100000 + k), phone: '79001234567', orderId: `o${k}`, externalKey: `ek-${k}` }).callId);
      }
      makeCallMs.push(performance.now() - t0);
      await until('the batch Originates', () => ids.every((id) => actionIds.has(id)), 60_000, 1);
      await ami.action({ Action: 'Ping' }); // every Originate answer before it has been taken by then
      await new Promise((r) => setImmediate(r));

      const pushed = await pushBatch(ids, first);
      windows.push({ calls: batchSize, events: batchSize * tpl.events + 1, bytes: pushed.bytes, ms: pushed.ms });
      const done = first + batchSize;
      if (done === firstCalls) afterFirst = memory();
      pushedEvents += batchSize * tpl.events + 1;
      if (!afterMillion && pushedEvents >= 1_000_000 && done < totalCalls) afterMillion = { events: pushedEvents, at: memory() };
      if (done % (batchSize * 8) === 0 || done === totalCalls) progress(`ingest: ${done.toLocaleString('en-US')} / ${totalCalls.toLocaleString('en-US')} calls`);
    }
    const afterTotal = memory();

    const sum = (ws: IngestWindow[]): IngestWindow =>
      ws.reduce((a, w) => ({ calls: a.calls + w.calls, events: a.events + w.events, bytes: a.bytes + w.bytes, ms: a.ms + w.ms }), { calls: 0, events: 0, bytes: 0, ms: 0 });
    const perWindow = Math.ceil(firstCalls / batchSize);
    const q = (sql: string) => (db.$client.prepare(sql).get() as { n: number }).n;
    const check = {
      calls: q('SELECT count(*) AS n FROM calls'),
      finished: q("SELECT count(*) AS n FROM calls WHERE final = 1 AND status = 'FINISH'"),
      statuses: q('SELECT count(*) AS n FROM call_statuses'),
      recordingsWithSize: q('SELECT count(*) AS n FROM recordings WHERE size IS NOT NULL AND ended_at IS NOT NULL'),
      dbBytes: q('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()'),
    };
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    return {
      eventsPerCall: tpl.events,
      bytesPerCall: tpl.approxBytes,
      batchSize,
      first: sum(windows.slice(0, perWindow)),
      last: sum(windows.slice(-perWindow)),
      total: sum(windows),
      makeCallUs: { mean: (mean(makeCallMs) / batchSize) * 1000, lastBatchMean: (makeCallMs.at(-1)! / batchSize) * 1000 },
      memory: { baseline, afterFirst, ...(afterMillion ? { afterMillion } : {}), afterTotal },
      check,
    };
  } finally {
    await controller.stop();
    await ami.stop();
    await server.close();
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
