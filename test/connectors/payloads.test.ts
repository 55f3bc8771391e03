/**
 * Each connector module's payloads, table by table: the domain events of a
 * click-to-call that talked, a busy client, an inbound call answered and one
 * abandoned, mapped to exactly the requests the CRM receives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConnectorSettings } from '../../src/connectors/config.js';
import { CONNECTOR_TYPES } from '../../src/connectors/registry.js';
import type { Connector, ConnectorContext, OutboundEvent } from '../../src/connectors/types.js';
import { CHILD, GROUP_SCENARIOS, RECORDING, SCENARIOS, T0, UUID } from './scenarios.js';

const NOW = T0 + 60_000;
const dir = mkdtempSync(join(tmpdir(), 'callbridge-payloads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const audio = join(dir, 'order-15-call-12.wav');
writeFileSync(audio, Buffer.from('RIFF-fake-wav-bytes'));

function connector(entry: Record<string, unknown>): Connector {
  const { settings, problems } = parseConnectorSettings([entry]);
  expect(problems).toEqual([]);
  return CONNECTOR_TYPES[settings[0]!.type]!.create(settings[0]!);
}

function context(): ConnectorContext {
  const kept = new Map<number, Record<string, unknown>>();
  return { now: () => NOW, state: { get: (id) => kept.get(id), set: (id, d) => void kept.set(id, d) } };
}

/** The recording file of the scenarios, made readable. */
const withAudio = (events: OutboundEvent[]) =>
  events.map((e) => (e.type === 'recording.ready' ? { ...e, data: { ...e.data, recording: { ...RECORDING, file: audio } } } : e));

async function requests(c: Connector, events: OutboundEvent[], answer?: (body: string) => string) {
  const ctx = context();
  const out = [];
  for (const ev of withAudio(events)) {
    if (!c.accepts(ev)) continue;
    const req = await c.request(ev, ctx);
    if (!req) continue;
    out.push(req);
    c.delivered?.(ev, { status: 200, body: answer ? answer(String(req.body)) : '{}' }, ctx);
  }
  return out;
}

const form = (body: string | Buffer) => [...new URLSearchParams(String(body)).entries()];

describe('binotel', () => {
  const c = connector({ type: 'binotel', url: 'http://crm.local/', company_id: 3041 });
  const received = (dir: '0' | '1', ext: string, phone: string, did?: string) => [...(did ? [['didNumber', did]] : []), ['externalNumber', phone], ['internalNumber', ext], ['generalCallID', '12'], ['callType', dir], ['companyID', '3041']];
  it.each([
    [
      'click-to-call',
      SCENARIOS.clickToCall,
      [
        [...received('1', '101', '79001234567'), ['requestType', 'receivedTheCall']],
        [...received('1', '101', '79001234567'), ['requestType', 'answeredTheCall']],
        [['generalCallID', '12'], ['billsec', '35'], ['companyID', '3041'], ['requestType', 'hangupTheCall']],
      ],
    ],
    [
      'busy client',
      SCENARIOS.busyClient,
      [
        [...received('1', '101', '79001234565'), ['requestType', 'receivedTheCall']],
        [['generalCallID', '12'], ['billsec', '0'], ['companyID', '3041'], ['requestType', 'hangupTheCall']],
      ],
    ],
    [
      'inbound answered',
      SCENARIOS.inboundAnswered,
      [
        [...received('0', '101', '79001234567', '74950001000'), ['requestType', 'receivedTheCall']],
        [...received('0', '101', '79001234567', '74950001000'), ['requestType', 'answeredTheCall']],
        [['generalCallID', '12'], ['billsec', '20'], ['companyID', '3041'], ['requestType', 'hangupTheCall']],
      ],
    ],
    [
      'inbound abandoned',
      SCENARIOS.inboundAbandoned,
      [
        [...received('0', '101', '79001234567', '74950001000'), ['requestType', 'receivedTheCall']],
        [['generalCallID', '12'], ['billsec', '0'], ['companyID', '3041'], ['requestType', 'hangupTheCall']],
      ],
    ],
  ])('%s', async (_n, events, want) => {
    const reqs = await requests(c, events);
    expect(reqs.map((r) => r.url)).toEqual(want.map(() => 'http://crm.local/api/Binotel/Push'));
    expect(reqs.map((r) => r.contentType)).toEqual(want.map(() => 'application/x-www-form-urlencoded'));
    expect(reqs.map((r) => form(r.body))).toEqual(want);
  });

  it('PascalCase field names, no companyID when none is set, a URL that already names the path', async () => {
    const pascal = connector({ type: 'binotel', url: 'https://crm.local/api/Binotel/Push', field_case: 'pascal' });
    const reqs = await requests(pascal, SCENARIOS.busyClient);
    expect(reqs[0]!.url).toBe('https://crm.local/api/Binotel/Push');
    expect(form(reqs[0]!.body)).toEqual([['ExternalNumber', '79001234565'], ['InternalNumber', '101'], ['GeneralCallID', '12'], ['CallType', '1'], ['RequestType', 'receivedTheCall']]);
    expect(form(reqs[1]!.body)).toEqual([['GeneralCallID', '12'], ['Billsec', '0'], ['RequestType', 'hangupTheCall']]);
  });
});

describe('phonet', () => {
  const c = connector({ type: 'phonet', url: 'https://crm.local/phonet', account_domain: 'clinic.phonet.com.ua', display_names: { '101': 'Ivan Ivanov' } });
  const common = {
    accountDomain: 'clinic.phonet.com.ua',
    uuid: UUID.replaceAll('-', ''),
    parentUuid: null,
    serverTime: NOW,
    leg: { id: 101, ext: '101', displayName: 'Ivan Ivanov' },
    leg2: null,
  };
  const client = (num: string) => [{ id: null, name: null, num, companyName: null, url: null }];
  it.each([
    [
      'click-to-call',
      SCENARIOS.clickToCall,
      [
        { event: 'call.dial', dialAt: T0 + 100, bridgeAt: null, lgDirection: 2 },
        { event: 'call.bridge', dialAt: T0 + 100, bridgeAt: T0 + 9000, lgDirection: 2 },
        { event: 'call.hangup', dialAt: T0 + 100, bridgeAt: T0 + 9000, lgDirection: 2 },
      ].map((e) => ({ ...common, ...e, otherLegs: client('79001234567'), trunkNum: null, trunkName: null })),
    ],
    [
      'busy client',
      SCENARIOS.busyClient,
      [
        { event: 'call.dial', dialAt: T0 + 100, bridgeAt: null, lgDirection: 2 },
        { event: 'call.hangup', dialAt: T0 + 100, bridgeAt: null, lgDirection: 2 },
      ].map((e) => ({ ...common, ...e, otherLegs: client('79001234565'), trunkNum: null, trunkName: null })),
    ],
    [
      'inbound answered',
      SCENARIOS.inboundAnswered,
      [
        { event: 'call.dial', dialAt: T0 + 50, bridgeAt: null, lgDirection: 4 },
        { event: 'call.bridge', dialAt: T0 + 50, bridgeAt: T0 + 3000, lgDirection: 4 },
        { event: 'call.hangup', dialAt: T0 + 50, bridgeAt: T0 + 3000, lgDirection: 4 },
      ].map((e) => ({ ...common, ...e, otherLegs: client('79001234567'), trunkNum: '74950001000', trunkName: '74950001000' })),
    ],
    [
      'inbound answered, the caller in the contact book',
      SCENARIOS.inboundAnswered.map((e) => ({ ...e, call: e.call && { ...e.call, contact: { id: 7068, name: 'Petro Petrenko', company_name: 'Phonet', url: 'http://pbx.local/rest/crm/contacts/v2/7068' } } })),
      [
        { event: 'call.dial', dialAt: T0 + 50, bridgeAt: null, lgDirection: 4 },
        { event: 'call.bridge', dialAt: T0 + 50, bridgeAt: T0 + 3000, lgDirection: 4 },
        { event: 'call.hangup', dialAt: T0 + 50, bridgeAt: T0 + 3000, lgDirection: 4 },
      ].map((e) => ({
        ...common,
        ...e,
        otherLegs: [{ id: '7068', name: 'Petro Petrenko', num: '79001234567', companyName: 'Phonet', url: 'http://pbx.local/rest/crm/contacts/v2/7068' }],
        trunkNum: '74950001000',
        trunkName: '74950001000',
      })),
    ],
    [
      'inbound abandoned',
      SCENARIOS.inboundAbandoned,
      [
        { event: 'call.dial', dialAt: T0 + 50, bridgeAt: null, lgDirection: 4 },
        { event: 'call.hangup', dialAt: T0 + 50, bridgeAt: null, lgDirection: 4 },
      ].map((e) => ({ ...common, ...e, otherLegs: client('79001234567'), trunkNum: '74950001000', trunkName: '74950001000' })),
    ],
  ])('%s', async (_n, events, want) => {
    const reqs = await requests(c, events);
    expect(reqs.every((r) => r.url === 'https://crm.local/phonet' && r.contentType === 'application/json')).toBe(true);
    expect(reqs.map((r) => JSON.parse(String(r.body)))).toEqual(want);
  });
});

describe('phonet: a call to a group is the parent of one child call per operator', () => {
  const c = connector({ type: 'phonet', url: 'https://crm.local/phonet', account_domain: 'clinic.phonet.com.ua', display_names: { '101': 'Ivan Ivanov' } });
  const parent = UUID.replaceAll('-', '');
  const common = { accountDomain: 'clinic.phonet.com.ua', parentUuid: parent, serverTime: NOW, lgDirection: 4, leg2: null, trunkNum: '74950000600', trunkName: '74950000600' };
  const otherLegs = [{ id: null, name: null, num: '79001234567', companyName: null, url: null }];
  const l101 = { id: 101, ext: '101', displayName: 'Ivan Ivanov' };
  const l102 = { id: 102, ext: '102', displayName: '102' };
  it.each([
    [
      'ring group 600: 101 and 102 ring, 102 answers, 101 is cancelled',
      GROUP_SCENARIOS.ringGroupAnswered,
      [
        { event: 'call.dial', uuid: CHILD['101'], dialAt: T0 + 50, bridgeAt: null, leg: l101 },
        { event: 'call.dial', uuid: CHILD['102'], dialAt: T0 + 50, bridgeAt: null, leg: l102 },
        { event: 'call.bridge', uuid: CHILD['102'], dialAt: T0 + 50, bridgeAt: T0 + 3000, leg: l102 },
        { event: 'call.hangup', uuid: CHILD['101'], dialAt: T0 + 50, bridgeAt: null, leg: l101 },
        { event: 'call.hangup', uuid: CHILD['102'], dialAt: T0 + 50, bridgeAt: T0 + 3000, leg: l102 },
      ].map((e) => ({ ...common, ...e, otherLegs })),
    ],
    [
      'an internal call to the group (1000 dials 600): the caller is leg, each operator leg2',
      GROUP_SCENARIOS.ringGroupAnswered.map((e) => ({ ...e, call: e.call && { ...e.call, direction: 'internal' as const, phone: '103', did: null } })),
      [
        { event: 'call.dial', uuid: CHILD['101'], dialAt: T0 + 50, bridgeAt: null, leg2: l101 },
        { event: 'call.dial', uuid: CHILD['102'], dialAt: T0 + 50, bridgeAt: null, leg2: l102 },
        { event: 'call.bridge', uuid: CHILD['102'], dialAt: T0 + 50, bridgeAt: T0 + 3000, leg2: l102 },
        { event: 'call.hangup', uuid: CHILD['101'], dialAt: T0 + 50, bridgeAt: null, leg2: l101 },
        { event: 'call.hangup', uuid: CHILD['102'], dialAt: T0 + 50, bridgeAt: T0 + 3000, leg2: l102 },
      ].map((e) => ({ ...common, lgDirection: 1, leg: { id: 103, ext: '103', displayName: '103' }, trunkNum: null, trunkName: null, otherLegs: null, ...e })),
    ],
  ])('%s', async (_n, events, want) => {
    const reqs = await requests(c, events);
    expect(reqs.map((r) => JSON.parse(String(r.body)))).toEqual(want);
  });

  it('the other connectors speak of the group call as one call, and ignore the members', async () => {
    const events = GROUP_SCENARIOS.ringGroupAnswered;
    const binotel = await requests(connector({ type: 'binotel', url: 'https://crm.local', company_id: '1' }), events);
    expect(binotel.map((r) => new URLSearchParams(String(r.body)).get('requestType'))).toEqual(['receivedTheCall', 'answeredTheCall', 'hangupTheCall']);
    const crm = await requests(connector({ type: 'crm-events', url: 'https://crm.local' }), events);
    expect(crm.map((r) => r.url)).toEqual(['https://crm.local/api/events/call_asterisk', 'https://crm.local/api/events/callDetailRecord']);
    // the webhook sends every event, the members' included, with the group on the call
    const hooks = (await requests(connector({ type: 'webhook', url: 'https://crm.local/hook' }), events)).map((r) => JSON.parse(String(r.body)));
    expect(hooks.map((h) => h.type)).toEqual(['call.started', 'call.ringing', 'member.ringing', 'member.ringing', 'call.answered', 'call.bridged', 'member.answered', 'member.ended', 'member.ended', 'call.finished']);
    expect(hooks[2].data.member).toMatchObject({ uuid: CHILD['101'], sip: '101' });
    expect(hooks.at(-1).call.group).toEqual({ kind: 'ringgroup', ext: '600' });
  });
});

describe('helpdesk', () => {
  const c = connector({ type: 'helpdesk', url: 'https://desk.local/api/v2/telephony/calls/@key42' });
  const created = (phone: string, direction: string) => [['action', 'create_call'], ['direction', direction], ['phone', phone], ['call_status', 'ringing'], ['pbx_call_id', UUID], ['pbx_user_ids[]', '101']];
  const update = (status: string, user = true) => [['action', 'update_call'], ['call_id', '725'], ['call_status', status], ...(user ? [['pbx_user_id', '101']] : [])];
  // the helpdesk answers create_call with its own call id
  const answer = (body: string) => (body.includes('create_call') ? '{"data":{"call_id":725,"pbx_call_id":null,"call_status":"ringing","ticket_id":8592}}' : '{"data":{}}');
  it.each([
    ['click-to-call', SCENARIOS.clickToCall, [created('79001234567', 'outgoing'), update('in-progress'), update('answered'), update('answered')], 3],
    ['busy client', SCENARIOS.busyClient, [created('79001234565', 'outgoing'), update('busy')], -1],
    ['inbound answered', SCENARIOS.inboundAnswered, [created('79001234567', 'incoming'), update('in-progress'), update('answered'), update('answered')], 3],
    ['inbound abandoned', SCENARIOS.inboundAbandoned, [created('79001234567', 'incoming'), update('missed', false)], -1],
  ])('%s', async (_n, events, want, withFile) => {
    const reqs = await requests(c, events, answer);
    expect(reqs.every((r) => r.url === 'https://desk.local/api/v2/telephony/calls/@key42' && r.contentType.startsWith('multipart/form-data; boundary='))).toBe(true);
    const forms = await Promise.all(reqs.map((r) => new Response(r.body as Buffer, { headers: { 'content-type': r.contentType } }).formData()));
    expect(forms.map((f) => [...f.entries()].filter(([k]) => k !== 'audio_record').map(([k, v]) => [k, String(v)]))).toEqual(want);
    forms.forEach((f, i) => {
      const file = f.get('audio_record');
      if (i !== withFile) return expect(file).toBeNull();
      expect(file).toBeInstanceOf(File);
      expect((file as File).name).toBe('order-15-call-12.wav');
      expect((file as File).type).toBe('audio/wav');
    });
    if (withFile >= 0) expect(Buffer.from(await (forms[withFile]!.get('audio_record') as File).arrayBuffer()).toString()).toBe('RIFF-fake-wav-bytes');
  });

  it('without the helpdesk call id (its answer had none) updates name the call by pbx_call_id', async () => {
    const reqs = await requests(c, SCENARIOS.busyClient, () => '{"data":{}}');
    const f = await new Response(reqs[1]!.body as Buffer, { headers: { 'content-type': reqs[1]!.contentType } }).formData();
    expect([...f.entries()].map(([k, v]) => [k, String(v)])).toEqual([['action', 'update_call'], ['pbx_call_id', UUID], ['call_status', 'busy'], ['pbx_user_id', '101']]);
  });
});

describe('crm-events', () => {
  const c = connector({ type: 'crm-events', url: 'https://crm.local', token: 'crm-token-0123456789' });
  const asterisk = ['https://crm.local/api/events/call_asterisk', [['call_id', '12'], ['token', 'crm-token-0123456789']]];
  const cdr = (phone: string, path: string, type: string, duration: string) => [
    'https://crm.local/api/events/callDetailRecord',
    [['event_id', '12'], ['phone', phone], ['extension', '101'], ['path', path], ['call_at', '2026-12-01T10:00:00.000Z'], ['type', type], ['duration', duration], ['token', 'crm-token-0123456789']],
  ];
  it.each([
    ['click-to-call (the record waits for the recording)', SCENARIOS.clickToCall, [asterisk, cdr('79001234567', RECORDING.url, 'outgoing', '35')]],
    ['busy client', SCENARIOS.busyClient, [asterisk, cdr('79001234565', '', 'outgoing', '0')]],
    ['inbound answered', SCENARIOS.inboundAnswered, [asterisk, cdr('79001234567', RECORDING.url, 'incoming', '20')]],
    ['inbound abandoned', SCENARIOS.inboundAbandoned, [asterisk, cdr('79001234567', '', 'incoming', '0')]],
  ])('%s', async (_n, events, want) => {
    const reqs = await requests(c, events);
    expect(reqs.map((r) => [r.url, form(r.body)])).toEqual(want);
  });

  it('a base URL that already ends in /api/events', async () => {
    const at = connector({ type: 'crm-events', url: 'https://crm.local/clinic/api/events/' });
    const reqs = await requests(at, SCENARIOS.busyClient);
    expect(reqs.map((r) => r.url)).toEqual(['https://crm.local/clinic/api/events/call_asterisk', 'https://crm.local/clinic/api/events/callDetailRecord']);
  });
});

describe('webhook', () => {
  const c = connector({ type: 'webhook', url: 'https://crm.local/hook' });
  it.each([
    ['click-to-call', SCENARIOS.clickToCall, ['call.started', 'call.ringing', 'call.answered', 'call.ringing', 'call.answered', 'call.bridged', 'call.finished', 'recording.ready']],
    ['busy client', SCENARIOS.busyClient, ['call.started', 'call.ringing', 'call.answered', 'call.ringing', 'call.finished']],
    ['inbound answered', SCENARIOS.inboundAnswered, ['call.started', 'call.ringing', 'call.answered', 'call.bridged', 'call.finished', 'recording.ready']],
    ['inbound abandoned', SCENARIOS.inboundAbandoned, ['call.started', 'call.ringing', 'call.finished']],
  ])('%s: every event', async (_n, events, want) => {
    const reqs = await requests(c, events);
    expect(reqs.map((r) => JSON.parse(String(r.body)).type)).toEqual(want);
  });

  it('the documented body: ids, ISO times, the call with its chain so far', async () => {
    const reqs = await requests(c, SCENARIOS.busyClient);
    const ringing = JSON.parse(String(reqs[1]!.body));
    expect(ringing).toEqual({
      id: 'ev-2',
      type: 'call.ringing',
      time: '2026-12-01T10:00:00.100Z',
      call: {
        call_id: 12,
        uuid: UUID,
        origin: 'click-to-call',
        direction: 'outgoing',
        phone: '79001234565',
        did: null,
        sip: '101',
        operators: ['101'],
        order_id: '16',
        external_key: null,
        linkedid: null,
        status: 'OPERATOR_CALLTO',
        final: false,
        started_at: '2026-12-01T10:00:00.000Z',
        answered_at: null,
        ended_at: null,
        billsec: null,
        recording_file: null,
        chain: [
          { status: 'CALL', time: '2026-12-01T10:00:00.000Z', details: { sip: '101', phone: '79001234565' } },
          { status: 'OPERATOR_CALLTO', time: '2026-12-01T10:00:00.100Z', details: { sip: '101', phone: '79001234565' } },
        ],
        recordings: [],
      },
      data: { leg: 'operator', sip: '101', phone: '79001234565' },
    });
    expect(JSON.parse(String(reqs[4]!.body)).data).toMatchObject({ status: 'CLIENT_BUSY', billsec: 0, cause: 17, dial_status: 'BUSY', talked: false });
  });
});
