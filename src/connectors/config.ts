/**
 * CALLBRIDGE_CONNECTORS entries, validated: the settings every entry has, plus
 * its type's own options (unknown keys are refused, so a typo does not pass
 * silently). Every mistake is one line, `[index] (name) field: problem`;
 * secrets are never shown.
 */
import { z } from 'zod';
import { CONNECTOR_TYPES } from './registry.js';
import { DIRECTIONS, EVENT_TYPES, type BaseSettings, type Connector } from './types.js';

const httpUrl = z
  .string({ message: 'is required' })
  .refine((v) => /^https?:\/\//i.test(v) && URL.canParse(v), 'must be an http:// or https:// URL');

const int = (min: number, max: number, fallback: number) =>
  z.number({ message: 'must be a number' }).int('must be a whole number').min(min, `must be ${min} to ${max}`).max(max, `must be ${min} to ${max}`).default(fallback);

export const baseShape = {
  type: z.string(),
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"').optional(),
  url: httpUrl,
  secret: z.string().min(16, 'must be at least 16 characters').max(256, 'must be at most 256 characters').optional(),
  timeout_ms: int(100, 120_000, 5000),
  max_attempts: int(1, 1000, 10),
  backoff_ms: int(10, 3_600_000, 1000),
  backoff_max_ms: int(10, 86_400_000, 300_000),
  concurrency: int(1, 64, 8),
  directions: z.array(z.enum(DIRECTIONS as [string, ...string[]], { message: `must list ${DIRECTIONS.join(', ')}` })).min(1, 'must not be empty').optional(),
  events: z.array(z.enum(EVENT_TYPES, { message: `must list ${EVENT_TYPES.join(', ')}` })).min(1, 'must not be empty').optional(),
};

export interface ParsedConnectors {
  settings: Array<BaseSettings & Record<string, unknown>>;
  problems: string[];
}

/** Validates the entries; every problem found is a line in `problems`. */
export function parseConnectorSettings(entries: readonly unknown[]): ParsedConnectors {
  const settings: ParsedConnectors['settings'] = [];
  const problems: string[] = [];
  const names = new Map<string, number>();
  entries.forEach((entry, i) => {
    const where = (name?: unknown) => `[${i}]${typeof name === 'string' && name ? ` (${name})` : ''}`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push(`${where()}: must be an object`);
      return;
    }
    const raw = entry as Record<string, unknown>;
    const type = raw.type;
    const module = typeof type === 'string' ? CONNECTOR_TYPES[type] : undefined;
    if (!module) {
      problems.push(`${where(raw.name)} type: must be one of ${Object.keys(CONNECTOR_TYPES).join(', ')}`);
      return;
    }
    const parsed = z.strictObject({ ...baseShape, ...module.options }).safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path.map(String).join('.');
        const message = issue.code === 'unrecognized_keys' ? `unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
        problems.push(`${where(raw.name)}${field ? ` ${field}` : ''}: ${message}`);
      }
      return;
    }
    const s = { ...parsed.data, name: parsed.data.name ?? module.type } as BaseSettings & Record<string, unknown>;
    if (s.backoff_max_ms < s.backoff_ms) problems.push(`${where(s.name)} backoff_max_ms: must not be below backoff_ms`);
    const dup = names.get(s.name);
    if (dup !== undefined) problems.push(`${where(s.name)} name: "${s.name}" is already the name of entry [${dup}] (give each entry its own name)`);
    names.set(s.name, i);
    settings.push(s);
  });
  return { settings, problems };
}

/** The connectors of validated entries. */
export function createConnectors(entries: readonly unknown[]): Connector[] {
  const { settings, problems } = parseConnectorSettings(entries);
  if (problems.length > 0) throw new Error(`CALLBRIDGE_CONNECTORS: ${problems.join('; ')}`);
  return settings.map((s) => CONNECTOR_TYPES[s.type]!.create(s));
}
