/**
 * `callbridge doctor`: reads the daemon's configuration (src/config.ts) and
 * checks, one printed line each, what the daemon needs: the configuration,
 * the database, the recordings directory, AMI (reachable, login, the actions
 * and event classes it needs), ARI (reachable, credentials, the Stasis app),
 * the shipped dialplan contexts, the channel templates against the endpoints
 * Asterisk has; with `--call SIP PHONE` a real test call through the running
 * daemon's own makeCall, its status chain printed as it happens. Every line
 * that fails says what to do. Exit code 0 only when every needed check passes.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { silentLogger } from '../log.js';
import { AmiClient, AmiError, field, type AmiMessage } from '../asterisk/ami/index.js';
import { ACTION_WRITE_CLASSES } from '../asterisk/ami/authority.js';
import { AriClient } from '../asterisk/ari/index.js';
import { MIGRATIONS_DIR } from '../db/index.js';
import { CLICK2CALL_CONTEXT } from '../calls/controllers.js';
import { LEG_HANGUP_CONTEXT } from '../calls/controller.js';

export type Outcome = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckLine {
  id: string;
  outcome: Outcome;
  text: string;
  /** what to do about it (fail and warn) */
  fix?: string;
}

export interface DoctorOptions {
  env?: Record<string, string | undefined>;
  argv?: readonly string[];
  /** place a test call through the running daemon */
  call?: { sip: string; phone: string };
  /** one printed line */
  print?: (line: string) => void;
  /** per network step, default 5000 ms */
  timeoutMs?: number;
  /** how long to wait for AMI events after the login, default 3000 ms */
  eventWaitMs?: number;
  /** how long the test call may take, default 120 s */
  callTimeoutMs?: number;
}

export interface DoctorResult {
  /** 0: everything needed passed; 1: something needed failed; 2: the configuration is invalid */
  code: number;
  lines: CheckLine[];
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHIPPED_DIALPLAN = resolve(ROOT, 'asterisk-config/extensions_custom.conf');

/** The AMI actions the daemon sends, by mode; their write classes are Asterisk's (src/asterisk/ami/authority.ts). */
const ACTIONS: ReadonlyArray<{ action: string; classes: readonly string[]; mode: 'both' | 'ari' | 'ami'; why: string }> = (
  [
    { action: 'PJSIPShowEndpoints', mode: 'ari', why: 'presence resync' },
    { action: 'PJSIPShowContacts', mode: 'ari', why: 'presence resync (user agents)' },
    { action: 'DeviceStateList', mode: 'both', why: 'presence resync' },
    { action: 'CoreShowChannels', mode: 'both', why: 'reconciling open calls' },
    { action: 'QueueStatus', mode: 'both', why: 'queue pauses (away)' },
    { action: 'DBGetTree', mode: 'ami', why: 'AMI call control (AstDB facts)' },
    { action: 'ShowDialPlan', mode: 'both', why: 'this check of the dialplan' },
    { action: 'Originate', mode: 'ami', why: 'placing calls (CALLBRIDGE_CONTROL=ami)' },
  ] as const
).map((a) => ({ ...a, classes: ACTION_WRITE_CLASSES[a.action]! }));

/** List actions the doctor may send to read a refusal (they change nothing). */
const PROBES: Readonly<Record<string, () => Record<string, string>>> = {
  PJSIPShowEndpoints: () => ({ Action: 'PJSIPShowEndpoints' }),
  PJSIPShowContacts: () => ({ Action: 'PJSIPShowContacts' }),
  DeviceStateList: () => ({ Action: 'DeviceStateList' }),
  CoreShowChannels: () => ({ Action: 'CoreShowChannels' }),
  QueueStatus: () => ({ Action: 'QueueStatus' }),
  ShowDialPlan: () => ({ Action: 'ShowDialPlan', Context: CLICK2CALL_CONTEXT }),
};

const MANAGER_CONF = '/etc/asterisk/manager_custom.conf';
const ARI_CONF = '/etc/asterisk/ari_general_custom.conf / ari_additional_custom.conf (plain Asterisk: ari.conf)';

/** The contexts of the shipped dialplan file, in order ([globals] is none). */
export function shippedContexts(file = SHIPPED_DIALPLAN): string[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [CLICK2CALL_CONTEXT];
  }
  return [...text.matchAll(/^\[([^\]]+)\]/gm)].map((m) => m[1]!).filter((c) => c !== 'globals');
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref();
    }),
  ]);

/** `host:port` answers TCP, and what it says first. */
function probeTcp(host: string, port: number, timeoutMs: number): Promise<{ ok: true; banner: string } | { ok: false; error: string }> {
  return new Promise((done) => {
    const sock = connect({ host, port });
    let banner = '';
    const finish = (r: { ok: true; banner: string } | { ok: false; error: string }) => {
      clearTimeout(timer);
      sock.destroy();
      done(r);
    };
    const timer = setTimeout(() => finish(banner ? { ok: true, banner } : { ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      banner += d;
      if (banner.includes('\n')) finish({ ok: true, banner: banner.split(/\r?\n/)[0]! });
    });
    sock.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code ?? err.message }));
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The daemon's HTTP address as a client reaches it. */
function daemonUrl(config: Config): string {
  const h = config.http.host;
  const host = h === '0.0.0.0' ? '127.0.0.1' : h === '::' ? '::1' : h;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
}

class Run {
  readonly lines: CheckLine[] = [];
  private failedNeeded = false;

  constructor(private readonly print: (line: string) => void) {}

  add(id: string, outcome: Outcome, text: string, fix?: string, needed = true): void {
    const line: CheckLine = { id, outcome, text, ...(fix ? { fix } : {}) };
    this.lines.push(line);
    if (outcome === 'fail' && needed) this.failedNeeded = true;
    const label = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' }[outcome];
    this.print(`${label.padEnd(4)}  ${id.padEnd(18)} ${text}${fix && outcome !== 'ok' ? ` → ${fix}` : ''}`);
  }

  get failed(): boolean {
    return this.failedNeeded;
  }
}

export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorResult> {
  const run = new Run(opts.print ?? ((l) => process.stdout.write(`${l}\n`)));
  const timeoutMs = opts.timeoutMs ?? 5000;

  // ------------------------------------------------------------ configuration
  let config: Config;
  try {
    config = loadConfig(opts.env ?? process.env, opts.argv ?? []);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    run.add('config', 'fail', `invalid configuration: ${err.message}`, `fix ${err.variable} (callbridge --help lists every setting)`);
    return { code: 2, lines: run.lines };
  }
  run.add(
    'config',
    'ok',
    `configuration valid (control ${config.control}, AMI ${config.ami.username}@${config.ami.host}:${config.ami.port}, ARI ${config.ari.url ?? 'off'}${config.simulate ? ', simulated PBX' : ''})`,
  );
  if (!config.simulate && !config.ami.secret) {
    run.add('config.ami-secret', 'fail', 'CALLBRIDGE_AMI_SECRET is empty', `set it to the secret of [${config.ami.username}] in ${MANAGER_CONF}`);
  }
  if (!config.simulate && config.ari.url && !config.ari.password) {
    run.add('config.ari-password', 'fail', 'CALLBRIDGE_ARI_PASSWORD is empty', `set it to the password of [${config.ari.username}] in ${ARI_CONF}`);
  }
  if (process.getuid?.() === 0) {
    run.add('user', 'warn', 'running as root: file checks see what root sees', 'run the doctor as the daemon\'s user (sudo -u callbridge …) for its view', false);
  }

  checkDatabase(run, config.dbPath);
  await checkDirectory(run, 'recordings', config.recordingsDir, 'CALLBRIDGE_RECORDINGS_DIR', true);
  if (config.monitorDir !== config.recordingsDir) await checkDirectory(run, 'monitor', config.monitorDir, 'CALLBRIDGE_MONITOR_DIR', false);

  // ------------------------------------------------------------ the PBX (a simulated one in simulated mode)
  let sim: { stop(): Promise<void> } | undefined;
  let ami = config.ami;
  let ari = config.ari;
  if (config.simulate) {
    const { SimulatedAsterisk } = await import('../simulator/index.js');
    const amiSecret = ami.secret || randomBytes(12).toString('hex');
    const ariPassword = ari.password || randomBytes(12).toString('hex');
    const s = new SimulatedAsterisk({
      amiUser: ami.username, amiSecret, ariUser: ari.username, ariPassword, recordingsDir: config.recordingsDir,
      timeScale: config.sim.timeScale, logger: silentLogger(),
    });
    const ports = await s.start();
    sim = s;
    ami = { ...ami, host: '127.0.0.1', port: ports.amiPort, secret: amiSecret };
    ari = { ...ari, url: ports.ariUrl, password: ariPassword };
    run.add('simulator', 'ok', `simulated mode: checking a simulated PBX started for this check (AMI port ${ports.amiPort}, ARI ${ports.ariUrl})`);
  }
  try {
    const amiClient = await checkAmi(run, config, ami, timeoutMs, opts.eventWaitMs ?? 3000);
    const endpoints: Array<{ technology: string; resource: string }> = [];
    if (ari.url) {
      const ariOk = await checkAri(run, ari as Config['ari'] & { url: string }, timeoutMs);
      if (ariOk) endpoints.push(...ariOk.endpoints);
    } else {
      run.add('ari', 'skip', 'ARI is off (CALLBRIDGE_ARI_URL=off): AMI call control only');
    }
    let contexts: Set<string> | undefined;
    if (amiClient) {
      contexts = await checkDialplan(run, config, amiClient, timeoutMs);
      if (endpoints.length === 0) endpoints.push(...(await amiEndpoints(amiClient, timeoutMs)));
      await amiClient.stop();
    } else {
      run.add('dialplan', 'skip', 'needs a working AMI login');
    }
    checkTemplates(run, config, endpoints, contexts);
  } finally {
    await sim?.stop();
  }

  if (opts.call) await testCall(run, config, opts.call, opts.callTimeoutMs ?? 120_000, opts.print ?? ((l) => process.stdout.write(`${l}\n`)));

  const needed = run.lines.filter((l) => l.outcome === 'fail').length;
  run.lines.push({ id: 'summary', outcome: run.failed ? 'fail' : 'ok', text: run.failed ? `${needed} check(s) failed` : 'all needed checks passed' });
  (opts.print ?? ((l) => process.stdout.write(`${l}\n`)))(run.failed ? `\n${needed} check(s) failed: see the lines marked FAIL` : '\nall needed checks passed');
  return { code: run.failed ? 1 : 0, lines: run.lines };
}

// ------------------------------------------------------------ database

function checkDatabase(run: Run, path: string): void {
  const abs = resolve(path);
  if (path === ':memory:') return run.add('database', 'ok', 'in memory');
  if (!existsSync(abs)) {
    const dir = dirname(abs);
    let parent = dir;
    while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
    try {
      // the daemon creates the missing directories and the file at its first start
      writableDir(parent);
      run.add('database', 'ok', `${abs} does not exist yet: it is created and migrated at the first start`);
    } catch {
      run.add('database', 'fail', `${abs} does not exist and ${parent} is not writable`, `create ${dir} writable for the daemon's user, or set CALLBRIDGE_DB_PATH`);
    }
    return;
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(abs, { fileMustExist: true, timeout: 2000 });
    const version = db.pragma('user_version', { simple: true }) as number;
    // a write that changes nothing, rolled back: fails on a read-only file, directory or file system
    db.exec('BEGIN IMMEDIATE');
    db.pragma(`user_version = ${Number(version)}`);
    db.exec('ROLLBACK');
    if (db.readonly) throw new Error('opened read-only');
  } catch (err) {
    db?.close();
    const msg = (err as Error).message;
    const busy = /SQLITE_BUSY|database is locked/i.test(msg);
    if (busy) run.add('database', 'warn', `${abs}: another process holds the write lock (${msg})`, 'normal while the daemon writes; run the doctor again', false);
    else run.add('database', 'fail', `${abs} is not writable: ${msg}`, `make the file and ${dirname(abs)} writable for the daemon's user (chown callbridge:callbridge, no chattr +i)`);
    return;
  }
  try {
    const journal = JSON.parse(readFileSync(resolve(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ when: number; tag: string }> };
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
    const applied = hasTable ? (db.prepare('SELECT created_at AS at FROM __drizzle_migrations').all() as Array<{ at: number }>).map((r) => Number(r.at)) : [];
    const last = applied.length ? Math.max(...applied) : 0;
    const pending = journal.entries.filter((e) => e.when > last);
    const known = new Set(journal.entries.map((e) => e.when));
    const unknown = applied.filter((a) => !known.has(a));
    if (unknown.length > 0) {
      run.add('database', 'fail', `${abs} has ${unknown.length} migration(s) this version does not know (a newer callbridge wrote it)`, 'run the newer version, or restore a backup made for this one');
    } else if (pending.length > 0) {
      run.add('database', 'warn', `${abs} writable; ${pending.length} migration(s) pending (${pending.map((p) => p.tag).join(', ')})`, 'they are applied when the daemon starts: restart it', false);
    } else {
      run.add('database', 'ok', `${abs} writable and migrated (${journal.entries.length} migrations)`);
    }
  } finally {
    db.close();
  }
}

/** Throws unless the directory is writable and searchable. */
function writableDir(dir: string): void {
  if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  accessSync(dir, constants.W_OK | constants.X_OK);
}

// ------------------------------------------------------------ directories

async function checkDirectory(run: Run, id: string, dir: string, variable: string, needed: boolean): Promise<void> {
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (needed) {
        run.add(id, 'warn', `${abs} does not exist yet (${variable})`, 'the daemon creates it in simulated mode; on a PBX point it at Asterisk\'s recording directory (e.g. /var/spool/asterisk/recording)', false);
      } else {
        run.add(id, 'warn', `${abs} does not exist (${variable})`, 'set it to the directory MixMonitor writes to (FreePBX: /var/spool/asterisk/monitor)', false);
      }
      return;
    }
    run.add(id, needed ? 'fail' : 'warn', `${abs}: ${code ?? (err as Error).message}`, `make ${abs} readable for the daemon's user or change ${variable}`, needed);
    return;
  }
  if (!isDir) {
    run.add(id, needed ? 'fail' : 'warn', `${abs} is not a directory (${variable})`, `set ${variable} to a directory`, needed);
    return;
  }
  try {
    await access(abs, constants.R_OK | constants.X_OK);
    const entries = await readdir(abs);
    run.add(id, 'ok', `${abs} readable (${entries.length} entries)`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    run.add(
      id,
      needed ? 'fail' : 'warn',
      `${abs} is not readable (${code})`,
      `let the daemon's user read it: e.g. chgrp -R asterisk ${abs} && chmod g+rx ${abs} (the unit runs with SupplementaryGroups=asterisk)`,
      needed,
    );
  }
}

// ------------------------------------------------------------ AMI

async function checkAmi(run: Run, config: Config, ami: Config['ami'], timeoutMs: number, eventWaitMs: number): Promise<AmiClient | undefined> {
  const where = `${ami.host}:${ami.port}`;
  const tcp = await probeTcp(ami.host, ami.port, timeoutMs);
  if (!tcp.ok) {
    run.add('ami.reachable', 'fail', `AMI at ${where} is not reachable (${tcp.error})`, 'check CALLBRIDGE_AMI_HOST / CALLBRIDGE_AMI_PORT; in manager.conf: enabled = yes, port = 5038, bindaddr = 127.0.0.1; then asterisk -rx "manager reload"');
    return undefined;
  }
  if (!/^Asterisk Call Manager\//.test(tcp.banner)) {
    run.add('ami.reachable', 'fail', `${where} answers, but not as AMI ("${tcp.banner.slice(0, 60)}")`, 'CALLBRIDGE_AMI_PORT must be Asterisk\'s manager port (5038)');
    return undefined;
  }
  run.add('ami.reachable', 'ok', `AMI at ${where} answers (${tcp.banner.trim()})`);

  const client = new AmiClient({ ...ami, logger: silentLogger(), loginFailedDelayMs: 3_600_000, backoff: { minMs: 3_600_000, maxMs: 3_600_000 }, connectTimeoutMs: timeoutMs, actionTimeoutMs: timeoutMs });
  const events: AmiMessage[] = [];
  client.on('event', (m) => events.push(m));
  const login = await new Promise<'ok' | { refused: string } | { error: string }>((done) => {
    const timer = setTimeout(() => done({ error: `no login answer within ${timeoutMs * 2} ms` }), timeoutMs * 2);
    client.once('connected', () => {
      clearTimeout(timer);
      done('ok');
    });
    client.once('loginFailed', ({ message }) => {
      clearTimeout(timer);
      done({ refused: message });
    });
    client.once('attempt', () => {
      clearTimeout(timer);
      done({ error: 'the connection was lost before the login was answered' });
    });
    client.start();
  });
  if (login !== 'ok') {
    await client.stop();
    if ('refused' in login) {
      run.add(
        'ami.login',
        'fail',
        `AMI login refused for user "${ami.username}" (${login.refused}): the secret is wrong or the user does not exist`,
        `set CALLBRIDGE_AMI_SECRET to the secret of [${ami.username}] in ${MANAGER_CONF} (user: CALLBRIDGE_AMI_USER), check its permit lines, then asterisk -rx "manager reload"`,
      );
    } else {
      run.add('ami.login', 'fail', `AMI login failed: ${login.error}`, 'check that nothing else (a firewall, a proxy) sits on the AMI port');
    }
    return undefined;
  }
  run.add('ami.login', 'ok', `logged in as "${ami.username}"`);

  // write classes: the actions this control mode needs
  const mode = config.control;
  const needed = ACTIONS.filter((a) => a.mode === 'both' || a.mode === mode);
  const permitted = await listCommands(client);
  const refused: string[] = [];
  const unchecked: string[] = [];
  for (const a of needed) {
    let ok: boolean | undefined;
    if (permitted) ok = permitted.has(a.action.toLowerCase());
    else if (PROBES[a.action]) ok = await probeAction(client, PROBES[a.action]!());
    else ok = undefined;
    if (ok === false) refused.push(a.action);
    else if (ok === undefined) unchecked.push(a.action);
  }
  // in AMI mode the PJSIP lists need "system", which must not be granted with "originate": their refusal is expected
  const expected = mode === 'ami' ? await expectedRefusals(client, permitted) : [];
  if (refused.length > 0) {
    const classes = [...new Set(refused.flatMap((r) => ACTIONS.find((a) => a.action === r)!.classes.slice(0, 1)))];
    run.add(
      'ami.permissions',
      'fail',
      `Asterisk refuses ${refused.map((r) => `${r} (${ACTIONS.find((a) => a.action === r)!.why})`).join(', ')} to "${ami.username}"`,
      `add ${classes.join(', ')} to "write =" of [${ami.username}] in ${MANAGER_CONF} (the shipped asterisk-config/manager_custom.conf has the line for CALLBRIDGE_CONTROL=${mode}), then asterisk -rx "manager reload"`,
    );
  } else {
    run.add(
      'ami.permissions',
      'ok',
      `the actions the daemon sends are granted (${needed.filter((a) => !unchecked.includes(a.action)).map((a) => a.action).join(', ')})${unchecked.length ? `; ${unchecked.join(', ')} not probed (it would act): the test call (--call) tries it` : ''}`,
    );
  }
  if (expected.length > 0) run.add('ami.permissions', 'ok', `${expected.join(', ')} refused, as expected in AMI control mode (no "system" with "originate")`);

  // read classes: events arriving
  const until = Date.now() + eventWaitMs;
  while (events.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const names = [...new Set(events.map((e) => field(e, 'event') ?? '?'))];
  const classes = [...new Set(events.flatMap((e) => (field(e, 'privilege') ?? '').split(',')).map((c) => c.trim()).filter((c) => c && c !== 'all'))];
  if (events.length === 0) {
    run.add(
      'ami.events',
      'fail',
      `no AMI event within ${eventWaitMs} ms of the login (Asterisk sends FullyBooted at once when "read" has system)`,
      `set "read = system,call,agent,cdr,dialplan" for [${ami.username}] in ${MANAGER_CONF}, then asterisk -rx "manager reload"`,
    );
  } else {
    const wantsSystem = !classes.includes('system') && !names.includes('FullyBooted');
    run.add(
      'ami.events',
      wantsSystem ? 'warn' : 'ok',
      `events arriving (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}; classes ${classes.join(', ') || '?'})`,
      wantsSystem ? `"read" should include system (ContactStatus, PeerStatus): read = system,call,agent,cdr,dialplan in ${MANAGER_CONF}` : undefined,
      false,
    );
  }
  return client;
}

/** The actions this user may run (ListCommands lists only those), or undefined when ListCommands is not answered. */
async function listCommands(client: AmiClient): Promise<Set<string> | undefined> {
  try {
    const r = await client.action({ Action: 'ListCommands' });
    const out = new Set<string>();
    for (const k of Object.keys(r)) if (k !== 'response' && k !== 'actionid') out.add(k.toLowerCase());
    return out.size > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}

/** True when the action is run (or refused for another reason than permission), false on "Permission denied". */
async function probeAction(client: AmiClient, fields: Record<string, string>): Promise<boolean> {
  try {
    await client.listAction(fields);
    return true;
  } catch (err) {
    const msg = err instanceof AmiError ? err.message : String(err);
    return !/permission denied/i.test(msg);
  }
}

async function expectedRefusals(client: AmiClient, permitted: Set<string> | undefined): Promise<string[]> {
  const out: string[] = [];
  for (const a of ['PJSIPShowEndpoints', 'PJSIPShowContacts']) {
    const ok = permitted ? permitted.has(a.toLowerCase()) : await probeAction(client, PROBES[a]!());
    if (!ok) out.push(a);
  }
  return out;
}

/** Endpoints Asterisk has, from AMI (when ARI cannot say). */
async function amiEndpoints(client: AmiClient, timeoutMs: number): Promise<Array<{ technology: string; resource: string }>> {
  try {
    const r = await client.listAction({ Action: 'PJSIPShowEndpoints' }, { timeoutMs });
    return r.events.map((e) => ({ technology: 'PJSIP', resource: field(e, 'objectname') ?? '' })).filter((e) => e.resource);
  } catch {
    return [];
  }
}

// ------------------------------------------------------------ dialplan

async function checkDialplan(run: Run, config: Config, client: AmiClient, timeoutMs: number): Promise<Set<string>> {
  const found = new Set<string>();
  const missing: Array<{ context: string; needed: boolean; what: string }> = [];
  const contexts = shippedContexts();
  for (const context of contexts) {
    const click2call = context.startsWith(CLICK2CALL_CONTEXT);
    // ARI control goes through [callbridge-ari] (CALLBRIDGE_ARI_CONTEXT); both modes push [callbridge-ari-hangup] (CALLBRIDGE_ARI_HANGUP_FACTS)
    const ariNeeded =
      (config.control === 'ari' && config.ari.context !== '' && context === config.ari.context) || (config.ari.hangupFacts && context === LEG_HANGUP_CONTEXT);
    const needed = (click2call && config.control === 'ami') || ariNeeded;
    const what = ariNeeded
      ? context === LEG_HANGUP_CONTEXT
        ? 'how each call leg ended, kept for a daemon outage; or set CALLBRIDGE_ARI_HANGUP_FACTS=0'
        : 'ARI call control; or set CALLBRIDGE_ARI_CONTEXT=off'
      : click2call
        ? 'AMI call control'
        : context.startsWith('callbridge-ari')
          ? 'ARI call control'
          : context === 'from-internal-custom'
            ? 'masked numbers dialled by operators'
            : 'the CDR hooks of the events API';
    try {
      const r = await client.listAction({ Action: 'ShowDialPlan', Context: context }, { timeoutMs });
      if (r.events.length > 0 || field(r.complete, 'listcontexts') !== '0') found.add(context);
      else missing.push({ context, needed, what });
    } catch (err) {
      const msg = err instanceof AmiError ? err.message : String(err);
      if (/permission denied/i.test(msg)) {
        run.add('dialplan', 'warn', `ShowDialPlan is refused to "${config.ami.username}": the dialplan cannot be checked`, `add reporting to "write =" in ${MANAGER_CONF}`, false);
        return found;
      }
      missing.push({ context, needed, what });
    }
  }
  if (missing.length === 0) {
    run.add('dialplan', 'ok', `the ${contexts.length} shipped contexts are loaded (${contexts.join(', ')})`);
  } else {
    for (const m of missing) {
      run.add(
        'dialplan',
        m.needed ? 'fail' : 'warn',
        `context [${m.context}] is not loaded (${m.what}${m.needed ? '' : '; not needed by the daemon itself'})`,
        'append asterisk-config/extensions_custom.conf to /etc/asterisk/extensions_custom.conf, then asterisk -rx "dialplan reload"',
        m.needed,
      );
    }
    const loaded = contexts.filter((c) => found.has(c));
    if (loaded.length > 0) run.add('dialplan', 'ok', `loaded: ${loaded.join(', ')}`);
  }
  // the contexts the client template may name (Local/{phone}@<context>)
  const local = /^Local\/[^@]*@([A-Za-z0-9_.-]+)/i.exec(config.clientChannel)?.[1];
  for (const ctx of [local, /^Local\/[^@]*@([A-Za-z0-9_.-]+)/i.exec(config.operatorChannel)?.[1]]) {
    if (!ctx || found.has(ctx)) continue;
    try {
      const r = await client.listAction({ Action: 'ShowDialPlan', Context: ctx }, { timeoutMs });
      if (r.events.length > 0) found.add(ctx);
    } catch {
      // not loaded
    }
  }
  return found;
}

// ------------------------------------------------------------ ARI

async function checkAri(run: Run, ari: Config['ari'] & { url: string }, timeoutMs: number): Promise<{ endpoints: Array<{ technology: string; resource: string }> } | undefined> {
  const base = `${ari.url}/ari`;
  let res: Response;
  try {
    res = await fetch(`${base}/asterisk/info`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message) || 'no answer';
    run.add('ari.reachable', 'fail', `ARI at ${ari.url} is not reachable (${cause})`, 'check CALLBRIDGE_ARI_URL; Asterisk\'s http.conf: enabled = yes, bindaddr = 127.0.0.1, bindport = 8088; ari.conf: enabled = yes; then asterisk -rx "module reload res_http.so"');
    return undefined;
  }
  await res.body?.cancel();
  if (res.status === 404) {
    run.add('ari.reachable', 'fail', `${ari.url} answers HTTP but has no /ari (404)`, 'load res_ari (ari.conf: enabled = yes) or fix CALLBRIDGE_ARI_URL');
    return undefined;
  }
  run.add('ari.reachable', 'ok', `ARI at ${ari.url} answers`);
  const auth = { authorization: basic(ari.username, ari.password) };
  const info = await fetch(`${base}/asterisk/info`, { headers: auth, signal: AbortSignal.timeout(timeoutMs) });
  if (info.status === 401) {
    await info.body?.cancel();
    run.add('ari.credentials', 'fail', `ARI refuses user "${ari.username}" (401): the password is wrong or the user does not exist`, `set CALLBRIDGE_ARI_PASSWORD to the password of [${ari.username}] in ${ARI_CONF} (user: CALLBRIDGE_ARI_USER), then asterisk -rx "module reload res_ari.so"`);
    return undefined;
  }
  if (!info.ok) {
    await info.body?.cancel();
    run.add('ari.credentials', 'fail', `GET /ari/asterisk/info answered ${info.status}`, 'see Asterisk\'s log for the reason');
    return undefined;
  }
  const body = (await info.json().catch(() => ({}))) as { system?: { version?: string } };
  run.add('ari.credentials', 'ok', `user "${ari.username}" accepted${body.system?.version ? ` (Asterisk ${body.system.version})` : ''}`);

  const apps = async () => {
    const r = await fetch(`${base}/applications`, { headers: auth, signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? ((await r.json()) as Array<{ name: string }>).map((a) => a.name) : [];
  };
  if ((await apps()).includes(ari.app)) {
    run.add('ari.app', 'ok', `Stasis app "${ari.app}" is registered (the daemon is connected)`);
  } else {
    // no daemon connected now: register the app for a moment, as the daemon does at start
    const client = new AriClient({ url: ari.url, username: ari.username, password: ari.password, app: ari.app, subscriptions: [], logger: silentLogger(), requestTimeoutMs: timeoutMs });
    try {
      await withTimeout(
        new Promise<void>((done) => {
          client.once('connected', () => done());
          client.start();
        }),
        timeoutMs * 2,
        'the Stasis app registration',
      );
      const listed = (await apps()).includes(ari.app);
      run.add(
        'ari.app',
        listed ? 'ok' : 'fail',
        listed ? `Stasis app "${ari.app}" registers (no daemon is connected now; it registers at start)` : `the websocket opened but "${ari.app}" is not listed in GET /ari/applications`,
        listed ? undefined : 'check Asterisk\'s log for res_stasis errors',
      );
    } catch (err) {
      run.add('ari.app', 'fail', `Stasis app "${ari.app}" could not register: ${(err as Error).message}`, 'check that res_ari_events / res_http_websocket are loaded (asterisk -rx "module show like websocket")');
    } finally {
      await client.stop();
    }
  }
  try {
    const r = await fetch(`${base}/endpoints`, { headers: auth, signal: AbortSignal.timeout(timeoutMs) });
    return { endpoints: r.ok ? ((await r.json()) as Array<{ technology: string; resource: string }>) : [] };
  } catch {
    return { endpoints: [] };
  }
}

// ------------------------------------------------------------ channel templates

function checkTemplates(run: Run, config: Config, endpoints: ReadonlyArray<{ technology: string; resource: string }>, contexts: Set<string> | undefined): void {
  const byTech = new Map<string, string[]>();
  for (const e of endpoints) byTech.set(e.technology.toUpperCase(), [...(byTech.get(e.technology.toUpperCase()) ?? []), e.resource]);
  const check = (id: string, variable: string, template: string, placeholder: string, sample: string | undefined) => {
    const m = /^([A-Za-z0-9_]+)\/(.+)$/.exec(template);
    if (!m) return run.add(id, 'fail', `${variable}=${template} is not a dial string (<technology>/<resource>)`, `e.g. ${variable}=${placeholder === '{sip}' ? 'PJSIP/{sip}' : 'Local/{phone}@from-internal'}`);
    const tech = m[1]!.toUpperCase();
    const rest = m[2]!;
    if (tech === 'LOCAL') {
      const ctx = /@([A-Za-z0-9_.-]+)/.exec(rest)?.[1];
      if (!ctx) return run.add(id, 'fail', `${variable}=${template}: a Local channel needs @<context>`, `e.g. Local/${placeholder}@from-internal`);
      if (!contexts) return run.add(id, 'skip', `${variable}=${template}: the dialplan could not be read`);
      if (!contexts.has(ctx)) return run.add(id, 'fail', `${variable}=${template}: context [${ctx}] is not in Asterisk's dialplan`, `name a loaded context (FreePBX: from-internal) in ${variable}`);
      return run.add(id, 'ok', `${variable}=${template}: context [${ctx}] is loaded`);
    }
    if (endpoints.length === 0) return run.add(id, 'skip', `${variable}=${template}: Asterisk's endpoints could not be listed`);
    const names = byTech.get(tech);
    if (!names || names.length === 0) {
      return run.add(id, 'fail', `${variable}=${template}: Asterisk has no ${tech} endpoint (it has ${[...byTech.keys()].join(', ') || 'none'})`, `use the technology of the phones, e.g. ${[...byTech.keys()][0] ?? 'PJSIP'}/${placeholder}`);
    }
    if (rest.startsWith(placeholder)) {
      // PJSIP/{sip}, or PJSIP/{phone}@<trunk endpoint>
      const trunk = /@([A-Za-z0-9_.-]+)$/.exec(rest)?.[1];
      if (trunk && !names.includes(trunk)) return run.add(id, 'fail', `${variable}=${template}: no ${tech} endpoint "${trunk}"`, `name an existing trunk endpoint (${names.slice(0, 5).join(', ')}…)`);
      const example = sample ?? names[0]!;
      return run.add(id, 'ok', `${variable}=${template}: ${names.length} ${tech} endpoint(s), e.g. ${template.replace(placeholder, example)}`);
    }
    // PJSIP/<trunk>/sip:{phone}@host
    const endpoint = /^([^/]+)\//.exec(rest)?.[1];
    if (endpoint && !names.includes(endpoint)) return run.add(id, 'fail', `${variable}=${template}: no ${tech} endpoint "${endpoint}"`, `name an existing endpoint (${names.slice(0, 5).join(', ')}…)`);
    return run.add(id, 'ok', `${variable}=${template}: endpoint ${endpoint ?? rest} exists`);
  };
  const operators = byTech.get(/^([A-Za-z0-9_]+)\//.exec(config.operatorChannel)?.[1]?.toUpperCase() ?? '') ?? [];
  check('template.operator', 'CALLBRIDGE_OPERATOR_CHANNEL', config.operatorChannel, '{sip}', operators.find((o) => config.sipPattern.test(o)));
  check('template.client', 'CALLBRIDGE_CLIENT_CHANNEL', config.clientChannel, '{phone}', undefined);
}

// ------------------------------------------------------------ test call

const FINAL = new Set(['OPERATOR_OFFLINE', 'OPERATOR_NOANSWER', 'OPERATOR_BUSY', 'CLIENT_NOANSWER', 'CLIENT_BUSY', 'CLIENT_CANCEL', 'OPERATOR_CANCEL', 'ERROR', 'FINISH']);

async function testCall(run: Run, config: Config, call: { sip: string; phone: string }, timeoutMs: number, print: (l: string) => void): Promise<void> {
  const base = daemonUrl(config);
  const headers: Record<string, string> = config.apiTokens[0] ? { authorization: `Bearer ${config.apiTokens[0]}` } : {};
  const orderId = `doctor-${Date.now().toString(36)}`;
  let res: Response;
  try {
    res = await fetch(`${base}/api/makeCall.json?${new URLSearchParams({ sip: call.sip, phone: call.phone, order_id: orderId })}`, { method: 'POST', headers, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    run.add('call', 'fail', `the daemon does not answer at ${base} (${((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message)})`, 'start it (systemctl start callbridge, or npm start) to place a test call');
    return;
  }
  const body = (await res.json().catch(() => ({}))) as { call_id?: number; error?: { code: string; message: string } };
  if (!res.ok || body.call_id === undefined) {
    run.add('call', 'fail', `makeCall refused: ${body.error?.code ?? res.status} ${body.error?.message ?? ''}`.trim(), body.error?.code === 'UNAUTHORIZED' ? 'CALLBRIDGE_API_TOKENS of the doctor must hold one of the daemon\'s tokens' : 'see the message; GET /api/sipList shows the operators Asterisk has');
    return;
  }
  print(`      call ${body.call_id}: sip ${call.sip} → phone ${call.phone} (order ${orderId})`);
  const seen = new Set<number>();
  const start = Date.now();
  let first: number | undefined;
  let last = '';
  while (Date.now() - start < timeoutMs) {
    const h = await fetch(`${base}/api/callHistory.json?call_id=${body.call_id}`, { headers, signal: AbortSignal.timeout(10_000) }).then((r) => r.json() as Promise<{ history?: Array<{ id: number; status: string; time: string; details?: Record<string, unknown> }> }>);
    for (const s of h.history ?? []) {
      if (seen.has(s.id)) continue;
      seen.add(s.id);
      last = s.status;
      const d = s.details ?? {};
      const extra = [d.causeText ? `cause ${String(d.cause)} ${String(d.causeText)}` : '', d.reason ? String(d.reason) : '', d.by ? `by ${String(d.by)}` : ''].filter(Boolean).join(', ');
      first ??= Date.parse(s.time);
      print(`      +${((Date.parse(s.time) - first) / 1000).toFixed(1).padStart(5)} s  ${s.status}${extra ? `  (${extra})` : ''}`);
    }
    if (FINAL.has(last)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!FINAL.has(last)) {
    run.add('call', 'fail', `call ${body.call_id} did not end within ${timeoutMs / 1000} s (last status ${last || 'none'})`, 'see the daemon\'s log: journalctl -u callbridge');
  } else if (last === 'FINISH') {
    run.add('call', 'ok', `call ${body.call_id} went through and ended (FINISH)`);
  } else if (last === 'ERROR') {
    run.add('call', 'fail', `call ${body.call_id} ended in ERROR`, 'the details above say why; check the channel templates and the dialplan');
  } else {
    run.add('call', 'warn', `call ${body.call_id} ended with ${last}: the chain works, nobody talked`, 'answer both phones for a full test', false);
  }
}
