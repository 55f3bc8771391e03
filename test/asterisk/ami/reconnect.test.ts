import { once } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { AmiClient, field, type AmiClientOptions, type AmiMessage } from '../../../src/asterisk/ami/index.js';
import { FakeAmiServer, seeded, standardAnswer, until, type ActionHandler, type FakeAmiConnection } from './fake-ami.js';
import { loadTrace, recordedAnswer } from './traces.js';

const SECRET = 'amisecret-do-not-log';
let server: FakeAmiServer | undefined;
let client: AmiClient | undefined;
let logLines: Array<Record<string, unknown>> = [];

afterEach(async () => {
  await client?.stop();
  await server?.close();
  client = undefined;
  server = undefined;
  // the secret never appears in any log line of any test
  expect(JSON.stringify(logLines)).not.toContain(SECRET);
  logLines = [];
});

function newClient(port: number, opts: Partial<AmiClientOptions> = {}): AmiClient {
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  client = new AmiClient({
    host: '127.0.0.1',
    port,
    username: 'daemon',
    secret: SECRET,
    logger: createLogger({ level: 'debug', destination }),
    backoff: { minMs: 10, maxMs: 40 },
    pingIntervalMs: 60_000,
    ...opts,
  });
  return client;
}

function record(c: AmiClient) {
  const log = { events: [] as AmiMessage[], connected: 0, disconnected: [] as string[], attempts: [] as Array<{ attempt: number; delayMs: number }>, loginFailed: [] as string[] };
  c.on('event', (m) => log.events.push(m));
  c.on('connected', () => log.connected++);
  c.on('disconnected', ({ reason }) => log.disconnected.push(reason));
  c.on('attempt', (a) => log.attempts.push(a));
  c.on('loginFailed', ({ message }) => log.loginFailed.push(message));
  return log;
}

const answer = (handler: ActionHandler): ActionHandler => async (conn, action) => {
  if (!standardAnswer(conn, action)) await handler(conn, action);
};

describe('AmiClient connection handling', () => {
  it('failed login: emits loginFailed, the server closes, retries after loginFailedDelayMs', async () => {
    const failed = loadTrace('C4', 'ami-failed-login');
    const [banner, refusal] = failed.entries;
    server = await FakeAmiServer.start(
      async (conn, action) => {
        if (server!.connections.indexOf(conn) === 0 && action.get('action') === 'Login') {
          await conn.write(recordedAnswer(failed, 'bad-1', action.get('actionid')!).raw);
          setTimeout(() => conn.socket.destroy(), 1); // Asterisk closes ~1 ms after the refusal
          return;
        }
        standardAnswer(conn, action);
      },
      (conn) => void conn.write(banner!.raw),
    );
    expect(refusal?.fields).toEqual({ Response: 'Error', ActionID: 'bad-1', Message: 'Authentication failed' });
    const log = record(newClient(server.port, { loginFailedDelayMs: 150, backoff: { minMs: 10, maxMs: 20 } }));
    client!.start();
    const first = await server.waitForConnections(1);
    await first.closed;
    const closedAt = Date.now();
    await until(() => client!.connected, 5_000, 'second login');
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(140);
    expect(log.loginFailed).toEqual(['Authentication failed']);
    expect(log.attempts).toEqual([{ attempt: 1, delayMs: 150 }]);
    expect(log.disconnected).toEqual([]); // never logged in on the refused socket
    expect(log.connected).toBe(1);
    expect(server.connections).toHaveLength(2);
    const refused = logLines.find((l) => l.msg === 'AMI login refused');
    expect(refused).toMatchObject({ level: 50, message: 'Authentication failed', username: 'daemon' });
  });

  it('reconnects with backoff after drops; one listener set per connection; no stale partial frame', async () => {
    server = await FakeAmiServer.start(
      answer(() => undefined),
      (conn) => void conn.write('Asterisk Call Manager/11.0.0\r\n'),
    );
    const log = record(newClient(server.port));
    client!.start();
    for (let n = 1; n <= 3; n++) {
      const conn = await server.waitForConnections(n);
      await until(() => log.connected === n, 5_000, `login ${n}`);
      await conn.write(`Event: Hello\r\nN: ${n}\r\n\r\n`);
      await until(() => log.events.length === n, 2_000, `event ${n}`);
      if (n < 3) {
        await conn.write('Event: Partial\r\nFoo: bar\r\nBaz: qu'); // cut mid-frame
        conn.socket.destroy();
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(log.events).toEqual([
      { event: 'Hello', n: '1' },
      { event: 'Hello', n: '2' },
      { event: 'Hello', n: '3' },
    ]);
    expect(log.connected).toBe(3);
    expect(log.disconnected).toHaveLength(2);
    expect(log.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    for (const a of log.attempts) expect(a.delayMs).toBeGreaterThanOrEqual(10);
    for (const a of log.attempts) expect(a.delayMs).toBeLessThanOrEqual(40);
    // each action is answered once, on the live connection only
    expect(field(await client!.action({ Action: 'Ping' }), 'ping')).toBe('Pong');
    expect(server.connections.map((c) => c.actions.filter((a) => a.get('action') === 'Ping').length)).toEqual([0, 0, 1]);
  });

  it('heartbeat: an unanswered Ping destroys the socket and the client reconnects', async () => {
    server = await FakeAmiServer.start(async (conn, action) => {
      if (action.get('action') === 'Ping' && server!.connections.indexOf(conn) === 0) return; // silent
      standardAnswer(conn, action);
    });
    const log = record(newClient(server.port, { pingIntervalMs: 30, pingTimeoutMs: 60 }));
    client!.start();
    const first = await server.waitForConnections(1);
    await first.closed; // closed by the client
    await until(() => log.connected === 2, 5_000, 'second login');
    expect(log.disconnected).toEqual(['Ping unanswered within 60 ms']);
    const second = server.connections[1] as FakeAmiConnection;
    await until(() => second.actions.filter((a) => a.get('action') === 'Ping').length >= 3, 2_000, 'pings answered');
    expect(server.connections).toHaveLength(2);
    expect(client!.connected).toBe(true);
  });

  it('retries an unreachable port with growing attempts and logs each', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const log = record(newClient(port, { backoff: { minMs: 5, maxMs: 20 } }));
    client!.start();
    await until(() => log.attempts.length >= 4, 5_000, 'four attempts');
    expect(log.attempts.slice(0, 4).map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    for (const a of log.attempts) expect(a.delayMs).toBeGreaterThanOrEqual(5);
    for (const a of log.attempts) expect(a.delayMs).toBeLessThanOrEqual(20);
    const retryLogs = logLines.filter((l) => String(l.msg).startsWith('AMI unreachable, retrying in '));
    expect(retryLogs.length).toBeGreaterThanOrEqual(4);
    expect(retryLogs[0]).toMatchObject({ level: 40, reason: 'ECONNREFUSED', msg: `AMI unreachable, retrying in ${log.attempts[0]!.delayMs} ms` });
    expect(log.connected).toBe(0);
  });

  it('a Login that gets no answer times out and the client retries', async () => {
    server = await FakeAmiServer.start(async (conn, action) => {
      if (action.get('action') === 'Login' && server!.connections.indexOf(conn) === 0) return;
      standardAnswer(conn, action);
    });
    const log = record(newClient(server.port, { actionTimeoutMs: 40 }));
    client!.start();
    await until(() => log.connected === 1, 5_000, 'login on the second connection');
    expect(server.connections).toHaveLength(2);
    expect(log.attempts).toHaveLength(1);
  });

  it('logs the banner version at connect', async () => {
    server = await FakeAmiServer.start(answer(() => undefined));
    const log = record(newClient(server.port));
    client!.start();
    await until(() => log.connected === 1, 5_000, 'login');
    expect(logLines.find((l) => l.msg === 'AMI connected')).toMatchObject({ banner: 'Asterisk Call Manager/11.0.0', version: '11.0.0' });
  });

  it('malformed frames (no colon, 1 MB line, binary junk) are skipped; the events around them arrive', async () => {
    server = await FakeAmiServer.start(answer(() => undefined));
    const log = record(newClient(server.port));
    client!.start();
    await until(() => log.connected === 1, 5_000, 'login');
    const conn = server.connections[0]!;
    const rnd = seeded(99);
    const junk = Buffer.from(Array.from({ length: 500 }, () => Math.floor(rnd() * 256)));
    await conn.write('Event: Before\r\nN: 1\r\n\r\nthis line has no colon\r\n\r\nEvent: Mixed\r\nA: 1\r\nno colon\r\nB: 2\r\n\r\n');
    await conn.writeChunked(`${'z'.repeat(1024 * 1024)}\r\nEvent: AfterLong\r\n\r\n`, { kind: 'fixed', size: 65_536 });
    await conn.writeChunked(Buffer.concat([junk, Buffer.from('Event: AfterJunk\r\nN: 2\r\n\r\n'), junk, Buffer.from('\r\n\r\nEvent: Last\r\n\r\n')]), {
      kind: 'random',
      seed: 5,
      max: 50,
    });
    await until(() => log.events.some((m) => m.event === 'Last'), 5_000, 'last event');
    expect(log.events).toEqual([
      { event: 'Before', n: '1' },
      { event: 'Mixed', a: '1', b: '2' },
      { event: 'AfterLong' },
      { event: 'AfterJunk', n: '2' },
      { event: 'Last' },
    ]);
    expect(field(await client!.action({ Action: 'Ping' }), 'ping')).toBe('Pong');
    expect(log.disconnected).toEqual([]);
    expect(server.connections).toHaveLength(1);
    const skipped = logLines.filter((l) => l.msg === 'AMI: skipped malformed input').map((l) => l.reason);
    expect(skipped).toEqual(expect.arrayContaining(['line outside a frame', 'line without a colon', 'line too long']));
  });
});
