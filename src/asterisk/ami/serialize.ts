import { AmiError } from './errors.js';

export type ActionFields = Record<string, string | number | readonly string[]>;

const KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;
const FORBIDDEN = /[\r\n\0]/;

/**
 * Writes an action as AMI text: `Action` first, then the client's ActionID, then the other fields in the
 * given order; an array value gives one header line per element (repeated `Variable:` headers).
 *
 * Throws AmiError INVALID_VALUE, before anything is sent, when a value contains CR, LF or NUL (which would
 * end the header or the whole action early and let the rest be read as another action), a key is not a
 * plain header name, `Action` is missing, or the caller passes its own ActionID (the client assigns them).
 */
export function serializeAction(fields: ActionFields, actionId: string): string {
  let action: string | undefined;
  let body = '';
  for (const [key, value] of Object.entries(fields)) {
    if (!KEY.test(key)) throw invalid(`header name ${JSON.stringify(key)} is not allowed`);
    const lower = key.toLowerCase();
    if (lower === 'actionid') throw invalid('ActionID is assigned by the client');
    const values = Array.isArray(value) ? (value as readonly unknown[]) : [value];
    for (const v of values) {
      if (typeof v === 'number' ? !Number.isFinite(v) : typeof v !== 'string') {
        throw invalid(`value of ${key} must be a string or a finite number`);
      }
      const text = String(v);
      if (FORBIDDEN.test(text)) throw invalid(`value of ${key} contains CR, LF or NUL`);
      if (lower === 'action') {
        if (action !== undefined || Array.isArray(value)) throw invalid('Action given more than once');
        action = text;
      } else {
        body += `${key}: ${text}\r\n`;
      }
    }
  }
  if (!action) throw invalid('Action is missing');
  return `Action: ${action}\r\nActionID: ${actionId}\r\n${body}\r\n`;
}

function invalid(message: string): AmiError {
  return new AmiError('INVALID_VALUE', message);
}
