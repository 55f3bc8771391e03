import { frame, formatTv } from './ami-format.js';
import { listAction } from './ami-lists.js';
import { response, type AmiMessage, type AmiServer, type AmiSession } from './ami-server.js';
import { finishMixMonitor, startMixMonitor } from './mixmonitor.js';
import { amiOriginate } from './originate.js';
import { amiVariables } from './app-args.js';
import { pbxAction } from './ami-pbx-actions.js';
import { dialplanAction } from './ami-dialplan.js';
import { astdbAction } from './astdb.js';
import { parseEventFilter, parseEventFilterLine } from './ami-filters.js';
import { writeAllows } from '../asterisk/ami/authority.js';

/** Classes a session may ask for with `Events:`; `on` means all of them. */
function parseEvents(v: string | undefined): AmiSession['events'] {
  if (v === undefined) return 'all';
  const t = v.trim().toLowerCase();
  if (t === 'off' || t === 'no' || t === 'false' || t === '0') return 'none';
  if (t === 'on' || t === 'yes' || t === 'true' || t === 'all' || t === '') return 'all';
  return new Set(t.split(',').map((c) => c.trim()));
}

function uptimeSeconds(server: AmiServer): string {
  return String(Math.floor((Date.now() - server.world.startedAt.getTime()) / 1000));
}

/** Whether the user's write classes (every class when unset) allow the action (src/asterisk/ami/authority.ts). */
function permitted(server: AmiServer, name: string): boolean {
  const write = server.opts.write;
  return !write || writeAllows(write, name) !== false;
}

/** Dispatches one action of a session, answering exactly as Asterisk 22's manager does. */
export function handleAction(server: AmiServer, s: AmiSession, msg: AmiMessage): void {
  const action = msg.get('Action');
  if (action === undefined || action === '') {
    s.send(response('Error', msg, [['Message', 'Missing action in request']]));
    return;
  }
  const name = action.toLowerCase();
  if (name === 'login') return login(server, s, msg);
  if (name === 'logoff') {
    s.send(response('Goodbye', msg, [['Message', 'Thanks for all the fish.']]));
    s.closing = true;
    s.socket.end();
    return;
  }
  if (!s.authenticated) {
    s.send(response('Error', msg, [['Message', 'Permission denied']]));
    return;
  }
  if (!permitted(server, name)) {
    // manager.c process_message: the action's authority against the user's write classes
    server.broadcast(server.securityEvent('RequestNotAllowed', s, 'Error', '1', [['AccountID', s.username]], [
      ['RequestType', `Action: ${action}`], ['SessionTV', formatTv(s.since)],
    ]));
    s.send(response('Error', msg, [['Message', 'Permission denied']]));
    return;
  }
  if (commonAction(server, s, msg, name)) return;
  if (listAction(server, s, msg, name)) return;
  if (pbxAction(server, s, msg, name)) return;
  if (dialplanAction(server, s, msg, name)) return;
  if (astdbAction(server, s, msg, name)) return;
  s.send(response('Error', msg, [['Message', `Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`]]));
  server.broadcast(server.securityEvent('RequestBadFormat', s, 'Error', '1', [], [
    ['RequestType', `Action: ${action}`], ['SessionTV', formatTv(s.since)], ['AccountID', s.username],
  ]));
}

function login(server: AmiServer, s: AmiSession, msg: AmiMessage): void {
  const { user, secret } = server.opts;
  const username = msg.get('Username') ?? '';
  if (s.authenticated) {
    s.send(response('Success', msg, [['Message', 'Already authenticated']]));
    return;
  }
  if (username === user && (msg.get('Secret') ?? '') === secret) {
    s.authenticated = true;
    s.username = username;
    s.events = parseEvents(msg.get('Events'));
    for (const line of server.opts.eventFilters ?? []) {
      const f = parseEventFilterLine(line);
      if (f) s.filters.push(f);
    }
    s.send(response('Success', msg, [['Message', 'Authentication accepted']]));
    const up = uptimeSeconds(server);
    if (s.wants(['system'])) {
      s.send(frame([['Event', 'FullyBooted'], ['Privilege', 'system,all'], ['Uptime', up], ['LastReload', up], ['Status', 'Fully Booted']]));
    }
    server.broadcast(server.securityEvent('SuccessfulAuth', s, 'Informational', '1', [['AccountID', username]], [
      ['UsingPassword', '0'], ['SessionTV', formatTv(s.since)],
    ]));
    return;
  }
  // Asterisk answers a failed login after a pause and closes the connection ~1 ms later (C4)
  s.closing = true;
  server.world.later(1000, () => {
    s.send(response('Error', msg, [['Message', 'Authentication failed']]));
    server.broadcast(server.securityEvent('InvalidPassword', s, 'Error', '2', [['AccountID', username]], [
      ['SessionTV', '1970-01-01T00:00:00.000+0000'],
    ]), s);
    setTimeout(() => s.socket.end(), 1);
  });
}

/** Ping, Events, Originate, Hangup, MixMonitor, Getvar/Setvar, CoreSettings, CoreStatus. */
function commonAction(server: AmiServer, s: AmiSession, msg: AmiMessage, name: string): boolean {
  const world = server.world;
  switch (name) {
    case 'ping': {
      const now = Date.now();
      const ts = `${Math.floor(now / 1000)}.${String((now % 1000) * 1000).padStart(6, '0')}`;
      s.send(response('Success', msg, [['Ping', 'Pong'], ['Timestamp', ts]]));
      return true;
    }
    case 'filter': {
      // manager.c action_filter (write class system): Operation Add, a POSIX extended regex over the whole event ("!" excludes)
      if ((msg.get('Operation') ?? '').toLowerCase() !== 'add') {
        s.send(response('Error', msg, [['Message', 'Unknown operation']]));
        return true;
      }
      const criteria = msg.get('MatchCriteria');
      const filter = parseEventFilter(criteria ? `eventfilter(${criteria})` : 'eventfilter', msg.get('Filter') ?? '');
      if (!filter) {
        s.send(response('Error', msg, [['Message', 'Filter did not compile.  Check the syntax of the filter given.']]));
        return true;
      }
      s.filters.push(filter);
      s.send(response('Success', msg, [['Message', 'Success']]));
      return true;
    }
    case 'events': {
      s.events = parseEvents(msg.get('EventMask'));
      s.send(response('Success', msg, [['Events', s.events === 'none' ? 'Off' : 'On']]));
      return true;
    }
    case 'originate':
      originate(server, s, msg);
      return true;
    case 'hangup': {
      const target = msg.get('Channel') ?? '';
      const ch = target ? world.findChannel(target) : undefined;
      if (!ch) {
        s.send(response('Error', msg, [['Message', 'No such channel']]));
        return true;
      }
      const cause = Number(msg.get('Cause'));
      s.send(response('Success', msg, [['Message', 'Channel Hungup']]));
      world.requestHangup(ch, Number.isInteger(cause) && cause > 0 ? { cause } : {});
      return true;
    }
    case 'mixmonitor': {
      const ch = world.findChannel(msg.get('Channel') ?? '');
      const file = msg.get('File') ?? '';
      if (!ch) {
        s.send(response('Error', msg, [['Message', 'No such channel']]));
        return true;
      }
      s.send(response('Success', msg));
      startMixMonitor(world, ch, file || `${ch.id}.wav`, (msg.get('Options') ?? '').includes('b'));
      return true;
    }
    case 'stopmixmonitor': {
      const ch = world.findChannel(msg.get('Channel') ?? '');
      if (!ch) {
        s.send(response('Error', msg, [['Message', 'No such channel']]));
        return true;
      }
      finishMixMonitor(world, ch);
      s.send(response('Success', msg, [['Message', 'Stopped monitoring channel']]));
      return true;
    }
    case 'getvar': {
      const variable = msg.get('Variable') ?? '';
      const ch = channelOf(world, s, msg);
      if (ch === null) return true;
      // PJSIP_ENDPOINT(<endpoint>,callerid) without a channel: Asterisk evaluates the function on a dummy channel
      const endpointCid = /^PJSIP_ENDPOINT\(([^,()]+),callerid\)$/i.exec(variable);
      const ep = !ch && endpointCid ? world.endpoints.get(endpointCid[1]!) : undefined;
      if (!ch && endpointCid && !ep) {
        s.send(response('Error', msg, [['Message', 'Failed to execute function']]));
        return true;
      }
      const value = ep ? (ep.callerName ? `"${ep.callerName}" <${ep.sip}>` : '') : ch ? ch.vars.get(variable) : world.globalVars.get(variable);
      s.send(response('Success', msg, [['Variable', variable], ['Value', value ?? '']]));
      return true;
    }
    case 'setvar': {
      const variable = msg.get('Variable') ?? '';
      const ch = channelOf(world, s, msg);
      if (ch === null) return true;
      if (ch) world.setVar(ch, variable, msg.get('Value') ?? '');
      else world.globalVars.set(variable, msg.get('Value') ?? '');
      s.send(response('Success', msg, [['Message', 'Variable Set']]));
      return true;
    }
    case 'coresettings':
      s.send(response('Success', msg, [
        ['AMIversion', '11.0.0'], ['AsteriskVersion', '22.10.1'], ['SystemName', ''], ['CoreMaxCalls', '0'],
        ['CoreMaxLoadAvg', '0.000000'], ['CoreRunUser', ''], ['CoreRunGroup', ''], ['CoreMaxFilehandles', '0'],
        ['CoreRealTimeEnabled', 'No'], ['CoreCDRenabled', 'Yes'], ['CoreHTTPenabled', 'Yes'], ['SoundsSearchCustomDir', 'No'],
      ]));
      return true;
    case 'corestatus': {
      const start = world.startedAt.toISOString();
      s.send(response('Success', msg, [
        ['CoreStartupDate', start.slice(0, 10)], ['CoreStartupTime', start.slice(11, 19)],
        ['CoreReloadDate', start.slice(0, 10)], ['CoreReloadTime', start.slice(11, 19)],
        ['CoreCurrentCalls', String(world.channels.size)], ['CoreProcessedCalls', String(world.processedCalls)],
      ]));
      return true;
    }
    default:
      return false;
  }
}

/**
 * The channel an action names: undefined when it names none (global scope),
 * null when the named channel does not exist (an Error was answered).
 */
function channelOf(world: AmiServer['world'], s: AmiSession, msg: AmiMessage): ReturnType<AmiServer['world']['findChannel']> | null {
  const name = msg.get('Channel');
  if (!name) return undefined;
  const ch = world.findChannel(name);
  if (ch) return ch;
  s.send(response('Error', msg, [['Message', 'No such channel']]));
  return null;
}

function originate(server: AmiServer, s: AmiSession, msg: AmiMessage): void {
  const channel = msg.get('Channel') ?? '';
  if (!channel) {
    s.send(response('Error', msg, [['Message', 'Channel not specified']]));
    return;
  }
  const variables = msg.getAll('Variable').flatMap((v) => amiVariables(v));
  const timeout = Number(msg.get('Timeout'));
  const isAsync = /^(true|yes|1|on)$/i.test(msg.get('Async') ?? '');
  const params = {
    actionId: msg.get('ActionID'),
    channel,
    context: msg.get('Context') ?? '',
    exten: msg.get('Exten') ?? '',
    priority: Number(msg.get('Priority')) || 1,
    callerId: msg.get('CallerID'),
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 30000,
    variables,
    ...(msg.get('ChannelId') ? { channelId: msg.get('ChannelId') } : {}),
  };
  if (isAsync) s.send(response('Success', msg, [['Message', 'Originate successfully queued']]));
  amiOriginate(server.world, params, (ok) => {
    if (isAsync) return;
    s.send(ok
      ? response('Success', msg, [['Message', 'Originate successfully queued']])
      : response('Error', msg, [['Message', 'Originate failed']]));
  });
}

