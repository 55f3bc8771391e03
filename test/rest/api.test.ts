/**
 * The hosted-PBX REST API end to end against the simulated Asterisk, as a CRM
 * written for the hosted PBX uses it: authorize and keep the JSESSIONID
 * cookie, list users and their status, makeCall, poll the active calls while
 * the call rings and talks, read company.api, download the recording with
 * Range, hang a call up, and the contact book naming the caller on the
 * operator's phone. Every answer is checked against the seed's field names
 * and types.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';
import { calls, restSessions } from '../../src/db/schema.js';

const KEY = 'rest-key-0123456789abcdef';
const BOUND_KEY = 'rest-key-bound-0123456789';
const SEED_DOMAIN = 'clinic.example.com';

let h: Harness;
let cookie = '';
const amiActions: Array<Record<string, string>> = [];
const originates: string[] = [];

async function rest(path: string, init: RequestInit & { jar?: string } = {}): Promise<{ status: number; text: string; json: any; headers: Headers }> {
  const headers = new Headers(init.headers);
  const jar = init.jar ?? cookie;
  if (jar) headers.set('cookie', jar);
  const res = await fetch(`http://127.0.0.1:${h.daemon.port}${path}`, { ...init, headers });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

async function authorize(apiKey: string, domain = SEED_DOMAIN) {
  return rest('/rest/security/authorize', { method: 'POST', jar: '', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain, apiKey }) });
}

const ENV = {
  CALLBRIDGE_REST_API_KEYS: `${KEY},102:${BOUND_KEY}`,
  CALLBRIDGE_REST_DOMAIN: SEED_DOMAIN,
  CALLBRIDGE_REST_USERS: JSON.stringify({ '101': { email: 'ivan@clinic.example.com' }, '103': { displayName: 'Reception', email: 'desk@clinic.example.com' } }),
  CALLBRIDGE_REST_TRUNK: '+380442246595',
};

function watchAmi(of: Harness): void {
  of.sim.on('amiAction', (a: { fields: Record<string, string | string[]> }) => {
    amiActions.push(Object.fromEntries(Object.entries(a.fields).map(([k, v]) => [k.toLowerCase(), String(v)])));
  });
}

const jsessionOf = (headers: Headers): string => /JSESSIONID=([0-9a-f]{64})/.exec(headers.get('set-cookie') ?? '')?.[1] ?? '';

beforeAll(async () => {
  h = await startHarness({ control: 'ari', env: ENV });
  watchAmi(h);
  h.sim.on('ariRequest', (r: { method: string; path: string; query: Record<string, string> }) => {
    if (r.method === 'POST' && r.path.startsWith('/channels') && r.query.callerId !== undefined) originates.push(`${r.query.endpoint} ${r.query.callerId}`);
  });
}, 30_000);
afterAll(async () => {
  await h?.close();
});

describe('sessions', () => {
  it('every /rest path but authorize answers 403 in plain text without a session', async () => {
    for (const p of ['/rest/users', '/rest/calls/active/v3', '/rest/calls/company.api?timeFrom=0&timeTo=1', '/rest/crm/contacts/v2/1', '/rest/user/status']) {
      const r = await rest(p, { jar: '' });
      expect(r.status, p).toBe(403);
      expect(r.headers.get('content-type'), p).toMatch(/^text\/plain/);
    }
    const forged = await rest('/rest/users', { jar: `JSESSIONID=${'a'.repeat(64)}` });
    expect(forged.status).toBe(403);
    // the open /rest/public/ prefix cannot be walked out of
    // (sent raw: fetch would resolve the dots before sending)
    const raw = (path: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: h.daemon.port, path, method: 'GET' }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const p of ['/rest/public/../users', '/rest/public/%2e%2e/users', '/rest/public/calls/%2e%2e/%2e%2e/%2e%2e/users', '/rest/security/authorize/../../users', '/rest/public/calls/x/audio/../../../../users']) {
      const r = await raw(p);
      expect([403, 404], p).toContain(r.status);
      expect(r.text, p).not.toMatch(/displayName/);
    }
  });

  it('a bad key, a bad domain and a malformed body are refused, naming the field', async () => {
    expect((await authorize('not-the-key-0123456789')).status).toBe(403);
    expect((await authorize(KEY, 'other.example.com')).status).toBe(403);
    const noKey = await rest('/rest/security/authorize', { method: 'POST', jar: '', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: SEED_DOMAIN }) });
    expect(noKey.status).toBe(400);
    expect(noKey.text).toMatch(/^apiKey:/);
  });

  it('a valid key opens a session: HttpOnly JSESSIONID, stored hashed, usable at once', async () => {
    const r = await authorize(KEY);
    expect(r.status).toBe(200);
    const setCookie = r.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^JSESSIONID=[0-9a-f]{64}; /);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).not.toMatch(/Secure/); // plain http, no trusted proxy
    const id = jsessionOf(r.headers);
    cookie = `JSESSIONID=${id}`;
    const rows = h.daemon.db.select().from(restSessions).all();
    expect(rows.some((row) => row.idHash === id)).toBe(false);
    expect(rows.some((row) => row.domain === SEED_DOMAIN)).toBe(true);
    expect((await rest('/rest/users')).status).toBe(200);
  });

  it('the session survives a daemon restart', async () => {
    await h.restart();
    expect((await rest('/rest/users')).status).toBe(200);
  });
});

describe('users', () => {
  it('GET /rest/users: id, displayName (Asterisk caller ID or configured), ext, email', async () => {
    const r = await rest('/rest/users');
    expect(r.status).toBe(200);
    const users = r.json as Array<Record<string, unknown>>;
    for (const u of users) {
      expect(Object.keys(u).sort()).toEqual(['displayName', 'email', 'ext', 'id']);
      expect(typeof u.id).toBe('number');
      expect(typeof u.ext).toBe('string');
      expect(typeof u.displayName).toBe('string');
    }
    expect(users.find((u) => u.ext === '101')).toEqual({ id: 101, displayName: 'Operator 101', ext: '101', email: 'ivan@clinic.example.com' });
    expect(users.find((u) => u.ext === '103')).toEqual({ id: 103, displayName: 'Reception', ext: '103', email: 'desk@clinic.example.com' });
    expect(users.find((u) => u.ext === '104')).toEqual({ id: 104, displayName: 'Operator 104', ext: '104', email: null });
    // the name came from Asterisk: a Getvar of the endpoint's callerid, no channel
    expect(amiActions.some((a) => a.action === 'Getvar' && a.variable === 'PJSIP_ENDPOINT(101,callerid)' && a.channel === undefined)).toBe(true);
  });

  it('GET /rest/user/status: the bound operator, 0 online / 1 offline / 2 not monitored', async () => {
    const bound = jsessionOf((await authorize(BOUND_KEY)).headers);
    expect((await rest('/rest/user/status', { jar: `JSESSIONID=${bound}` })).json).toEqual({ status: 0, ext: '102', presence: 'online' });
    expect((await rest('/rest/user/status?ext=106')).json).toMatchObject({ status: 1, ext: '106' });
    expect((await rest('/rest/user/status')).json).toEqual({ status: 2 });
    expect((await rest('/rest/user/status?ext=1%0d2')).status).toBe(400);
  });
});

describe('makeCall, active calls, history, recording', () => {
  it('places the same click-to-call as /api/makeCall, followed through active/v3, company.api and the audio', async () => {
    const bad = await rest('/rest/user/makeCall', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ legExt: '101', otherLegNum: '12\r\n34' }) });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/^otherLegNum:/);
    // a phone number as a JSON number may have lost digits already: refused, nothing dialled
    const lossy = await rest('/rest/user/makeCall', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"legExt":101,"otherLegNum":12345678901234567891}' });
    expect(lossy.status).toBe(400);
    expect(lossy.text).toMatch(/^otherLegNum: must be a JSON string/);
    const bigExt = await rest('/rest/user/makeCall', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"legExt":12345678901234567891,"otherLegNum":"+79001234560"}' });
    expect(bigExt.status).toBe(400);
    const offline = await rest('/rest/user/makeCall', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ legExt: 106, otherLegNum: '+79001234560' }) });
    expect(offline.status).toBe(409);
    expect(offline.headers.get('content-type')).toMatch(/^text\/plain/);

    const from = Date.now();
    // as the seed's curl sends it: legExt a JSON number
    const r = await rest('/rest/user/makeCall', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"legExt":101,"otherLegNum":"+79001234560"}' });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['uuid']);
    const uuid = r.json.uuid as string;
    expect(uuid).toMatch(/^[0-9a-f]{32}$/);

    const ringing = await waitFor('the call in active/v3', async () => (await rest('/rest/calls/active/v3')).json?.find((c: any) => c.uuid === uuid));
    expect(Object.keys(ringing).sort()).toEqual(['bridgeAt', 'dialAt', 'lastEvent', 'leg', 'leg2', 'lgDirection', 'otherLegs', 'parentUuid', 'trunkName', 'trunkNum', 'uuid'].sort());
    expect(ringing).toMatchObject({ parentUuid: null, lastEvent: 'call.dial', bridgeAt: null, lgDirection: 2, leg: { id: 101, ext: '101', displayName: 'Operator 101' }, leg2: null, trunkNum: '+380442246595' });
    expect(ringing.otherLegs).toEqual([{ id: null, name: null, num: '+79001234560', companyName: null, url: null }]);
    expect(ringing.dialAt).toBeGreaterThanOrEqual(from);

    const talking = await waitFor('call.bridge', async () => (await rest('/rest/calls/active/v3')).json?.find((c: any) => c.uuid === uuid && c.lastEvent === 'call.bridge'));
    expect(talking.bridgeAt).toBeGreaterThanOrEqual(talking.dialAt);
    await waitFor('the call to leave active/v3', async () => !(await rest('/rest/calls/active/v3')).json.some((c: any) => c.uuid === uuid), 20_000);

    const row = await waitFor('FINISH and its recording', () => {
      const c = h.daemon.db.select().from(calls).all().find((x) => x.final && x.phone === '+79001234560' && x.sip === '101' && x.status === 'FINISH');
      return c && h.daemon.calls !== undefined ? c : undefined;
    });
    // the same status chain as /api/makeCall
    const chain = await h.api(`/api/callHistory.json?call_id=${row.id}`);
    expect(chain.body.history.map((s: any) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']);

    const history = await waitFor('company.api with the audio link', async () => {
      const list = (await rest(`/rest/calls/company.api?timeFrom=${from - 1}&timeTo=${Date.now() + 1000}`)).json as any[];
      return list.find((c) => c.uuid === uuid && c.audioRecUrl);
    });
    expect(history).toMatchObject({ lgDirection: 2, otherLegNum: '+79001234560', otherLegName: '+79001234560', leg: { id: 101, type: 1, ext: '101', displayName: 'Operator 101' }, leg2: null, disposition: 0, transferHistory: '101' });
    expect(history.billSecs).toBe(row.billsec);
    expect(typeof history.endAt).toBe('number');
    expect(history.audioRecUrl).toMatch(new RegExp(`/rest/public/calls/${uuid}/audio\\?expires=\\d+&sig=[0-9a-f]{32}$`));

    // the signed link works without a session, with a Range
    const link = new URL(history.audioRecUrl);
    const part = await rest(`${link.pathname}${link.search}`, { jar: '', headers: { range: 'bytes=0-43' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-type')).toBe('audio/wav');
    expect(part.headers.get('content-range')).toMatch(/^bytes 0-43\/\d+$/);
    // unsigned, or with a wrong signature: only with the session
    expect((await rest(link.pathname, { jar: '' })).status).toBe(403);
    expect((await rest(`${link.pathname}?expires=${link.searchParams.get('expires')}&sig=${'0'.repeat(32)}`, { jar: '' })).status).toBe(403);
    const whole = await rest(link.pathname);
    expect(whole.status).toBe(200);
    expect(Number(whole.headers.get('content-length'))).toBeGreaterThan(44);
    expect((await rest(`/rest/public/calls/${'f'.repeat(32)}/audio`)).status).toBe(404);
  }, 40_000);

  it('hangs a talking call up over the PBX; an unknown uuid is 404', async () => {
    expect((await rest(`/rest/calls/active/${'e'.repeat(32)}/hangup`)).status).toBe(404);
    const r = await rest('/rest/user/makeCall', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ legExt: '104', otherLegNum: '79001234569' }) });
    const uuid = r.json.uuid as string;
    await waitFor('talking', async () => (await rest('/rest/calls/active/v3')).json?.find((c: any) => c.uuid === uuid && c.lastEvent === 'call.bridge'));
    const hang = await rest(`/rest/calls/active/${uuid}/hangup`);
    expect(hang.status).toBe(200);
    expect(amiActions.some((a) => a.action === 'Hangup' && /^PJSIP\/104-/.test(a.channel ?? ''))).toBe(true);
    const done = await waitFor('the call to end', () => h.daemon.db.select().from(calls).all().find((c) => c.phone === '79001234569' && c.final));
    expect(done.status).toBe('FINISH');
    expect((await rest(`/rest/calls/active/${uuid}/hangup`)).status).toBe(404);
  }, 30_000);

  it('an inbound PBX call shows in active/v3 (lgDirection 4, trunk = DID) and in company.api with directions=4', async () => {
    const from = Date.now();
    const { linkedid } = h.sim.inboundCall({ from: '79001234550', did: '74950001000', operators: '105', outcome: 'answer' });
    const live = await waitFor('the inbound call in active/v3', async () => (await rest('/rest/calls/active/v3')).json?.find((c: any) => c.lgDirection === 4 && c.otherLegs?.[0]?.num === '79001234550'));
    expect(live).toMatchObject({ trunkNum: '74950001000', trunkName: '74950001000', leg2: null });
    await waitFor('the call to end', () => h.daemon.db.select().from(calls).where(eq(calls.linkedid, linkedid)).get()?.final);
    const list = (await rest(`/rest/calls/company.api?timeFrom=${from - 1}&timeTo=${Date.now()}&directions=4`)).json as any[];
    expect(list.map((c) => c.lgDirection)).toEqual(list.map(() => 4));
    expect(list.find((c) => c.otherLegNum === '79001234550')).toMatchObject({ disposition: 0, leg: { ext: '105' }, trunk: '74950001000' });
    const outgoingOnly = (await rest(`/rest/calls/company.api?timeFrom=${from - 1}&timeTo=${Date.now()}&directions=2`)).json as any[];
    expect(outgoingOnly.some((c) => c.otherLegNum === '79001234550')).toBe(false);
  }, 30_000);
});

describe('group calls', () => {
  // A slower clock than the other tests': each phase (both phones ringing, one operator talking) lasts long
  // enough to be read over HTTP however loaded the machine is (ring group: 5 s, a talk: 1.5 s).
  let main: Harness;
  let mainCookie = '';
  beforeAll(async () => {
    main = h;
    mainCookie = cookie;
    h = await startHarness({ control: 'ari', timeScale: 0.5, env: ENV });
    watchAmi(h);
    const r = await authorize(KEY);
    expect(r.status).toBe(200);
    cookie = `JSESSIONID=${jsessionOf(r.headers)}`;
  }, 30_000);
  afterAll(async () => {
    await h?.close();
    h = main;
    cookie = mainCookie;
  });

  const ours = (num: string, rows: any[] | undefined) => (rows ?? []).filter((c) => c.otherLegs?.[0]?.num === num);

  it('a ring group nobody answers: the parent and both phones ringing in active/v3; in the history a parent and two children with no answer', async () => {
    const from = Date.now();
    const { linkedid } = h.sim.inboundCall({ from: '79001234552', did: '74950000600', operators: '101,102', via: 'ringgroup', outcome: 'noanswer' });
    const ringing = await waitFor('both phones ringing in active/v3', async () => {
      const rows = ours('79001234552', (await rest('/rest/calls/active/v3')).json);
      return rows.length === 3 ? rows : undefined;
    });
    const [parent, ...kids] = ringing;
    expect(parent).toMatchObject({ parentUuid: null, lastEvent: 'call.dial', lgDirection: 4, leg: { id: 600, ext: '600', displayName: 'Ring group 600' }, trunkNum: '74950000600' });
    expect(kids.map((k: any) => k.leg.ext).sort()).toEqual(['101', '102']);
    for (const k of kids) expect(k).toMatchObject({ parentUuid: parent.uuid, lastEvent: 'call.dial', bridgeAt: null, leg2: null, lgDirection: 4 });
    expect(new Set(ringing.map((r: any) => r.uuid)).size).toBe(3);
    const done = await waitFor(
      'the ring time to run out',
      () => {
        const row = h.daemon.db.select().from(calls).where(eq(calls.linkedid, linkedid)).get();
        return row?.final ? row : undefined;
      },
      20_000,
    );
    expect(done).toMatchObject({ status: 'OPERATOR_NOANSWER', groupKind: 'ringgroup', groupExt: '600' });
    const list = ((await rest(`/rest/calls/company.api?timeFrom=${from - 1}&timeTo=${Date.now()}`)).json as any[]).filter((c) => c.otherLegNum === '79001234552');
    expect(list.map((c) => c.uuid)).toEqual(ringing.map((r: any) => r.uuid));
    expect(list.map((c) => [c.parentUuid, c.leg.type, c.disposition, c.billSecs, c.audioRecUrl])).toEqual([
      [null, 2, 1, 0, null],
      [parent.uuid, 1, 1, 0, null],
      [parent.uuid, 1, 1, 0, null],
    ]);
    // missed.api: the call to call back once, as its parent
    const missed = ((await rest(`/rest/calls/missed.api?timeFrom=${from - 1}&timeTo=${Date.now()}`)).json as any[]).filter((c) => c.otherLegNum === '79001234552');
    expect(missed.map((c) => c.uuid)).toEqual([parent.uuid]);
  }, 40_000);

  it('a ring group answered by 102: 101 leaves active/v3, the child hung up alone ends the call, children in company.api with their own audio link', async () => {
    const from = Date.now();
    const { linkedid } = h.sim.inboundCall({ from: '79001234551', did: '74950000600', operators: '101,102', via: 'ringgroup', answeredBy: '102', outcome: 'answer' });
    // 102 answers: the parent and 102's child are bridged, 101's phone stopped ringing and left the list
    const talking = await waitFor('102 talking', async () => {
      const rows = ours('79001234551', (await rest('/rest/calls/active/v3')).json);
      return rows.length === 2 && rows.every((r) => r.lastEvent === 'call.bridge') ? rows : undefined;
    });
    const [parent, child102] = talking;
    expect(parent).toMatchObject({ parentUuid: null, leg: { ext: '600' } });
    expect(child102).toMatchObject({ parentUuid: parent.uuid, leg: { ext: '102' } });
    expect(child102.bridgeAt).toBeGreaterThanOrEqual(child102.dialAt);
    const call = h.daemon.db.select().from(calls).where(eq(calls.linkedid, linkedid)).get()!;
    const child101 = (h.daemon.db.$client.prepare("SELECT uuid FROM call_children WHERE call_id = ? AND sip = '101'").get(call.id) as { uuid: string }).uuid;
    // 101's child is over: nothing to hang up
    expect((await rest(`/rest/calls/active/${child101}/hangup`)).status).toBe(404);

    // hanging up the child hangs up 102's phone, not every channel of the call
    const before = amiActions.length;
    expect((await rest(`/rest/calls/active/${child102.uuid}/hangup`)).status).toBe(200);
    const hangups = amiActions.slice(before).filter((a) => a.action === 'Hangup');
    expect(hangups.map((a) => a.channel)).toEqual([expect.stringMatching(/^PJSIP\/102-/)]);
    const done = await waitFor('the call to end', () => {
      const row = h.daemon.db.select().from(calls).where(eq(calls.linkedid, linkedid)).get();
      return row?.final ? row : undefined;
    });
    expect(done).toMatchObject({ status: 'FINISH', sip: '102', groupKind: 'ringgroup', groupExt: '600' });
    expect((await rest(`/rest/calls/active/${parent.uuid}/hangup`)).status).toBe(404);

    const history = await waitFor('the recording', async () => {
      const list = (await rest(`/rest/calls/company.api?timeFrom=${from - 1}&timeTo=${Date.now()}&directions=4`)).json as any[];
      const mine = list.filter((c) => c.otherLegNum === '79001234551');
      return mine.find((c) => c.uuid === child102.uuid)?.audioRecUrl ? mine : undefined;
    });
    expect(history.map((c: any) => c.uuid).sort()).toEqual([parent.uuid, child101, child102.uuid].sort());
    expect(history[0]).toMatchObject({ uuid: parent.uuid, parentUuid: null, leg: { type: 2, ext: '600' }, disposition: 0 });
    const h102 = history.find((c: any) => c.uuid === child102.uuid);
    const h101 = history.find((c: any) => c.uuid === child101);
    expect(h102).toMatchObject({ parentUuid: parent.uuid, leg: { type: 1, ext: '102' }, disposition: 0 });
    expect(h101).toMatchObject({ parentUuid: parent.uuid, leg: { type: 1, ext: '101' }, disposition: 1, billSecs: 0, audioRecUrl: null });
    // the child's signed link serves the call's recording without a session
    const link = new URL(h102.audioRecUrl);
    expect(link.pathname).toBe(`/rest/public/calls/${child102.uuid}/audio`);
    // (the PBX's file is attached once MixMonitor has closed it, just after the hangup)
    const audio = await waitFor('the recording attached', async () => {
      const a = await rest(`${link.pathname}${link.search}`, { jar: '', headers: { range: 'bytes=0-3' } });
      return a.status === 206 ? a : undefined;
    });
    expect(audio.text).toBe('RIFF');
    // a signature made for the child does not open another uuid
    expect((await rest(`/rest/public/calls/${parent.uuid}/audio${link.search}`, { jar: '' })).status).toBe(403);
  }, 40_000);
});

describe('the contact book', () => {
  it('names the caller on the operator phone and in otherLegs when no CRM answers call.settings', async () => {
    const created = await rest('/rest/crm/contacts/v2/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ firstName: 'Petro', lastName: 'Petrenko', fields: [{ enumCode: 'Телефон', values: [{ enumValueCode: 'Рабочий', value: '+79001234530' }] }] }),
    });
    expect(created.status).toBe(200);
    const id = created.json.id as number;
    const found = await rest('/rest/crm/contacts/v2/searchByOLNum?otherLegNum=89001234530');
    expect(found.json.map((c: any) => c.id)).toEqual([id]);

    // the inbound dialplan's caller name (no CRM configured): the contact book's
    const txt = await fetch(`http://127.0.0.1:${h.daemon.port}/api/callSettings.txt?phone=79001234530`);
    expect([txt.status, await txt.text()]).toEqual([200, 'Petro Petrenko']);
    const unknown = await fetch(`http://127.0.0.1:${h.daemon.port}/api/callSettings.txt?phone=79001234999`);
    expect([unknown.status, await unknown.text()]).toEqual([404, '']);

    const r = await rest('/rest/user/makeCall', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ legExt: '103', otherLegNum: '+79001234530' }) });
    expect(r.status).toBe(200);
    await waitFor('the operator originate', () => originates.find((o) => o.startsWith('PJSIP/103 ')));
    expect(originates.find((o) => o.startsWith('PJSIP/103 '))).toBe('PJSIP/103 "Petro Petrenko" <+79001234530>');
    const live = await waitFor('active', async () => (await rest('/rest/calls/active/v3')).json?.find((c: any) => c.uuid === r.json.uuid));
    expect(live.otherLegs).toEqual([{ id: String(id), name: 'Petro Petrenko', num: '+79001234530', companyName: null, url: expect.stringMatching(new RegExp(`/rest/crm/contacts/v2/${id}$`)) }]);
    await waitFor('the call to end', () => h.daemon.db.select().from(calls).all().find((c) => c.phone === '+79001234530' && c.final), 20_000);
  }, 30_000);
});

describe('limits', () => {
  it('failed authorizations are limited per address: 429 with Retry-After', async () => {
    let last = 0;
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await authorize(`wrong-key-${i}-0123456789abc`);
      last = r.status;
      retryAfter = r.headers.get('retry-after');
    }
    expect(last).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // a session already open keeps working
    expect((await rest('/rest/users')).status).toBe(200);
  });
});
