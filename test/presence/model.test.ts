/** The pure presence model: device state, reachability and queue pauses → one status. */
import { describe, expect, it } from 'vitest';
import {
  applySignal,
  describePauses,
  describeSignal,
  emptyState,
  resolveMember,
  statusOf,
  type DeviceState,
  type EndpointState,
  type QueueSignal,
} from '../../src/presence/model.js';
import { amiPresenceSignal, amiSnapshot, memberInterfaceSip } from '../../src/asterisk/presence-signals.js';

const state = (device: DeviceState | undefined, reachable: boolean | undefined, paused: Record<string, string> = {}): EndpointState => ({
  ...emptyState('1000'),
  device,
  reachable,
  paused,
});

const pause = (queue: string, paused: boolean, reason = ''): QueueSignal => ({ kind: 'queue', sip: '1000', candidates: ['1000'], queue, paused, reason });

describe('statusOf with queue pauses', () => {
  it.each([
    // device, reachable, paused in, status
    ['NOT_INUSE', true, {}, 'online'],
    ['NOT_INUSE', true, { '700': 'away' }, 'away'],
    ['NOT_INUSE', true, { '700': '' }, 'away'],
    ['NOT_INUSE', true, { '700': 'away', '701': 'lunch' }, 'away'],
    ['UNAVAILABLE', false, { '700': 'away' }, 'offline'],
    ['INVALID', false, { '700': 'away' }, 'offline'],
    ['INUSE', true, { '700': 'away' }, 'inuse'],
    ['RINGING', true, { '700': 'away' }, 'inuse'],
    ['ONHOLD', true, { '700': 'away' }, 'inuse'],
    ['BUSY', true, { '700': 'away' }, 'inuse'],
    [undefined, true, { '700': 'away' }, 'away'],
    [undefined, false, { '700': 'away' }, 'offline'],
    [undefined, undefined, { '700': 'away' }, 'offline'],
    ['UNKNOWN', true, { '700': 'away' }, 'away'],
  ] as const)('%s, reachable %s, paused %j → %s', (device, reachable, paused, expected) => {
    expect(statusOf(state(device, reachable, { ...paused }))).toBe(expected);
  });
});

describe('queue signals', () => {
  it('pause and unpause per queue; away while paused in at least one', () => {
    let s = state('NOT_INUSE', true);
    s = applySignal(s, pause('700', true, 'away'));
    expect(s.paused).toEqual({ '700': 'away' });
    expect(statusOf(s)).toBe('away');
    s = applySignal(s, pause('701', true, 'lunch'));
    s = applySignal(s, pause('700', false));
    expect(s.paused).toEqual({ '701': 'lunch' });
    expect(statusOf(s)).toBe('away');
    s = applySignal(s, { ...pause('701', false), removed: true });
    expect(s.paused).toEqual({});
    expect(statusOf(s)).toBe('online');
  });

  it('a call while paused is inuse, and away again when it ends; unregistering is offline', () => {
    let s = applySignal(state('NOT_INUSE', true), pause('700', true, 'away'));
    s = applySignal(s, { kind: 'device', sip: '1000', state: 'RINGING' });
    expect(statusOf(s)).toBe('inuse');
    s = applySignal(s, { kind: 'device', sip: '1000', state: 'NOT_INUSE' });
    expect(statusOf(s)).toBe('away');
    s = applySignal(s, { kind: 'device', sip: '1000', state: 'UNAVAILABLE' });
    expect(statusOf(s)).toBe('offline');
    s = applySignal(s, { kind: 'device', sip: '1000', state: 'NOT_INUSE' });
    expect(statusOf(s)).toBe('away');
  });

  it('a repeated pause changes nothing and does not copy the state', () => {
    const s = applySignal(state('NOT_INUSE', true), pause('700', true, 'away'));
    expect(applySignal(s, pause('700', true, 'away')).paused).toBe(s.paused);
    const idle = state('NOT_INUSE', true);
    expect(applySignal(idle, pause('700', false)).paused).toBe(idle.paused);
  });

  it('describes changes for the history', () => {
    expect(describeSignal(pause('700', true, 'away'))).toBe('queue 700 paused: away');
    expect(describeSignal(pause('700', true))).toBe('queue 700 paused');
    expect(describeSignal(pause('700', false))).toBe('queue 700 unpaused');
    expect(describeSignal({ ...pause('700', false), removed: true })).toBe('queue 700: member removed');
    expect(describePauses({ '701': 'lunch', '700': 'away', '702': 'away' })).toBe('queue 700, 702 paused: away; queue 701 paused: lunch');
  });

  it('resolves the member to the first candidate that is a known endpoint', () => {
    const known = new Set(['1000', '2000']);
    expect(resolveMember(['Alice', '1000'], (s) => known.has(s))).toBe('1000');
    expect(resolveMember(['2000', '1000'], (s) => known.has(s))).toBe('2000');
    expect(resolveMember(['Bob'], (s) => known.has(s))).toBeUndefined();
  });
});

describe('queue member events → signals', () => {
  it('reads member interfaces', () => {
    expect(memberInterfaceSip('Local/1000@from-queue/n')).toBe('1000');
    expect(memberInterfaceSip('Local/1000@from-queue')).toBe('1000');
    expect(memberInterfaceSip('PJSIP/1000')).toBe('1000');
    expect(memberInterfaceSip('SIP/op-7')).toBe('op-7');
    expect(memberInterfaceSip('hint:1000@ext-local')).toBe('1000');
    expect(memberInterfaceSip('Agent/1000')).toBeUndefined();
    expect(memberInterfaceSip('Queue:700_pause_Local/1000@from-queue/n')).toBeUndefined();
    expect(memberInterfaceSip(undefined)).toBeUndefined();
  });

  it('QueueMemberPause, QueueMemberStatus, QueueMemberAdded and QueueMemberRemoved', () => {
    const base = { queue: '700', membername: 'Alice Smith', interface: 'Local/1000@from-queue/n', stateinterface: 'PJSIP/1000' };
    expect(amiPresenceSignal({ event: 'QueueMemberPause', ...base, paused: '1', pausedreason: 'away' })).toEqual({
      kind: 'queue',
      sip: 'Alice Smith',
      candidates: ['Alice Smith', '1000'],
      queue: '700',
      paused: true,
      reason: 'away',
    });
    expect(amiPresenceSignal({ event: 'QueueMemberPause', ...base, paused: '0', pausedreason: '' })).toMatchObject({ paused: false, reason: '' });
    expect(amiPresenceSignal({ event: 'QueueMemberStatus', ...base, status: '6', paused: '1', pausedreason: 'lunch' })).toMatchObject({ paused: true, reason: 'lunch' });
    expect(amiPresenceSignal({ event: 'QueueMemberAdded', ...base, paused: '0' })).toMatchObject({ kind: 'queue', paused: false });
    expect(amiPresenceSignal({ event: 'QueueMemberRemoved', ...base })).toMatchObject({ kind: 'queue', paused: false, removed: true });
    // no Paused header: says nothing about the pause
    expect(amiPresenceSignal({ event: 'QueueMemberStatus', ...base, status: '1' })).toBeUndefined();
    expect(amiPresenceSignal({ event: 'QueueMemberPause', paused: '1' })).toBeUndefined();
    // the pause device state is not an endpoint
    expect(amiPresenceSignal({ event: 'DeviceStateChange', device: 'Queue:700_pause_Local/1000@from-queue/n', state: 'INUSE' })).toBeUndefined();
  });

  it('QueueStatus members in the resync snapshot, by Name or by Location', () => {
    const ep = (sip: string) => ({ event: 'EndpointList', objectname: sip, devicestate: 'Not in use' });
    const snap = amiSnapshot({
      endpoints: [ep('1000'), ep('1001'), ep('1002')],
      contacts: [],
      deviceStates: [],
      queueMembers: [
        { event: 'QueueParams', queue: '700' },
        { event: 'QueueMember', queue: '700', name: '1000', location: 'Local/1000@from-queue/n', paused: '1', pausedreason: 'away' },
        { event: 'QueueMember', queue: '701', name: 'Bob', location: 'Local/1001@from-queue/n', paused: '1', pausedreason: '' },
        { event: 'QueueMember', queue: '701', name: '1000', location: 'Local/1000@from-queue/n', paused: '1', pausedreason: 'lunch' },
        { event: 'QueueMember', queue: '700', name: '1002', location: 'Local/1002@from-queue/n', paused: '0', pausedreason: '' },
        { event: 'QueueMember', queue: '700', name: '9999', location: 'Local/9999@from-queue/n', paused: '1', pausedreason: 'x' },
        { event: 'QueueEntry', queue: '700', channel: 'PJSIP/clients-00000001' },
      ],
    });
    const by = Object.fromEntries(snap.map((s) => [s.sip, s.paused]));
    expect(by).toEqual({ '1000': { '700': 'away', '701': 'lunch' }, '1001': { '701': '' }, '1002': undefined });
  });
});
