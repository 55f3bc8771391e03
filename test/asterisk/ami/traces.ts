/** Recorded AMI traces copied into test/fixtures/<scenario>/ (ami.txt = raw bytes, ami.jsonl = one message per line). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AmiMessage } from '../../../src/asterisk/ami/index.js';

export interface TraceEntry {
  seq: number;
  kind: 'banner' | 'response' | 'event';
  name: string | null;
  fields?: Record<string, string | string[]>;
  raw: string;
}

export interface Trace {
  text: Buffer;
  entries: TraceEntry[];
}

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export function loadTrace(scenario: string, base = 'ami'): Trace {
  const text = readFileSync(`${fixtures}${scenario}/${base}.txt`);
  const entries = readFileSync(`${fixtures}${scenario}/${base}.jsonl`, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as TraceEntry);
  return { text, entries };
}

/** What the client should deliver for a recorded message: header names lower-cased, values as recorded. */
export function expected(entry: TraceEntry, actionId?: { from: string; to: string }): AmiMessage {
  const out: AmiMessage = {};
  for (const [k, v] of Object.entries(entry.fields ?? {})) {
    out[k.toLowerCase()] = actionId && k.toLowerCase() === 'actionid' && v === actionId.from ? actionId.to : v;
  }
  return out;
}

/** The recorded raw text of every message with ActionID `recordedId`, with the ActionID replaced by `id`. */
export function recordedAnswer(trace: Trace, recordedId: string, id: string): { raw: string; entries: TraceEntry[] } {
  const entries = trace.entries.filter((e) => e.fields?.ActionID === recordedId);
  const raw = entries.map((e) => e.raw.replace(`\r\nActionID: ${recordedId}\r\n`, `\r\nActionID: ${id}\r\n`)).join('');
  return { raw, entries };
}
