/** callDetailRecord: storage, idempotency, conflicts, matching to tracked calls, recordings and the served-path rule. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { T0, hookCdr, setup, writeWav, type Env } from './setup.js';

// The PBX's local time (CDR(start)) is the daemon's TZ: UTC+3 all year.
process.env.TZ = 'Europe/Moscow';

let env: Env;
beforeEach(() => {
  env = setup();
});
afterEach(() => env.close());

const CDR = '/api/events/callDetailRecord';
/** T0 (10:00:00Z) as CDR(start) in Moscow time, plus `sec` seconds */
const localAt = (sec: number) => {
  const d = new Date(T0 + sec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};
const cdrRows = () => env.rows<Record<string, any>>('SELECT * FROM cdrs ORDER BY id');
const recordingRows = () => env.rows<Record<string, any>>('SELECT * FROM recordings ORDER BY id');

describe('storing', () => {
  it('stores everything received and answers the stored record', async () => {
    const sent = hookCdr({ event_id: '1700000000.123', call_at: localAt(5), userfield: 'callbridge:7' });
    const res = await env.post(CDR, { ...sent, token: 'not-kept' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      cdr: {
        id: 1,
        event_id: '1700000000.123',
        call_id: null,
        phone: '89001234567',
        extension: '101',
        path: '',
        servable: false,
        type: 'incoming',
        call_at: '2026-11-24T10:00:05.000Z',
        duration: 20,
        billsec: 15,
        disposition: 'ANSWERED',
        created_at: new Date(T0).toISOString(),
      },
    });
    const [row] = cdrRows();
    expect(row).toMatchObject({ event_id: '1700000000.123', uniqueid: '1700000000.124', linkedid: '1700000000.123', call_at: T0 + 5000, servable: 0 });
    expect(JSON.parse(row!.fields)).toEqual(sent);
    expect(env.published).toEqual([
      expect.objectContaining({ type: 'cdr', time: T0, cdr_id: 1, event_id: '1700000000.123', call_id: null, did: '74950000000', call_type: 'incoming' }),
    ]);
  });

  it('is idempotent per event_id: a repeat stores nothing and answers the same', async () => {
    const first = await env.post(CDR, hookCdr({ event_id: '42' }));
    env.clock.now += 5000;
    const again = await env.post(CDR, hookCdr({ event_id: '42' }));
    const viaQuery = await env.request(`${CDR}?${new URLSearchParams(hookCdr({ event_id: '42' })).toString()}`);
    expect(again).toEqual(first);
    expect(viaQuery.body).toEqual(first.body);
    expect(cdrRows()).toHaveLength(1);
    expect(env.published.filter((e) => e.type === 'cdr')).toHaveLength(1);
  });

  it('refuses the same event_id with other content: 409 DUPLICATE_EVENT_ID, nothing changed', async () => {
    await env.post(CDR, hookCdr({ event_id: '42' }));
    const other = await env.post(CDR, hookCdr({ event_id: '42', billsec: '16' }));
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'DUPLICATE_EVENT_ID', cdr_id: 1 });
    const extra = await env.post(CDR, hookCdr({ event_id: '42', userfield: 'x' }));
    expect(extra.status).toBe(409);
    expect(cdrRows()).toHaveLength(1);
    expect(cdrRows()[0]!.billsec).toBe(15);
  });

  it('takes integer and Asterisk unique ids as distinct event ids', async () => {
    for (const id of ['1700000000', '1700000000.123', '1700000000.1234', '17', 'pbx1-1700000000.5', 'cb-12-op-0a1b2c3d']) {
      const res = await env.post(CDR, hookCdr({ event_id: id }));
      expect(res.status).toBe(200);
      expect(res.body.cdr.event_id).toBe(id);
    }
    expect(cdrRows().map((r) => r.event_id)).toEqual(['1700000000', '1700000000.123', '1700000000.1234', '17', 'pbx1-1700000000.5', 'cb-12-op-0a1b2c3d']);
  });

  it('is reachable as /api/events?type=callDetailRecord (the direction is then call_type) with the same content', async () => {
    const { type, ...rest } = hookCdr({ event_id: '55' });
    const via = await env.post('/api/events', { ...rest, type: 'callDetailRecord', call_type: type! });
    expect(via.status).toBe(200);
    expect(via.body.cdr).toMatchObject({ event_id: '55', type: 'incoming' });
    const direct = await env.post(CDR, hookCdr({ event_id: '55' }));
    expect(direct.body).toEqual(via.body);
    expect(cdrRows()).toHaveLength(1);
  });
});

describe('matching to a tracked call', () => {
  it('by uniqueid through call_channels, and through the call row channels', async () => {
    const a = env.insertCall({ sip: '102', phone: '111' });
    const b = env.insertCall({ sip: '103', phone: '222', operator_channel: 'cb-9-op-0a1b' });
    env.db.$client.prepare('INSERT INTO call_channels (uniqueid, call_id, channel) VALUES (?, ?, ?)').run('1700000100.7', a, 'PJSIP/102-00000001');
    const r1 = await env.post(CDR, hookCdr({ event_id: '1', uniqueid: '1700000100.7', linkedid: '', phone: '333' }));
    const r2 = await env.post(CDR, hookCdr({ event_id: '2', uniqueid: 'cb-9-op-0a1b', linkedid: '' }));
    expect(r1.body.cdr.call_id).toBe(a);
    expect(r2.body.cdr.call_id).toBe(b);
    expect(env.published.map((e) => e.call_id)).toEqual([a, b]);
  });

  it('by linkedid when the uniqueid is unknown', async () => {
    env.insertCall({ sip: '101', phone: '89001234567', linkedid: '1700000000.999' });
    const c = env.insertCall({ sip: '102', phone: '5', linkedid: '1700000000.123' });
    const res = await env.post(CDR, hookCdr({ event_id: '3', uniqueid: '1700000000.555' }));
    expect(res.body.cdr.call_id).toBe(c);
  });

  it('by phone (+7/8/bare), extension and time within ±2 minutes, the closest', async () => {
    const older = env.insertCall({ sip: '101', phone: '+79001234567', created_at: T0 - 100_000 });
    const closest = env.insertCall({ sip: '101', phone: '79001234567', created_at: T0 + 20_000 });
    env.insertCall({ sip: '102', phone: '89001234567', created_at: T0 + 5000 });
    env.insertCall({ sip: '101', phone: '89001234568', created_at: T0 + 5000 });
    const base = { uniqueid: '', linkedid: '' };
    const hit = await env.post(CDR, hookCdr({ ...base, event_id: '4', phone: '89001234567', call_at: localAt(5) }));
    expect(hit.body.cdr.call_id).toBe(closest);
    const plus = await env.post(CDR, hookCdr({ ...base, event_id: '5', phone: '+79001234567', call_at: localAt(-95) }));
    expect(plus.body.cdr.call_id).toBe(older);
    const bare = await env.post(CDR, hookCdr({ ...base, event_id: '6', phone: '9001234567', call_at: localAt(30) }));
    expect(bare.body.cdr.call_id).toBe(closest);
    const tooLate = await env.post(CDR, hookCdr({ ...base, event_id: '7', call_at: localAt(20 + 121) }));
    expect(tooLate.body.cdr.call_id).toBeNull();
    const otherExtension = await env.post(CDR, hookCdr({ ...base, event_id: '8', extension: '104', call_at: localAt(5) }));
    expect(otherExtension.body.cdr.call_id).toBeNull();
    // an unknown uniqueid/linkedid falls back to phone + extension + time
    const fallback = await env.post(CDR, hookCdr({ event_id: '9', uniqueid: '1.1', linkedid: '1.1', call_at: localAt(5) }));
    expect(fallback.body.cdr.call_id).toBe(closest);
  });

  it('without call_at: the newest such call of the last hour', async () => {
    env.insertCall({ sip: '101', phone: '89001234567', created_at: T0 - 30 * 60_000 });
    const newest = env.insertCall({ sip: '101', phone: '89001234567', created_at: T0 - 10 * 60_000 });
    const base = { uniqueid: '', linkedid: '', call_at: '' };
    expect((await env.post(CDR, hookCdr({ ...base, event_id: '1' }))).body.cdr.call_id).toBe(newest);
    env.clock.now = T0 + 55 * 60_000;
    expect((await env.post(CDR, hookCdr({ ...base, event_id: '2' }))).body.cdr.call_id).toBeNull();
  });
});

describe('recordings', () => {
  it('a bare file name is looked for under <monitorDir>/YYYY/MM/DD of call_at; the call gains the path and a recording', async () => {
    const callId = env.insertCall({ sip: '101', phone: '89001234567', order_id: '15', linkedid: '1700000000.123' });
    const file = join(env.monitorDir, '2026', '11', '24', 'in-74950000000-89001234567-20261124-130005-1700000000.123.wav');
    const size = writeWav(file, 2);
    const res = await env.post(CDR, hookCdr({ path: 'in-74950000000-89001234567-20261124-130005-1700000000.123.wav', call_at: localAt(5) }));
    expect(res.body.cdr).toMatchObject({ call_id: callId, path: file, servable: true });
    expect(env.rows('SELECT recording_file FROM calls WHERE id = ?', callId)).toEqual([{ recording_file: file }]);
    expect(recordingRows()).toEqual([
      expect.objectContaining({ call_id: callId, order_id: '15', name: 'in-74950000000-89001234567-20261124-130005-1700000000.123', file, format: 'wav', size, duration: 2 }),
    ]);
    expect(env.published[0]).toMatchObject({ type: 'cdr', call_id: callId, order_id: '15', recording_id: 1, servable: true });

    // another CDR of the same call with the same file adds no second recording
    const again = await env.post(CDR, hookCdr({ event_id: '1700000000.130', uniqueid: '1700000000.130', path: file }));
    expect(again.body.cdr).toMatchObject({ call_id: callId, servable: true });
    expect(recordingRows()).toHaveLength(1);
  });

  it('falls back to <monitorDir>/<name>; an absolute path in the recordings directory is taken as it is', async () => {
    const a = env.insertCall({ sip: '101', phone: '1', linkedid: 'L1' });
    const b = env.insertCall({ sip: '101', phone: '2', linkedid: 'L2' });
    writeWav(join(env.monitorDir, 'flat.wav'));
    const own = join(env.recordingsDir, 'order-15-call-2.wav');
    writeWav(own);
    const r1 = await env.post(CDR, hookCdr({ event_id: '1', uniqueid: '', linkedid: 'L1', path: 'flat.wav' }));
    const r2 = await env.post(CDR, hookCdr({ event_id: '2', uniqueid: '', linkedid: 'L2', path: own }));
    expect(r1.body.cdr).toMatchObject({ call_id: a, path: join(env.monitorDir, 'flat.wav'), servable: true });
    expect(r2.body.cdr).toMatchObject({ call_id: b, path: own, servable: true });
    expect(recordingRows().map((r) => [r.call_id, r.file, r.duration])).toEqual([
      [a, join(env.monitorDir, 'flat.wav'), 1],
      [b, own, 1],
    ]);
  });

  it('a servable file not on disk yet gets a recording with size and duration unknown; other formats keep their extension', async () => {
    const callId = env.insertCall({ sip: '101', phone: '1', linkedid: 'L1' });
    const file = join(env.monitorDir, 'later.gsm');
    const res = await env.post(CDR, hookCdr({ event_id: '1', uniqueid: '', linkedid: 'L1', path: file }));
    expect(res.body.cdr).toMatchObject({ call_id: callId, servable: true });
    expect(recordingRows()).toEqual([expect.objectContaining({ file, format: 'gsm', name: 'later', size: null, duration: null })]);
  });

  it('a path outside the recordings directories is kept, never servable, never a recording (also through .. and symlinks)', async () => {
    const outside = join(env.dir, 'outside');
    mkdirSync(outside);
    const secret = join(outside, 'secret.wav');
    writeWav(secret);
    symlinkSync(secret, join(env.recordingsDir, 'link.wav'));
    symlinkSync(outside, join(env.monitorDir, 'dirlink'));
    writeFileSync(join(env.dir, 'passwd'), 'root:x:0:0');
    const paths = [
      secret,
      `${env.monitorDir}/../outside/secret.wav`,
      '../outside/secret.wav',
      join(env.recordingsDir, 'link.wav'),
      join(env.monitorDir, 'dirlink', 'secret.wav'),
      join(env.monitorDir, 'dirlink', 'not-yet.wav'),
      `${env.recordingsDir}/../passwd`,
      env.monitorDir,
      `${env.recordingsDir}-evil/x.wav`,
    ];
    const callIds: number[] = [];
    for (const [i, path] of paths.entries()) {
      const callId = env.insertCall({ sip: '101', phone: '1', linkedid: `L${i}` });
      callIds.push(callId);
      const res = await env.post(CDR, hookCdr({ event_id: String(i + 1), uniqueid: '', linkedid: `L${i}`, path }));
      expect(res.status, path).toBe(200);
      expect(res.body.cdr.call_id, path).toBe(callId);
      expect(res.body.cdr.servable, path).toBe(false);
      expect(res.body.cdr.path, path).not.toContain('..');
    }
    expect(cdrRows().map((r) => r.path)).toEqual([
      secret,
      secret,
      secret,
      join(env.recordingsDir, 'link.wav'),
      join(env.monitorDir, 'dirlink', 'secret.wav'),
      join(env.monitorDir, 'dirlink', 'not-yet.wav'),
      join(env.dir, 'passwd'),
      env.monitorDir,
      `${env.recordingsDir}-evil/x.wav`,
    ]);
    expect(recordingRows()).toEqual([]);
    // the path is still kept on the call
    expect(env.rows('SELECT recording_file FROM calls WHERE id = ?', callIds[0])).toEqual([{ recording_file: secret }]);
    expect(env.published.every((e) => e.servable === false && e.recording_id === null)).toBe(true);
  });

  it('a CDR that matches no call adds no recording', async () => {
    writeWav(join(env.monitorDir, 'x.wav'));
    const res = await env.post(CDR, hookCdr({ event_id: '1', uniqueid: '', linkedid: '', path: join(env.monitorDir, 'x.wav') }));
    expect(res.body.cdr).toMatchObject({ call_id: null, servable: true });
    expect(recordingRows()).toEqual([]);
  });
});
