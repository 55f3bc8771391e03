/**
 * The shipped Asterisk snippets (asterisk-config/) and the systemd unit
 * (systemd/callbridge.service) against the code: contexts, variables, AMI
 * classes, URLs and paths the daemon expects, so they cannot drift apart.
 */
import { AMI_USER_EVENT_FILTERS, amiWriteClasses } from '../src/simulator/index.js';
import { ACTION_WRITE_CLASSES, writeAllows } from '../src/asterisk/ami/authority.js';
import { parseEventFilterLine, passes } from '../src/simulator/ami-filters.js';
import { TRACKER_VARIABLES } from '../src/calls/ami-tracker.js';
import { MIRROR_VARIABLES } from '../src/pbx/mirror.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLICK2CALL_CONTEXT } from '../src/calls/controllers.js';
import { CALL_ID_VARIABLE } from '../src/calls/ami-tracker.js';
import { loadConfig } from '../src/config.js';
import { createApp, type ApiMethod } from '../src/http/app.js';
import { silentLogger } from '../src/log.js';
import { callSettingsMethods } from '../src/connectors/call-settings-http.js';

const ROOT = join(import.meta.dirname, '..');
const CONF = join(ROOT, 'asterisk-config');
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');

// ---------------------------------------------------------------- parsing

interface Section {
  name: string;
  entries: Array<{ key: string; value: string }>;
  /** `;key = value` lines: commented alternatives */
  commented: Array<{ key: string; value: string }>;
}

/** Asterisk's config syntax: `[section]`, `key = value` / `key => value`, `;` comments. */
function parseConf(text: string): Section[] {
  const out: Section[] = [];
  let cur: Section | undefined;
  for (const raw of text.split('\n')) {
    const alt = /^;\s*([A-Za-z_][\w]*)\s*=\s*(.+?)\s*$/.exec(raw.trim());
    if (alt && cur) cur.commented.push({ key: alt[1]!, value: alt[2]! });
    const line = raw.replace(/(^|[^\\]);.*$/, '$1').trim();
    if (!line) continue;
    const sec = /^\[([^\]]+)\]/.exec(line);
    if (sec) {
      cur = { name: sec[1]!, entries: [], commented: [] };
      out.push(cur);
      continue;
    }
    const kv = /^([^=]+?)\s*=>?\s*(.*)$/.exec(line);
    if (kv && cur) cur.entries.push({ key: kv[1]!.trim(), value: kv[2]!.trim() });
  }
  return out;
}

const values = (s: Section, key: string) => s.entries.filter((e) => e.key === key).map((e) => e.value);
const classes = (v: string | undefined) => new Set((v ?? '').split(',').map((c) => c.trim()).filter(Boolean));

interface Step {
  context: string;
  exten: string;
  /** 1-based priority within its extension */
  priority: number;
  label?: string;
  app: string;
  data: string;
}

/** Dialplan steps of extensions.conf syntax (exten => / same =>). */
function parseDialplan(text: string): { steps: Step[]; contexts: Map<string, Section> } {
  const steps: Step[] = [];
  const contexts = new Map<string, Section>();
  let context = '';
  let exten = '';
  let priority = 0;
  for (const sec of parseConf(text)) {
    context = sec.name;
    contexts.set(context, sec);
    for (const e of sec.entries) {
      if (e.key !== 'exten' && e.key !== 'same') continue;
      let rest = e.value;
      if (e.key === 'exten') {
        const comma = rest.indexOf(',');
        exten = rest.slice(0, comma);
        rest = rest.slice(comma + 1);
      }
      const comma = rest.indexOf(',');
      const prio = rest.slice(0, comma);
      const body = rest.slice(comma + 1);
      const pm = /^(\d+|n)(?:\((\w+)\))?$/.exec(prio);
      if (!pm) throw new Error(`bad priority "${prio}" in [${context}]`);
      priority = pm[1] === 'n' ? priority + 1 : Number(pm[1]);
      const am = /^(\w+)\((.*)\)$/s.exec(body);
      steps.push({ context, exten, priority, label: pm[2], app: am ? am[1]! : body, data: am ? am[2]! : '' });
    }
  }
  return { steps, contexts };
}

/** An Asterisk extension pattern (`_X.`, `_[+0-9].`, `_+XXs.`) as a RegExp; plain names match themselves. */
function patternRegExp(p: string): RegExp {
  if (!p.startsWith('_')) return new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  let re = '^';
  for (let i = 1; i < p.length; i++) {
    const c = p[i]!;
    if (c === 'X' || c === 'x') re += '[0-9]';
    else if (c === 'Z' || c === 'z') re += '[1-9]';
    else if (c === 'N' || c === 'n') re += '[2-9]';
    else if (c === '.') re += '.+';
    else if (c === '!') re += '.*';
    else if (c === '[') {
      const end = p.indexOf(']', i);
      re += `[${p.slice(i + 1, end).replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

function srcFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (relative(join(ROOT, 'src'), p) === 'simulator') continue; // the simulated Asterisk answers actions, it does not send them
      out.push(...srcFiles(p));
    } else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}
const SOURCES = srcFiles(join(ROOT, 'src')).map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }));

// ---------------------------------------------------------------- AMI classes


/** Actions only the AMI call controller sends (CALLBRIDGE_CONTROL=ami). */
const AMI_MODE_ONLY = new Set(['Originate']);

/** Where the actions are sent: `Action: 'X'` literals and the presence feed's `list('X')` helper. */
function actionsSent(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (name: string, where: string) => found.set(name, [...(found.get(name) ?? []), where]);
  for (const { path, text } of SOURCES) {
    for (const m of text.matchAll(/\bAction:\s*['"`](\w+)['"`]/g)) {
      // the client's generic command() helper counts only where something calls it
      if (m[1] === 'Command' && path === join('src', 'asterisk', 'ami', 'client.ts')) continue;
      add(m[1]!, path);
    }
    for (const m of text.matchAll(/\blist\(\s*['"`](\w+)['"`]\s*[,)]/g)) add(m[1]!, path);
    if (/\.command\(/.test(text) && path !== join('src', 'asterisk', 'ami', 'client.ts')) add('Command', path);
  }
  return found;
}

/** AMI event → class (Asterisk 22 manager event docs), for the events the daemon may follow. */
const EVENT_CLASSES: Record<string, string> = Object.fromEntries(
  Object.entries({
    call:
      'AttendedTransfer BlindTransfer BridgeCreate BridgeDestroy BridgeEnter BridgeLeave BridgeMerge DeviceStateChange DialBegin DialEnd DialState ' +
      'Hangup HangupRequest SoftHangupRequest Hold Unhold LocalBridge LocalOptimizationBegin LocalOptimizationEnd MixMonitorStart MixMonitorStop ' +
      'MixMonitorMute MusicOnHoldStart MusicOnHoldStop NewAccountCode NewCallerid NewConnectedLine Newchannel Newstate OriginateResponse ' +
      'ParkedCall PresenceStateChange Pickup Rename ExtensionStatus',
    dialplan: 'VarSet Newexten NewExten HangupHandlerPush HangupHandlerPop HangupHandlerRun',
    system: 'ContactStatus PeerStatus Registry FullyBooted Reload Shutdown DNDState',
    agent:
      'AgentCalled AgentComplete AgentConnect AgentDump AgentLogin AgentLogoff AgentRingNoAnswer QueueCallerAbandon QueueCallerJoin ' +
      'QueueCallerLeave QueueMemberAdded QueueMemberPause QueueMemberPenalty QueueMemberRemoved QueueMemberRinginuse QueueMemberStatus',
    cdr: 'Cdr',
    cel: 'CEL',
    user: 'UserEvent',
    dtmf: 'DTMFBegin DTMFEnd',
    reporting: 'RTCPReceived RTCPSent',
    security: 'InvalidAccountID InvalidPassword ChallengeResponseFailed SuccessfulAuth FailedACL',
  }).flatMap(([cls, names]) => names.split(' ').map((n) => [n, cls])),
);

function eventsFollowed(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { path, text } of SOURCES) {
    // the login's event filter names the events it drops: those are not followed
    if (path === join('src', 'asterisk', 'ami', 'events.ts')) continue;
    for (const m of text.matchAll(/['"]([A-Z][A-Za-z]+)['"]/g)) {
      if (EVENT_CLASSES[m[1]!] && !out.has(m[1]!)) out.set(m[1]!, path);
    }
  }
  return out;
}

const covers = (write: Set<string>, action: string) => writeAllows(write, action) === true;

describe('manager_custom.conf (AMI user)', () => {
  const sections = parseConf(read('asterisk-config', 'manager_custom.conf'));
  const defaults = loadConfig({}, []);
  const user = sections.find((s) => s.name === defaults.ami.username);
  const sent = actionsSent();

  it('defines only the daemon user, named as CALLBRIDGE_AMI_USER defaults', () => {
    expect(sections.map((s) => s.name)).toEqual([defaults.ami.username]);
    expect(values(user!, 'secret')).toHaveLength(1);
  });

  it('finds the actions the code sends, each with its class in the table', () => {
    for (const a of ['Originate', 'CoreShowChannels', 'PJSIPShowEndpoints', 'PJSIPShowContacts', 'DeviceStateList', 'QueueStatus', 'Login', 'Ping']) {
      expect(sent.has(a), `${a} not found in src/: has the scan gone blind?`).toBe(true);
    }
    const unknown = [...sent.keys()].filter((a) => !(a in ACTION_WRITE_CLASSES));
    expect(unknown, `add these actions and their classes to ACTION_WRITE_CLASSES (sent from ${unknown.map((a) => sent.get(a)).join(', ')})`).toEqual([]);
  });

  it('sends the AMI-mode-only actions from the AMI call controller alone', () => {
    for (const a of AMI_MODE_ONLY) {
      expect(sent.get(a)).toEqual([join('src', 'calls', 'controllers.ts')]);
      const text = SOURCES.find((s) => s.path === join('src', 'calls', 'controllers.ts'))!.text;
      const at = text.search(new RegExp(`Action:\\s*'${a}'`));
      expect(at).toBeGreaterThan(text.indexOf('class AmiCallController'));
    }
  });

  const write = classes(values(user!, 'write')[0]);
  const amiModeWrite = classes(user!.commented.find((e) => e.key === 'write')?.value);

  it('write (ARI control mode) covers every action sent outside AMI mode, and nothing more', () => {
    expect(values(user!, 'write')).toHaveLength(1);
    const needed = [...sent.keys()].filter((a) => !AMI_MODE_ONLY.has(a));
    expect(needed.filter((a) => !covers(write, a))).toEqual([]);
    for (const c of write) {
      const without = new Set([...write].filter((x) => x !== c));
      expect(needed.some((a) => !covers(without, a)), `write class "${c}" is not needed by any action`).toBe(true);
    }
    expect(write.has('originate')).toBe(false);
  });

  it('the AMI control mode alternative adds originate and drops system', () => {
    expect(amiModeWrite.has('originate')).toBe(true);
    expect(amiModeWrite.has('system')).toBe(false);
    const refused = [...sent.keys()].filter((a) => !covers(amiModeWrite, a)).sort();
    // refused in AMI mode, each decided on (a new one must not slip in): DBDelTree is sent by the ARI
    // controller only; a refused Filter leaves the events unfiltered; the system-only PJSIP lists give way
    // to DeviceStateList
    expect(refused).toEqual(['DBDelTree', 'Filter', 'PJSIPShowContacts', 'PJSIPShowEndpoints']);
    for (const a of sent.keys()) if (!refused.includes(a)) expect(covers(amiModeWrite, a), a).toBe(true);
  });

  it("the simulator's AMI user has the same write classes as the file, in each mode", () => {
    expect(new Set(amiWriteClasses('ari'))).toEqual(write);
    expect(new Set(amiWriteClasses('ami'))).toEqual(amiModeWrite);
  });

  it("the eventfilter lines are the simulator's AMI_USER_EVENT_FILTERS, and each is one Asterisk 22 takes", () => {
    const lines = user!.entries.filter((e) => e.key.startsWith('eventfilter')).map((e) => `${e.key} =${e.value ? ` ${e.value}` : ''}`);
    expect(lines).toEqual(AMI_USER_EVENT_FILTERS);
    for (const l of lines) expect(parseEventFilterLine(l), l).toBeDefined();
  });

  it('the event filters leave out CEL, Newexten and bookkeeping VarSets, and nothing the daemon reads', () => {
    const filters = AMI_USER_EVENT_FILTERS.map((l) => parseEventFilterLine(l)!);
    // a caller name that looks like a header does not decide: only the Variable line is compared
    const varSet = (name: string) =>
      `Event: VarSet\r\nPrivilege: dialplan,all\r\nChannel: PJSIP/1000-00000001\r\nCallerIDName: Variable: BRIDGEPEER\r\n` +
      `Uniqueid: 1700000000.1\r\nLinkedid: 1700000000.1\r\nVariable: ${name}\r\nValue: 1\r\n\r\n`;
    for (const v of new Set([...TRACKER_VARIABLES, ...MIRROR_VARIABLES])) {
      for (const prefix of ['', '_', '__']) expect(passes(filters, varSet(`${prefix}${v}`)), `${prefix}${v}`).toBe(true);
    }
    for (const v of ['BRIDGEPEER', 'BRIDGEPVTCALLID', 'RTPAUDIOQOS', 'RTPAUDIOQOSJITTERBRIDGED', 'DIALSTATUS', 'DIALEDPEERNUMBER', 'ANSWEREDTIME_MS', 'RINGTIME', 'LOCAL(ARG1)', 'ARG2', 'ARGC', 'GOSUB_RETVAL', 'STASISSTATUS']) {
      expect(passes(filters, varSet(v)), v).toBe(false);
    }
    expect(passes(filters, varSet('DIALSTATUSX'))).toBe(true); // anchored: only the names listed
    // every other event of the recorded traces passes
    for (const trace of ['A1', 'B1', 'C1', 'E1', 'E3', 'X1', 'Q1']) {
      const text = readFileSync(new URL(`fixtures/${trace}/ami.txt`, import.meta.url), 'latin1');
      for (const block of text.split('\r\n\r\n')) {
        const name = /^Event: (\S+)/.exec(block)?.[1];
        if (!name || name === 'VarSet') continue;
        expect(passes(filters, `${block}\r\n\r\n`), `${trace} ${name}`).toBe(name !== 'CEL' && name !== 'Newexten');
      }
    }
  });

  it('never grants system together with originate, nor all/command/config/agi', () => {
    for (const w of [write, amiModeWrite]) {
      expect(w.has('system') && w.has('originate')).toBe(false);
      for (const bad of ['all', 'command', 'config', 'agi']) expect(w.has(bad), bad).toBe(false);
    }
  });

  it('read covers the events the daemon follows, and nothing more', () => {
    const read_ = classes(values(user!, 'read')[0]);
    const followed = eventsFollowed();
    for (const e of ['Newchannel', 'VarSet', 'ContactStatus', 'QueueMemberPause', 'Cdr', 'OriginateResponse']) {
      expect(followed.has(e), `${e} not found in src/: has the scan gone blind?`).toBe(true);
    }
    const needed = new Set([...followed.keys()].map((e) => EVENT_CLASSES[e]!));
    const missing = [...followed].filter(([e]) => !read_.has(EVENT_CLASSES[e]!)).map(([e, where]) => `${e} (${EVENT_CLASSES[e]}, ${where})`);
    expect(missing).toEqual([]);
    expect([...read_].filter((c) => !needed.has(c))).toEqual([]);
  });

  it('accepts connections from loopback only', () => {
    const deny = values(user!, 'deny');
    const permit = values(user!, 'permit');
    expect(deny).toEqual(expect.arrayContaining(['0.0.0.0/0.0.0.0', '::/0']));
    expect(permit.length).toBeGreaterThan(0);
    for (const p of permit) expect(['127.0.0.1/255.255.255.255', '127.0.0.1/32', '::1/128', '::1']).toContain(p);
  });
});

describe('ari.conf (ARI user)', () => {
  const sections = parseConf(read('asterisk-config', 'ari.conf'));

  it('ships only the user section (a second [general] takes the whole ARI configuration down)', () => {
    const name = loadConfig({}, []).ari.username;
    expect(sections.map((s) => s.name)).toEqual([name]);
    const u = sections[0]!;
    expect(values(u, 'type')).toEqual(['user']);
    expect(values(u, 'read_only')).toEqual(['no']);
    expect(['plain', 'crypt']).toContain(values(u, 'password_format')[0]);
    expect(values(u, 'password')).toHaveLength(1);
  });

  it('ships no http_custom.conf (FreePBX reads its own [general] first; the README names the setting)', () => {
    expect(existsSync(join(CONF, 'http_custom.conf'))).toBe(false);
  });
});

describe('extensions_custom.conf', () => {
  const { steps, contexts } = parseDialplan(read('asterisk-config', 'extensions_custom.conf'));
  const inContext = (c: string) => steps.filter((s) => s.context === c);
  const all = steps.map((s) => `${s.app}(${s.data})`).join('\n');

  it('has the AMI-mode click-to-call context the controller originates into', () => {
    const c = inContext(CLICK2CALL_CONTEXT);
    expect(c.length).toBeGreaterThan(0);
    const re = patternRegExp(c[0]!.exten);
    for (const phone of ['79001234567', '+79001234567', '89001234567']) expect(re.test(phone), phone).toBe(true);
  });

  it('keeps the click-to-call steps and their priorities (the simulator replays them)', () => {
    const c = inContext(CLICK2CALL_CONTEXT).map((s) => [s.priority, s.app, s.data] as const);
    expect(c[0]).toEqual([1, 'NoOp', expect.stringContaining(`\${${CALL_ID_VARIABLE}}`)]);
    expect(c[1]).toEqual([2, 'Set', `__${CALL_ID_VARIABLE}=\${${CALL_ID_VARIABLE}}`]);
    expect(c[2]).toEqual([3, 'Set', `CDR(userfield)=callbridge:\${${CALL_ID_VARIABLE}}`]);
    // 4-6 keep the facts (AstDB) and arm the hangup handler: no AMI event of theirs matters to the daemon
    expect(c[3]).toEqual([4, 'Set', `DB(callbridge/\${${CALL_ID_VARIABLE}}/pickup)=\${STRFTIME(,UTC,%Y-%m-%dT%H:%M:%S.%3qZ)}`]);
    expect(c[4]).toEqual([5, 'Set', `CHANNEL(hangup_handler_push)=callbridge-click2call-hangup,s,1(\${${CALL_ID_VARIABLE}})`]);
    expect(c[5]).toEqual([6, 'DBdeltree', `callbridge/\${MATH(\${${CALL_ID_VARIABLE}}-1000,int)}`]);
    expect(c[6]).toEqual([7, 'MixMonitor', '${CALLBRIDGE_RECORDING}.wav,b']);
    expect(c[7]![0]).toBe(8);
    expect(c[7]![1]).toBe('Dial');
    expect(c[7]![2].startsWith('${CALLBRIDGE_CLIENT_DIAL},${CALLBRIDGE_CLIENT_TIMEOUT},')).toBe(true);
    expect(c[8]).toEqual([9, 'Hangup', '']);
  });

  it('uses every CALLBRIDGE_* variable the AMI controller sets', () => {
    const controller = read('src', 'calls', 'controllers.ts');
    const set = new Set<string>([CALL_ID_VARIABLE]);
    for (const m of controller.matchAll(/`(CALLBRIDGE_[A-Z0-9_]+)=/g)) set.add(m[1]!);
    expect(set.size).toBeGreaterThanOrEqual(5);
    const used = inContext(CLICK2CALL_CONTEXT)
      .map((s) => s.data)
      .join('\n');
    for (const v of set) expect(used, v).toContain(`\${${v}}`);
  });

  it('keeps what a gap could hide in AstDB per call id: answer time, dial status, hangup cause', () => {
    const dial = inContext(CLICK2CALL_CONTEXT).find((s) => s.app === 'Dial')!;
    const sub = (opt: string) => new RegExp(`${opt}\\(([\\w-]+)\\^`).exec(dial.data)?.[1];
    const predial = sub('B');
    const answered = sub('U');
    expect(predial && contexts.has(predial)).toBeTruthy();
    expect(answered && contexts.has(answered)).toBeTruthy();
    expect(inContext(answered!).map((s) => s.data).join('\n')).toContain('DB(callbridge/${ARG1}/answered)=');
    expect(inContext(predial!).map((s) => s.data).join('\n')).toContain('DB(callbridge/${ARG1}/dialled)=');
    const push = inContext(CLICK2CALL_CONTEXT).find((s) => s.data.startsWith('CHANNEL(hangup_handler_push)='))!;
    const handler = push.data.split('=')[1]!.split(',')[0]!;
    const h = inContext(handler).map((s) => s.data).join('\n');
    for (const key of ['dialstatus)=${DIALSTATUS}', 'hangupcause)=${HANGUPCAUSE}', 'answeredtime)=${ANSWEREDTIME}', 'hangupsource)=${CHANNEL(hangupsource)}', 'ended)=']) {
      expect(h).toContain(`DB(callbridge/\${ARG1}/${key}`);
    }
    expect(inContext(handler).at(-1)!.app).toBe('Return');
    // the bare WAV header MixMonitor leaves for a client who never answered is removed
    expect(h).toContain(`$["\${DIALSTATUS}" != "ANSWER"`);
    expect(h).toContain("rm -f -- '${MIXMONITOR_FILENAME}'");
  });

  it('points every Goto/Gosub/handler at a context that exists (or FreePBX from-internal)', () => {
    const targets = new Set<string>();
    for (const s of steps) {
      if (s.app === 'Gosub' || s.app === 'Goto') {
        const parts = s.data.split(',');
        if (parts.length === 3) targets.add(parts[0]!);
      }
      const hp = /^CHANNEL\(hangup_handler_push\)=([\w-]+),/.exec(s.data);
      if (hp) targets.add(hp[1]!);
      for (const m of s.data.matchAll(/\b[BU]\(([\w-]+)\^/g)) targets.add(m[1]!);
    }
    for (const t of targets) expect(contexts.has(t) || t === 'from-internal', t).toBe(true);
  });

  it('takes the daemon URL and token from [globals], and holds no other secret', () => {
    const g = contexts.get('globals')!;
    expect(g.entries.map((e) => e.key).sort()).toEqual(['CALLBRIDGE_API_TOKEN', 'CALLBRIDGE_URL']);
    const port = loadConfig({}, []).http.port;
    expect(values(g, 'CALLBRIDGE_URL')).toEqual([`http://127.0.0.1:${port}`]);
    expect(all).not.toMatch(/secret|password/i);
  });

  it('posts callDetailRecord with every field, URL-encoded, from a hangup handler', () => {
    const post = steps.find((s) => /CURL\(\$\{url\}\/api\/events\/callDetailRecord,\$\{body\}\)/.test(s.data));
    expect(post).toBeDefined();
    const body = inContext(post!.context)
      .filter((s) => s.data.startsWith('LOCAL(body)='))
      .map((s) => s.data.replace(/^LOCAL\(body\)=(\$\{body\}&)?/, ''));
    const fields = body.map((b) => /^(\w+)=\$\{URIENCODE\(.+\)\}$/.exec(b)?.[1]);
    expect(fields).toEqual(['event_id', 'phone', 'extension', 'path', 'call_at', 'type', 'duration', 'billsec', 'disposition', 'uniqueid', 'linkedid', 'did', 'token']);
    const joined = body.join('&');
    for (const v of ['${CHANNEL(linkedid)}', '${CDR(start)}', '${CDR(duration)}', '${CDR(billsec)}', '${CDR(disposition)}', '${UNIQUEID}', '${FROM_DID}', '${CALLBRIDGE_API_TOKEN}']) {
      expect(joined).toContain(v);
    }
    const recording = inContext(post!.context).map((s) => s.data).join('\n');
    expect(recording).toContain('${MIXMONITOR_FILENAME}');
    expect(recording).toContain('${CDR(recordingfile)}');
    // armed as a hangup handler
    expect(steps.some((s) => s.data === `CHANNEL(hangup_handler_push)=${post!.context},s,1`)).toBe(true);
  });

  it('resolves masked numbers through getNumberFromId before dialling out', () => {
    const fic = inContext('from-internal-custom');
    const matches = (n: string) => fic.some((s) => patternRegExp(s.exten).test(n));
    for (const n of ['+123456s654321', '+7000d0', '+1s2', '+123456789012d3']) expect(matches(n), n).toBe(true);
    for (const n of ['+79001234567', '89001234567', '1000', '*97', 's']) expect(matches(n), n).toBe(false);
    const lookup = steps.find((s) => s.data.includes('/api/getNumberFromId.txt'))!;
    expect(lookup.data).toMatch(/CURL\(\$\{url\}\/api\/getNumberFromId\.txt,number=\$\{URIENCODE\(\$\{ARG1\}\)\}&token=\$\{URIENCODE\(\$\{CALLBRIDGE_API_TOKEN\}\)\}\)/);
    expect(inContext(lookup.context).some((s) => /^CURLOPT\(failurecodes\)=.*\b404\b/.test(s.data))).toBe(true);
    expect(all).toContain('Goto(from-internal,${CALLBRIDGE_NUMBER},1)');
  });

  it('asks callSettings.txt for the caller name and the preferred extension of inbound calls, with short timeouts', () => {
    const cs = inContext('callbridge-call-settings');
    const curls = cs.filter((s) => s.data.includes('/api/callSettings.txt'));
    expect(curls.map((s) => /field=(\w+)/.exec(s.data)?.[1])).toEqual(['name', 'ext']);
    for (const s of curls) {
      expect(s.data).toMatch(/CURL\(\$\{url\}\/api\/callSettings\.txt,phone=\$\{URIENCODE\(\$\{CALLERID\(num\)\}\)\}&did=\$\{URIENCODE\(\$\{FROM_DID\}\)\}&field=\w+&token=\$\{URIENCODE\(\$\{CALLBRIDGE_API_TOKEN\}\)\}\)/);
    }
    expect(cs.some((s) => /^CURLOPT\(httptimeout\)=[1-3]$/.test(s.data))).toBe(true);
    expect(cs.some((s) => /^CURLOPT\(failurecodes\)=.*\b404\b/.test(s.data))).toBe(true);
    expect(cs.some((s) => s.data.includes('Set(CALLERID(name)=${name})'))).toBe(true);
    expect(cs.some((s) => s.data.startsWith('__CALLBRIDGE_PREFERRED_EXT='))).toBe(true);
    expect(cs.at(-1)!.app).toBe('Return');
    // the method it asks for has a plain-text form
    const method = callSettingsMethods(undefined).find((m) => m.names.includes('callSettings'));
    expect(method?.text).toBeTypeOf('function');
  });

  it('calls the paths the daemon routes, as CURL() sends them', async (ctx) => {
    const registered = new Set<string>();
    for (const { text } of SOURCES) {
      for (const m of text.matchAll(/\bnames:\s*\[([^\]]*)\]/g)) for (const n of m[1]!.matchAll(/['"]([^'"]+)['"]/g)) registered.add(n[1]!.toLowerCase());
    }
    const cdrPath = /CURL\(\$\{url\}(\/api\/[\w/]+),/.exec(all)![1]!;
    const numberPath = /CURL\(\$\{url\}(\/api\/[\w/]+\.txt),/.exec(all)![1]!;
    const cdrName = cdrPath.slice('/api/'.length);
    const numberName = numberPath.slice('/api/'.length, -'.txt'.length);
    ctx.skip(!registered.has(cdrName.toLowerCase()) || !registered.has(numberName.toLowerCase()), `the daemon registers no ${cdrName} / ${numberName} method yet`);

    // the daemon's own router, with stand-ins for the two methods
    const got: Record<string, string>[] = [];
    const methods: ApiMethod[] = [
      { names: [cdrName], handle: (params) => (got.push(params), { stored: true }) },
      { names: [numberName], handle: () => ({}), text: (params) => (params.number === '+123s456' ? '89001234567' : null) },
    ];
    const app = createApp({ log: silentLogger(), apiTokens: ['dialplan-token-0123456789'], allowedNetworks: [], methods, health: () => ({ status: 'ok' }) });
    const post = (path: string, body: string) =>
      app.request(`http://127.0.0.1:8095${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const token = 'token=dialplan-token-0123456789';

    const cdr = await post(cdrPath, `event_id=1700000000.1&phone=%2B79001234567&extension=1000&path=&type=incoming&${token}`);
    expect(cdr.status).toBe(200);
    expect(got).toEqual([{ event_id: '1700000000.1', phone: '+79001234567', extension: '1000', path: '', type: 'incoming' }]);

    const found = await post(numberPath, `number=%2B123s456&${token}`);
    expect([found.status, await found.text()]).toEqual([200, '89001234567']);
    expect(found.headers.get('content-type')).toMatch(/^text\/plain/);
    const unknown = await post(numberPath, `number=%2B9s9&${token}`);
    expect([unknown.status, await unknown.text()]).toEqual([404, '']);
    // the status CURLOPT(failurecodes) turns into "no number"
    expect(/CURLOPT\(failurecodes\)=([\d,]+)/.exec(all)![1]!.split(',')).toContain(String(unknown.status));
    const noToken = await post(numberPath, 'number=%2B123s456');
    expect(noToken.status).toBe(401);
  });
});

// ---------------------------------------------------------------- systemd

describe('systemd/callbridge.service', () => {
  const unitPath = join(ROOT, 'systemd', 'callbridge.service');
  const unit = parseConf(read('systemd', 'callbridge.service').replace(/^#.*$/gm, ''));
  const svc = unit.find((s) => s.name === 'Service')!;
  const one = (k: string) => values(svc, k).at(-1);

  it('runs node with tsx as npm start does, from /opt/callbridge, as its own user', () => {
    const start = JSON.parse(read('package.json')).scripts.start as string;
    expect(start).toBe('node --import tsx src/main.ts');
    expect(one('ExecStart')).toBe('/usr/bin/node --import tsx /opt/callbridge/src/main.ts');
    expect(one('WorkingDirectory')).toBe('/opt/callbridge');
    expect(one('User')).toBe('callbridge');
    expect(one('SupplementaryGroups')).toBe('asterisk');
  });

  it('keeps its database in the state directory and its secrets in the environment file', () => {
    expect(one('StateDirectory')).toBe('callbridge');
    expect(values(svc, 'Environment')).toContain('CALLBRIDGE_DB_PATH=/var/lib/callbridge/callbridge.db');
    expect(one('EnvironmentFile')).toBe('/etc/callbridge/callbridge.env');
    expect(loadConfig({ CALLBRIDGE_DB_PATH: '/var/lib/callbridge/callbridge.db' }, []).dbPath).toBe('/var/lib/callbridge/callbridge.db');
  });

  it('restarts on failure and stops on SIGTERM within 10 s', () => {
    expect(one('Restart')).toBe('on-failure');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(Number(one('TimeoutStopSec'))).toBeLessThanOrEqual(10);
  });

  it('is hardened, with optional paths marked "-" and W^X left to V8', () => {
    for (const [k, v] of Object.entries({ NoNewPrivileges: 'yes', ProtectSystem: 'strict', PrivateTmp: 'yes', ProtectHome: 'yes', UMask: '0027' })) {
      expect(one(k), k).toBe(v);
    }
    expect(values(svc, 'SystemCallFilter')).toContain('@system-service');
    expect(one('MemoryDenyWriteExecute') ?? 'no').toBe('no');
    const paths = [...values(svc, 'ReadOnlyPaths'), ...values(svc, 'InaccessiblePaths')].flatMap((v) => v.split(/\s+/));
    expect(paths).toEqual(expect.arrayContaining(['-/var/spool/asterisk/monitor', '-/var/spool/asterisk/recording']));
    for (const p of paths) expect(p.startsWith('-'), p).toBe(true);
  });

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  const version = Number(/systemd (\d+)/.exec(analyze.stdout ?? '')?.[1] ?? 0);

  it('passes systemd-analyze verify', (ctx) => {
    ctx.skip(analyze.error !== undefined || analyze.status !== 0, 'systemd-analyze is not installed (apt-get install systemd)');
    // verify needs ExecStart's binary: point it at this machine's node if it lives elsewhere
    const dir = mkdtempSync(join(tmpdir(), 'cb-unit-'));
    try {
      const file = join(dir, 'callbridge.service');
      let text = readFileSync(unitPath, 'utf8');
      if (!existsSync('/usr/bin/node')) text = text.replace('ExecStart=/usr/bin/node', `ExecStart=${process.execPath}`);
      writeFileSync(file, text);
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      const ours = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('callbridge.service'));
      expect(ours).toEqual([]);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is rated below 4 by systemd-analyze security', (ctx) => {
    ctx.skip(analyze.error !== undefined || analyze.status !== 0, 'systemd-analyze is not installed (apt-get install systemd)');
    ctx.skip(version < 250, `systemd-analyze ${version} has no --offline (needs 250 or later)`);
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unitPath], { encoding: 'utf8' });
    const level = Number(/Overall exposure level for callbridge\.service: ([\d.]+)/.exec(out)?.[1]);
    expect(level).toBeLessThan(4);
  });
});
