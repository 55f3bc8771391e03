import { pino, type Logger, type LoggerOptions } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

/**
 * The known places of secrets in log fields, replaced with "[redacted]". Exact paths only: a wildcard
 * makes pino walk every object of every line, on the hot path too.
 */
export const REDACT_PATHS = [
  'secret',
  'password',
  'token',
  'authorization',
  'apiTokens',
  'ami.secret',
  'ari.password',
  'config.ami.secret',
  'config.ari.password',
  'config.apiTokens',
  'headers.authorization',
  'req.headers.authorization',
];

/**
 * Under systemd (INVOCATION_ID / JOURNAL_STREAM set) the journal stamps each line itself: epoch ms, the
 * cheapest time pino writes; ISO 8601 elsewhere.
 */
export function logTime(env: NodeJS.ProcessEnv = process.env): () => string {
  return env.INVOCATION_ID || env.JOURNAL_STREAM ? pino.stdTimeFunctions.epochTime : pino.stdTimeFunctions.isoTime;
}

/**
 * Readable lines for a person at a terminal: one line per entry, the time, the
 * level, the component, `call <id>:` first when the entry is about a call,
 * then the message and the other fields.
 */
export function prettyStream(destination: number | NodeJS.WritableStream = 1, colorize = pinoPretty.isColorSupported): pino.DestinationStream {
  return pinoPretty({
    destination: destination as number,
    sync: true,
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,component,call_id',
    messageFormat: (log, key) =>
      `${log.component ? `[${String(log.component)}] ` : ''}${log.call_id !== undefined ? `call ${String(log.call_id)}: ` : ''}${String(log[key] ?? '')}`,
  });
}

/** pino JSON lines by default (systemd's journal, files, pipes); readable lines when stdout is a terminal, or with `pretty`. */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream; pretty?: boolean } = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.CALLBRIDGE_LOG_LEVEL ?? 'info',
    base: { service: 'callbridge' },
    timestamp: logTime(),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  const pretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  if (pretty) return pino(options, prettyStream(opts.destination ?? 1, opts.destination === undefined && pinoPretty.isColorSupported));
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
