/**
 * Asterisk's own database (AstDB) as the simulated PBX keeps it: the facts the
 * shipped dialplan writes per click-to-call (`DB(callbridge/<call id>/<key>)`)
 * and the AMI actions that read and remove them (main/db.c: DBGet, DBGetTree,
 * DBPut, DBDel, DBDelTree, with the same answers and list events).
 *
 * Writing a DB() value produces no AMI event on a real Asterisk, so these
 * writes add nothing to the simulated event stream either.
 */
import { frame } from './ami-format.js';
import { response, type AmiMessage, type AmiServer, type AmiSession } from './ami-server.js';
import type { World } from './world.js';

const stores = new WeakMap<World, Map<string, string>>();

/** The world's AstDB: keys are `/family/key` paths, as `database show` lists them. */
export function astdbOf(world: World): Map<string, string> {
  let db = stores.get(world);
  if (!db) {
    db = new Map();
    stores.set(world, db);
  }
  return db;
}

const path = (family: string, key: string): string => `/${family.replace(/^\/+|\/+$/g, '')}/${key.replace(/^\/+/, '')}`;

/** `Set(DB(family/key)=value)` */
export function dbPut(world: World, family: string, key: string, value: string): void {
  astdbOf(world).set(path(family, key), value);
}

/** `DBdeltree(family[/key])`: removes the key and everything under it; answers how many went. */
export function dbDelTree(world: World, family: string, key?: string): number {
  const db = astdbOf(world);
  const prefix = key ? path(family, key) : `/${family.replace(/^\/+|\/+$/g, '')}`;
  let n = 0;
  for (const k of [...db.keys()]) {
    if (k === prefix || k.startsWith(`${prefix}/`)) {
      db.delete(k);
      n += 1;
    }
  }
  return n;
}

/** The AstDB actions; false for any other action. */
export function astdbAction(server: AmiServer, s: AmiSession, msg: AmiMessage, name: string): boolean {
  const world = server.world;
  const db = astdbOf(world);
  const family = msg.get('Family') ?? '';
  const key = msg.get('Key') ?? '';
  const actionId = msg.get('ActionID');
  const idh: Array<[string, string]> = actionId !== undefined ? [['ActionID', actionId]] : [];
  switch (name) {
    case 'dbput': {
      if (!family) s.send(response('Error', msg, [['Message', 'No family specified']]));
      else if (!key) s.send(response('Error', msg, [['Message', 'No key specified']]));
      else {
        dbPut(world, family, key, msg.get('Val') ?? '');
        s.send(response('Success', msg, [['Message', 'Updated database successfully']]));
      }
      return true;
    }
    case 'dbget': {
      if (!family) s.send(response('Error', msg, [['Message', 'No family specified.']]));
      else if (!key) s.send(response('Error', msg, [['Message', 'No key specified.']]));
      else {
        const val = db.get(path(family, key));
        if (val === undefined) s.send(response('Error', msg, [['Message', 'Database entry not found']]));
        else {
          let out = response('Success', msg, [['EventList', 'start'], ['Message', 'Result will follow']]);
          out += frame([['Event', 'DBGetResponse'], ['Family', family], ['Key', key], ['Val', val], ...idh]);
          out += frame([['Event', 'DBGetComplete'], ...idh, ['EventList', 'Complete'], ['ListItems', '1']]);
          s.send(out);
        }
      }
      return true;
    }
    case 'dbgettree': {
      const prefix = family ? (key ? path(family, key) : `/${family.replace(/^\/+|\/+$/g, '')}`) : '';
      const items = [...db.entries()].filter(([k]) => !prefix || k === prefix || k.startsWith(`${prefix}/`)).sort(([a], [b]) => a.localeCompare(b));
      let out = response('Success', msg, [['EventList', 'start'], ['Message', 'Result will follow']]);
      for (const [k, v] of items) out += frame([['Event', 'DBGetTreeResponse'], ['Key', k], ['Val', v], ...idh]);
      out += frame([['Event', 'DBGetTreeComplete'], ...idh, ['EventList', 'Complete'], ['ListItems', String(items.length)]]);
      s.send(out);
      return true;
    }
    case 'dbdel': {
      if (!family) s.send(response('Error', msg, [['Message', 'No family specified.']]));
      else if (!key) s.send(response('Error', msg, [['Message', 'No key specified.']]));
      else if (!db.delete(path(family, key))) s.send(response('Error', msg, [['Message', 'Database entry could not be deleted']]));
      else s.send(response('Success', msg, [['Message', 'Key deleted successfully']]));
      return true;
    }
    case 'dbdeltree': {
      if (!family) {
        s.send(response('Error', msg, [['Message', 'No family specified.']]));
        return true;
      }
      const n = dbDelTree(world, family, key || undefined);
      if (n === 0) s.send(response('Error', msg, [['Message', 'Database entry not found']]));
      else s.send(response('Success', msg, [['Message', 'Key tree deleted successfully']]));
      return true;
    }
    default:
      return false;
  }
}
