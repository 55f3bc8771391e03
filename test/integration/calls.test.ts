/**
 * Click-to-call end to end, in both control modes: the daemon connected to
 * the simulated Asterisk over real AMI and ARI sockets. Each outcome of the
 * cast is asserted on the chain stored in SQLite and answered over HTTP, on
 * what the daemon sent to Asterisk, and on the recording row and billsec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls, callStatuses, recordings } from '../../src/db/schema.js';
import { eq } from 'drizzle-orm';
import { AMI_SECRET, startHarness, waitFor, type Harness } from '../helpers/daemon.js';
import { RawAmi } from '../helpers/raw-ami.js';

const SUCCESS = ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'];
const UP_TO_CLIENT = ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO'];

describe.each(['ari', 'ami'] as const)('click-to-call, %s mode', (control) => {
  let h: Harness;
  let ami: RawAmi;
  const amiActions: Array<Record<string, string | string[]>> = [];
  const ariRequests: Array<{ method: string; path: string; query: Record<string, string>; body: { variables?: Record<string, string> } | undefined }> = [];
  let order = 0;

  beforeAll(async () => {
    h = await startHarness({ control });
    h.sim.on('amiAction', (a: { fields: Record<string, string | string[]> }) => amiActions.push(a.fields));
    h.sim.on('ariRequest', (r: (typeof ariRequests)[number]) => ariRequests.push(r));
    ami = await RawAmi.open(h.amiPort, 'callbridge', AMI_SECRET);
  });
  afterAll(async () => {
    ami?.close();
    await h?.close();
  });

  async function call(sip: string, phone: string) {
    const orderId = `${control}-${++order}`;
    const res = await h.api(`/api/makeCall.json?sip=${sip}&phone=${phone}&order_id=${orderId}&external_key=k-${orderId}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { callId: res.body.call_id as number, orderId };
  }
  const row = (id: number) => h.daemon.db.select().from(calls).where(eq(calls.id, id)).get()!;
  const chain = (id: number) => h.daemon.db.select().from(callStatuses).where(eq(callStatuses.callId, id)).all().map((s) => s.status);
  const ended = (id: number, timeoutMs = 8000) => waitFor(`call ${id} to end`, () => row(id).final && row(id), timeoutMs);

  it('success: the full chain, the recording and billsec from the client answer', async () => {
    const { callId, orderId } = await call('101', '380639920000');
    const r = await ended(callId);
    expect(chain(callId)).toEqual(SUCCESS);
    const api = (await h.api(`/api/callHistory.json?call_id=${callId}`)).body;
    expect(api.history.map((s: { status: string }) => s.status)).toEqual(SUCCESS);
    expect(api.history.at(-1).details).toMatchObject({ by: 'client', cause: 16, sip: '101', phone: '380639920000' });
    // leg times in order; billsec counts from the client's answer, not the operator's
    expect(r.operatorRingAt!).toBeLessThanOrEqual(r.operatorAnswerAt!);
    expect(r.operatorAnswerAt!).toBeLessThanOrEqual(r.clientRingAt!);
    expect(r.clientRingAt!).toBeLessThanOrEqual(r.clientAnswerAt!);
    expect(r.clientAnswerAt!).toBeLessThan(r.endedAt!);
    expect(r.billsec).toBe(Math.round((r.endedAt! - r.clientAnswerAt!) / 1000));
    const rec = await waitFor('recording finished', () => {
      const r = h.daemon.db.select().from(recordings).where(eq(recordings.callId, callId)).get();
      return r?.endedAt ? r : undefined;
    });
    // unique beyond this database: the call's creation time in base 36 follows the ids
    const recName = `order-${orderId}-call-${callId}-${r.createdAt.toString(36)}`;
    expect(rec.name).toBe(recName);
    expect(rec.file).toMatch(new RegExp(`/${recName}\\.wav$`));
    expect(rec.size).toBeGreaterThan(44);
    const records = (await h.api(`/api/orderRecords.json?order_id=${orderId}`)).body;
    expect(records.calls[0]).toMatchObject({ call_id: callId, status: 'FINISH', billsec: r.billsec });
    const dl = await fetch(records.calls[0].records[0].url, { headers: { range: 'bytes=0-3' } });
    expect(dl.status).toBe(206);
    expect(Buffer.from(await dl.arrayBuffer()).toString('ascii')).toBe('RIFF');

    if (control === 'ami') {
      const orig = amiActions.find((a) => a.Action === 'Originate' && ([] as string[]).concat(a.Variable ?? []).includes(`CALLBRIDGE_CALL_ID=${callId}`))!;
      expect(orig).toMatchObject({ Channel: 'PJSIP/101', Context: 'callbridge-click2call', Exten: '380639920000', Async: 'true', Timeout: '30000' });
      // the operator's channel has the daemon's uniqueid, which is also the call's linkedid
      expect(orig.ChannelId).toMatch(new RegExp(`^cb-${callId}-op-[0-9a-f]{8}$`));
      expect(row(callId).operatorChannel).toBe(orig.ChannelId);
      expect(row(callId).linkedid).toBe(orig.ChannelId);
      expect(orig.Variable).toEqual([
        `CALLBRIDGE_CALL_ID=${callId}`,
        `CALLBRIDGE_ORDER_ID=${orderId}`,
        'CALLBRIDGE_CLIENT_DIAL=Local/380639920000@from-internal',
        'CALLBRIDGE_CLIENT_TIMEOUT=30',
        `CALLBRIDGE_RECORDING=${recName}`,
        // quoted, or AMI would split it at its commas
        `CHANNEL(hangup_handler_push)="callbridge-ari-hangup,s,1(${callId},op)"`,
      ]);
    } else {
      // both legs through the shipped [callbridge-ari] context, which enters the app (and waits for it after a gap)
      const originates = ariRequests.filter((q) => q.method === 'POST' && q.path === '/channels' && q.body?.variables?.CALLBRIDGE_CALL_ID === String(callId));
      expect(originates.map((q) => [q.query.endpoint, q.query.context, q.query.extension, q.query.app, q.query.timeout])).toEqual([
        ['PJSIP/101', 'callbridge-ari', 's', undefined, '30'],
        ['Local/380639920000@from-internal', 'callbridge-ari', 's', undefined, '30'],
      ]);
      expect(originates.map((q) => [q.body!.variables!.CALLBRIDGE_ARI_APP, q.body!.variables!.CALLBRIDGE_LEG, q.body!.variables!['CHANNEL(hangup_handler_push)']])).toEqual([
        ['callbridge', 'operator', `callbridge-ari-hangup,s,1(${callId},op)`],
        ['callbridge', 'client', `callbridge-ari-hangup,s,1(${callId},client)`],
      ]);
      expect(originates[0]!.query.callerId).toBe('"380639920000" <380639920000>');
      expect(ariRequests.some((q) => q.method === 'POST' && /^\/bridges\/[^/]+\/record$/.test(q.path) && q.query.name === recName && q.query.ifExists === 'fail')).toBe(true);
    }
  });

  it.each([
    ['operator no answer', '108', '380639920000', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_NOANSWER']],
    ['operator busy', '107', '380639920000', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_BUSY']],
    ['client no answer', '102', '380639920006', [...UP_TO_CLIENT, 'CLIENT_NOANSWER']],
    ['client busy', '103', '380639920005', [...UP_TO_CLIENT, 'CLIENT_BUSY']],
    ['client congestion', '104', '380639920008', [...UP_TO_CLIENT, 'ERROR']],
    ['client hangs up mid-talk', '105', '380639920007', SUCCESS],
  ])('%s', async (_name, sip, phone, expected) => {
    const { callId } = await call(sip, phone);
    const r = await ended(callId);
    expect(chain(callId)).toEqual(expected);
    expect((await h.api(`/api/callHistory.json?call_id=${callId}`)).body.history.map((s: { status: string }) => s.status)).toEqual(expected);
    if (expected.at(-1) !== 'FINISH') expect(r.billsec).toBe(0);
    if (expected.includes('CLIENT_PICKUP')) expect(chain(callId).at(-1)).toBe('FINISH');
  });

  it('operator offline at the PBX although presence said online', async () => {
    h.daemon.presence.apply({ kind: 'device', sip: '106', state: 'NOT_INUSE' });
    const { callId } = await call('106', '380639920000');
    await ended(callId);
    expect(chain(callId)).toEqual(['CALL', 'OPERATOR_OFFLINE']);
  });

  it('operator hangs up while the client rings: OPERATOR_CANCEL, the client leg is hung up too', async () => {
    const { callId } = await call('101', '380639920006');
    await waitFor('client ringing', () => row(callId).status === 'CLIENT_CALLTO');
    await ami.hangupEndpoint('PJSIP/101');
    await ended(callId);
    expect(chain(callId)).toEqual([...UP_TO_CLIENT, 'OPERATOR_CANCEL']);
    await waitFor('no channels left', async () => (await ami.list({ Action: 'CoreShowChannels' })).length === 0, 3000);
  });

  it("the operator's phone hangs up mid-talk (BYE): FINISH by the operator", async () => {
    const { callId } = await call('103', '380639920009');
    await waitFor('talking', () => row(callId).status === 'CLIENT_PICKUP');
    expect(h.sim.hangupPhone('103')).toBe(1);
    await ended(callId);
    expect(chain(callId)).toEqual(SUCCESS);
    const last = h.daemon.db.select().from(callStatuses).where(eq(callStatuses.callId, callId)).all().at(-1)!;
    expect(last.details).toMatchObject({ by: 'operator', cause: 16 });
    await waitFor('no channels left', async () => (await ami.list({ Action: 'CoreShowChannels' })).length === 0, 3000);
  });

  it('operator hangs up mid-talk (AMI Hangup): FINISH by the operator', async () => {
    const { callId } = await call('102', '380639920009');
    await waitFor('talking', () => row(callId).status === 'CLIENT_PICKUP');
    await new Promise((r) => setTimeout(r, 100));
    await ami.hangupEndpoint('PJSIP/102');
    const r = await ended(callId);
    expect(chain(callId)).toEqual(SUCCESS);
    const last = h.daemon.db.select().from(callStatuses).where(eq(callStatuses.callId, callId)).all().at(-1)!;
    expect(last.details).toMatchObject({ by: 'operator' });
    expect(r.endedAt! - r.clientAnswerAt!).toBeGreaterThanOrEqual(90); // the test waited 100 ms before hanging up
  });
});

describe.each(['ari', 'ami'] as const)('recordings, %s mode', (control) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ control });
  });
  afterAll(async () => h?.close());

  it('a call the client never answered has no recording; an answered one has exactly one', async () => {
    const noAnswer = (await h.api('/api/makeCall.json?sip=101&phone=380639920005&order_id=rec-a')).body.call_id as number;
    await waitFor('busy call ended', () => h.daemon.db.select().from(calls).where(eq(calls.id, noAnswer)).get()?.final);
    const answered = (await h.api('/api/makeCall.json?sip=102&phone=380639920000&order_id=rec-b')).body.call_id as number;
    await waitFor('answered call ended with its recording', () =>
      h.daemon.db.select().from(recordings).where(eq(recordings.callId, answered)).get()?.endedAt,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(h.daemon.db.select().from(recordings).where(eq(recordings.callId, noAnswer)).all()).toEqual([]);
    expect(h.daemon.db.select().from(recordings).where(eq(recordings.callId, answered)).all()).toHaveLength(1);
  });
});
