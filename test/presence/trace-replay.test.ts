/**
 * Presence driven by the recorded Asterisk 22 presence traces (C1 register →
 * un-register, C2 expiry, C3 qualify timeout and return): the live events and
 * the list-action answers recorded in the same run must agree, and every real
 * change must be exactly one operator-history row.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import { operatorHistory, endpoints } from '../../src/db/schema.js';
import { amiPresenceSignal, amiSnapshot, ariPresenceSignal } from '../../src/asterisk/presence-signals.js';
import { PresenceService } from '../../src/presence/service.js';
import { PresenceStore } from '../../src/presence/store.js';
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

/** The resync snapshot from one round of recorded list answers (ActionIDs `<prefix>-<Action>`). */
function snapshotOf(trace: TraceMessage[], prefix: string) {
  const items = (action: string) =>
    trace.filter((m) => m.kind === 'event' && m.fields?.ActionID === `${prefix}-${action}` && !m.name.endsWith('Complete')).map(lowerCased);
  return amiSnapshot({ endpoints: items('PJSIPShowEndpoints'), contacts: items('PJSIPShowContacts'), deviceStates: items('DeviceStateList') });
}

/** Live events (not list items) between two list rounds, fed to the service. */
function replayLive(trace: TraceMessage[], service: PresenceService, fromSeq: number, toSeq: number, times = 1) {
  for (const m of trace) {
    if (m.kind !== 'event' || m.seq <= fromSeq || m.seq >= toSeq || m.fields?.ActionID !== undefined) continue;
    const sig = amiPresenceSignal(lowerCased(m));
    for (let i = 0; sig && i < times; i++) service.apply(sig);
  }
}

const seqOf = (trace: TraceMessage[], actionId: string) => trace.find((m) => m.fields?.ActionID === actionId)!.seq;

describe('presence from recorded traces', () => {
  it('C1: register then un-register gives exactly online and offline, and resyncs agree with live events', () => {
    const trace = readJsonl<TraceMessage>('C1/ami.jsonl');
    const { db, service } = setup();

    service.resync(snapshotOf(trace, 'offline'), 'AMI');
    const afterFirst = db.select().from(operatorHistory).all();
    // first sighting of the four PJSIP endpoints of that Asterisk
    expect(afterFirst.map((r) => [r.sip, r.status, r.previousStatus])).toEqual([
      ['1000', 'offline', null],
      ['1001', 'offline', null],
      ['1002', 'offline', null],
      ['clients', 'online', null],
    ]);

    replayLive(trace, service, seqOf(trace, 'offline-CoreShowChannels'), seqOf(trace, 'online-Ping'));
    service.resync(snapshotOf(trace, 'online'), 'AMI');
    replayLive(trace, service, seqOf(trace, 'online-CoreShowChannels'), seqOf(trace, 'after-unregister-Ping'));
    service.resync(snapshotOf(trace, 'after-unregister'), 'AMI');

    const rows = db.select().from(operatorHistory).all().slice(afterFirst.length);
    expect(rows.map((r) => [r.sip, r.status, r.previousStatus, r.reason])).toEqual([
      ['1000', 'online', 'offline', 'DeviceStateChange NOT_INUSE'],
      ['1000', 'offline', 'online', 'DeviceStateChange UNAVAILABLE'],
    ]);
    // the online resync filled in what live events do not carry
    const online = snapshotOf(trace, 'online').find((s) => s.sip === '1000')!;
    expect(online.userAgent).toBe('SIPp-operator-1000');
    expect(online.contact).toBe('sip:1000@127.0.0.1:5061;transport=UDP');
    const row = db.select().from(endpoints).all().find((r) => r.sip === '1000')!;
    expect(row.status).toBe('offline');
    expect(row.contact).toBeNull();
  });

  it('C2 (expiry) and C3 (qualify timeout, return, un-register): one row per real change', () => {
    for (const [name, expected] of [
      ['C2', ['online', 'offline']],
      ['C3', ['online', 'offline', 'online', 'offline']],
    ] as const) {
      const trace = readJsonl<TraceMessage>(`${name}/ami.jsonl`);
      const { db, service } = setup();
      replayLive(trace, service, -1, Number.MAX_SAFE_INTEGER, 3); // each event delivered three times in a row
      const rows = db.select().from(operatorHistory).all();
      expect(rows.map((r) => r.status), name).toEqual(expected);
      expect(rows.every((r) => r.sip === '1000')).toBe(true);
      db.$client.close();
    }
    db = undefined;
  });

  it('ARI endpoint events of C3 give the same transitions', () => {
    const events = readJsonl<{ event?: Record<string, unknown> }>('C3/ari-events.jsonl');
    const { db, service } = setup();
    for (const e of events) {
      const sig = e.event ? ariPresenceSignal(e.event) : undefined;
      if (sig) service.apply(sig);
    }
    expect(db.select().from(operatorHistory).all().map((r) => r.status)).toEqual(['online', 'offline', 'online', 'offline']);
  });
});
