/**
 * The hosted-PBX REST API in AMI control mode: makeCall through the shipped
 * dialplan (AMI Originate), the call in active/v3, and hangup with AMI Hangup
 * on the channels CoreShowChannels names for the call's linkedid. No keys are
 * configured but an API token: the token is the API key. A trusted proxy's
 * X-Forwarded-Proto: https makes the cookie Secure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';
import { calls } from '../../src/db/schema.js';

const TOKEN = 'api-token-0123456789abcdef';
let h: Harness;
let cookie = '';
const actions: Array<Record<string, string>> = [];

const rest = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(`http://127.0.0.1:${h.daemon.port}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie } });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : undefined, headers: res.headers };
};

beforeAll(async () => {
  h = await startHarness({ control: 'ami', env: { CALLBRIDGE_API_TOKENS: TOKEN, CALLBRIDGE_TRUST_PROXY: '1' } });
  h.sim.on('amiAction', (a: { fields: Record<string, string | string[]> }) => actions.push(Object.fromEntries(Object.entries(a.fields).map(([k, v]) => [k.toLowerCase(), String(v)]))));
}, 30_000);
afterAll(async () => {
  await h?.close();
});

describe('AMI control mode', () => {
  it('the API token opens a session; any other key does not, even from loopback', async () => {
    const bad = await rest('/rest/security/authorize', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'x.example', apiKey: 'some-other-key-0123456' }) });
    expect(bad.status).toBe(403);
    const ok = await rest('/rest/security/authorize', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'x.example', apiKey: TOKEN }) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('set-cookie')).not.toMatch(/Secure/);
    // behind a trusted https proxy the cookie is Secure
    const proxied = await rest('/rest/security/authorize', { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' }, body: JSON.stringify({ domain: 'x.example', apiKey: TOKEN }) });
    expect(proxied.headers.get('set-cookie')).toMatch(/; Secure/);
    // the API token alone (Bearer) does not open /rest paths
    expect((await fetch(`http://127.0.0.1:${h.daemon.port}/rest/users`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(403);
    cookie = /(JSESSIONID=[0-9a-f]{64})/.exec(ok.headers.get('set-cookie') ?? '')![1]!;
  });

  it('makeCall originates into the shipped context; hangup hangs up the channels of its linkedid', async () => {
    const r = await rest('/rest/user/makeCall', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ legExt: '102', otherLegNum: '380639920009' }) });
    expect(r.status).toBe(200);
    const uuid = r.json.uuid as string;
    // the Originate follows the answer (sent on the next turn of the event loop)
    await waitFor('the Originate', () => actions.some((a) => a.action === 'Originate' && a.channel === 'PJSIP/102' && a.context === 'callbridge-click2call' && a.exten === '380639920009'));
    const live = await waitFor('call.bridge', async () => (await rest('/rest/calls/active/v3')).json?.find((c: any) => c.uuid === uuid && c.lastEvent === 'call.bridge'));
    expect(live).toMatchObject({ lgDirection: 2, leg: { id: 102, ext: '102' }, otherLegs: [{ num: '380639920009' }] });
    const row = h.daemon.db.select().from(calls).all().find((c) => c.phone === '380639920009')!;
    expect((await rest(`/rest/calls/active/${uuid}/hangup`)).status).toBe(200);
    const hung = actions.filter((a) => a.action === 'Hangup').map((a) => a.channel);
    expect(hung.length).toBeGreaterThanOrEqual(2); // the operator's channel and the client's Local/trunk legs of the same linkedid
    expect(hung.some((c) => /^PJSIP\/102-/.test(c ?? ''))).toBe(true);
    const done = await waitFor('FINISH', () => h.daemon.db.select().from(calls).all().find((c) => c.id === row.id && c.final));
    expect(done.status).toBe('FINISH');
    expect((await rest('/rest/calls/active/v3')).json.some((c: any) => c.uuid === uuid)).toBe(false);
  }, 30_000);
});
