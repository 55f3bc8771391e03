/** Reading recorded Asterisk traces from test/fixtures. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface TraceMessage {
  seq: number;
  recv_ms: number;
  kind: 'banner' | 'response' | 'event';
  name: string;
  fields: Record<string, string | string[]>;
  raw: string;
}

export function readJsonl<T>(relPath: string): T[] {
  return readFileSync(`${FIXTURES}${relPath}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** A recorded AMI message as the AMI client hands it on: header names lower-cased. */
export function lowerCased(m: TraceMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(m.fields)) out[k.toLowerCase()] = v;
  return out;
}
