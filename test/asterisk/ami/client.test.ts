import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { AmiClient, AmiError, field, type AmiClientOptions, type AmiMessage } from '../../../src/asterisk/ami/index.js';
import { FakeAmiServer, standardAnswer, until, type ActionHandler, type FakeAmiConnection } from './fake-ami.js';
import { expected, loadTrace, recordedAnswer } from './traces.js';

let server: FakeAmiServer | undefined;
let client: AmiClient | undefined;

afterEach(async () => {
  await client?.stop();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function connect(handler: ActionHandler, opts: Partial<AmiClientOptions> = {}): Promise<FakeAmiConnection> {
  server = await FakeAmiServer.start(async (conn, action) => {
    if (!standardAnswer(conn, action)) await handler(conn, action);
  });
  client = new AmiClient({
    host: '127.0.0.1',
    port: server.port,
    username: 'daemon',
    secret: 'amisecret',
    logger: silentLogger(),
    backoff: { minMs: 10, maxMs: 40 },
    pingIntervalMs: 60_000,
    ...opts,
  });
  client.start();
  await until(() => client!.connected, 5_000, 'login');
  return server.connections[0]!;
}

async function rejection(p: Promise<unknown>): Promise<AmiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AmiError);
  return err as AmiError;
}

const echo: ActionHandler = (conn, action) =>
  void conn.write(`Response: Success\r\nActionID: ${action.get('actionid')}\r\nMessage: echo ${action.get('tag')}\r\n\r\n`);

describe('AmiClient actions', () => {
  it('logs in with the configured Events value and ActionID cb-1', async () => {
    const conn = await connect(() => undefined, { events: 'call,system' });
    expect(conn.actions[0]!.raw).toBe(
      'Action: Login\r\nActionID: cb-1\r\nUsername: daemon\r\nSecret: amisecret\r\nEvents: call,system\r\n\r\n',
    );
  });

  it('gives two actions sent in the same millisecond distinct ActionIDs and their own responses', async () => {
    const held: Array<() => void> = [];
    const conn = await connect((c, action) => void held.push(() => echo(c, action)));
    const first = client!.action({ Action: 'Test', Tag: 'first' });
    const second = client!.action({ Action: 'Test', Tag: 'second' });
    await until(() => held.length === 2, 2_000, 'both actions');
    held[1]!(); // answer in reverse order
    held[0]!();
    const [a, b] = await Promise.all([first, second]);
    expect(field(a, 'message')).toBe('echo first');
    expect(field(b, 'message')).toBe('echo second');
    const ids = conn.actions.slice(1).map((x) => x.get('actionid'));
    expect(ids).toEqual(['cb-2', 'cb-3']);
    expect(field(a, 'actionid')).toBe('cb-2');
    expect(field(b, 'actionid')).toBe('cb-3');
  });

  it('writes Action first, then ActionID, then the fields in order, arrays as repeated headers', async () => {
    const conn = await connect(echo);
    await client!.action({ Action: 'Originate', Channel: 'PJSIP/1000', Priority: 1, Variable: ['ORDER_ID=15', 'EXTERNAL_KEY=24'] });
    expect(conn.actions[1]!.raw).toBe(
      'Action: Originate\r\nActionID: cb-2\r\nChannel: PJSIP/1000\r\nPriority: 1\r\nVariable: ORDER_ID=15\r\nVariable: EXTERNAL_KEY=24\r\n\r\n',
    );
  });

  it('rejects NOT_CONNECTED at once before start and writes nothing', async () => {
    server = await FakeAmiServer.start(() => undefined);
    client = new AmiClient({ host: '127.0.0.1', port: server.port, username: 'u', secret: 's', logger: silentLogger() });
    const order: string[] = [];
    const p = client.action({ Action: 'Ping' }).catch((e: AmiError) => void order.push(e.code));
    await new Promise((r) => setImmediate(r));
    order.push('next tick');
    await p;
    expect(order).toEqual(['NOT_CONNECTED', 'next tick']);
    expect(server.connections).toHaveLength(0);
  });

  it('rejects TIMEOUT when no answer comes, ignores the late answer and late list items', async () => {
    const late: Array<() => void> = [];
    const conn = await connect((c, action) => {
      const id = action.get('actionid');
      late.push(() =>
        void c.write(
          action.get('action') === 'Slow'
            ? `Response: Success\r\nActionID: ${id}\r\n\r\n`
            : `Response: Success\r\nActionID: ${id}\r\nEventList: start\r\n\r\nEvent: Item\r\nActionID: ${id}\r\n\r\n` +
                `Event: ItemsComplete\r\nActionID: ${id}\r\nEventList: Complete\r\n\r\nEvent: Marker\r\n\r\n`,
        ),
      );
    });
    const events: AmiMessage[] = [];
    client!.on('event', (m) => events.push(m));
    expect((await rejection(client!.action({ Action: 'Slow' }, { timeoutMs: 30 }))).code).toBe('TIMEOUT');
    expect((await rejection(client!.listAction({ Action: 'SlowList' }, { timeoutMs: 30 }))).code).toBe('TIMEOUT');
    for (const f of late) f();
    await until(() => events.length > 0, 2_000, 'marker');
    expect(events).toEqual([{ event: 'Marker' }]);
    expect(field(await client!.action({ Action: 'Ping' }), 'ping')).toBe('Pong');
    expect(client!.connected).toBe(true);
    expect(conn.actions.map((a) => a.get('action'))).toEqual(['Login', 'Slow', 'SlowList', 'Ping']);
  });

  it('rejects INVALID_VALUE for CR/LF in a value or key and sends nothing', async () => {
    const conn = await connect(echo);
    const bad: Array<Record<string, string | number | readonly string[]>> = [
      { Action: 'Originate', Channel: 'PJSIP/1000\r\nAction: Hangup' },
      { Action: 'Originate', Channel: 'PJSIP/1000\nAction: Hangup' },
      { Action: 'Originate', Variable: ['A=1', 'B=2\rAction: Hangup'] },
      { Action: 'Originate', 'X\r\nAction': 'Hangup' },
      { Action: 'Ping\r\n\r\nAction: Hangup' },
      { Action: 'Ping', ActionID: 'mine' },
      { Channel: 'no action' },
    ];
    for (const fields of bad) expect((await rejection(client!.action(fields))).code).toBe('INVALID_VALUE');
    expect((await rejection(client!.command('core show channels\r\nAction: Hangup'))).code).toBe('INVALID_VALUE');
    await client!.action({ Action: 'Ping' });
    expect(conn.actions.map((a) => a.get('action'))).toEqual(['Login', 'Ping']);
    expect(conn.received).not.toContain('Hangup');
  });

  it('rejects ACTION_FAILED with the recorded error response', async () => {
    const C4 = loadTrace('C4');
    await connect((c, action) => void c.write(recordedAnswer(C4, 'bad-endpoint', action.get('actionid')!).raw));
    const err = await rejection(client!.action({ Action: 'PJSIPShowEndpoint', Endpoint: '9999' }));
    expect(err.code).toBe('ACTION_FAILED');
    const recorded = C4.entries.find((e) => e.fields?.ActionID === 'bad-endpoint')!;
    expect(recorded.fields?.Message).toBe('Unable to retrieve endpoint 9999\n'); // a bare LF here too
    expect(err.response).toEqual(expected(recorded, { from: 'bad-endpoint', to: 'cb-2' }));
    expect(err.message).toBe('PJSIPShowEndpoint: Unable to retrieve endpoint 9999');
  });

  it('rejects DISCONNECTED when the socket dies while waiting', async () => {
    await connect((c) => void c.socket.destroy());
    expect((await rejection(client!.action({ Action: 'CoreStatus' }))).code).toBe('DISCONNECTED');
    expect(client!.connected).toBe(false);
    expect((await rejection(client!.action({ Action: 'Ping' }))).code).toBe('NOT_CONNECTED');
  });

  it('command() returns Output lines as one string, whatever their number', async () => {
    const outputs: Record<string, string> = {
      many: 'Output: Channel              Location\r\nOutput: \r\nOutput: 0 active channels\r\n',
      one: 'Output: Dialplan reloaded.\r\n',
      none: '',
    };
    await connect((c, action) => {
      const body = outputs[action.get('command')!] ?? '';
      void c.write(`Response: Success\r\nActionID: ${action.get('actionid')}\r\nMessage: Command output follows\r\n${body}\r\n`);
    });
    expect(await client!.command('many')).toBe('Channel              Location\n\n0 active channels');
    expect(await client!.command('one')).toBe('Dialplan reloaded.');
    expect(await client!.command('none')).toBe('');
  });

  it('stop(): rejects pending actions STOPPED, logs off, never reconnects', async () => {
    const conn = await connect(() => undefined);
    const disconnected: Array<{ reason: string }> = [];
    client!.on('disconnected', (d) => disconnected.push(d));
    const pending = client!.action({ Action: 'NeverAnswered' });
    await conn.waitForAction('NeverAnswered');
    const stopping = client!.stop();
    expect((await rejection(pending)).code).toBe('STOPPED');
    await stopping;
    expect(conn.actions.map((a) => a.get('action'))).toEqual(['Login', 'NeverAnswered', 'Logoff']);
    await conn.closed;
    expect(disconnected).toEqual([{ reason: 'stopped' }]);
    expect(client!.connected).toBe(false);
    expect((await rejection(client!.action({ Action: 'Ping' }))).code).toBe('STOPPED');
    client!.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(server!.connections).toHaveLength(1);
  });

  it('a throwing listener does not break the connection', async () => {
    const conn = await connect(() => undefined);
    let seen = 0;
    client!.on('event', () => {
      seen++;
      throw new Error('listener bug');
    });
    void conn.write('Event: One\r\n\r\nEvent: Two\r\n\r\n');
    await until(() => seen === 2, 2_000, 'both events');
    expect(field(await client!.action({ Action: 'Ping' }), 'response')).toBe('Success');
  });
});
