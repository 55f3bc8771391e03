/**
 * Environment → typed, validated settings.
 *
 * Every setting has one environment variable (names fixed by the product
 * specification). A bad value stops the daemon with one line naming the
 * variable and what is wrong with it (see ConfigError).
 */
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseConnectorSettings } from './connectors/config.js';

export type ControlMode = 'ari' | 'ami';

export interface Config {
  http: { host: string; port: number; publicUrl: string | undefined; hostForcedToLoopback: boolean };
  dbPath: string;
  ami: { host: string; port: number; username: string; secret: string };
  /** `url` is undefined when ARI is disabled (CALLBRIDGE_ARI_URL=off, AMI control only). */
  ari: {
    url: string | undefined;
    username: string;
    password: string;
    app: string;
    /** the shipped context ARI-mode legs are originated into ('' = straight into the app) */
    context: string;
    /** push the shipped hangup handler [callbridge-ari-hangup] on ARI-mode legs */
    hangupFacts: boolean;
  };
  control: ControlMode;
  operatorChannel: string;
  clientChannel: string;
  operatorRingTimeout: number;
  clientRingTimeout: number;
  callerId: string;
  sipPattern: RegExp;
  recordingsDir: string;
  /** where the PBX's own MixMonitor writes (FreePBX: /var/spool/asterisk/monitor); CDR(recordingfile) is relative to it */
  monitorDir: string;
  /** endpoint contexts that mark a PJSIP/SIP channel as an operator's phone (the rest are trunks) */
  operatorContexts: string[];
  /** CRM look-up for getNumberFromId identifiers the daemon cannot resolve itself */
  numberLookupUrl: string | undefined;
  apiTokens: string[];
  /** CALLBRIDGE_METRICS_TOKEN: a token of its own for GET /metrics (an API token is accepted too) */
  metricsToken: string | undefined;
  allowedNetworks: string[];
  /** X-Forwarded-Proto / X-Forwarded-For from a reverse proxy in front of the daemon are believed */
  trustProxy: boolean;
  /** the hosted-PBX REST API (/rest, seed 003) */
  rest: {
    /** API keys (`key` or `ext:key`); empty = the API tokens are the keys */
    keys: Array<{ key: string; ext?: string | undefined }>;
    /** when set, authorize's `domain` must be this */
    domain: string | undefined;
    /** a session ends after this long without a request (ms) */
    sessionIdleMs: number;
    /** how long an audioRecUrl link works without a session (ms) */
    audioLinkTtlMs: number;
    /** operators' names and e-mails for /rest/users, by extension */
    users: Record<string, { displayName?: string | undefined; email?: string | undefined }>;
    /** the company number shown as `trunk` of outgoing calls */
    trunk: string | undefined;
  };
  /** delivered CRM events are pruned after this long (ms); 0 keeps them */
  outboxRetentionMs: number;
  connectors: unknown[];
  simulate: boolean;
  sim: { amiPort: number; ariPort: number; timeScale: number; extraOperators: number };
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Values of these settings never appear in an error message or a log line. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|KEY/;

/** One setting: its variable, its default and the zod schema its text must satisfy. */
function read<T>(env: Env, name: string, schema: z.ZodType<T>, fallback: string): T {
  const raw = env[name];
  const text = raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  const parsed = schema.safeParse(text);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue?.message ?? 'invalid value';
    if (SECRET_NAME.test(name)) throw new ConfigError(name, message);
    const shown = raw === undefined ? `default "${fallback}"` : `got "${raw.length > 60 ? `${raw.slice(0, 60)}…` : raw}"`;
    throw new ConfigError(name, `${message} (${shown})`);
  }
  return parsed.data;
}

const port = (allowZero = false) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(allowZero ? 0 : 1, `must be between ${allowZero ? 0 : 1} and 65535`)
    .max(65535, `must be between ${allowZero ? 0 : 1} and 65535`);

const seconds = z.coerce
  .number({ message: 'must be a number of seconds' })
  .int('must be a whole number of seconds')
  .min(1, 'must be at least 1 second')
  .max(600, 'must be at most 600 seconds');

const host = z
  .string()
  .regex(/^[A-Za-z0-9.:_-]+$/, 'must be a host name or an IP address')
  .max(253, 'is too long');

const nonEmpty = z.string().min(1, 'must not be empty').regex(/^[^\r\n]*$/, 'must not contain CR or LF');

const httpUrl = z
  .string()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

const bool = z
  .string()
  .regex(/^(1|0|true|false|yes|no|on|off)$/i, 'must be 1/0, true/false, yes/no or on/off')
  .transform((v) => /^(1|true|yes|on)$/i.test(v));

const list = (item: z.ZodType<string>, what: string, secret = false) =>
  z.string().transform((v, ctx) => {
    const items = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const it of items) {
      if (!item.safeParse(it).success) {
        ctx.addIssue({ code: 'custom', message: secret ? `an item is not ${what}` : `"${it.slice(0, 60)}" is not ${what}` });
        return z.NEVER;
      }
    }
    return items;
  });

const token = z.string().regex(/^[\x21-\x7e]{16,256}$/);

const cidr = z.string().refine((v) => {
  const [addr, bits, ...rest] = v.split('/');
  if (rest.length > 0 || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
});

/** A channel template must contain its placeholder and nothing that could break a dial string. */
const template = (placeholder: string) =>
  z
    .string()
    .regex(/^[^\r\n,&|]+$/, 'must not contain CR, LF, "," "&" or "|"')
    .refine((v) => v.includes(placeholder), `must contain ${placeholder}`);

const pattern = z.string().transform((v, ctx) => {
  try {
    return new RegExp(v.startsWith('^') ? v : `^(?:${v})$`);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a valid regular expression' });
    return z.NEVER;
  }
});

const connectorsSetting = z.string().transform((v, ctx) => {
  let text = v;
  if (!v.startsWith('[')) {
    try {
      text = readFileSync(v, 'utf8');
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is neither a JSON array nor a readable file' });
      return z.NEVER;
    }
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error('not an array');
    return parsed as unknown[];
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON array of connector settings' });
    return z.NEVER;
  }
});

/** `key` or `ext:key`, comma-separated; the key is 16-256 printable characters without ",". */
const restKeys = z.string().transform((v, ctx) => {
  const out: Array<{ key: string; ext?: string }> = [];
  for (const item of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(?:([A-Za-z0-9_.-]{1,40}):)?([\x21-\x7e]{16,256})$/.exec(item);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'an item is not "<key>" or "<ext>:<key>" with a key of 16 to 256 printable characters' });
      return z.NEVER;
    }
    out.push(m[1] ? { key: m[2]!, ext: m[1] } : { key: m[2]! });
  }
  return out;
});

const restUser = z
  .object({
    displayName: z.string().max(80).regex(/^[^\p{Cc}]*$/u, 'must not contain control characters').optional(),
    email: z.string().max(254).regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address').optional(),
  })
  .strict();

const restUsers = z.string().transform((v, ctx) => {
  let text = v;
  if (!v.startsWith('{')) {
    try {
      text = readFileSync(v, 'utf8');
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is neither a JSON object nor a readable file' });
      return z.NEVER;
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object {"<ext>": {"displayName": "...", "email": "..."}}' });
    return z.NEVER;
  }
  const r = z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'is not an extension'), restUser).safeParse(parsed);
  if (!r.success) {
    const i = r.error.issues[0]!;
    ctx.addIssue({ code: 'custom', message: `${i.path.join('.') || 'the value'}: ${i.message}` });
    return z.NEVER;
  }
  return r.data;
});

const durationSeconds = (min: number, max: number) =>
  z.coerce.number({ message: 'must be a number of seconds' }).int('must be a whole number of seconds').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

/** Every connector entry checked at start; each mistake is one line naming the setting (ConfigError, exit 2). */
function validConnectors(entries: unknown[]): unknown[] {
  const { problems } = parseConnectorSettings(entries);
  if (problems.length > 0) throw new ConfigError('CALLBRIDGE_CONNECTORS', problems.join('\nCALLBRIDGE_CONNECTORS: '));
  return entries;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(h: string): boolean {
  return LOOPBACK.has(h) || h.startsWith('127.');
}

/** Reads and validates the whole configuration; throws ConfigError on the first bad setting. */
export function loadConfig(env: Env = process.env, argv: readonly string[] = process.argv.slice(2)): Config {
  const simulate = argv.includes('--simulate') || read(env, 'CALLBRIDGE_SIMULATE', bool, '0');
  const apiTokens = read(env, 'CALLBRIDGE_API_TOKENS', list(token, 'a token of 16 to 256 printable characters', true), '');
  const hostSetting = read(env, 'CALLBRIDGE_HTTP_HOST', host, apiTokens.length > 0 ? '0.0.0.0' : '127.0.0.1');
  // Without a token the API is open: it then listens on loopback only, whatever was asked.
  const hostForcedToLoopback = apiTokens.length === 0 && !isLoopbackHost(hostSetting);
  const control = read(env, 'CALLBRIDGE_CONTROL', z.enum(['ari', 'ami'], { message: 'must be "ari" or "ami"' }), 'ari');
  const ariUrlText = read(env, 'CALLBRIDGE_ARI_URL', z.string(), 'http://127.0.0.1:8088');
  const ariDisabled = /^(off|none|disabled)$/i.test(ariUrlText);
  if (ariDisabled && control === 'ari') {
    throw new ConfigError('CALLBRIDGE_ARI_URL', 'ARI cannot be disabled while CALLBRIDGE_CONTROL is "ari"');
  }
  const ariUrl = ariDisabled ? undefined : read(env, 'CALLBRIDGE_ARI_URL', httpUrl, 'http://127.0.0.1:8088');
  const publicUrl = env.CALLBRIDGE_PUBLIC_URL ? read(env, 'CALLBRIDGE_PUBLIC_URL', httpUrl, '') : undefined;

  return {
    http: {
      host: hostForcedToLoopback ? '127.0.0.1' : hostSetting,
      port: read(env, 'CALLBRIDGE_HTTP_PORT', port(true), '8095'),
      publicUrl: publicUrl?.replace(/\/+$/, ''),
      hostForcedToLoopback,
    },
    dbPath: read(env, 'CALLBRIDGE_DB_PATH', nonEmpty, './data/callbridge.db'),
    ami: {
      host: read(env, 'CALLBRIDGE_AMI_HOST', host, '127.0.0.1'),
      port: read(env, 'CALLBRIDGE_AMI_PORT', port(), '5038'),
      username: read(env, 'CALLBRIDGE_AMI_USER', nonEmpty, 'callbridge'),
      secret: env.CALLBRIDGE_AMI_SECRET ?? '',
    },
    ari: {
      url: ariUrl?.replace(/\/+$/, ''),
      username: read(env, 'CALLBRIDGE_ARI_USER', nonEmpty, 'callbridge'),
      password: env.CALLBRIDGE_ARI_PASSWORD ?? '',
      app: read(env, 'CALLBRIDGE_ARI_APP', z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"'), 'callbridge'),
      context: read(env, 'CALLBRIDGE_ARI_CONTEXT', z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a dialplan context name (letters, digits, "_", "-") or "off"'), 'callbridge-ari').replace(/^off$/, ''),
      hangupFacts: read(env, 'CALLBRIDGE_ARI_HANGUP_FACTS', z.enum(['0', '1'], { message: 'must be 0 or 1' }), '1') === '1',
    },
    control,
    operatorChannel: read(env, 'CALLBRIDGE_OPERATOR_CHANNEL', template('{sip}'), 'PJSIP/{sip}'),
    clientChannel: read(env, 'CALLBRIDGE_CLIENT_CHANNEL', template('{phone}'), 'Local/{phone}@from-internal'),
    operatorRingTimeout: read(env, 'CALLBRIDGE_OPERATOR_RING_TIMEOUT', seconds, '30'),
    clientRingTimeout: read(env, 'CALLBRIDGE_CLIENT_RING_TIMEOUT', seconds, '30'),
    callerId: read(env, 'CALLBRIDGE_CALLER_ID', z.string().regex(/^[^\r\n]{1,80}$/, 'must be 1-80 characters without CR/LF'), '"{phone}" <{phone}>'),
    sipPattern: read(env, 'CALLBRIDGE_SIP_PATTERN', pattern, '^[A-Za-z0-9_.-]{1,40}$'),
    recordingsDir: read(env, 'CALLBRIDGE_RECORDINGS_DIR', nonEmpty, './data/recordings'),
    monitorDir: read(env, 'CALLBRIDGE_MONITOR_DIR', nonEmpty, simulate ? read(env, 'CALLBRIDGE_RECORDINGS_DIR', nonEmpty, './data/recordings') : '/var/spool/asterisk/monitor'),
    operatorContexts: read(env, 'CALLBRIDGE_OPERATOR_CONTEXTS', list(z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/), 'a dialplan context name'), 'from-internal'),
    numberLookupUrl: env.CALLBRIDGE_NUMBER_LOOKUP_URL ? read(env, 'CALLBRIDGE_NUMBER_LOOKUP_URL', httpUrl, '') : undefined,
    apiTokens,
    metricsToken: env.CALLBRIDGE_METRICS_TOKEN?.trim() ? read(env, 'CALLBRIDGE_METRICS_TOKEN', z.string().regex(/^[\x21-\x7e]{16,256}$/, 'must be 16 to 256 printable characters'), '') : undefined,
    allowedNetworks: read(env, 'CALLBRIDGE_ALLOWED_NETWORKS', list(cidr, 'an IP address or CIDR'), ''),
    trustProxy: read(env, 'CALLBRIDGE_TRUST_PROXY', bool, '0'),
    rest: {
      keys: read(env, 'CALLBRIDGE_REST_API_KEYS', restKeys, ''),
      domain: env.CALLBRIDGE_REST_DOMAIN?.trim() ? read(env, 'CALLBRIDGE_REST_DOMAIN', z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a domain name'), '') : undefined,
      sessionIdleMs: read(env, 'CALLBRIDGE_REST_SESSION_IDLE', durationSeconds(60, 30 * 86400), '3600') * 1000,
      audioLinkTtlMs: read(env, 'CALLBRIDGE_REST_AUDIO_LINK_TTL', durationSeconds(60, 366 * 86400), '604800') * 1000,
      users: read(env, 'CALLBRIDGE_REST_USERS', restUsers, '{}'),
      trunk: env.CALLBRIDGE_REST_TRUNK?.trim() ? read(env, 'CALLBRIDGE_REST_TRUNK', z.string().regex(/^\+?[0-9A-Za-z_.-]{1,40}$/, 'must be a phone number'), '') : undefined,
    },
    outboxRetentionMs: read(env, 'CALLBRIDGE_OUTBOX_RETENTION_DAYS', z.coerce.number({ message: 'must be a number of days' }).int('must be a whole number of days').min(0, 'must be 0 (keep) or more days').max(3650, 'must be at most 3650'), '30') * 86_400_000,
    connectors: validConnectors(read(env, 'CALLBRIDGE_CONNECTORS', connectorsSetting, '[]')),
    simulate,
    sim: {
      amiPort: read(env, 'CALLBRIDGE_SIM_AMI_PORT', port(true), '0'),
      ariPort: read(env, 'CALLBRIDGE_SIM_ARI_PORT', port(true), '0'),
      extraOperators: read(env, 'CALLBRIDGE_SIM_EXTRA_OPERATORS', z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 to 799').max(799, 'must be 0 to 799'), '0'),
      timeScale: read(env, 'CALLBRIDGE_SIM_TIME_SCALE', z.coerce.number({ message: 'must be a number' }).positive('must be above 0').max(100, 'must be at most 100'), '1'),
    },
    logLevel: read(env, 'CALLBRIDGE_LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'must be one of fatal, error, warn, info, debug, trace, silent' }), 'info'),
  };
}
