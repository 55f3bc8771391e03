import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths pino replaces with "[redacted]" wherever they appear in a log line. */
export const REDACT_PATHS = [
  'secret',
  'password',
  'token',
  'authorization',
  '*.secret',
  '*.password',
  '*.token',
  '*.authorization',
  '*.apiTokens',
  'config.ami.secret',
  'config.ari.password',
  'config.apiTokens',
  'req.headers.authorization',
];

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.CALLBRIDGE_LOG_LEVEL ?? 'info',
    base: { service: 'callbridge' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
