/**
 * Response formats. JSON by default; `.xml` gives the same names as XML:
 * UTF-8 with a declaration, a `<response>` root, lists as repeated child
 * elements named in the singular (`records` → `<record>`), null as an empty
 * element.
 */
export type Format = 'json' | 'xml';

/** List element names for XML; any other list `xs` gets `x`, or `item`. */
const SINGULAR: Record<string, string> = {
  history: 'entry',
  sips: 'sip',
  records: 'record',
  calls: 'call',
};

function singular(name: string): string {
  return SINGULAR[name] ?? (name.length > 1 && name.endsWith('s') ? name.slice(0, -1) : 'item');
}

function escapeXml(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped.
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function element(name: string, value: unknown, out: string[]): void {
  if (value === null || value === undefined) {
    out.push(`<${name}/>`);
  } else if (Array.isArray(value)) {
    out.push(`<${name}>`);
    const child = singular(name);
    for (const v of value) element(child, v, out);
    out.push(`</${name}>`);
  } else if (typeof value === 'object') {
    out.push(`<${name}>`);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) element(k, v, out);
    out.push(`</${name}>`);
  } else {
    out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
  }
}

export function toXml(body: Record<string, unknown>): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  element('response', body, out);
  return out.join('');
}

/** The format a path asks for, and the path without its suffix. */
export function splitFormat(path: string): { path: string; format: Format } {
  const m = /\.(json|xml)$/i.exec(path);
  if (!m) return { path, format: 'json' };
  return { path: path.slice(0, -m[0].length), format: m[1]!.toLowerCase() as Format };
}
