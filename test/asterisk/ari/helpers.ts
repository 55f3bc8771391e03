import { Writable } from 'node:stream';
import type { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '../../../src/log.js';

export interface CapturedLog {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  text: () => string;
}

/** A real pino logger whose JSON lines are kept for assertions. */
export function captureLogger(): CapturedLog {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  return {
    logger,
    get lines() {
      return raw
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw.join(''),
  };
}

/** Records process-level unhandled rejections and uncaught exceptions while installed. */
export function trackProcessErrors(): { seen: unknown[]; dispose: () => void } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(reason);
  };
  const onException = (err: unknown): void => {
    seen.push(err);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    seen,
    dispose: () => {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

export async function waitUntil(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function nextEvent<T = unknown>(emitter: EventEmitter, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for '${event}'`));
    }, timeoutMs);
    const listener = (arg: T): void => {
      clearTimeout(timer);
      resolve(arg);
    };
    emitter.once(event, listener);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lets pending promise callbacks and process 'unhandledRejection' checks run. */
export async function settle(): Promise<void> {
  await sleep(20);
  await new Promise((resolve) => setImmediate(resolve));
}
