import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AriClient, type AriAttemptInfo, type AriClientOptions, type AriEvent } from '../../../src/asterisk/ari/index.js';
import { FakeAri, readEvents, readJsonl, type RestTraceEntry } from './fake-ari-server.js';
import { captureLogger, nextEvent, settle, sleep, trackProcessErrors, waitUntil, type CapturedLog } from './helpers.js';

const USER = 'daemon';
const PASS = 'arisecret';
const APP = 'calld';
const traces = [...readJsonl<RestTraceEntry>('C1/ari-rest.jsonl'), ...readJsonl<RestTraceEntry>('C4/ari-rest.jsonl')];

const fakes: FakeAri[] = [];
const clients: AriClient[] = [];
let log: CapturedLog;
let processErrors: ReturnType<typeof trackProcessErrors>;

beforeEach(() => {
  processErrors = trackProcessErrors();
  log = captureLogger();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
  await settle();
  processErrors.dispose();
  expect(processErrors.seen).toEqual([]);
  expect(log.text()).not.toContain(PASS);
  expect(log.text()).not.toContain('wrongpass');
});

async function startFake(opts: { autoPong?: boolean; username?: string; password?: string } = {}): Promise<FakeAri> {
  const fake = await FakeAri.start({ username: opts.username ?? USER, password: opts.password ?? PASS, traces, autoPong: opts.autoPong });
  fakes.push(fake);
  return fake;
}

function makeClient(fake: FakeAri, extra: Partial<AriClientOptions> = {}): AriClient {
  const c = new AriClient({
    url: fake.url,
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
  clients.push(c);
  return c;
}

const subscriptionPosts = (fake: FakeAri): number =>
  fake.requests.filter((r) => r.method === 'POST' && r.pathname === `/ari/applications/${APP}/subscription`).length;

describe('AriClient reconnection', () => {
  it('reconnects after the server drops the websocket, resubscribes, and delivers every event once', async () => {
    const fake = await startFake();
    const c = makeClient(fake);
    const events: AriEvent[] = [];
    const attempts: AriAttemptInfo[] = [];
    const seen: string[] = [];
    c.on('event', (ev) => events.push(ev));
    c.on('attempt', (a) => attempts.push(a));
    c.on('connected', () => seen.push('connected'));
    c.on('disconnected', ({ reason }) => seen.push(`disconnected: ${reason}`));
    const recorded = readEvents('C1/ari-events.jsonl');
    const half = Math.floor(recorded.length / 2);

    c.start();
    await waitUntil(() => c.connected, 5000, 'first connect');
    for (const ev of recorded.slice(0, half)) fake.send(ev);
    await waitUntil(() => events.length === half, 5000, 'first half');

    const lost = nextEvent(c, 'disconnected');
    fake.killSockets();
    await lost;
    expect(c.connected).toBe(false);
    await waitUntil(() => c.connected, 5000, 'reconnect');
    for (const ev of recorded.slice(half)) fake.send(ev);
    await waitUntil(() => events.length >= recorded.length, 5000, 'second half');
    await settle();

    expect(events).toEqual(recorded);
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBe('connected');
    expect(seen[1]).toMatch(/^disconnected: websocket closed \(code 1006/);
    expect(seen[2]).toBe('connected');
    expect(attempts[0]).toEqual({ attempt: 1, delayMs: 0 });
    expect(attempts[1]!.attempt).toBe(1);
    expect(attempts[1]!.delayMs).toBeGreaterThanOrEqual(50);
    expect(attempts[1]!.delayMs).toBeLessThanOrEqual(200);
    expect(fake.wsAttempts.filter((a) => a.accepted)).toHaveLength(2);
    expect(fake.sockets.size).toBe(1);
    expect(subscriptionPosts(fake)).toBe(2);
  });

  it('sources subscribed with subscribe() are subscribed again after a reconnect', async () => {
    const fake = await startFake();
    const c = makeClient(fake, { subscriptions: [] });
    c.start();
    await waitUntil(() => c.connected, 5000, 'connect');
    await c.subscribe('endpoint:PJSIP/1000');
    const lost = nextEvent(c, 'disconnected');
    fake.killSockets();
    await lost;
    await waitUntil(() => c.connected, 5000, 'reconnect');
    const posts = fake.requests.filter((r) => r.method === 'POST' && r.pathname === `/ari/applications/${APP}/subscription`);
    expect(posts.map((r) => r.query.get('eventSource'))).toEqual(['endpoint:PJSIP/1000', 'endpoint:PJSIP/1000']);
  });

  it('keeps retrying with growing delays while the websocket is refused, then connects', async () => {
    const fake = await startFake();
    fake.rejectUpgradesWith = 503;
    const c = makeClient(fake, { backoff: { minMs: 20, maxMs: 80 } });
    const attempts: AriAttemptInfo[] = [];
    c.on('attempt', (a) => attempts.push(a));
    c.start();
    // ari-client alone would stop after 10 failed websocket attempts
    await waitUntil(() => fake.wsAttempts.length >= 12, 10_000, '12 refused attempts');
    expect(c.connected).toBe(false);
    expect(attempts.slice(0, 12).map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const [i, a] of attempts.slice(1).entries()) {
      expect(a.delayMs).toBeGreaterThanOrEqual(20);
      expect(a.delayMs).toBeLessThanOrEqual(Math.min(80, 20 * 2 ** i));
    }
    fake.rejectUpgradesWith = undefined;
    await waitUntil(() => c.connected, 5000, 'connect after refusals');
    expect(fake.sockets.size).toBe(1);
  });

  it('detects a dead link when pongs stop coming, and reconnects', async () => {
    const fake = await startFake({ autoPong: false });
    const c = makeClient(fake, { pingIntervalMs: 100 });
    let pings = 0;
    fake.onConnection((ws) => ws.on('ping', () => (pings += 1)));
    c.start();
    await waitUntil(() => c.connected, 5000, 'connect');
    const info = await nextEvent<{ reason: string }>(c, 'disconnected', 5000);
    expect(info.reason).toBe('no websocket pong within 100 ms');
    expect(pings).toBeGreaterThanOrEqual(1);
    await waitUntil(() => c.connected, 5000, 'reconnect');
    expect(fake.wsAttempts.filter((a) => a.accepted).length).toBeGreaterThanOrEqual(2);
  });

  it('a link that answers pings stays up', async () => {
    const fake = await startFake();
    const c = makeClient(fake, { pingIntervalMs: 50 });
    let pings = 0;
    fake.onConnection((ws) => ws.on('ping', () => (pings += 1)));
    c.start();
    await waitUntil(() => c.connected, 5000, 'connect');
    await waitUntil(() => pings >= 4, 5000, 'pings');
    expect(c.connected).toBe(true);
    expect(fake.wsAttempts).toHaveLength(1);
  });

  it('stop() during the backoff delay cancels the reconnect: nothing reaches the server afterwards', async () => {
    const fake = await startFake();
    const c = makeClient(fake, { backoff: { minMs: 300, maxMs: 600 } });
    c.start();
    await waitUntil(() => c.connected, 5000, 'connect');
    const scheduled = nextEvent<AriAttemptInfo>(c, 'attempt');
    fake.killSockets();
    const next = await scheduled;
    expect(next.delayMs).toBeGreaterThanOrEqual(300);
    await c.stop();
    const requests = fake.requests.length;
    const upgrades = fake.wsAttempts.length;
    await sleep(900);
    expect(fake.requests.length).toBe(requests);
    expect(fake.wsAttempts.length).toBe(upgrades);
    expect(c.connected).toBe(false);
  });

  it('wrong password: 401 is logged as an error and retried slowly, never crashes', async () => {
    const fake = await startFake();
    const c = makeClient(fake, { password: 'wrongpass', backoff: { minMs: 20, maxMs: 100 } });
    const attempts: AriAttemptInfo[] = [];
    c.on('attempt', (a) => attempts.push(a));
    let connectedCount = 0;
    c.on('connected', () => (connectedCount += 1));
    c.start();
    await waitUntil(() => fake.requests.filter((r) => !r.authorized).length >= 3, 5000, 'three refused attempts');
    expect(connectedCount).toBe(0);
    expect(attempts.slice(1).every((a) => a.delayMs === 100)).toBe(true);
    const errors = log.lines.filter((l) => l.level === 50);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(String(errors[0]!.msg)).toContain('ARI authentication failed (HTTP 401)');
    expect(errors[0]!.username).toBe(USER);
  });

  it('a 401 while ari-client loads the API description or opens the websocket is handled, not thrown', async () => {
    const fake = await startFake();
    fake.denyPaths = [/^\/ari\/api-docs\/channels\.json$/];
    const c = makeClient(fake, { backoff: { minMs: 20, maxMs: 50 } });
    c.start();
    await waitUntil(
      () => log.lines.filter((l) => String(l.msg).includes('ARI authentication failed')).length >= 2,
      5000,
      'auth failures while loading the API',
    );
    expect(c.connected).toBe(false);
    expect(fake.wsAttempts).toHaveLength(0);

    fake.denyPaths = [/^\/ari\/events$/];
    const before = fake.wsAttempts.length;
    await waitUntil(() => fake.wsAttempts.length >= before + 2, 5000, 'refused websocket attempts');
    expect(fake.wsAttempts.some((a) => a.accepted)).toBe(false);
    expect(log.lines.filter((l) => String(l.msg).includes('ARI authentication failed')).length).toBeGreaterThanOrEqual(3);
    fake.denyPaths = [];
    await waitUntil(() => c.connected, 5000, 'connect once allowed');
  });

  it('two clients with different credentials connect at the same time without mixing them up', async () => {
    const a = await startFake({ username: 'alice', password: 'secret-a' });
    const b = await startFake({ username: 'bob', password: 'secret-b' });
    const ca = makeClient(a, { username: 'alice', password: 'secret-a' });
    const cb = makeClient(b, { username: 'bob', password: 'secret-b' });
    const both = Promise.all([nextEvent(ca, 'connected'), nextEvent(cb, 'connected')]);
    ca.start();
    cb.start();
    await both;
    const withAuthHeader = (f: FakeAri) => f.requests.filter((r) => r.headers.authorization !== undefined);
    expect(withAuthHeader(a).every((r) => r.authorized)).toBe(true);
    expect(withAuthHeader(b).every((r) => r.authorized)).toBe(true);
    expect(log.text()).not.toContain('secret-a');
    expect(log.text()).not.toContain('secret-b');
  });
});
