import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { AriClient, AriError, AriHttpError, type AriEvent } from '../../../src/asterisk/ari/index.js';
import { FakeAri, readEvents, readJsonl, type RestTraceEntry } from './fake-ari-server.js';
import { captureLogger, nextEvent, settle, trackProcessErrors, waitUntil, type CapturedLog } from './helpers.js';

const USER = 'daemon';
const PASS = 'arisecret';
const APP = 'calld'; // the app name of the recorded traces
const b1Rest = readJsonl<RestTraceEntry>('B1/ari-rest.jsonl');
const c1Rest = readJsonl<RestTraceEntry>('C1/ari-rest.jsonl');
const c4Rest = readJsonl<RestTraceEntry>('C4/ari-rest.jsonl');
const b4Rest = readJsonl<RestTraceEntry>('B4/ari-rest.jsonl');

let fake: FakeAri;
let client: AriClient | undefined;
let log: CapturedLog;
let processErrors: ReturnType<typeof trackProcessErrors>;

beforeEach(async () => {
  processErrors = trackProcessErrors();
  log = captureLogger();
  fake = await FakeAri.start({ username: USER, password: PASS, traces: [...b1Rest, ...c1Rest, ...c4Rest] });
});

afterEach(async () => {
  await client?.stop();
  client = undefined;
  await fake.close();
  processErrors.dispose();
  expect(log.text()).not.toContain(PASS);
  expect(log.text()).not.toContain(Buffer.from(`${USER}:${PASS}`).toString('base64'));
});

function makeClient(extra: Partial<ConstructorParameters<typeof AriClient>[0]> = {}): AriClient {
  client = new AriClient({
    url: `${fake.url}/ari/`,
    username: USER,
    password: PASS,
    app: APP,
    logger: log.logger,
    backoff: { minMs: 50, maxMs: 200 },
    requestTimeoutMs: 2000,
    pingIntervalMs: 5000,
    subscriptions: ['endpoint:PJSIP'],
    ...extra,
  });
  return client;
}

async function connected(extra: Partial<ConstructorParameters<typeof AriClient>[0]> = {}): Promise<AriClient> {
  const c = makeClient(extra);
  const up = nextEvent(c, 'connected');
  c.start();
  await up;
  return c;
}

describe('dependencies', () => {
  it('ari-client loads the overridden form-data and tough-cookie (npm overrides in package.json)', () => {
    const fromAri = createRequire(createRequire(import.meta.url).resolve('ari-client'));
    const fromRequest = createRequire(fromAri.resolve('request'));
    const version = (name: string): number[] =>
      (fromRequest(`${name}/package.json`) as { version: string }).version.split('.').map(Number);
    const [fdMajor, fdMinor, fdPatch] = version('form-data');
    expect(fdMajor === 2 && (fdMinor! > 5 || (fdMinor === 5 && fdPatch! >= 4))).toBe(true);
    const [tcMajor, tcMinor, tcPatch] = version('tough-cookie');
    expect(tcMajor! > 4 || (tcMajor === 4 && (tcMinor! > 1 || (tcMinor === 1 && tcPatch! >= 3)))).toBe(true);

    const out = execFileSync('npm', ['ls', 'form-data', 'tough-cookie', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const tree = JSON.parse(out) as {
      dependencies: { 'ari-client': { dependencies: { request: { dependencies: Record<string, { version: string }> } } } };
    };
    const deps = tree.dependencies['ari-client'].dependencies.request.dependencies;
    expect(deps['form-data']!.version).toBe(fromRequest('form-data/package.json').version);
    expect(deps['tough-cookie']!.version).toBe(fromRequest('tough-cookie/package.json').version);
  });
});

describe('AriClient connect', () => {
  it('loads the API with ari-client, opens the events websocket and subscribes', async () => {
    const consoleLog = vi.spyOn(console, 'log');
    const c = makeClient();
    const attempts: unknown[] = [];
    c.on('attempt', (a) => attempts.push(a));
    const up = nextEvent(c, 'connected');
    c.start();
    await up;
    expect(c.connected).toBe(true);
    expect(attempts).toEqual([{ attempt: 1, delayMs: 0 }]);

    // every resource listed in resources.json was loaded with basic auth
    const docs = fake.requests.filter((r) => r.pathname.startsWith('/ari/api-docs/') && r.authorized);
    expect(docs.map((r) => r.pathname)).toContain('/ari/api-docs/events.json');
    expect(docs.length).toBe(12);
    expect(fake.wsAttempts).toHaveLength(1);
    const ws = new URL(fake.wsAttempts[0]!.url, 'http://x');
    expect(ws.pathname).toBe('/ari/events');
    expect(ws.searchParams.get('app')).toBe(APP);
    expect(fake.wsAttempts[0]!.authorized).toBe(true);
    const subs = fake.requests.filter((r) => r.pathname === `/ari/applications/${APP}/subscription`);
    expect(subs.map((r) => [r.method, r.path])).toEqual([
      ['POST', `/ari/applications/${APP}/subscription?eventSource=endpoint%3APJSIP`],
    ]);
    // swagger-client's console.log noise is silenced
    expect(consoleLog).not.toHaveBeenCalled();
    consoleLog.mockRestore();
    expect(log.lines.some((l) => l.msg === 'ARI connected' && l.asteriskVersion === '22.10.1')).toBe(true);
  });

  it('delivers the recorded events in order, also unknown types, and skips non-JSON messages', async () => {
    const c = await connected();
    const received: AriEvent[] = [];
    c.on('event', (ev) => received.push(ev));
    const b1 = readEvents('B1/ari-events.jsonl');
    const c1 = readEvents('C1/ari-events.jsonl');
    const unknown = { type: 'SomethingNewer', timestamp: '2026-11-24T04:00:23.000+0000', application: APP, x: 1 };
    for (const ev of b1) fake.send(ev);
    fake.send('this is not json');
    fake.send(unknown);
    for (const ev of c1) fake.send(ev);
    await waitUntil(() => received.length >= b1.length + 1 + c1.length, 5000, 'events');
    await settle();
    expect(received).toEqual([...b1, unknown, ...c1]);
    // each message is parsed once by the adapter: the unknown type is an event like any other, the non-JSON one is dropped and logged
    expect(log.lines.filter((l) => l.msg === 'dropping an ARI websocket message that is not an event')).toHaveLength(1);
    expect(log.lines.filter((l) => l.msg === 'ari-client could not process an ARI event')).toHaveLength(0);
    expect(c.connected).toBe(true);
    expect(fake.wsAttempts).toHaveLength(1);
  });

  it('ignoreTypes: the recorded ChannelVarset events are dropped unparsed, compact or pretty-printed; every other event arrives in order', async () => {
    const c = await connected({ ignoreTypes: ['ChannelVarset'] });
    const received: AriEvent[] = [];
    c.on('event', (ev) => received.push(ev));
    const b1 = readEvents('B1/ari-events.jsonl');
    const varsets = b1.filter((e) => e.type === 'ChannelVarset');
    expect(varsets.length).toBeGreaterThan(10);
    // Asterisk's `format = pretty` (ari.conf) puts spaces and newlines around the members
    for (const ev of b1) fake.send(ev.type === 'ChannelVarset' && ev === varsets[0] ? JSON.stringify(ev, null, 2) : ev);
    // a variable whose value quotes the type is still a ChannelVarset; an event quoting it in a value is not one
    const quoting = { type: 'ChannelUserevent', eventname: 'x', userevent: { note: '"type":"ChannelVarset"' }, application: APP, timestamp: '2026-11-24T04:00:23.000+0000' };
    fake.send(quoting);
    const rest = b1.filter((e) => e.type !== 'ChannelVarset');
    await waitUntil(() => received.length >= rest.length + 1, 5000, 'events');
    await settle();
    expect(received).toEqual([...rest, quoting]);
  });

  it('a throwing event listener is logged and does not break the stream', async () => {
    const c = await connected();
    const types: string[] = [];
    c.on('event', (ev) => {
      types.push(ev.type);
      if (types.length === 1) throw new Error('listener bug');
    });
    const events = readEvents('C1/ari-events.jsonl');
    for (const ev of events) fake.send(ev);
    await waitUntil(() => types.length === events.length, 5000, 'events');
    expect(types).toEqual(events.map((e) => e.type));
    expect(log.lines.some((l) => l.level === 50 && String(l.msg).includes("'event' listener threw"))).toBe(true);
    expect(processErrors.seen).toEqual([]);
  });

  it('REST calls before connect and after stop reject with NOT_CONNECTED / STOPPED', async () => {
    const c = makeClient();
    await expect(c.listChannels()).rejects.toMatchObject({ code: 'STOPPED' });
    c.start();
    await expect(c.listChannels()).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    await nextEvent(c, 'connected');
    await c.stop();
    await expect(c.hangup('x')).rejects.toBeInstanceOf(AriError);
  });
});

describe('AriClient REST', () => {
  it('originate sends the recorded query string and variables body, and returns the channel', async () => {
    const c = await connected();
    const channel = await c.originate({
      endpoint: 'PJSIP/1000',
      appArgs: ['operator', '15', '24', '79001234567'],
      callerId: '"79001234567" <79001234567>',
      timeout: 30,
      variables: { ORDER_ID: '15', EXTERNAL_KEY: '24' },
    });
    const client2 = await c.originate({
      endpoint: 'PJSIP/79001234567@clients',
      appArgs: ['client', '15', '24'],
      callerId: '1000',
      timeout: 30,
      variables: { ORDER_ID: '15', EXTERNAL_KEY: '24' },
      originator: channel.id,
    });
    const posts = fake.restRequests().filter((r) => r.method === 'POST' && r.pathname === '/ari/channels');
    const recorded = b1Rest.filter((t) => t.method === 'POST' && t.path.startsWith('/ari/channels?'));
    expect(posts.map((r) => r.path)).toEqual(recorded.map((t) => t.path));
    expect(posts.map((r) => r.body)).toEqual(recorded.map((t) => t.request_body));
    expect(posts[0]!.headers['content-type']).toBe('application/json');
    expect(posts[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`);
    expect(channel).toEqual(recorded[0]!.response_body);
    expect(client2.id).toBe('1795492817.13');
  });

  it('originate rejects appArgs with a comma, CR or LF before sending anything', async () => {
    const c = await connected();
    const before = fake.restRequests().length;
    await expect(c.originate({ endpoint: 'PJSIP/1000', appArgs: ['operator', '15,16'] })).rejects.toThrow(/appArgs\[1\].*comma/);
    await expect(c.originate({ endpoint: 'PJSIP/1000', appArgs: ['a\r\nb'] })).rejects.toThrow(RangeError);
    expect(fake.restRequests().length).toBe(before);
  });

  it('an offline endpoint is an AriHttpError 500 with the recorded body', async () => {
    const c = await connected();
    const offline = b4Rest[0]!;
    fake.respond((r) => (r.path === offline.path ? { status: offline.status, body: offline.response_body } : undefined));
    const err = await c
      .originate({
        endpoint: 'PJSIP/1000',
        appArgs: ['operator', '15', '24', '79001234567'],
        callerId: '"79001234567" <79001234567>',
        timeout: 30,
        variables: { ORDER_ID: '15', EXTERNAL_KEY: '24' },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AriHttpError);
    expect((err as AriHttpError).status).toBe(500);
    expect((err as AriHttpError).body).toEqual({ error: 'Allocation failed' });
  });

  it('bridge, record, hangup and destroy send the recorded requests (B1)', async () => {
    const c = await connected();
    const start = fake.restRequests().length;
    const bridge = await c.createBridge({ name: 'order-15' });
    await c.addChannel(bridge.id, '1795492816.12');
    await c.addChannel(bridge.id, '1795492817.13');
    const rec = await c.recordBridge(bridge.id, { name: 'order-15-1795492819640', format: 'wav', ifExists: 'overwrite', beep: false });
    expect(await c.hangup('1795492816.12')).toBe(true);
    expect(await c.destroyBridge(bridge.id)).toBe(true);
    const sent = fake.restRequests().slice(start).map((r) => `${r.method} ${r.path}`);
    const expected = b1Rest
      .filter((t) => !(t.method === 'POST' && t.path.startsWith('/ari/channels?')) && !t.path.startsWith('/ari/recordings'))
      .map((t) => `${t.method} ${t.path}`);
    expect(sent).toEqual(expected);
    expect(bridge).toEqual(b1Rest[1]!.response_body);
    expect(rec).toMatchObject({ state: 'queued', format: 'wav', target_uri: `bridge:${bridge.id}` });
  });

  it('channel, bridge and playback operations use the ARI paths and return the answers', async () => {
    const c = await connected();
    const start = fake.restRequests().length;
    // Playback model of playbacks.json (no playback was recorded in the traces)
    const playback = { id: 'pb-1', media_uri: 'tone:ring', target_uri: 'bridge:br-1', language: 'en', state: 'queued' };
    fake.respond((r) => {
      if (r.method === 'POST' && r.pathname === '/ari/bridges/br-1/play') return { status: 201, body: playback };
      if (r.method === 'POST' && /^\/ari\/(channels\/[^/]+\/(ring|answer)|bridges\/br-1\/removeChannel)$/.test(r.pathname)) {
        return { status: 204 };
      }
      if (r.method === 'DELETE' && r.pathname === '/ari/playbacks/pb-1') return { status: 204 };
      return undefined;
    });
    expect(await c.listChannels()).toEqual([]);
    await c.ring('1795492816.12');
    await c.answer('1795492816.12');
    expect(await c.playOnBridge('br-1', 'tone:ring')).toEqual(playback);
    expect(await c.stopPlayback('pb-1')).toBe(true);
    await c.removeChannel('br-1', '1795492816.12');
    expect(fake.restRequests().slice(start).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /ari/channels',
      'POST /ari/channels/1795492816.12/ring',
      'POST /ari/channels/1795492816.12/answer',
      'POST /ari/bridges/br-1/play?media=tone%3Aring',
      'DELETE /ari/playbacks/pb-1',
      'POST /ari/bridges/br-1/removeChannel?channel=1795492816.12',
    ]);
  });

  it('endpoints: recorded list, single endpoint, and 404 for an unknown one', async () => {
    const c = await connected();
    const list = await c.listEndpoints();
    expect(list).toEqual(c1Rest.find((t) => t.path === '/ari/endpoints')!.response_body);
    expect(await c.getEndpoint('PJSIP', '1000')).toMatchObject({ technology: 'PJSIP', resource: '1000' });
    const err = await c.getEndpoint('PJSIP', '9999').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AriHttpError);
    expect((err as AriHttpError).status).toBe(404);
    expect((err as AriHttpError).body).toEqual({ message: 'Endpoint not found' });
  });

  it('hangup / destroyBridge / stopPlayback of something already gone resolve false without unhandled rejections', async () => {
    const c = await connected();
    fake.respond((r) => {
      if (r.method !== 'DELETE') return undefined;
      if (r.pathname.startsWith('/ari/channels/')) return { status: 404, body: { message: 'Channel not found' } };
      if (r.pathname.startsWith('/ari/bridges/')) return { status: 404, body: { message: 'Bridge not found' } };
      if (r.pathname.startsWith('/ari/playbacks/')) return { status: 404, body: { message: 'Playback not found' } };
      return undefined;
    });
    expect(await c.hangup('1795492816.99', 'normal')).toBe(false);
    expect(fake.restRequests().at(-1)!.path).toBe('/ari/channels/1795492816.99?reason=normal');
    expect(await c.destroyBridge('gone-bridge')).toBe(false);
    expect(await c.stopPlayback('gone-playback')).toBe(false);
    // fire-and-forget use must not produce an unhandled rejection either
    void c.hangup('1795492816.98');
    await settle();
    await settle();
    expect(processErrors.seen).toEqual([]);
  });

  it('a REST call without an answer rejects with TIMEOUT; stop() aborts calls in flight', async () => {
    const c = await connected({ requestTimeoutMs: 300 });
    fake.respond((r) => (r.pathname === '/ari/channels' || r.pathname === '/ari/bridges' ? 'hang' : undefined));
    const err = await c.listChannels().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AriError);
    expect((err as AriError).code).toBe('TIMEOUT');
    expect(c.connected).toBe(true);

    const pending = c.createBridge({ name: 'x' }).catch((e: unknown) => e);
    await waitUntil(() => fake.restRequests().some((r) => r.pathname === '/ari/bridges'), 2000, 'bridge request');
    await c.stop();
    expect(await pending).toMatchObject({ code: 'STOPPED' });
    await settle();
    expect(processErrors.seen).toEqual([]);
  });
});
