/** The events API wired into the daemon: a real click-to-call on the simulated PBX, then the dialplan's hooks with a token in the body. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { calls, recordings } from '../../src/db/schema.js';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';

const TOKEN = 'dialplan-token-0123456789';

describe('events API in the daemon', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { CALLBRIDGE_API_TOKENS: TOKEN, CALLBRIDGE_HTTP_HOST: '127.0.0.1' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const form = (path: string, params: Record<string, string>) =>
    h.api(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...params, token: TOKEN }).toString() });

  it('resolves the order masked number, links the CDR to the call without a second recording, and shows coming in the order history', async () => {
    const made = await h.api(`/api/makeCall.json?sip=101&phone=%2B79001234560&order_id=15&token=${TOKEN}`);
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const callId = made.body.call_id as number;
    const row = () => h.daemon.db.select().from(calls).where(eq(calls.id, callId)).get()!;
    await waitFor('the call to end', () => row().final, 10_000);
    const rec = await waitFor('the recording', () => {
      const r = h.daemon.db.select().from(recordings).where(eq(recordings.callId, callId)).get();
      return r?.endedAt ? r : undefined;
    });

    const masked = await form('/api/getNumberFromId.txt', { number: '+15s1' });
    expect(masked).toEqual({ status: 200, body: '89001234560' });
    expect((await h.api('/api/getNumberFromId.txt?number=%2B15s1')).status).toBe(401);
    expect(await form('/api/getNumberFromId.txt', { number: '+16s1' })).toEqual({ status: 404, body: '' });

    const linkedid = row().linkedid!;
    expect(linkedid).toBeTruthy();
    const cdr = await form('/api/events/callDetailRecord', {
      event_id: linkedid,
      phone: '+79001234560',
      extension: '101',
      path: rec.file,
      call_at: String(Math.floor(row().createdAt / 1000)),
      type: 'outgoing',
      duration: '5',
      billsec: String(row().billsec ?? 0),
      disposition: 'ANSWERED',
      uniqueid: '',
      linkedid,
      did: '',
    });
    expect(cdr.status, JSON.stringify(cdr.body)).toBe(200);
    expect(cdr.body.cdr).toMatchObject({ event_id: linkedid, call_id: callId, path: rec.file, servable: true, type: 'outgoing' });
    expect(h.daemon.db.select().from(recordings).where(eq(recordings.callId, callId)).all()).toHaveLength(1);
    expect(row().recordingFile).toBe(rec.file);

    expect((await form('/api/events/coming', { id: '15' })).status).toBe(200);
    const history = await h.api(`/api/orderHistory.json?order_id=15&token=${TOKEN}`);
    expect(history.body.history.at(-1).status).toBe('FINISH');
    expect(history.body.events).toEqual([expect.objectContaining({ kind: 'coming', details: { id: '15' } })]);
  });
});
