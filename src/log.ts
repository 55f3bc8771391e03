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
  return pino(options, opts.destination ? (opts.destination as pino.DestinationStream) : bufferedStdout());
}

/** How long a log line may wait for the others of its burst, and how many bytes make a write at once. */
export const LOG_FLUSH_MS = 100;
export const LOG_BUFFER_BYTES = 16 * 1024;

/**
 * Standard output for the JSON lines, written a burst at a time: a line waits at most LOG_FLUSH_MS
 * for the others (one write system call for all the lines of a busy moment instead of one per line),
 * and whatever is held is written when the process exits.
 */
export function bufferedStdout(flushMs = LOG_FLUSH_MS, maxBytes = LOG_BUFFER_BYTES, fd = 1): pino.DestinationStream {
  const out = pino.destination({ dest: fd, sync: true });
  let held = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (held.length === 0) return;
    const chunk = held;
    held = '';
    out.write(chunk);
  };
  process.on('exit', flush);
  return {
    write(line: string) {
      held += line;
      if (held.length >= maxBytes) flush();
      else if (!timer) {
        timer = setTimeout(flush, flushMs);
        timer.unref();
      }
    },
  };
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
