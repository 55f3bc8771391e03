/**
 * Queue pause as presence "away", driven by the recorded Asterisk 22 trace Q3
 * (QueuePause of 1000 in queue 700, a queue call to 1001 while 1000 is paused,
 * unpause, a pause of 1001 in all queues): live events through the signal
 * path, QueueStatus answers through the resync, and the feed asking
 * QueueStatus after every (re)connect.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import { endpoints, operatorHistory } from '../../src/db/schema.js';
import { amiPresenceSignal, amiSnapshot } from '../../src/asterisk/presence-signals.js';
import { AmiError } from '../../src/asterisk/ami/errors.js';
import { PresenceService } from '../../src/presence/service.js';
import { PresenceStore } from '../../src/presence/store.js';
import { PresenceFeed, type AmiLink } from '../../src/presence/feed.js';
import { silentLogger } from '../../src/log.js';
import { lowerCased, readJsonl, type TraceMessage } from '../helpers/traces.js';

let db: Db | undefined;
afterEach(() => db?.$client.close());

function setup() {
  db = openDatabase(':memory:');
  let clock = 1_000;
  const service = new PresenceService(new PresenceStore(db), silentLogger(), () => clock++);
  return { db, service };
}

/** Q3 has no endpoint lists: both phones were registered and idle, and the trunk `clients` existed. */
const ENDPOINT_ITEMS = ['1000', '1001', 'clients'].map((sip) => ({ event: 'EndpointList', objectname: sip, devicestate: 'Not in use' }));

const trace = readJsonl<TraceMessage>('Q3/ami.jsonl');
const seqOf = (actionId: string) => trace.find((m) => m.fields?.ActionID === actionId)!.seq;

/** The resync snapshot with the QueueStatus items answered to `actionId`. */
function snapshotOf(actionId: string) {
  const queueMembers = trace.filter((m) => m.kind === 'event' && m.fields.ActionID === actionId && !m.name.endsWith('Complete')).map(lowerCased);
  return amiSnapshot({ endpoints: ENDPOINT_ITEMS, contacts: [], deviceStates: [], queueMembers });
}

function replayLive(service: PresenceService, fromSeq: number, toSeq: number) {
  for (const m of trace) {
    if (m.kind !== 'event' || m.seq <= fromSeq || m.seq >= toSeq || m.fields.ActionID !== undefined) continue;
    const sig = amiPresenceSignal(lowerCased(m));
    if (sig) service.apply(sig);
  }
}

const rows = (d: Db) => d.select().from(operatorHistory).all();

describe('Q3: queue pause is away', () => {
  it('live QueueMemberPause events and the QueueStatus resyncs of the same run agree', () => {
    const { db, service } = setup();
    service.resync(snapshotOf('rec-2'), 'AMI');
    const first = rows(db).length;
    expect(rows(db).map((r) => [r.sip, r.status])).toEqual([
      ['1000', 'online'],
      ['1001', 'online'],
      ['clients', 'online'],
    ]);

    replayLive(service, seqOf('rec-2'), seqOf('rec-4'));
    expect(service.status('1000')).toBe('away');
    service.resync(snapshotOf('rec-4'), 'AMI'); // QueueStatus: 1000 Paused 1, PausedReason away
    replayLive(service, seqOf('rec-4'), seqOf('rec-8'));
    service.resync(snapshotOf('rec-8'), 'AMI'); // nobody paused
    replayLive(service, seqOf('rec-8'), seqOf('rec-11'));
    service.resync(snapshotOf('rec-11'), 'AMI');
    replayLive(service, seqOf('rec-11'), Number.MAX_SAFE_INTEGER);

    const operators = rows(db).slice(first).filter((r) => r.sip !== 'clients'); // the trunk is in use during the call
    expect(operators.map((r) => [r.sip, r.status, r.previousStatus, r.reason])).toEqual([
      ['1000', 'away', 'online', 'queue 700 paused: away'],
      // the queue call while 1000 is paused rings only 1001
      ['1001', 'inuse', 'online', 'DeviceStateChange RINGING'],
      ['1001', 'online', 'inuse', 'DeviceStateChange NOT_INUSE'],
      ['1000', 'online', 'away', 'queue 700 unpaused'],
      // QueuePause without Queue: one QueueMemberPause per queue the member is in
      ['1001', 'away', 'online', 'queue 700 paused: lunch'],
      ['1001', 'online', 'away', 'queue 700 unpaused'],
    ]);
    expect(db.select().from(endpoints).all().map((r) => [r.sip, r.status])).toEqual([
      ['1000', 'online'],
      ['1001', 'online'],
      ['clients', 'online'],
    ]);
  });

  it('a pause made while the link was down is seen by the resync, and so is its end', () => {
    const { db, service } = setup();
    service.resync(snapshotOf('rec-2'), 'AMI');
    const first = rows(db).length;
    service.resync(snapshotOf('rec-4'), 'AMI');
    service.resync(snapshotOf('rec-4'), 'AMI');
    service.resync(snapshotOf('rec-8'), 'AMI');
    expect(rows(db).slice(first).map((r) => [r.sip, r.status, r.previousStatus, r.reason])).toEqual([
      ['1000', 'away', 'online', 'resync (AMI): queue 700 paused: away'],
      ['1000', 'online', 'away', 'resync (AMI)'],
    ]);
  });

  it('sipList filters away; an offline paused member is offline; unknown members are ignored', () => {
    const { db, service } = setup();
    service.resync(snapshotOf('rec-4'), 'AMI');
    const store = new PresenceStore(db);
    expect(store.listEndpoints({ page: 1, perPage: 10 }, ['away']).rows.map((r) => r.sip)).toEqual(['1000']);
    service.apply({ kind: 'device', sip: '1000', state: 'UNAVAILABLE' });
    expect(service.status('1000')).toBe('offline');
    service.apply({ kind: 'device', sip: '1000', state: 'NOT_INUSE' });
    expect(service.status('1000')).toBe('away');
    const before = rows(db).length;
    service.apply({ kind: 'queue', sip: 'Agent Smith', candidates: ['Agent Smith', '4242'], queue: '700', paused: true, reason: 'away' });
    expect(rows(db).length).toBe(before);
    expect(service.status('4242')).toBeUndefined();
    // MemberName that is no endpoint, Interface that is
    service.apply({ kind: 'queue', sip: 'Bob', candidates: ['Bob', '1001'], queue: '700', paused: true, reason: 'lunch' });
    expect(service.status('1001')).toBe('away');
  });
});

/** An AMI link that answers list actions from a table; `fail` names actions that get `Response: Error`. */
class FakeAmi extends EventEmitter implements AmiLink {
  connected = true;
  lists: Record<string, Array<Record<string, string>>> = {};
  fail = new Set<string>();
  asked: string[] = [];
  async listAction(fields: Record<string, string>): Promise<{ events: Array<Record<string, string>> }> {
    const action = fields.Action!;
    this.asked.push(action);
    if (this.fail.has(action)) throw new AmiError('ACTION_FAILED', `${action}: Invalid/unknown command`);
    return { events: this.lists[action] ?? [] };
  }
}

const member = (sip: string, paused: boolean, reason = '') => ({
  event: 'QueueMember',
  queue: '700',
  name: sip,
  location: `Local/${sip}@from-queue/n`,
  stateinterface: `hint:${sip}@ext-local`,
  paused: paused ? '1' : '0',
  pausedreason: reason,
});

describe('the feed asks QueueStatus after every (re)connect', () => {
  const flush = () => new Promise((r) => setTimeout(r, 10));

  it('reads pauses at connect, follows live events, catches up after a reconnect', async () => {
    const { service } = setup();
    const ami = new FakeAmi();
    ami.lists.PJSIPShowEndpoints = ENDPOINT_ITEMS;
    ami.lists.QueueStatus = [{ event: 'QueueParams', queue: '700' }, member('1000', true, 'away'), member('1001', false)];
    ami.fail.add('SIPpeers');
    const feed = new PresenceFeed(service, ami, undefined, silentLogger(), 50, 10_000);
    try {
      ami.emit('connected');
      await flush();
      expect(ami.asked).toContain('QueueStatus');
      expect([service.status('1000'), service.status('1001')]).toEqual(['away', 'online']);

      ami.emit('event', { event: 'QueueMemberPause', queue: '700', membername: '1000', interface: 'Local/1000@from-queue/n', paused: '0', pausedreason: '' });
      expect(service.status('1000')).toBe('online');

      // the link drops; 1001 is paused meanwhile; the link comes back
      ami.connected = false;
      ami.lists.QueueStatus = [member('1000', false), member('1001', true, 'lunch')];
      ami.connected = true;
      ami.emit('connected');
      await flush();
      expect([service.status('1000'), service.status('1001')]).toEqual(['online', 'away']);
    } finally {
      feed.stop();
    }
  });

  it('without app_queue (QueueStatus answers Error) the resync succeeds and nobody is away', async () => {
    const { db, service } = setup();
    const ami = new FakeAmi();
    ami.lists.PJSIPShowEndpoints = ENDPOINT_ITEMS;
    ami.lists.QueueStatus = [member('1000', true, 'away')];
    const feed = new PresenceFeed(service, ami, undefined, silentLogger(), 50, 10_000);
    try {
      ami.emit('connected');
      await flush();
      expect(service.status('1000')).toBe('away');
      ami.fail.add('QueueStatus'); // app_queue unloaded
      ami.emit('connected');
      await flush();
      expect(service.status('1000')).toBe('online');
      expect(service.resyncs).toBe(2);
      expect(rows(db).filter((r) => r.sip === '1000').map((r) => r.status)).toEqual(['away', 'online']);
    } finally {
      feed.stop();
    }
  });
});
