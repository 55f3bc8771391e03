#!/usr/bin/env node
/**
 * Process entry: options, configuration, logger, signals. `--help` and
 * `--version` print and exit 0 without starting anything. A bad setting stops
 * the daemon with one line naming it (exit 2); a port already in use or a
 * database that cannot be written stops it with one line (exit 1);
 * SIGTERM/SIGINT shut it down gracefully within 10 s (exit 0).
 */
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './log.js';
import { VERSION } from './version.js';

const SHUTDOWN_LIMIT_MS = 10_000;

const USAGE = `Usage: callbridge [--simulate] [--help] [--version]
       callbridge doctor [--call SIP PHONE] [--simulate]

callbridge connects to Asterisk / FreePBX over AMI and ARI and serves the
click-to-call, presence and history HTTP API. It is configured by environment
variables (defaults in brackets):

  CALLBRIDGE_HTTP_HOST             listen address [127.0.0.1; 0.0.0.0 with tokens]
  CALLBRIDGE_HTTP_PORT             listen port [8095]
  CALLBRIDGE_PUBLIC_URL            base URL of recording links [http://<host>:<port>]
  CALLBRIDGE_API_TOKENS            comma list of API tokens, 16-256 characters each
  CALLBRIDGE_ALLOWED_NETWORKS      comma list of client IPs / CIDRs [any]
  CALLBRIDGE_DB_PATH               SQLite database [./data/callbridge.db]
  CALLBRIDGE_RECORDINGS_DIR        recordings directory [./data/recordings]
  CALLBRIDGE_MONITOR_DIR           the PBX's MixMonitor directory [/var/spool/asterisk/monitor]
  CALLBRIDGE_AMI_HOST              Asterisk manager interface host [127.0.0.1]
  CALLBRIDGE_AMI_PORT              AMI port [5038]
  CALLBRIDGE_AMI_USER              AMI user [callbridge]
  CALLBRIDGE_AMI_SECRET            AMI secret
  CALLBRIDGE_ARI_URL               ARI base URL, or "off" [http://127.0.0.1:8088]
  CALLBRIDGE_ARI_USER              ARI user [callbridge]
  CALLBRIDGE_ARI_PASSWORD          ARI password
  CALLBRIDGE_ARI_APP               Stasis application name [callbridge]
  CALLBRIDGE_CONTROL               call control: ari or ami [ari]
  CALLBRIDGE_OPERATOR_CHANNEL      operator dial string [PJSIP/{sip}]
  CALLBRIDGE_CLIENT_CHANNEL        client dial string [Local/{phone}@from-internal]
  CALLBRIDGE_OPERATOR_RING_TIMEOUT seconds the operator's phone rings [30]
  CALLBRIDGE_CLIENT_RING_TIMEOUT   seconds the client's phone rings [30]
  CALLBRIDGE_CALLER_ID             caller ID shown to the operator ["{phone}" <{phone}>]
  CALLBRIDGE_SIP_PATTERN           what a valid sip looks like [^[A-Za-z0-9_.-]{1,40}$]
  CALLBRIDGE_OPERATOR_CONTEXTS     endpoint contexts of operator phones [from-internal]
  CALLBRIDGE_NUMBER_LOOKUP_URL     CRM look-up for getNumberFromId
  CALLBRIDGE_CONNECTORS            JSON array of CRM connectors, or a file with it [[]]
  CALLBRIDGE_LOG_LEVEL             fatal, error, warn, info, debug, trace, silent [info]
  CALLBRIDGE_METRICS_TOKEN         token for GET /metrics (an API token works too) [the API tokens]
  CALLBRIDGE_SIMULATE              1: built-in simulated PBX, like --simulate [0]
  CALLBRIDGE_SIM_AMI_PORT          simulated PBX AMI port [0: a free port]
  CALLBRIDGE_SIM_ARI_PORT          simulated PBX ARI port [0: a free port]
  CALLBRIDGE_SIM_TIME_SCALE        simulated PBX speed, 0.05 = 20 times faster [1]
  CALLBRIDGE_SIM_EXTRA_OPERATORS   extra simulated operators [0]

Options:
  --simulate   start the simulated PBX (same as CALLBRIDGE_SIMULATE=1)
  --help       print this text and exit
  --version    print the version and exit

Commands:
  doctor       check the configuration, the database, AMI, ARI, the dialplan
               and the channel templates, one line each; --call SIP PHONE also
               places a test call through the running daemon (exit 0: all good)
`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (args.includes('--version') || args.includes('-v')) {
  process.stdout.write(`callbridge ${VERSION}\n`);
  process.exit(0);
}
if (args[0] === 'doctor') {
  const { doctorMain } = await import('./doctor/cli.js');
  process.exit(await doctorMain(args.slice(1)));
}

/** A listen error as one line, or undefined for other errors. */
function listenProblem(err: unknown, cfg: Config): string | undefined {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.syscall !== 'listen' && e?.code !== 'EADDRINUSE') return undefined;
  const port = e.port;
  const what =
    port === cfg.http.port || (cfg.http.port === 0 && port === 0)
      ? 'HTTP port'
      : cfg.simulate && port === cfg.sim.amiPort
        ? 'simulated AMI port (CALLBRIDGE_SIM_AMI_PORT)'
        : cfg.simulate && port === cfg.sim.ariPort
          ? 'simulated ARI port (CALLBRIDGE_SIM_ARI_PORT)'
          : 'port';
  const where = `${what} ${port ?? '?'} on ${e.address ?? cfg.http.host}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return `${where} is already in use`;
    case 'EACCES':
      return `${where}: permission denied (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `${where}: the address is not one of this machine's`;
    default:
      return `cannot listen on ${where}: ${e.message}`;
  }
}

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
  const { DatabaseNotWritableError } = await import('./db/index.js');
  const line = listenProblem(err, config) ?? (err instanceof DatabaseNotWritableError ? err.message : undefined);
  if (line) {
    process.stderr.write(`callbridge: ${line}\n`);
  } else {
    log.fatal({ err }, 'could not start');
  }
  process.exit(1);
}
