#!/usr/bin/env node
/**
 * Process entry: configuration, logger, signals. A bad setting stops the
 * daemon with one line naming it (exit 2); SIGTERM/SIGINT shut it down
 * gracefully within 10 s (exit 0).
 */
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './log.js';

const SHUTDOWN_LIMIT_MS = 10_000;

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`callbridge: invalid configuration: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const log = createLogger({ level: config.logLevel });
if (config.apiTokens.length === 0) {
  log.warn(
    config.http.hostForcedToLoopback
      ? 'no API token configured (CALLBRIDGE_API_TOKENS): listening on loopback only, not on the configured CALLBRIDGE_HTTP_HOST'
      : 'no API token configured (CALLBRIDGE_API_TOKENS): the API is open, so it listens on loopback only',
  );
}
if (config.simulate) log.warn('simulated PBX mode: no real Asterisk is used');
else if (!config.ami.secret) log.warn('CALLBRIDGE_AMI_SECRET is empty: the AMI login will fail');

process.on('unhandledRejection', (reason) => {
  log.error({ err: reason }, 'unhandled promise rejection');
});

try {
  // Loaded after the configuration is known to be good, so a bad setting is reported at once.
  const { startDaemon } = await import('./daemon.js');
  const daemon = await startDaemon(config, log);
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 10 s, exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    force.unref();
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  log.fatal({ err }, 'could not start');
  process.exit(1);
}
