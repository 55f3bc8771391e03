/**
 * The recorded AMI text of scenario A1 (a whole click-to-call: operator
 * answers, client answers, ~3 s of talk, client hangs up) turned into a
 * template that can be repeated as many calls as wanted.
 *
 * Kept: every Event frame from the Originate on, in recorded order and with
 * every recorded header. Dropped: the banner, the responses (the benchmark's
 * AMI server answers the daemon's own actions) and the recorded session's
 * own events (FullyBooted, SuccessfulAuth, the CoreShowChannels list).
 * Replaced per repetition, so that each one is a distinct call: Uniqueids and
 * Linkedids, channel names, the bridge id, the Originate's ActionID, the
 * operator endpoint, the MixMonitor file, and the recorded `ORDER_ID` channel
 * variable, which becomes the `CALLBRIDGE_CALL_ID` variable the daemon's
 * Originate sets (so the call is recognized as in production).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), '../test/fixtures/A1/ami.txt');

/** Recorded text → placeholder, in the order they are applied. */
const REPLACEMENTS: Array<[string, string]> = [
  ['Variable: ORDER_ID\r\nValue: 15\r\n', 'Variable: CALLBRIDGE_CALL_ID\r\nValue: {CALLID}\r\n'],
  ['/var/spool/asterisk/monitor/order-15-1795492737861.wav', '{RECFILE}'],
  ['PJSIP/1000-00000000', 'PJSIP/{SIP}-{OPSFX}'],
  ['PJSIP/clients-00000001', 'PJSIP/clients-{CLSFX}'],
  ['PJSIP/1000', 'PJSIP/{SIP}'],
  ['1795492734.0', '{OPUID}'],
  ['1795492735.1', '{CLUID}'],
  ['f4c2b541-d673-4005-92e8-9ba51398e4b1', '{BRIDGE}'],
  ['orig-A1', '{ACTIONID}'],
];

export interface CallVars {
  /** index of the repetition, makes the ids unique */
  index: number;
  callId: number;
  actionId: string;
  sip: string;
  recordingFile: string;
}

export interface CallTemplate {
  /** Event frames per call */
  events: number;
  /** bytes per call (they vary by a few with the ids) */
  approxBytes: number;
  render(v: CallVars): string;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/** A bridge id of UUID shape, unique per repetition. */
const bridgeId = (i: number) => `b3c4a000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

export function loadCallTemplate(): CallTemplate {
  const text = readFileSync(FIXTURE, 'latin1');
  const frames = text.split('\r\n\r\n');
  const start = frames.findIndex((f) => f.startsWith('Event: Newchannel'));
  if (start < 0) throw new Error('A1 trace: no Newchannel frame');
  const kept = frames
    .slice(start)
    .filter((f) => f.startsWith('Event: ') && !/\r\nActionID: rec-/.test(f) && !/^Event: (?:FullyBooted|SuccessfulAuth)\r\n/.test(f));
  let body = kept.map((f) => `${f}\r\n\r\n`).join('');
  for (const [from, to] of REPLACEMENTS) {
    if (!body.includes(from)) throw new Error(`A1 trace: "${from.trim()}" not found; the benchmark template needs updating`);
    body = body.replaceAll(from, to);
  }
  const parts = body.split(/\{([A-Z]+)\}/);
  const render = (v: CallVars): string => {
    const values: Record<string, string> = {
      CALLID: String(v.callId),
      RECFILE: v.recordingFile,
      SIP: v.sip,
      OPSFX: hex8(2 * v.index),
      CLSFX: hex8(2 * v.index + 1),
      OPUID: `1800000000.${2 * v.index}`,
      CLUID: `1800000000.${2 * v.index + 1}`,
      BRIDGE: bridgeId(v.index),
      ACTIONID: v.actionId,
    };
    let out = '';
    for (let i = 0; i < parts.length; i++) out += i % 2 === 0 ? parts[i] : values[parts[i]!];
    return out;
  };
  const sample = render({ index: 0, callId: 1, actionId: 'cb-2', sip: '100000', recordingFile: '/tmp/x/order-o0-call-1.wav' });
  return { events: kept.length, approxBytes: Buffer.byteLength(sample), render };
}

/** The frame that tells the reader a batch is over (the client emits it as an ordinary event). */
export const END_FRAME = 'Event: BenchEnd\r\nPrivilege: system,all\r\n\r\n';

/** Splits a stream into TCP-sized pieces, as a socket would deliver it. */
export function chunked(buf: Buffer, size = 64 * 1024): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}
