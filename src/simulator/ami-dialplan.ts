/**
 * The simulated PBX's dialplan, as far as AMI shows it: `ShowDialPlan` lists
 * the contexts of a FreePBX with callbridge's shipped
 * asterisk-config/extensions_custom.conf loaded (one ListDialplan event per
 * priority, then ShowDialPlanComplete; an unknown context is the listack
 * followed by `Response: Error`, `Message: Did not find context <name>`, as
 * Asterisk 22's manager_show_dialplan answers). The CLI command `dialplan
 * remove context <name>` (AMI `Command`) takes a context away, and
 * `dialplan reload` brings every context back, so a broken setup can be
 * played.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { frame, type Headers } from './ami-format.js';
import { response, type AmiMessage, type AmiServer, type AmiSession } from './ami-server.js';
import type { World } from './world.js';

interface Priority {
  context: string;
  exten: string;
  priority: number;
  label?: string;
  app: string;
  data: string;
  registrar: string;
}

/** The FreePBX contexts the simulated PBX runs calls through (registrar pbx_config, one priority each here). */
const FREEPBX: ReadonlyArray<[string, string, string, string]> = [
  ['from-internal', '_X.', 'Macro', 'user-callerid,'],
  ['from-internal-xfer', '_X.', 'Goto', 'from-internal,${EXTEN},1'],
  ['from-queue', '_.', 'Goto', 'from-internal,${EXTEN},1'],
  ['from-pstn', '_.', 'Goto', 'ext-did,${EXTEN},1'],
  ['ext-local', '_1XX', 'Macro', 'exten-vm,novm,${EXTEN},0,0,0'],
  ['ext-group', '600', 'Macro', 'user-callerid,'],
  ['ext-queues', '700', 'Queue', '700,t,,,,,,,,'],
  ['macro-dialout-trunk', 's', 'Set', 'DIAL_TRUNK=${ARG1}'],
  ['macro-user-callerid', 's', 'Set', 'TOUCH_MONITOR=${UNIQUEID}'],
  ['macro-exten-vm', 's', 'Macro', 'user-callerid,'],
  ['sub-record-check', 's', 'Set', 'REC_POLICY_MODE_SAVE=${REC_POLICY_MODE}'],
];

/** extensions.conf syntax: `[context]`, `exten => x,1(label),App(data)`, `same => n,...`. */
function parseDialplan(text: string): Priority[] {
  const out: Priority[] = [];
  let context = '';
  let exten = '';
  let prio = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|[^\\]);.*$/, '$1').trim();
    const sec = /^\[([^\]]+)\]/.exec(line);
    if (sec) {
      context = sec[1]!;
      continue;
    }
    const m = /^(exten|same)\s*=>?\s*(.*)$/.exec(line);
    if (!m || !context) continue;
    let rest = m[2]!;
    if (m[1] === 'exten') {
      const comma = rest.indexOf(',');
      exten = rest.slice(0, comma);
      rest = rest.slice(comma + 1);
    }
    const comma = rest.indexOf(',');
    const pm = /^(\d+|n)(?:\((\w+)\))?$/.exec(rest.slice(0, comma));
    if (!pm) continue;
    prio = pm[1] === 'n' ? prio + 1 : Number(pm[1]);
    const body = rest.slice(comma + 1);
    const am = /^(\w+)\((.*)\)$/s.exec(body);
    out.push({ context, exten, priority: prio, label: pm[2], app: am ? am[1]! : body, data: am ? am[2]! : '', registrar: 'pbx_config' });
  }
  return out;
}

let shipped: Priority[] | undefined;

/** The shipped file, read once (from src/simulator or dist/simulator: the repository's asterisk-config/). */
function loadedDialplan(): Priority[] {
  if (!shipped) {
    let text = '';
    try {
      text = readFileSync(fileURLToPath(new URL('../../asterisk-config/extensions_custom.conf', import.meta.url)), 'utf8');
    } catch {
      text = '';
    }
    shipped = [
      ...FREEPBX.map(([context, exten, app, data]) => ({ context, exten, priority: 1, app, data, registrar: 'pbx_config' })),
      ...parseDialplan(text),
    ];
  }
  return shipped;
}

/** Contexts removed with `dialplan remove context`, per simulated PBX. */
const removed = new WeakMap<World, Set<string>>();
const removedOf = (world: World): Set<string> => {
  let set = removed.get(world);
  if (!set) removed.set(world, (set = new Set()));
  return set;
};

/** ShowDialPlan and the dialplan CLI commands; false for any other action. */
export function dialplanAction(server: AmiServer, s: AmiSession, msg: AmiMessage, name: string): boolean {
  if (name === 'showdialplan') {
    showDialPlan(server, s, msg);
    return true;
  }
  if (name === 'command') {
    const cmd = (msg.get('Command') ?? '').trim().replace(/\s+/g, ' ');
    const remove = /^dialplan remove context (\S+)$/i.exec(cmd);
    if (remove) {
      const ctx = remove[1]!;
      const known = loadedDialplan().some((p) => p.context === ctx) && !removedOf(server.world).has(ctx);
      if (known) removedOf(server.world).add(ctx);
      s.send(response('Success', msg, [['Message', 'Command output follows'], ['Output', known ? `Context '${ctx}' removed.` : `Context '${ctx}' doesn't exist.`]]));
      return true;
    }
    if (/^dialplan reload$/i.test(cmd)) {
      removedOf(server.world).clear();
      s.send(response('Success', msg, [['Message', 'Command output follows'], ['Output', 'Dialplan reloaded.']]));
      return true;
    }
    // other CLI commands are not the dialplan's: left to the other handlers
  }
  return false;
}

function showDialPlan(server: AmiServer, s: AmiSession, msg: AmiMessage): void {
  const context = msg.get('Context') ?? '';
  const extension = msg.get('Extension') ?? '';
  const gone = removedOf(server.world);
  const all = loadedDialplan().filter((p) => !gone.has(p.context));
  const items = all.filter((p) => (!context || p.context === context) && (!extension || p.exten === extension));
  const id = msg.get('ActionID');
  const idh: Headers = id === undefined ? [] : [['ActionID', id]];
  let out = response('Success', msg, [['EventList', 'start'], ['Message', 'DialPlan list will follow']]);
  for (const p of items) {
    out += frame([
      ['Event', 'ListDialplan'], ...idh, ['Context', p.context], ['Extension', p.exten],
      ...(p.label ? ([['ExtensionLabel', p.label]] as Headers) : []),
      ['Priority', String(p.priority)], ['Application', p.app], ['AppData', p.data], ['Registrar', p.registrar],
    ]);
  }
  if (context && !all.some((p) => p.context === context)) {
    s.send(out + response('Error', msg, [['Message', `Did not find context ${context}`]]));
    return;
  }
  if (extension && items.length === 0) {
    s.send(out + response('Error', msg, [['Message', `Did not find extension ${extension}@${context}`]]));
    return;
  }
  const contexts = new Set(items.map((p) => p.context));
  const extens = new Set(items.map((p) => `${p.context}/${p.exten}`));
  out += frame([
    ['Event', 'ShowDialPlanComplete'], ...idh, ['EventList', 'Complete'], ['ListItems', String(items.length)],
    ['ListExtensions', String(extens.size)], ['ListPriorities', String(items.length)], ['ListContexts', String(contexts.size)],
  ]);
  s.send(out);
}
