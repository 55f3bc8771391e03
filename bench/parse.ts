/**
 * Section 2, the parse rates next to the end-to-end figure: the same stream
 * of repeated A1 calls (as bench/ingest.ts sends it) through
 *   a. asterisk-manager 0.2.0's own parser (ManagerReader) alone,
 *   b. a minimal parser (frames at CRLF CRLF, lines at CRLF, key/value at ': ', no checks at all),
 *   c. src/asterisk/ami's FrameSanitizer alone (line and frame checks, text out),
 *   d. the former input path: sanitizer + library parser + conversion (LibraryAmiParser),
 *   e. src/asterisk/ami's AmiParser (the same checks, each frame parsed once into its message),
 *   f. the daemon's AmiClient reading it from a TCP socket (e + action routing),
 * none of them with the call state machine or SQLite behind.
 */
import { EventEmitter } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { createRequire } from 'node:module';
import { silentLogger } from '../src/log.js';
import { AmiClient, field } from '../src/asterisk/ami/index.js';
import { AmiParser, LibraryAmiParser, connectToStandIn } from '../src/asterisk/ami/parser.js';
import { FrameSanitizer } from '../src/asterisk/ami/frames.js';
import { BenchAmiServer } from './ami-server.js';
import { chunked, END_FRAME, loadCallTemplate } from './a1-stream.js';
import { envInt, until } from './stats.js';
import { progress, section } from './child.js';

export interface ParseRow {
  name: string;
  /** messages the path produced per run (checked against the stream) */
  messages: number;
  bytes: number;
  /** median of the timed runs */
  ms: number;
  runs: number;
}

export interface ParseResult {
  calls: number;
  events: number;
  bytes: number;
  chunkBytes: number;
  rows: ParseRow[];
}

const require = createRequire(import.meta.url);
type RawListener = (item: Record<string, unknown>) => void;
type Library = { connect(port: number, host: string): void; removeAllListeners(name: string): void; on(name: string, fn: RawListener): void };
const createManager = require('asterisk-manager') as () => Library;

/** The library's parser runs only as the 'data' listener of the socket it opens; it is handed a stand-in. */
function libraryParser(onItem: RawListener): (text: string) => void {
  const feed = Object.assign(new EventEmitter(), { readyState: 'open', setKeepAlive: () => feed, setNoDelay: () => feed, setEncoding: () => feed });
  const manager = createManager();
  manager.removeAllListeners('rawevent'); // its dispatcher re-emits on the next tick; only the parse is measured
  manager.on('rawevent', onItem);
  connectToStandIn(manager, feed);
  return (text) => void feed.emit('data', text);
}

/** The least an AMI parser can do: no limits, no checks, no Follows blocks. */
function minimalParser(onMessage: (m: Record<string, string | string[]>) => void): (text: string) => void {
  let rest = '';
  return (chunk) => {
    const text = rest + chunk;
    let start = 0;
    for (let end = text.indexOf('\r\n\r\n'); end !== -1; end = text.indexOf('\r\n\r\n', start)) {
      const msg: Record<string, string | string[]> = {};
      for (const line of text.slice(start, end).split('\r\n')) {
        const colon = line.indexOf(': ');
        if (colon < 0) continue;
        const key = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 2);
        const prev = msg[key];
        if (prev === undefined) msg[key] = value;
        else if (typeof prev === 'string') msg[key] = [prev, value];
        else prev.push(value);
      }
      onMessage(msg);
      start = end + 4;
    }
    rest = text.slice(start);
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One warm-up run, then `runs` timed ones; `once` returns how many messages it produced. */
function timed(name: string, bytes: number, runs: number, once: () => number): ParseRow {
  const messages = once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const n = once();
    times.push(performance.now() - t);
    if (n !== messages) throw new Error(`${name}: ${n} messages, first run had ${messages}`);
  }
  progress(`parse: ${name}`);
  return { name, messages, bytes, ms: median(times), runs };
}

section(async (): Promise<ParseResult> => {
  const tpl = loadCallTemplate();
  const calls = envInt('BENCH_INGEST_CALLS', 1000);
  const runs = 3;
  let text = '';
  for (let i = 0; i < calls; i++) {
    text += tpl.render({ index: i, callId: i + 1, actionId: `cb-${i + 2}`, sip: String(100000 + i), recordingFile: `/tmp/monitor/order-o${i}-call-${i + 1}.wav` });
  }
  const stream = Buffer.from(text, 'latin1');
  text = '';
  const chunkBytes = 64 * 1024;
  const chunks = chunked(stream, chunkBytes);
  // Every row starts from the same byte chunks; the library's socket would decode them (setEncoding('utf-8')).
  const events = calls * tpl.events;
  const rows: ParseRow[] = [];

  rows.push(
    timed('asterisk-manager parser alone', stream.length, runs, () => {
      let n = 0;
      const push = libraryParser(() => void n++);
      const decoder = new StringDecoder('utf8');
      for (const c of chunks) push(decoder.write(c));
      return n;
    }),
  );
  rows.push(
    timed('minimal parser (no checks)', stream.length, runs, () => {
      let n = 0;
      const push = minimalParser(() => void n++);
      const decoder = new StringDecoder('utf8');
      for (const c of chunks) push(decoder.write(c));
      return n;
    }),
  );
  rows.push(
    timed('FrameSanitizer alone', stream.length, runs, () => {
      const s = new FrameSanitizer(() => undefined);
      let n = 0;
      for (const c of chunks) {
        const out = s.push(c);
        for (let i = out.indexOf('\r\n\r\n'); i >= 0; i = out.indexOf('\r\n\r\n', i + 4)) n++;
      }
      return n;
    }),
  );
  rows.push(
    timed('former path: sanitizer + library + conversion', stream.length, runs, () => {
      let n = 0;
      const p = new LibraryAmiParser(() => void n++, () => undefined);
      for (const c of chunks) p.push(c);
      return n;
    }),
  );
  rows.push(
    timed('AmiParser (checks, one parse per frame)', stream.length, runs, () => {
      let n = 0;
      const p = new AmiParser(() => void n++, () => undefined);
      for (const c of chunks) p.push(c);
      return n;
    }),
  );

  // d: over a real socket, the bytes pushed by the benchmark's AMI server in one write per run
  const server = await BenchAmiServer.start();
  const client = new AmiClient({ host: '127.0.0.1', port: server.port, username: 'bench', secret: 'bench-secret-0123', logger: silentLogger(), pingIntervalMs: 3_600_000 });
  let n = 0;
  let ends = 0;
  client.on('event', (m) => void (field(m, 'event') === 'BenchEnd' ? ends++ : n++));
  try {
    client.start();
    await until('AMI login', () => client.connected, 10_000);
    const payload = Buffer.concat([stream, Buffer.from(END_FRAME)]);
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) {
      n = 0;
      const want = ends + 1;
      const t = performance.now();
      await server.write(payload);
      await until('the end marker', () => ends >= want, 120_000, 1);
      if (i > 0) times.push(performance.now() - t);
      if (n !== events) throw new Error(`AmiClient: ${n} events, expected ${events}`);
    }
    progress('parse: AmiClient over TCP');
    rows.push({ name: 'AmiClient over TCP (no tracker, no SQLite)', messages: n, bytes: stream.length, ms: median(times), runs });
  } finally {
    await client.stop();
    await server.close();
  }
  for (const r of rows) if (r.messages !== events) throw new Error(`${r.name}: ${r.messages} messages, expected ${events}`);
  return { calls, events, bytes: stream.length, chunkBytes, rows };
});
