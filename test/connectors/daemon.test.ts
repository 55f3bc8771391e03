/**
 * The connectors end to end: a daemon against the simulated PBX with every
 * connector type pointed at a real local HTTP receiver. A click-to-call that
 * talks, one to a busy client, an inbound call answered and one abandoned
 * each produce the documented sequence at every receiver; receivers that are
 * down while calls are made, across a daemon restart on the same database,
 * get everything once, in order, when they come back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/outbox/sign.js';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';
import { startReceiver, type Receiver, type Received } from './receiver.js';

const SECRET = 'webhook-secret-0123456789';
let h: Harness;
const rx: Record<'binotel' | 'phonet' | 'helpdesk' | 'crm' | 'webhook', Receiver> = {} as never;
let helpdeskIds = 700;

beforeAll(async () => {
  for (const k of ['binotel', 'phonet', 'helpdesk', 'crm', 'webhook'] as const) rx[k] = await startReceiver();
  const retry = { backoff_ms: 50, backoff_max_ms: 200, timeout_ms: 2000, max_attempts: 1000 };
  const connectors = [
    { type: 'binotel', url: rx.binotel.url, company_id: '3041', ...retry },
    { type: 'phonet', url: `${rx.phonet.url}/phonet/events`, account_domain: 'clinic.phonet.com.ua', ...retry },
    { type: 'helpdesk', url: `${rx.helpdesk.url}/api/v2/telephony/calls/@key42`, ...retry },
    { type: 'crm-events', url: rx.crm.url, token: 'crm-side-token-0123', ...retry },
    { type: 'webhook', url: `${rx.webhook.url}/hook`, secret: SECRET, ...retry },
  ];
  h = await startHarness({ env: { CALLBRIDGE_CONNECTORS: JSON.stringify(connectors) } });
}, 30_000);

afterAll(async () => {
  await h?.close();
  for (const r of Object.values(rx)) await r?.close().catch(() => undefined);
});

beforeEach(() => {
  for (const r of Object.values(rx)) {
    r.received.length = 0;
    r.answer = undefined;
  }
  rx.helpdesk.answer = (r) => (r.text.includes('create_call') ? { status: 200, body: JSON.stringify({ data: { call_id: ++helpdeskIds, call_status: 'ringing', ticket_id: 1 } }) } : undefined);
});

/** Waits until the call is final, its recording (if any) announced, and nothing is pending at any connector. */
async function settled(callId: number, withRecording: boolean, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `call ${callId} delivered everywhere`,
    async () => {
      const health = (await h.api('/health')).body as { connectors: Record<string, { pending: number }> };
      const hooks = rx.webhook.received.filter((r) => r.json().call?.call_id === callId).map((r) => r.json().type);
      return hooks.includes('call.finished') && (!withRecording || hooks.includes('recording.ready')) && Object.values(health.connectors).every((c) => c.pending === 0);
    },
    timeoutMs,
  );
}

const forms = (r: Receiver) => r.received.map((x) => Object.fromEntries(x.form()));
const helpdeskForms = async (r: Receiver) =>
  Promise.all(r.received.map(async (x) => [...(await new Response(x.body, { headers: { 'content-type': String(x.headers['content-type']) } }).formData()).entries()]));
const plain = (entries: Array<[string, string | File]>) => entries.map(([k, v]) => (typeof v === 'string' ? `${k}=${v}` : `${k}=<file ${v.name}>`));
const webhookTypes = (callId: number) => rx.webhook.received.filter((r) => r.json().call?.call_id === callId).map((r) => r.json().type);

function verified(r: Received): boolean {
  return verifySignature(SECRET, r.headers['x-callbridge-timestamp'] as string, r.body, r.headers['x-callbridge-signature'] as string);
}

async function callUuid(callId: number): Promise<string> {
  const hook = rx.webhook.received.find((r) => r.json().call?.call_id === callId)!;
  return hook.json().call.uuid as string;
}

describe('connectors against the simulated PBX', () => {
  it('a click-to-call that talks', async () => {
    const res = await h.api('/api/makeCall.json?sip=101&phone=380639920000&order_id=15');
    const id = res.body.call_id as number;
    await settled(id, true);
    const uuid = await callUuid(id);
    const base = { externalNumber: '380639920000', internalNumber: '101', generalCallID: String(id), callType: '1', companyID: '3041' };
    expect(forms(rx.binotel)).toEqual([
      { ...base, requestType: 'receivedTheCall' },
      { ...base, requestType: 'answeredTheCall' },
      { generalCallID: String(id), billsec: expect.stringMatching(/^\d+$/), companyID: '3041', requestType: 'hangupTheCall' },
    ]);
    expect(rx.binotel.received.every((r) => r.path === '/api/Binotel/Push' && r.headers['content-type'] === 'application/x-www-form-urlencoded')).toBe(true);

    const phonet = rx.phonet.received.map((r) => r.json());
    expect(phonet.map((p) => p.event)).toEqual(['call.dial', 'call.bridge', 'call.hangup']);
    expect(phonet[0]).toMatchObject({ accountDomain: 'clinic.phonet.com.ua', uuid: uuid.replaceAll('-', ''), parentUuid: null, bridgeAt: null, lgDirection: 2, leg: { id: 101, ext: '101', displayName: '101' }, leg2: null, otherLegs: [{ num: '380639920000' }], trunkNum: null });
    expect(phonet[1].bridgeAt).toBeGreaterThanOrEqual(phonet[1].dialAt);
    expect(rx.phonet.received.every((r) => r.path === '/phonet/events')).toBe(true);

    const desk = await helpdeskForms(rx.helpdesk);
    const deskId = String(helpdeskIds);
    expect(desk.map(plain)).toEqual([
      ['action=create_call', 'direction=outgoing', 'phone=380639920000', 'call_status=ringing', `pbx_call_id=${uuid}`, 'pbx_user_ids[]=101'],
      ['action=update_call', `call_id=${deskId}`, 'call_status=in-progress', 'pbx_user_id=101'],
      ['action=update_call', `call_id=${deskId}`, 'call_status=answered', 'pbx_user_id=101'],
      ['action=update_call', `call_id=${deskId}`, 'call_status=answered', 'pbx_user_id=101', expect.stringMatching(/^audio_record=<file order-15-call-\d+-\w+\.wav>$/)],
    ]);
    const audio = desk[3]!.find(([k]) => k === 'audio_record')![1] as File;
    expect(Buffer.from(await audio.arrayBuffer()).subarray(0, 4).toString()).toBe('RIFF');

    expect(rx.crm.received.map((r) => r.path)).toEqual(['/api/events/call_asterisk', '/api/events/callDetailRecord']);
    const [asterisk, cdr] = forms(rx.crm);
    expect(asterisk).toEqual({ call_id: String(id), token: 'crm-side-token-0123' });
    expect(cdr).toMatchObject({ event_id: String(id), phone: '380639920000', extension: '101', type: 'outgoing', token: 'crm-side-token-0123' });
    expect(cdr!.path).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${h.daemon.port}/recordings/\\d+$`));
    // the download URL the CRM got serves the recording
    expect((await fetch(cdr!.path!)).status).toBe(200);

    expect(webhookTypes(id)).toEqual(['call.started', 'call.ringing', 'call.answered', 'call.ringing', 'call.answered', 'call.bridged', 'call.finished', 'recording.ready']);
    expect(rx.webhook.received.every(verified)).toBe(true);
    const finished = rx.webhook.received.map((r) => r.json()).find((j) => j.type === 'call.finished');
    expect(finished.call.chain.map((c: { status: string }) => c.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']);
    expect(finished.data).toMatchObject({ status: 'FINISH', cause: 16, talked: true });
  });

  it('a click-to-call to a busy client', async () => {
    const id = (await h.api('/api/makeCall.json?sip=102&phone=380639920005&order_id=16')).body.call_id as number;
    await settled(id, false);
    const uuid = await callUuid(id);
    expect(forms(rx.binotel).map((f) => f.requestType)).toEqual(['receivedTheCall', 'hangupTheCall']);
    expect(forms(rx.binotel)[1]).toEqual({ generalCallID: String(id), billsec: '0', companyID: '3041', requestType: 'hangupTheCall' });
    expect(rx.phonet.received.map((r) => r.json().event)).toEqual(['call.dial', 'call.hangup']);
    expect(rx.phonet.received[1]!.json()).toMatchObject({ bridgeAt: null, leg: { ext: '102' } });
    expect((await helpdeskForms(rx.helpdesk)).map(plain)).toEqual([
      ['action=create_call', 'direction=outgoing', 'phone=380639920005', 'call_status=ringing', `pbx_call_id=${uuid}`, 'pbx_user_ids[]=102'],
      ['action=update_call', `call_id=${helpdeskIds}`, 'call_status=busy', 'pbx_user_id=102'],
    ]);
    expect(forms(rx.crm)).toEqual([
      { call_id: String(id), token: 'crm-side-token-0123' },
      { event_id: String(id), phone: '380639920005', extension: '102', path: '', call_at: expect.stringMatching(/Z$/), type: 'outgoing', duration: '0', token: 'crm-side-token-0123' },
    ]);
    expect(webhookTypes(id)).toEqual(['call.started', 'call.ringing', 'call.answered', 'call.ringing', 'call.finished']);
    expect(rx.webhook.received.at(-1)!.json().data).toMatchObject({ status: 'CLIENT_BUSY', cause: 17, talked: false });
  });

  it('an inbound call answered by 101', async () => {
    h.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '101', outcome: 'answer' });
    const id = await waitFor('the inbound call', () => rx.webhook.received.find((r) => r.json().type === 'call.started')?.json().call.call_id as number | undefined);
    await settled(id, true);
    const uuid = await callUuid(id);
    const base = { didNumber: '74950001000', externalNumber: '79001234567', internalNumber: '101', generalCallID: String(id), callType: '0', companyID: '3041' };
    expect(forms(rx.binotel)).toEqual([
      { ...base, requestType: 'receivedTheCall' },
      { ...base, requestType: 'answeredTheCall' },
      { generalCallID: String(id), billsec: expect.stringMatching(/^\d+$/), companyID: '3041', requestType: 'hangupTheCall' },
    ]);
    const phonet = rx.phonet.received.map((r) => r.json());
    expect(phonet.map((p) => p.event)).toEqual(['call.dial', 'call.bridge', 'call.hangup']);
    expect(phonet[2]).toMatchObject({ uuid: uuid.replaceAll('-', ''), lgDirection: 4, leg: { ext: '101' }, otherLegs: [{ num: '79001234567' }], trunkNum: '74950001000', trunkName: '74950001000' });
    expect((await helpdeskForms(rx.helpdesk)).map(plain)).toEqual([
      ['action=create_call', 'direction=incoming', 'phone=79001234567', 'call_status=ringing', `pbx_call_id=${uuid}`, 'pbx_user_ids[]=101'],
      ['action=update_call', `call_id=${helpdeskIds}`, 'call_status=in-progress', 'pbx_user_id=101'],
      ['action=update_call', `call_id=${helpdeskIds}`, 'call_status=answered', 'pbx_user_id=101'],
      ['action=update_call', `call_id=${helpdeskIds}`, 'call_status=answered', 'pbx_user_id=101', expect.stringMatching(/^audio_record=<file in-74950001000-79001234567-.*\.wav>$/)],
    ]);
    const [asterisk, cdr] = forms(rx.crm);
    expect(asterisk).toEqual({ call_id: String(id), token: 'crm-side-token-0123' });
    expect(cdr).toMatchObject({ event_id: String(id), phone: '79001234567', extension: '101', type: 'incoming', path: expect.stringMatching(/\/recordings\/\d+$/) });
    expect(webhookTypes(id)).toEqual(['call.started', 'call.ringing', 'call.answered', 'call.bridged', 'call.finished', 'recording.ready']);
  });

  it('an inbound call abandoned while 101 rings', async () => {
    h.sim.inboundCall({ from: '79001234560', did: '74950001000', operators: '101', outcome: 'abandon' });
    const id = await waitFor('the inbound call', () => rx.webhook.received.find((r) => r.json().type === 'call.started')?.json().call.call_id as number | undefined);
    await settled(id, false);
    expect(forms(rx.binotel).map((f) => f.requestType)).toEqual(['receivedTheCall', 'hangupTheCall']);
    expect(rx.phonet.received.map((r) => r.json().event)).toEqual(['call.dial', 'call.hangup']);
    expect((await helpdeskForms(rx.helpdesk)).map((f) => plain(f).filter((x) => x.startsWith('action=') || x.startsWith('call_status=')))).toEqual([
      ['action=create_call', 'call_status=ringing'],
      ['action=update_call', 'call_status=missed'],
    ]);
    expect(forms(rx.crm).map((f) => [f.event_id ?? f.call_id, f.path ?? null, f.type ?? null])).toEqual([
      [String(id), null, null],
      [String(id), '', 'incoming'],
    ]);
    expect(webhookTypes(id)).toEqual(['call.started', 'call.ringing', 'call.finished']);
    expect(rx.webhook.received.at(-1)!.json().data).toMatchObject({ status: 'CLIENT_CANCEL', talked: false });
  });

  it.each([
    { via: 'ringgroup', did: '74950000600', from: '79001234561', group: { kind: 'ringgroup', ext: '600' } },
    { via: 'queue', did: '74950000700', from: '79001234562', group: { kind: 'queue', ext: '700' } },
  ])('$via 101 + 102, 102 answers: phonet has one child call per operator, with the group call as parentUuid', async ({ via, did, from, group }) => {
    const { linkedid } = h.sim.inboundCall({ from, did, operators: '101,102', via, answeredBy: '102', outcome: 'answer' });
    const id = await waitFor('the ring-group call', () => rx.webhook.received.find((r) => r.json().call?.linkedid === linkedid)?.json().call.call_id as number | undefined);
    await settled(id, true);
    const parent = (await callUuid(id)).replaceAll('-', '');
    const children = h.daemon.db.$client
      .prepare('SELECT uuid, sip, answer_at AS answerAt, ended_at AS endedAt, dial_status AS dialStatus, final, direction FROM call_children WHERE call_id = ? ORDER BY sip')
      .all(id) as Array<{ uuid: string; sip: string; answerAt: number | null; endedAt: number | null; dialStatus: string | null; final: number; direction: string }>;
    expect(children.map((c) => [c.sip, c.dialStatus, c.answerAt !== null, c.endedAt !== null, c.final, c.direction])).toEqual([
      ['101', 'CANCEL', false, true, 1, 'incoming'],
      ['102', 'ANSWER', true, true, 1, 'incoming'],
    ]);
    const row = h.daemon.db.$client.prepare('SELECT group_kind AS kind, group_ext AS ext FROM calls WHERE id = ?').get(id);
    expect(row).toEqual(group);
    const [c101, c102] = children;
    expect(new Set([parent, c101!.uuid, c102!.uuid]).size).toBe(3);

    const phonet = rx.phonet.received.map((r) => r.json());
    const of = (uuid: string) => phonet.filter((p) => p.uuid === uuid);
    // each operator's phone rang (call.dial) and left the call (call.hangup); the one who answered had call.bridge
    expect(of(c101!.uuid).map((p) => p.event)).toEqual(['call.dial', 'call.hangup']);
    expect(of(c102!.uuid).map((p) => p.event)).toEqual(['call.dial', 'call.bridge', 'call.hangup']);
    expect(phonet.filter((p) => p.uuid === parent)).toEqual([]);
    for (const p of phonet) expect(p).toMatchObject({ parentUuid: parent, lgDirection: 4, leg2: null, otherLegs: [{ num: from }], trunkNum: did });
    expect(of(c101!.uuid)[1]).toMatchObject({ leg: { ext: '101' }, bridgeAt: null });
    expect(of(c102!.uuid)[1]).toMatchObject({ leg: { ext: '102' }, bridgeAt: c102!.answerAt });
    expect(of(c102!.uuid)[0].dialAt).toBeLessThanOrEqual(c102!.answerAt!);

    // the webhook has the members' own events beside the call's
    const types = webhookTypes(id);
    expect(types.filter((t) => t.startsWith('member.')).sort()).toEqual(['member.answered', 'member.ended', 'member.ended', 'member.ringing', 'member.ringing']);
    expect(types.at(-2)).toBe('call.finished');
    const fin = rx.webhook.received.map((r) => r.json()).find((j) => j.type === 'call.finished' && j.call.call_id === id);
    expect(fin.call.group).toEqual(group);
    expect(fin.call.members.map((m: { uuid: string }) => m.uuid).sort()).toEqual([c101!.uuid, c102!.uuid].sort());
    // the other connectors speak of the call as a whole
    expect(forms(rx.binotel).map((f) => f.requestType)).toEqual(['receivedTheCall', 'answeredTheCall', 'hangupTheCall']);
  });

  it('a blind transfer: call.transferred, and the colleague ends the call', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234569', did: '74950001000', operators: '102', outcome: 'answer' });
    await waitFor('the answer', () => rx.webhook.received.some((r) => r.json().type === 'call.bridged' && r.json().call.linkedid === linkedid));
    h.sim.transfer('102', '103');
    const id = rx.webhook.received.find((r) => r.json().call?.linkedid === linkedid)!.json().call.call_id as number;
    await settled(id, true);
    const hooks = rx.webhook.received.map((r) => r.json());
    expect(hooks.map((j) => j.type)).toEqual(['call.started', 'call.ringing', 'call.answered', 'call.bridged', 'call.transferred', 'call.finished', 'recording.ready']);
    expect(hooks[4].data).toEqual({ from: '102', to: '103', kind: 'blind' });
    expect(hooks[5].call).toMatchObject({ sip: '103', operators: ['102', '103'] });
    expect(rx.phonet.received.at(-1)!.json()).toMatchObject({ event: 'call.hangup', leg: { ext: '103' } });
    expect(forms(rx.binotel).map((f) => f.requestType)).toEqual(['receivedTheCall', 'answeredTheCall', 'hangupTheCall']);
  });

  it('an internal call: phonet with leg and leg2, the webhook; binotel and helpdesk have no internal calls', async () => {
    const { linkedid } = h.sim.internalCall('101', '105');
    await waitFor('the internal call', () => rx.webhook.received.some((r) => r.json().call?.linkedid === linkedid));
    const id = rx.webhook.received.find((r) => r.json().call?.linkedid === linkedid)!.json().call.call_id as number;
    await settled(id, true);
    expect(webhookTypes(id)).toEqual(['call.started', 'call.ringing', 'call.answered', 'call.bridged', 'call.finished', 'recording.ready']);
    const phonet = rx.phonet.received.map((r) => r.json());
    expect(phonet.map((p) => p.event)).toEqual(['call.dial', 'call.bridge', 'call.hangup']);
    expect(phonet[1]).toMatchObject({ lgDirection: 1, leg: { ext: '101' }, leg2: { ext: '105' }, otherLegs: null, trunkNum: null, trunkName: null });
    expect(rx.binotel.received).toEqual([]);
    expect(rx.helpdesk.received).toEqual([]);
    expect(forms(rx.crm).map((f) => f.type ?? 'asterisk')).toEqual(['asterisk', 'internal']);
  });

  it('a daemon restart while a ring-group call talks: the children keep their uuids, each event once', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234563', did: '74950000600', operators: '101,102', via: 'ringgroup', answeredBy: '102', outcome: 'answer' });
    await waitFor('102 answered', () => rx.webhook.received.some((r) => r.json().type === 'member.answered' && r.json().call.linkedid === linkedid));
    const id = rx.webhook.received.find((r) => r.json().call?.linkedid === linkedid)!.json().call.call_id as number;
    const childrenOf = () => h.daemon.db.$client.prepare('SELECT uuid, sip FROM call_children WHERE call_id = ? ORDER BY sip').all(id) as Array<{ uuid: string; sip: string }>;
    const before = childrenOf();
    expect(before.map((c) => c.sip)).toEqual(['101', '102']);
    await h.restart();
    await settled(id, true, 20_000);
    expect(childrenOf()).toEqual(before);
    const phonet = rx.phonet.received.map((r) => r.json());
    const keys = rx.phonet.received.map((x) => x.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(keys.length);
    const [c101, c102] = before;
    expect(phonet.filter((p) => p.uuid === c101!.uuid).map((p) => p.event)).toEqual(['call.dial', 'call.hangup']);
    expect(phonet.filter((p) => p.uuid === c102!.uuid).map((p) => p.event)).toEqual(['call.dial', 'call.bridge', 'call.hangup']);
    expect(phonet.every((p) => [c101!.uuid, c102!.uuid].includes(p.uuid))).toBe(true);
    const row = h.daemon.db.$client.prepare('SELECT status, group_kind AS kind FROM calls WHERE id = ?').get(id);
    expect(row).toEqual({ status: 'FINISH', kind: 'ringgroup' });
  }, 40_000);

  it('receivers down for three calls and a daemon restart: everything once, in order, once they are back', async () => {
    for (const r of Object.values(rx)) await r.close();
    const ids: number[] = [];
    for (const [sip, phone] of [['103', '380639920001'], ['104', '380639920005'], ['105', '380639920002']] as const) {
      const made = await h.api(`/api/makeCall.json?sip=${sip}&phone=${phone}&order_id=down`);
      expect(made.status).toBe(200);
      ids.push(made.body.call_id as number);
    }
    // all three calls end while every CRM is unreachable
    await waitFor('calls final', async () => (await h.api('/api/callList.json?per_page=3')).body.calls.every((c: { final: boolean }) => c.final), 15_000);
    await waitFor('recordings ready', async () => (await h.api('/api/deliveryList.json?connector=webhook&status=pending&per_page=100')).body.deliveries.filter((d: { event_type: string }) => d.event_type === 'recording.ready').length === 2);
    const pending = (await h.api('/api/deliveryList.json?status=pending&per_page=100')).body.deliveries as Array<{ attempts: number; last_error: string | null }>;
    expect(pending.length).toBeGreaterThan(20);
    expect(pending.some((d) => d.attempts > 0 && /ECONNREFUSED/.test(d.last_error ?? ''))).toBe(true);
    expect((await h.api('/health')).body.connectors.webhook).toMatchObject({ pending: expect.any(Number), last_error: expect.stringMatching(/ECONNREFUSED/) });

    await h.restart();
    for (const r of Object.values(rx)) await r.reopen();
    for (const id of ids) await settled(id, false, 20_000);
    await new Promise((r) => setTimeout(r, 300));

    // every event delivered exactly once at each receiver, in the order of each call
    for (const r of Object.values(rx)) {
      const keys = r.received.map((x) => x.headers['idempotency-key']);
      expect(new Set(keys).size).toBe(keys.length);
    }
    const want: Record<number, string[]> = {
      [ids[0]!]: ['call.started', 'call.ringing', 'call.answered', 'call.ringing', 'call.answered', 'call.bridged', 'call.finished', 'recording.ready'],
      [ids[1]!]: ['call.started', 'call.ringing', 'call.answered', 'call.ringing', 'call.finished'],
      [ids[2]!]: ['call.started', 'call.ringing', 'call.answered', 'call.ringing', 'call.answered', 'call.bridged', 'call.finished', 'recording.ready'],
    };
    for (const id of ids) expect(webhookTypes(id)).toEqual(want[id]);
    for (const id of ids) {
      const binotel = forms(rx.binotel).filter((f) => f.generalCallID === String(id)).map((f) => f.requestType);
      expect(binotel).toEqual(id === ids[1] ? ['receivedTheCall', 'hangupTheCall'] : ['receivedTheCall', 'answeredTheCall', 'hangupTheCall']);
      const crm = forms(rx.crm).filter((f) => (f.event_id ?? f.call_id) === String(id));
      expect(crm.map((f) => (f.event_id ? 'cdr' : 'asterisk'))).toEqual(['asterisk', 'cdr']);
    }
    const deliveries = (await h.api('/api/deliveryList.json?per_page=100&status=delivered')).body.deliveries as Array<{ call_id: number }>;
    // webhook 8 + 5 + 8, binotel and phonet 3 + 2 + 3 each, helpdesk 4 + 2 + 4, crm-events 2 each
    expect(deliveries.filter((d) => ids.includes(d.call_id))).toHaveLength(21 + 8 + 8 + 10 + 6);
    expect((await h.api('/api/deliveryList.json?status=pending')).body.deliveries).toEqual([]);
  }, 60_000);
});

describe('deliveryList and deliveryRetry', () => {
  it('lists newest first with filters and a cursor, retries failed ones, validates its parameters', async () => {
    const all = (await h.api('/api/deliveryList.json?per_page=3&status=delivered')).body;
    expect(all.deliveries).toHaveLength(3);
    expect(all.deliveries[0].id).toBeGreaterThan(all.deliveries[1].id);
    expect(all.deliveries[0]).toEqual({
      id: expect.any(Number),
      connector: expect.any(String),
      event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      event_type: expect.any(String),
      call_id: expect.any(Number),
      status: 'delivered',
      attempts: expect.any(Number),
      next_attempt_at: null,
      created_at: expect.stringMatching(/Z$/),
      last_attempt_at: expect.stringMatching(/Z$/),
      delivered_at: expect.stringMatching(/Z$/),
      last_status: 200,
      last_error: null,
    });
    const next = (await h.api(`/api/deliveryList.json?per_page=3&status=delivered&before_id=${all.next_before_id}`)).body;
    expect(next.deliveries[0].id).toBeLessThan(all.deliveries[2].id);
    const one = (await h.api('/api/deliveryList.json?connector=binotel&call_id=1')).body.deliveries as Array<{ connector: string; call_id: number }>;
    expect(one.length).toBe(3);
    expect(one.every((d) => d.connector === 'binotel' && d.call_id === 1)).toBe(true);

    expect((await h.api('/api/deliveryList.json?status=lost')).body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'status' });
    expect((await h.api('/api/deliveryList.json?connector=nope')).body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'connector' });
    expect((await h.api('/api/deliveryRetry.json')).body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'id' });
    expect((await h.api('/api/deliveryRetry.json?id=999999')).status).toBe(404);
    expect((await h.api(`/api/deliveryRetry.json?id=${all.deliveries[0].id}`)).body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'id' });

    // a failed delivery (binotel answering 500 until its attempts run out) is sent again on request
    h.daemon.db.$client.prepare("UPDATE outbox_deliveries SET status = 'failed', last_error = 'HTTP 500' WHERE id = ?").run(one[0]!.call_id && (one as never as Array<{ id: number }>)[0]!.id);
    rx.binotel.received.length = 0;
    const failed = (await h.api('/api/deliveryList.json?status=failed')).body.deliveries as Array<{ id: number }>;
    expect(failed).toHaveLength(1);
    expect((await h.api(`/api/deliveryRetry.json?id=${failed[0]!.id}`, { method: 'POST' })).body).toEqual({ retried: 1 });
    await waitFor('sent again', () => rx.binotel.received.length === 1);
    expect((await h.api('/api/deliveryRetry.json?all=1')).body).toEqual({ retried: 0 });
  });
});
