/**
 * The pieces of the hosted-PBX REST API on their own, over a real SQLite
 * database: sessions (idle expiry, stored hashed, a removed key ends its
 * sessions, the per-address failure limit), operator ids and names, call
 * uuids, signed audio links, and which channels a hangup picks.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { FailureLimiter, RestSessions } from '../../src/rest/sessions.js';
import { callerIdName, restStatus, UserDirectory } from '../../src/rest/users.js';
import { CallUuids, normalizeUuid } from '../../src/calls/uuids.js';
import { AudioLinks } from '../../src/rest/audio-links.js';
import { channelsOfCall } from '../../src/calls/hangup.js';
import type { AmiMessage } from '../../src/asterisk/ami/message.js';

const KEY = 'key-0123456789abcdef';

describe('RestSessions', () => {
  it('opens a session for a configured key only, and stores only its hash', () => {
    const db = openDatabase(':memory:');
    const s = new RestSessions(db, { keys: [{ key: KEY }], idleMs: 60_000 });
    expect(s.open('d.example', 'wrong-key-0123456789')).toBeUndefined();
    const id = s.open('d.example', KEY)!;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const rows = db.$client.prepare('SELECT * FROM rest_sessions').all() as Array<{ id_hash: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id_hash).not.toBe(id);
    expect(s.check(id)).toMatchObject({ domain: 'd.example', ext: null });
    expect(s.check(undefined)).toBeUndefined();
    expect(s.check('zz')).toBeUndefined();
  });

  it('expires after the idle time; each request within it keeps the session alive', () => {
    const db = openDatabase(':memory:');
    let now = 1_000_000;
    const s = new RestSessions(db, { keys: [{ key: KEY, ext: '101' }], idleMs: 120_000, now: () => now });
    const id = s.open('d', KEY)!;
    now += 100_000;
    expect(s.check(id)?.ext).toBe('101'); // touched (older than a minute)
    now += 100_000;
    expect(s.check(id)).toBeDefined(); // 100 s after the touch
    now += 121_000;
    expect(s.check(id)).toBeUndefined();
    expect(db.$client.prepare('SELECT count(*) AS n FROM rest_sessions').get()).toEqual({ n: 0 });
  });

  it('survives a restart (a new instance on the same database); a key removed from the configuration ends its sessions', () => {
    const db = openDatabase(':memory:');
    const a = new RestSessions(db, { keys: [{ key: KEY }, { key: 'other-key-0123456789' }], idleMs: 60_000 });
    const one = a.open('d', KEY)!;
    const two = a.open('d', 'other-key-0123456789')!;
    const b = new RestSessions(db, { keys: [{ key: KEY }], idleMs: 60_000 });
    expect(b.check(one)).toBeDefined();
    expect(b.check(two)).toBeUndefined();
  });

  it('with no key configured, any key opens a session only when asked (loopback clients)', () => {
    const db = openDatabase(':memory:');
    const s = new RestSessions(db, { keys: [], idleMs: 60_000 });
    expect(s.open('d', 'anything')).toBeUndefined();
    expect(s.open('d', 'anything', true)).toMatch(/^[0-9a-f]{64}$/);
    const withKeys = new RestSessions(openDatabase(':memory:'), { keys: [{ key: KEY }], idleMs: 60_000 });
    expect(withKeys.open('d', 'anything', true)).toBeUndefined();
  });

  it('sweep deletes the expired sessions', () => {
    const db = openDatabase(':memory:');
    let now = 0;
    const s = new RestSessions(db, { keys: [{ key: KEY }], idleMs: 1000, now: () => now });
    s.open('d', KEY);
    s.open('d', KEY);
    now = 5000;
    expect(s.sweep()).toBe(2);
  });
});

describe('FailureLimiter', () => {
  it('allows max failures per window, then refuses until the window ends', () => {
    let now = 0;
    const l = new FailureLimiter(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      expect(l.allowed('1.2.3.4')).toBe(true);
      l.failed('1.2.3.4');
    }
    expect(l.allowed('1.2.3.4')).toBe(false);
    expect(l.retryAfter('1.2.3.4')).toBe(60);
    expect(l.allowed('5.6.7.8')).toBe(true);
    now = 60_000;
    expect(l.allowed('1.2.3.4')).toBe(true);
  });
});

describe('operators as users', () => {
  it.each([
    ['"Operator 101" <101>', '101', 'Operator 101'],
    ['"Іван \\"Ваня\\"" <101>', '101', 'Іван "Ваня"'],
    ['Reception <103>', '103', 'Reception'],
    ['<101>', '101', undefined],
    ['101', '101', undefined],
    ['', '101', undefined],
    [undefined, '101', undefined],
    ['"" <101>', '101', undefined],
  ])('callerIdName(%j) = %j', (cid, ext, name) => {
    expect(callerIdName(cid, ext)).toBe(name);
  });

  it.each([
    ['online', 0],
    ['inuse', 0],
    ['offline', 1],
    ['away', 1],
    [undefined, 2],
  ] as const)('status of %s is %i', (presence, status) => {
    expect(restStatus(presence)).toBe(status);
  });

  it('ids: digits are their own id; other extensions get one that stays', () => {
    const db = openDatabase(':memory:');
    const dir = new UserDirectory(db, () => [], { users: {} }, undefined);
    expect(dir.idOf('101')).toBe(101);
    const a = dir.idOf('reception');
    const b = dir.idOf('007');
    expect(a).toBeGreaterThanOrEqual(1e12);
    expect(b).toBe(a + 1);
    const again = new UserDirectory(db, () => [], { users: {} }, undefined);
    expect(again.idOf('reception')).toBe(a);
    expect(again.extOf(a)).toBe('reception');
    expect(again.extOf(101)).toBe('101');
  });

  it('names: configured first, then Asterisk, cached; a failing Asterisk leaves the extension', async () => {
    const db = openDatabase(':memory:');
    const asked: string[] = [];
    const eps = ['101', '102', '103'].map((sip) => ({ sip }) as any);
    let fail = false;
    const dir = new UserDirectory(db, () => eps, { users: { '102': { displayName: 'Desk', email: 'desk@x.example' } } }, async (ext) => {
      asked.push(ext);
      if (fail) throw new Error('down');
      return ext === '101' ? '"Operator 101" <101>' : '';
    });
    expect(await dir.list()).toEqual([
      { id: 101, displayName: 'Operator 101', ext: '101', email: null },
      { id: 102, displayName: 'Desk', ext: '102', email: 'desk@x.example' },
      { id: 103, displayName: '103', ext: '103', email: null },
    ]);
    expect(asked.sort()).toEqual(['101', '103']);
    fail = true;
    await dir.list();
    expect(asked).toHaveLength(2); // cached for 10 minutes
  });
});

describe('call uuids', () => {
  it.each([
    ['47a968893984475bbca0e29dec144ce3', '47a968893984475bbca0e29dec144ce3'],
    ['47A96889-3984-475B-BCA0-E29DEC144CE3', '47a968893984475bbca0e29dec144ce3'],
    ['47a96889-3984475b-bca0-e29dec144ce3', undefined],
    ['1', undefined],
    ['../../etc/passwd', undefined],
  ])('normalizeUuid(%j) = %j', (text, want) => {
    expect(normalizeUuid(text)).toBe(want);
  });

  it('one uuid per call, made once, found back in both forms', () => {
    const db = openDatabase(':memory:');
    db.$client.prepare("INSERT INTO calls (id, status, created_at) VALUES (7, 'CALL', 0)").run();
    const u = new CallUuids(db);
    const id = u.of(7);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new CallUuids(db).of(7)).toBe(id);
    expect(u.callOf(id)).toBe(7);
    expect(u.callOf(`${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`)).toBe(7);
    expect(u.callOf('0'.repeat(32))).toBeUndefined();
  });
});

describe('signed audio links', () => {
  it('valid until the expiry (rounded up to the hour), under a key kept in the database', () => {
    const db = openDatabase(':memory:');
    let now = 10 * 3_600_000 + 5;
    const links = new AudioLinks(db, 3_600_000, () => now);
    const uuid = 'a'.repeat(32);
    const path = links.path(uuid);
    const q = new URL(`http://x${path}`).searchParams;
    expect(Number(q.get('expires'))).toBe(12 * 3_600_000);
    expect(links.valid(uuid, q.get('expires')!, q.get('sig')!)).toBe(true);
    expect(new AudioLinks(db, 3_600_000, () => now).valid(uuid, q.get('expires')!, q.get('sig')!)).toBe(true);
    expect(links.valid('b'.repeat(32), q.get('expires')!, q.get('sig')!)).toBe(false);
    expect(links.valid(uuid, String(Number(q.get('expires')) + 3_600_000), q.get('sig')!)).toBe(false);
    expect(links.valid(uuid, q.get('expires')!, undefined)).toBe(false);
    expect(new AudioLinks(openDatabase(':memory:'), 3_600_000, () => now).valid(uuid, q.get('expires')!, q.get('sig')!)).toBe(false);
    now = 12 * 3_600_000 + 1;
    expect(links.valid(uuid, q.get('expires')!, q.get('sig')!)).toBe(false);
  });
});

describe('channels a hangup picks', () => {
  const ch = (channel: string, uniqueid: string, linkedid: string): AmiMessage => ({ channel, uniqueid, linkedid });
  const list = [ch('PJSIP/101-00000001', '1700.1', '1700.1'), ch('Local/79001@from-internal-00000001;1', '1700.2', '1700.1'), ch('PJSIP/trunk-00000002', '1700.3', '1700.1'), ch('PJSIP/102-00000003', '1800.1', '1800.1'), ch('PJSIP/103-00000004', 'cb-9-client', 'cb-9-client')];
  it.each([
    ['by linkedid: every channel of the call', { linkedid: '1700.1', operatorChannel: null, clientChannel: null }, [], ['PJSIP/101-00000001', 'Local/79001@from-internal-00000001;1', 'PJSIP/trunk-00000002']],
    ['by the stored channel ids (ARI legs with their own linkedid)', { linkedid: null, operatorChannel: null, clientChannel: 'cb-9-client' }, [], ['PJSIP/103-00000004']],
    ['by known uniqueids', { linkedid: null, operatorChannel: null, clientChannel: null }, ['1800.1'], ['PJSIP/102-00000003']],
    ['nothing known: nothing', { linkedid: null, operatorChannel: null, clientChannel: null }, [], []],
  ])('%s', (_name, call, known, want) => {
    expect(channelsOfCall(call, new Set(known), list)).toEqual(want);
  });
});
