import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { AmiClient, AmiError, field, type AmiMessage } from '../../../src/asterisk/ami/index.js';
import { FakeAmiServer, standardAnswer, until, type Chunking } from './fake-ami.js';
import { expected, loadTrace, recordedAnswer, type Trace } from './traces.js';

let server: FakeAmiServer | undefined;
let client: AmiClient | undefined;

afterEach(async () => {
  await client?.stop();
  await server?.close();
  client = undefined;
  server = undefined;
});

function newClient(port: number): AmiClient {
  return new AmiClient({
    host: '127.0.0.1',
    port,
    username: 'daemon',
    secret: 'amisecret',
    logger: silentLogger(),
    backoff: { minMs: 10, maxMs: 50 },
    pingIntervalMs: 60_000,
  });
}

const END = 'Event: ReplayEnd\r\n\r\n';

describe('AmiClient on a recorded AMI stream delivered in odd TCP chunks', () => {
  const cases: Array<[string, Chunking]> = [
    ['C4', { kind: 'fixed', size: 1 }],
    ['C1', { kind: 'afterCR' }],
    ['A1', { kind: 'random', seed: 11, max: 300 }],
    ['A1', { kind: 'whole' }],
  ];
  for (const [scenario, chunking] of cases) {
    it(`${scenario} (${JSON.stringify(chunking)}): emits exactly the recorded events`, async () => {
      const trace = loadTrace(scenario);
      const [banner, login] = trace.entries;
      expect(banner?.kind).toBe('banner');
      expect(login?.fields?.ActionID).toBe('rec-1');
      const restOffset = Buffer.byteLength(banner!.raw + login!.raw);
      server = await FakeAmiServer.start(
        async (conn, action) => {
          if (action.get('action') !== 'Login') return void standardAnswer(conn, action);
          const answer = recordedAnswer(trace, 'rec-1', action.get('actionid') ?? '').raw;
          await conn.writeChunked(Buffer.concat([Buffer.from(answer), trace.text.subarray(restOffset), Buffer.from(END)]), chunking);
        },
        (conn) => void conn.writeChunked(banner!.raw, chunking),
      );
      client = newClient(server.port);
      const events: AmiMessage[] = [];
      const connected: Array<{ banner: string }> = [];
      const order: string[] = [];
      client.on('event', (m) => {
        events.push(m);
        order.push('event');
      });
      client.on('connected', (c) => {
        connected.push(c);
        order.push('connected');
      });
      client.start();
      await until(() => events.some((m) => field(m, 'event') === 'ReplayEnd'), 20_000, 'end of replay');

      const want = trace.entries.filter((e) => e.kind === 'event').map((e) => expected(e));
      expect(events.slice(0, -1)).toEqual(want);
      expect(events).toHaveLength(want.length + 1);
      expect(connected).toEqual([{ banner: 'Asterisk Call Manager/11.0.0' }]);
      expect(order[0]).toBe('connected'); // before FullyBooted, which follows the login response
      expect(client.connected).toBe(true);
    });
  }
});

describe('listAction with recorded list answers (ActionID substituted)', () => {
  const C4 = loadTrace('C4');
  const C1 = loadTrace('C1');
  const A1 = loadTrace('A1');
  const unrelated = 'Event: DeviceStateChange\r\nPrivilege: call,all\r\nDevice: PJSIP/1001\r\nState: INUSE\r\n\r\n';
  const sources: Record<string, Array<[Trace, string]>> = {
    PJSIPShowEndpoints: [[C4, 'actions-PJSIPShowEndpoints']],
    PJSIPShowContacts: [
      [C1, 'offline-PJSIPShowContacts'],
      [C4, 'actions-PJSIPShowContacts'],
    ],
    DeviceStateList: [[C4, 'actions-DeviceStateList']],
    CoreShowChannels: [
      [A1, 'rec-3'],
      [C4, 'actions-CoreShowChannels'],
    ],
  };
  const served: Record<string, number> = {};

  async function startListServer(): Promise<void> {
    server = await FakeAmiServer.start(async (conn, action) => {
      if (standardAnswer(conn, action)) return;
      const name = action.get('action') ?? '';
      const n = served[name] ?? 0;
      served[name] = n + 1;
      const [trace, recordedId] = sources[name]![n]!;
      const { raw } = recordedAnswer(trace, recordedId, action.get('actionid') ?? '');
      // an unrelated event right after the first list item
      const cut = raw.indexOf('\r\n\r\n', raw.indexOf('\r\n\r\nEvent:') + 4);
      const text = cut < 0 ? raw : raw.slice(0, cut + 4) + unrelated + raw.slice(cut + 4);
      await conn.writeChunked(text, { kind: 'random', seed: n + name.length, max: 40 });
    });
  }

  function recorded(trace: Trace, recordedId: string, id: string) {
    const entries = trace.entries.filter((e) => e.fields?.ActionID === recordedId);
    const msgs = entries.map((e) => ({ e, m: expected(e, { from: recordedId, to: id }) }));
    return {
      response: msgs.find(({ e }) => e.kind === 'response')!.m,
      items: msgs.filter(({ e }) => e.kind === 'event' && e.fields?.EventList !== 'Complete').map(({ m }) => m),
      complete: msgs.find(({ e }) => e.fields?.EventList === 'Complete')?.m,
    };
  }

  it('collects the items of PJSIPShowEndpoints, PJSIPShowContacts, DeviceStateList and CoreShowChannels', async () => {
    for (const k of Object.keys(served)) delete served[k];
    await startListServer();
    client = newClient(server!.port);
    const events: AmiMessage[] = [];
    client.on('event', (m) => events.push(m));
    client.start();
    await until(() => client!.connected, 5_000, 'login');

    const run = async (action: string, trace: Trace, recordedId: string, itemName: string, count: number) => {
      const result = await client!.listAction({ Action: action });
      const id = field(result.response, 'actionid')!;
      expect(id).toMatch(/^cb-\d+$/);
      const want = recorded(trace, recordedId, id);
      expect(result.response).toEqual(want.response);
      expect(result.events).toEqual(want.items);
      expect(result.complete).toEqual(want.complete);
      expect(result.events.map((e) => field(e, 'event'))).toEqual(Array(count).fill(itemName));
      return result;
    };

    const endpoints = await run('PJSIPShowEndpoints', C4, 'actions-PJSIPShowEndpoints', 'EndpointList', 4);
    expect(endpoints.events.map((e) => field(e, 'objectname'))).toEqual(['1000', '1001', '1002', 'clients']);
    expect(field(endpoints.complete, 'listitems')).toBe('4');

    const noContacts = await client.listAction({ Action: 'PJSIPShowContacts' }).catch((e: unknown) => e);
    expect(noContacts).toBeInstanceOf(AmiError);
    expect((noContacts as AmiError).code).toBe('ACTION_FAILED');
    expect((noContacts as AmiError).response?.message).toBe('No Contacts found\n');

    const contacts = await run('PJSIPShowContacts', C4, 'actions-PJSIPShowContacts', 'ContactList', 1);
    expect(field(contacts.events[0]!, 'uri')).toBe('sip:1000@127.0.0.1:5061;transport=UDP');

    const states = await run('DeviceStateList', C4, 'actions-DeviceStateList', 'DeviceStateChange', 4);
    expect(states.events.map((e) => `${field(e, 'device')}=${field(e, 'state')}`)).toContain('PJSIP/1000=NOT_INUSE');

    const channels = await run('CoreShowChannels', A1, 'rec-3', 'CoreShowChannel', 2);
    expect(channels.events.map((e) => field(e, 'channel'))).toEqual(['PJSIP/1000-00000000', 'PJSIP/clients-00000001']);
    await run('CoreShowChannels', C4, 'actions-CoreShowChannels', 'CoreShowChannel', 0);

    // the unrelated DeviceStateChange injected into each of the 6 answers went to 'event', the items did not
    await until(() => events.length >= 6, 2_000, 'unrelated events');
    expect(events).toEqual(Array(6).fill({ event: 'DeviceStateChange', privilege: 'call,all', device: 'PJSIP/1001', state: 'INUSE' }));
  });
});
