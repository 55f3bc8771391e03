/**
 * makeCall at the edge: strict validation (nothing unvalidated reaches a dial
 * string or an AMI header), external_key idempotency, and refusals that are
 * still recorded. Through the real HTTP server and the simulated Asterisk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls, callStatuses } from '../../src/db/schema.js';
import { eq } from 'drizzle-orm';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';
import { amiWriteClasses } from '../../src/simulator/index.js';

let h: Harness;
const amiActions: string[] = [];
const ariRequests: string[] = [];
beforeAll(async () => {
  h = await startHarness({ control: 'ari' });
  h.sim.on('amiAction', (a: { raw: string }) => amiActions.push(a.raw));
  // the query and the originate's channel variables (the leg and call id travel there: CALLBRIDGE_LEG, CALLBRIDGE_CALL_ID)
  h.sim.on('ariRequest', (r: { method: string; path: string; query: Record<string, string>; body?: { variables?: Record<string, string> } }) => {
    const v = r.body?.variables;
    ariRequests.push(`${r.method} ${r.path} ${JSON.stringify(r.query)}${v?.CALLBRIDGE_LEG ? ` "${v.CALLBRIDGE_LEG},${v.CALLBRIDGE_CALL_ID}"` : ''}`);
  });
});
afterAll(async () => h?.close());

const rowCount = () => h.daemon.db.select().from(calls).all().length;

describe('validation', () => {
  it.each([
    ['sip missing', 'phone=380639920000&order_id=1', 'sip'],
    ['phone with a dial-string injection', 'sip=101&phone=123%26PJSIP/x&order_id=1', 'phone'],
    ['phone too short', 'sip=101&phone=12&order_id=1', 'phone'],
    ['phone too long', `sip=101&phone=${'1'.repeat(21)}&order_id=1`, 'phone'],
    ['phone with letters', 'sip=101&phone=38063abc&order_id=1', 'phone'],
    ['sip with a slash', 'sip=101/x&phone=380639920000&order_id=1', 'sip'],
    ['sip with an @', 'sip=101@evil&phone=380639920000&order_id=1', 'sip'],
    ['order_id with a space', 'sip=101&phone=380639920000&order_id=1%202', 'order_id'],
    ['order_id too long', `sip=101&phone=380639920000&order_id=${'a'.repeat(65)}`, 'order_id'],
    ['CR/LF in external_key', 'sip=101&phone=380639920000&order_id=1&external_key=a%0D%0AAction:%20Originate', 'external_key'],
    ['LF in an unrelated parameter', 'sip=101&phone=380639920000&order_id=1&note=x%0Ay', 'note'],
    ['external_key too long', `sip=101&phone=380639920000&order_id=1&external_key=${'k'.repeat(129)}`, 'external_key'],
  ])('%s → 400 naming %s, nothing sent to Asterisk', async (_name, query, field) => {
    const before = { ami: amiActions.length, ari: ariRequests.length, rows: rowCount() };
    const res = await h.api(`/api/makeCall.json?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field });
    expect(res.body.error.message).toMatch(new RegExp(`^${field}: `));
    await new Promise((r) => setTimeout(r, 20));
    expect(amiActions.slice(before.ami).filter((a) => /Originate/.test(a))).toEqual([]);
    expect(ariRequests.slice(before.ari).filter((r) => r.startsWith('POST /channels'))).toEqual([]);
    expect(rowCount()).toBe(before.rows);
  });

  it('accepts a leading + and JSON bodies of strings; a JSON number is refused', async () => {
    const number = await h.api('/api/makeCall.json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sip":"103","phone":12345678901234567891,"order_id":"77"}',
    });
    expect(number.status).toBe(400);
    expect(number.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'phone' });
    const res = await h.api('/api/makeCall.json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sip: '103', phone: '+380639920005', order_id: '77' }),
    });
    expect(res.status).toBe(200);
    await waitFor('the call to end', () => h.daemon.db.select().from(calls).where(eq(calls.id, res.body.call_id)).get()?.final);
    const sent = ariRequests.filter((r) => r.startsWith('POST /channels') && r.includes(`"client,${res.body.call_id}"`));
    expect(sent[0]).toContain('"endpoint":"Local/+380639920005@from-internal"');
  });
});

describe('external_key', () => {
  it('the same parameters give the same call_id and no second call; other parameters are refused', async () => {
    const q = 'sip=104&phone=380639920009&order_id=501&external_key=crm-501';
    const [a, b] = await Promise.all([h.api(`/api/makeCall.json?${q}`), h.api(`/api/makeCall.json?${q}`)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body.call_id).toBe(a.body.call_id);
    const again = await h.api(`/api/makeCall.xml?${q}`);
    expect(again.body).toContain(`<call_id>${a.body.call_id}</call_id>`);
    const other = await h.api('/api/makeCall.json?sip=104&phone=380639920001&order_id=501&external_key=crm-501');
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('DUPLICATE_EXTERNAL_KEY');
    expect(h.daemon.db.select().from(calls).where(eq(calls.externalKey, 'crm-501')).all()).toHaveLength(1);
    const originates = ariRequests.filter((r) => r.startsWith('POST /channels') && r.includes(`"operator,${a.body.call_id}"`));
    expect(originates).toHaveLength(1);
    // 104 is now in a call (client 9 stays): a second call to it is refused as busy
    await waitFor('talking', () => h.daemon.db.select().from(calls).where(eq(calls.id, a.body.call_id)).get()?.status === 'CLIENT_PICKUP');
    const busy = await h.api('/api/makeCall.json?sip=104&phone=380639920000&order_id=502');
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatchObject({ code: 'OPERATOR_BUSY' });
  });
});

describe('refusals are recorded', () => {
  it.each([
    ['UNKNOWN_OPERATOR', '999', 409, 'ERROR'],
    ['OPERATOR_OFFLINE', '106', 409, 'OPERATOR_OFFLINE'],
  ])('%s', async (code, sip, status, chainStatus) => {
    const res = await h.api(`/api/makeCall.json?sip=${sip}&phone=380639920000&order_id=600&external_key=refused-${sip}`);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    const id = res.body.error.call_id as number;
    expect(h.daemon.db.select().from(callStatuses).where(eq(callStatuses.callId, id)).all().map((s) => [s.status, (s.details as { reason?: string }).reason])).toEqual([[chainStatus, code]]);
    expect(h.daemon.db.select().from(calls).where(eq(calls.id, id)).get()).toMatchObject({ final: true, externalKey: null });
  });

  it('PBX_UNAVAILABLE while the control link is down', async () => {
    h.sim.disconnect('ari', 1000);
    await waitFor('ARI down', () => !h.daemon.ari!.connected, 2000);
    const res = await h.api('/api/makeCall.json?sip=101&phone=380639920000&order_id=700');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('PBX_UNAVAILABLE');
    expect(h.daemon.db.select().from(callStatuses).where(eq(callStatuses.callId, res.body.error.call_id)).all().map((s) => s.status)).toEqual(['ERROR']);
    await waitFor('ARI back', () => h.daemon.ari!.connected, 5000);
  });
});

describe('AMI control mode with an AMI user that may not originate', () => {
  it('ends the call ERROR with Asterisk\'s refusal and where the write classes are set', async () => {
    // the ARI-mode write line (system,reporting) left in manager_custom.conf
    const m = await startHarness({ control: 'ami', amiWrite: amiWriteClasses('ari') });
    try {
      const res = await m.api('/api/makeCall.json?sip=101&phone=380639920000&order_id=800');
      expect(res.status).toBe(200);
      const id = res.body.call_id as number;
      await waitFor('the call to end', () => m.daemon.db.select().from(calls).where(eq(calls.id, id)).get()?.final);
      const chain = m.daemon.db.select().from(callStatuses).where(eq(callStatuses.callId, id)).all();
      expect(chain.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'ERROR']);
      expect((chain[2]!.details as { reason: string }).reason).toBe(
        'Originate failed: ACTION_FAILED: Originate: Permission denied (the AMI user needs write = originate,call,reporting in AMI control mode: see asterisk-config/manager_custom.conf)',
      );
    } finally {
      await m.close();
    }
  });
});
