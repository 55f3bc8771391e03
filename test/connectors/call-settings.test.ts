/**
 * phonet call.settings: the CRM's answer parsed and cached (5 min known,
 * 1 min unknown), simultaneous questions sharing one request, a slow or
 * failing CRM answered as unknown within the timeout (not cached), the name
 * reaching the originate request the simulated PBX receives (ARI and AMI
 * control), and the text endpoint the dialplan CURLs for inbound calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallSettingsClient, KNOWN_TTL_MS, UNKNOWN_TTL_MS, cleanName, parseCallSettings } from '../../src/connectors/call-settings.js';
import { silentLogger } from '../../src/log.js';
import { verifySignature } from '../../src/outbox/sign.js';
import { startHarness, type Harness } from '../helpers/daemon.js';
import { startReceiver, type Receiver } from './receiver.js';

describe('the CRM answer', () => {
  it.each([
    ['a known contact', '{"otherLeg":{"name":"Иван Иванов","url":"http://crm/c/1","newEntry":false,"responsibleEmployeeExt":"001"}}', { name: 'Иван Иванов', responsibleExt: '001', known: true }],
    ['unknown (a), with a link to create one', '{"otherLeg":{"name":null,"url":"http://crm/new","urlText":"Добавить контакт","newEntry":true,"responsibleEmployeeExt":null}}', { name: null, responsibleExt: null, known: false }],
    ['unknown (b)', '{"otherLeg":null}', { name: null, responsibleExt: null, known: false }],
    ['a name that could break a CallerID', '{"otherLeg":{"name":"Bob \\"<x>\\"\\r\\n; evil","responsibleEmployeeExt":"10&1"}}', { name: 'Bob x evil', responsibleExt: null, known: true }],
  ])('%s', (_n, body, want) => {
    expect(parseCallSettings(body)).toEqual(want);
  });

  it('refuses what is not its JSON', () => {
    expect(() => parseCallSettings('<html>')).toThrow(/not JSON/);
    expect(() => parseCallSettings('"x"')).toThrow(/object/);
    expect(cleanName('   ')).toBeNull();
    expect(cleanName('x'.repeat(100))).toHaveLength(60);
  });
});

describe('CallSettingsClient against a real CRM', () => {
  let crm: Receiver;
  let now = 1_000_000;
  beforeAll(async () => {
    crm = await startReceiver();
  });
  afterAll(() => crm.close());
  afterEach(() => {
    crm.received.length = 0;
    crm.answer = undefined;
  });
  const client = (timeoutMs = 1500) => new CallSettingsClient({ url: `${crm.url}/settings?key=abc`, timeoutMs, secret: 'settings-secret-0123456789', log: silentLogger(), now: () => now });

  it('asks with request, otherLegNum, trunkNum, signed; caches a known contact 5 minutes', async () => {
    crm.answer = () => ({ body: '{"otherLeg":{"name":"Иван Иванов","responsibleEmployeeExt":"102"}}' });
    const c = client();
    expect(await c.lookup('+380442246595', '0800218500')).toEqual({ name: 'Иван Иванов', responsibleExt: '102', known: true, cached: false });
    const r = crm.received[0]!;
    expect(r.path).toBe('/settings?key=abc');
    expect(r.json()).toEqual({ request: 'call.settings', otherLegNum: '+380442246595', trunkNum: '0800218500' });
    expect(verifySignature('settings-secret-0123456789', r.headers['x-callbridge-timestamp'] as string, r.body, r.headers['x-callbridge-signature'] as string, 300, now)).toBe(true);
    now += KNOWN_TTL_MS - 1;
    expect((await c.lookup('+380442246595', '0800218500')).cached).toBe(true);
    expect(crm.received).toHaveLength(1);
    now += 2;
    expect((await c.lookup('+380442246595', '0800218500')).cached).toBe(false);
    expect(crm.received).toHaveLength(2);
  });

  it('caches an unknown contact 1 minute', async () => {
    crm.answer = () => ({ body: '{"otherLeg":null}' });
    const c = client();
    await c.lookup('79001234567');
    now += UNKNOWN_TTL_MS - 1;
    expect((await c.lookup('79001234567')).cached).toBe(true);
    now += 2;
    await c.lookup('79001234567');
    expect(crm.received).toHaveLength(2);
  });

  it('shares one request between simultaneous questions about one number', async () => {
    crm.answer = () => ({ body: '{"otherLeg":{"name":"A"}}', delayMs: 100 });
    const c = client();
    const all = await Promise.all([c.lookup('111'), c.lookup('111'), c.lookup('111')]);
    expect(all.map((a) => a.name)).toEqual(['A', 'A', 'A']);
    expect(crm.received).toHaveLength(1);
  });

  it('a CRM that hangs: unknown within the timeout, not cached', async () => {
    crm.answer = () => ({ hang: true });
    const c = client(300);
    const t = Date.now();
    expect(await c.lookup('222')).toEqual({ name: null, responsibleExt: null, known: false, cached: false });
    expect(Date.now() - t).toBeLessThan(800);
    crm.answer = () => ({ body: '{"otherLeg":{"name":"B"}}' });
    expect((await c.lookup('222')).name).toBe('B');
  });

  it.each([
    ['HTTP 500', { status: 500 }],
    ['not JSON', { body: 'oops' }],
    ['a closed socket', { destroy: true }],
  ])('%s: unknown, not cached', async (_n, how) => {
    crm.answer = () => how;
    const c = client();
    expect((await c.lookup('333')).known).toBe(false);
    crm.answer = () => ({ body: '{"otherLeg":{"name":"C"}}' });
    expect((await c.lookup('333')).name).toBe('C');
  });
});

describe.each(['ari', 'ami'] as const)('the caller name on the operator phone (%s control)', (control) => {
  let h: Harness;
  let crm: Receiver;
  const originates: string[] = [];
  beforeAll(async () => {
    crm = await startReceiver();
    crm.answer = (r) =>
      r.path.startsWith('/settings')
        ? r.json().otherLegNum === '380639920003'
          ? { body: '{"otherLeg":{"name":"Иван Иванов","responsibleEmployeeExt":"102"}}' }
          : r.json().otherLegNum === '380639920004'
            ? { hang: true }
            : { body: '{"otherLeg":null}' }
        : undefined;
    const phonet = { type: 'phonet', url: `${crm.url}/events`, account_domain: 'x.phonet.com.ua', call_settings_url: `${crm.url}/settings`, call_settings_timeout_ms: 400 };
    h = await startHarness({ control, env: { CALLBRIDGE_CONNECTORS: JSON.stringify([phonet]), CALLBRIDGE_API_TOKENS: 'dialplan-token-0123456789' } });
    h.sim.on('ariRequest', (r: { method: string; path: string; query: Record<string, string> }) => {
      if (r.method === 'POST' && r.path.startsWith('/channels') && r.query.callerId !== undefined) originates.push(`${r.query.endpoint} ${r.query.callerId}`);
    });
    h.sim.on('amiAction', (a: { fields: Record<string, string | string[]> }) => {
      const f = Object.fromEntries(Object.entries(a.fields).map(([k, v]) => [k.toLowerCase(), String(v)]));
      if (f.action?.toLowerCase() === 'originate') originates.push(`${f.channel} ${f.callerid}`);
    });
  }, 30_000);
  afterAll(async () => {
    await h?.close();
    await crm?.close();
  });
  const auth = { headers: { authorization: 'Bearer dialplan-token-0123456789' } };
  const waitOriginate = async (sip: string) => {
    for (let i = 0; i < 200 && !originates.some((o) => o.includes(`/${sip} `)); i++) await new Promise((r) => setTimeout(r, 10));
    return originates.find((o) => o.includes(`/${sip} `));
  };

  it('a known client: the CRM name is the CallerID of the operator leg', async () => {
    expect((await h.api('/api/makeCall.json?sip=101&phone=380639920003&order_id=1', auth)).status).toBe(200);
    expect(await waitOriginate('101')).toBe('PJSIP/101 "Иван Иванов" <380639920003>');
  });

  it('an unknown client: the configured caller ID', async () => {
    await h.api('/api/makeCall.json?sip=102&phone=380639920001&order_id=2', auth);
    expect(await waitOriginate('102')).toBe('PJSIP/102 "380639920001" <380639920001>');
  });

  it('a CRM that does not answer delays the operator leg by the timeout only', async () => {
    const t = Date.now();
    await h.api('/api/makeCall.json?sip=103&phone=380639920004&order_id=3', auth);
    expect(await waitOriginate('103')).toBe('PJSIP/103 "380639920004" <380639920004>');
    expect(Date.now() - t).toBeLessThan(1200);
  });

  it('the dialplan endpoint: name or preferred extension as text, 404 when unknown, JSON too', async () => {
    const txt = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${h.daemon.port}/api/callSettings.txt?${q}`, auth);
      return [r.status, await r.text()];
    };
    expect(await txt('phone=380639920003&did=74950001000')).toEqual([200, 'Иван Иванов']);
    expect(await txt('phone=380639920003&did=74950001000&field=ext')).toEqual([200, '102']);
    expect(await txt('phone=79990000000')).toEqual([404, '']);
    expect(await txt('phone=anonymous')).toEqual([404, '']);
    expect((await txt('phone=1;2'))[0]).toBe(400);
    const json = await h.api('/api/callSettings.json?phone=380639920003&did=74950001000', auth);
    expect(json.body).toEqual({ phone: '380639920003', did: '74950001000', name: 'Иван Иванов', responsible_ext: '102', known: true, cached: true });
    const asked = crm.received.filter((r) => r.path === '/settings' && r.json().trunkNum === '74950001000');
    expect(asked).toHaveLength(1);
  });
});
