import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARI_PASSWORD, ARI_USER, RawAmi, startSim, type Running } from './helpers.js';
import { connectAri, EventLog, type AriClient } from './ari-client.js';

const fixtureEvents = (p: string): Array<Record<string, any>> =>
  readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event?: Record<string, any> })
    .flatMap((l) => (l.event ? [l.event] : []));

describe('simulated ARI with the real ari-client', () => {
  let run: Running;
  let client: AriClient;
  let log: EventLog;

  beforeEach(async () => {
    run = await startSim({ timeScale: 0.02 });
    client = await connectAri(run.addrs.ariUrl, ARI_USER, ARI_PASSWORD);
    log = new EventLog(client);
    await client.start('callbridge');
  });
  afterEach(async () => {
    client.stop();
    await run.close();
  });

  const auth = `Basic ${Buffer.from(`${ARI_USER}:${ARI_PASSWORD}`).toString('base64')}`;
  const rest = (method: string, path: string): Promise<Response> => fetch(`${run.addrs.ariUrl}/ari${path}`, { method, headers: { authorization: auth } });

  it('lists the cast endpoints', async () => {
    const eps = await client.endpoints.list!();
    expect(eps.map((e: Record<string, unknown>) => `${e.technology}/${e.resource} ${e.state}`)).toEqual([
      'PJSIP/101 online', 'PJSIP/102 online', 'PJSIP/103 online', 'PJSIP/104 online', 'PJSIP/105 online', 'PJSIP/106 offline',
      'PJSIP/107 online', 'PJSIP/108 online',
    ]);
    const one = await client.endpoints.get!({ tech: 'PJSIP', resource: '101' });
    expect(one).toMatchObject({ technology: 'PJSIP', resource: '101', state: 'online', channel_ids: [] });
    const missing = await rest('GET', '/endpoints/PJSIP/9999');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'Endpoint not found' });
  });

  it('originates an operator leg: 200 channel Down, then the B1 sequence up to StasisStart', async () => {
    const ch = await client.channels.originate!({
      endpoint: 'PJSIP/101', app: 'callbridge', appArgs: 'operator,15,12', callerId: '"380639920000" <380639920000>', timeout: 30,
      variables: { CALLBRIDGE_CALL_ID: '12' },
    });
    expect(ch.state).toBe('Down');
    expect(ch.name).toMatch(/^PJSIP\/101-[0-9a-f]{8}$/);
    expect(ch.id).toMatch(/^\d{10}\.\d+$/);
    const start = await log.waitFor((e) => e.type === 'StasisStart');
    expect(start.args).toEqual(['operator', '15', '12']);
    expect(start.channel.dialplan).toMatchObject({ app_name: 'Stasis', app_data: 'callbridge,operator,15,12' });
    const real = fixtureEvents('B1/ari-events.jsonl');
    const seq = (events: Array<Record<string, any>>): string[] => events.slice(0, 7).map((e) => `${e.type} ${e.dialstatus ?? e.channel?.state ?? ''}`);
    expect(seq(log.of(ch.id))).toEqual(seq(real));
    expect(Object.keys(start)).toEqual(Object.keys(real[6]!));
    expect(Object.keys(start.channel)).toEqual(Object.keys(real[6]!.channel));
    const listed = await client.channels.list!();
    expect(listed.map((c: Record<string, unknown>) => c.id)).toEqual([ch.id]);
    expect((await client.channels.getChannelVar!({ channelId: ch.id, variable: 'CALLBRIDGE_CALL_ID' })).value).toBe('12');
  });

  it('runs a whole call: bridge, client leg, recording, remote BYE, DELETE, bridge destroyed', async () => {
    const amiWatch = await RawAmi.connect(run.addrs.amiPort);
    await amiWatch.login();
    const op = await client.channels.originate!({ endpoint: 'PJSIP/102', app: 'callbridge', appArgs: 'operator', callerId: '380639920001' });
    await log.waitFor((e) => e.type === 'StasisStart' && e.channel.id === op.id);
    const bridge = await client.bridges.create!({ type: 'mixing', name: 'order-15' });
    await client.bridges.addChannel!({ bridgeId: bridge.id, channel: op.id });
    const cl = await client.channels.originate!({
      endpoint: 'Local/380639920001@from-internal', app: 'callbridge', appArgs: 'client', callerId: '102', originator: op.id, timeout: 30,
    });
    expect(cl.name).toMatch(/^Local\/380639920001@from-internal-[0-9a-f]{8};1$/);
    await log.waitFor((e) => e.type === 'StasisStart' && e.channel.id === cl.id);
    await client.bridges.addChannel!({ bridgeId: bridge.id, channel: cl.id });
    const entered = await log.waitFor((e) => e.type === 'ChannelEnteredBridge' && e.channel.id === cl.id);
    expect(entered.bridge.channels).toEqual([op.id, cl.id]);
    const rec = await client.bridges.record!({ bridgeId: bridge.id, name: 'order-15-call-12', format: 'wav', ifExists: 'overwrite', beep: false });
    expect(rec).toMatchObject({ name: 'order-15-call-12', format: 'wav', state: 'queued', target_uri: `bridge:${bridge.id}` });
    await log.waitFor((e) => e.type === 'RecordingStarted');

    // the client (last digit 1) hangs up after 3 s of talk
    const gone = await log.waitFor((e) => e.type === 'ChannelDestroyed' && e.channel.id === cl.id);
    expect(gone.cause).toBe(16);
    const tail = log.of(cl.id).filter((e) => e.type !== 'ChannelVarset').map((e) => e.type);
    expect(tail.slice(tail.indexOf('ChannelHangupRequest'))).toEqual(['ChannelHangupRequest', 'ChannelLeftBridge', 'StasisEnd', 'ChannelDestroyed']);
    expect(log.of(cl.id).find((e) => e.type === 'ChannelHangupRequest')!.cause).toBeUndefined();

    await client.channels.hangup!({ channelId: op.id });
    const opGone = await log.waitFor((e) => e.type === 'ChannelDestroyed' && e.channel.id === op.id);
    expect(opGone.cause).toBe(16);
    const hup = log.of(op.id).find((e) => e.type === 'ChannelHangupRequest')!;
    expect([hup.cause, hup.soft]).toEqual([32, true]);
    const finished = await log.waitFor((e) => e.type === 'RecordingFinished');
    expect(finished.recording).toMatchObject({ name: 'order-15-call-12', state: 'done' });
    expect(finished.recording.duration).toBeGreaterThanOrEqual(2);
    expect(finished.recording.duration).toBeLessThanOrEqual(6);
    expect(existsSync(join(run.dir, 'order-15-call-12.wav'))).toBe(true);
    expect(await client.recordings.getStored!({ recordingName: 'order-15-call-12' })).toMatchObject({ name: 'order-15-call-12', format: 'wav' });
    const file = await rest('GET', '/recordings/stored/order-15-call-12/file');
    expect(Buffer.from(await file.arrayBuffer()).subarray(0, 4).toString()).toBe('RIFF');

    await client.bridges.destroy!({ bridgeId: bridge.id });
    await log.waitFor((e) => e.type === 'BridgeDestroyed' && e.bridge.id === bridge.id);
    // the same call on AMI, in parallel
    await amiWatch.waitFor((f) => f.get('Event') === 'BridgeDestroy');
    const amiChannels = amiWatch.frames().filter((f) => f.get('Event') === 'Newchannel').map((f) => f.get('Linkedid'));
    expect(new Set(amiChannels)).toEqual(new Set([op.id]));
    amiWatch.close();
  });

  it.each([
    ['PJSIP/107', ['Dial ', 'ChannelHangupRequest 17', 'Dial BUSY', 'ChannelDestroyed 17']],
    ['Local/380639920008@from-internal', ['Dial ', 'ChannelHangupRequest 34', 'Dial CONGESTION', 'ChannelDestroyed 34']],
    ['PJSIP/108', ['Dial ', 'ChannelStateChange ', 'Dial RINGING', 'ChannelDestroyed 19']],
  ])('%s fails after the 200 with the recorded events', async (endpoint, expected) => {
    const ch = await client.channels.originate!({ endpoint, app: 'callbridge', timeout: 1 });
    await log.waitFor((e) => e.type === 'ChannelDestroyed' && e.channel.id === ch.id);
    expect(log.of(ch.id).map((e) => `${e.type} ${e.dialstatus ?? e.cause ?? ''}`)).toEqual(expected);
  });

  it('fails an originate to an offline operator with HTTP 500 "Allocation failed"', async () => {
    await expect(client.channels.originate!({ endpoint: 'PJSIP/106', app: 'callbridge' })).rejects.toThrow('Allocation failed');
    const res = await fetch(`${run.addrs.ariUrl}/ari/channels?endpoint=PJSIP%2F106&app=callbridge`, { method: 'POST', headers: { authorization: auth } });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'Allocation failed' });
    expect(await client.channels.list!()).toEqual([]);
  });

  it('DELETE of a ringing channel: soft hangup request, Dial NOANSWER, destroyed with cause 16; 404 once gone', async () => {
    const ch = await client.channels.originate!({ endpoint: 'PJSIP/108', app: 'callbridge' });
    await log.waitFor((e) => e.type === 'Dial' && e.dialstatus === 'RINGING');
    const del = await rest('DELETE', `/channels/${ch.id}`);
    expect(del.status).toBe(204);
    await log.waitFor((e) => e.type === 'ChannelDestroyed');
    expect(log.of(ch.id).slice(-3).map((e) => `${e.type} ${e.dialstatus ?? e.cause ?? ''}`)).toEqual(['ChannelHangupRequest 32', 'Dial NOANSWER', 'ChannelDestroyed 16']);
    const again = await rest('DELETE', `/channels/${ch.id}`);
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ message: 'Channel not found' });
  });

  it('answers 401 {"message":"Authentication required"} to wrong credentials, on REST and on the websocket', async () => {
    const bad = await fetch(`${run.addrs.ariUrl}/ari/endpoints`, { headers: { authorization: `Basic ${Buffer.from('callbridge:nope').toString('base64')}` } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ message: 'Authentication required' });
    const none = await fetch(`${run.addrs.ariUrl}/ari/api-docs/resources.json`);
    expect(none.status).toBe(401);
    const { WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${run.addrs.ariUrl.replace('http', 'ws')}/ari/events?app=callbridge&api_key=callbridge:nope`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('delivers presence to an app subscribed to endpoint:PJSIP, in the order and shape of C1', async () => {
    const sub = await client.applications.subscribe!({ applicationName: 'callbridge', eventSource: 'endpoint:PJSIP' });
    expect(sub.endpoint_ids).toEqual(['PJSIP']);
    run.sim.unregister('103');
    run.sim.register('103');
    await log.waitFor((e) => e.type === 'ContactStatusChange' && e.contact_info.contact_status === 'Reachable');
    const got = log.events.map((e) => `${e.type} ${e.endpoint.state} ${e.contact_info?.contact_status ?? e.peer?.peer_status ?? ''}`.trim());
    const real = fixtureEvents('C1/ari-events.jsonl');
    const want = [...real.slice(4), ...real.slice(0, 4)].map((e) => `${e.type} ${e.endpoint.state} ${e.contact_info?.contact_status ?? e.peer?.peer_status ?? ''}`.trim());
    expect(got).toEqual(want);
    for (const e of log.events) expect(Object.keys(e)).toEqual(Object.keys(real.find((r) => r.type === e.type)!));
    expect(log.events[0]!.endpoint.resource).toBe('103');
  });

  it('plays a ring tone into a bridge until the playback is stopped; DELETE of a bridge empties it', async () => {
    const op = await client.channels.originate!({ endpoint: 'PJSIP/105', app: 'callbridge' });
    await log.waitFor((e) => e.type === 'StasisStart');
    const bridge = await client.bridges.create!({ type: 'mixing', name: 'b' });
    await client.bridges.addChannel!({ bridgeId: bridge.id, channel: op.id });
    const pb = await client.bridges.play!({ bridgeId: bridge.id, media: 'tone:ring' });
    expect(pb).toMatchObject({ media_uri: 'tone:ring', target_uri: `bridge:${bridge.id}`, state: 'queued' });
    expect((await log.waitFor((e) => e.type === 'PlaybackStarted')).playback.id).toBe(pb.id);
    expect((await rest('DELETE', `/playbacks/${pb.id}`)).status).toBe(204);
    expect((await log.waitFor((e) => e.type === 'PlaybackFinished')).playback.state).toBe('done');
    expect((await rest('DELETE', `/playbacks/${pb.id}`)).status).toBe(404);
    const app = await client.applications.get!({ applicationName: 'callbridge' });
    expect(app).toMatchObject({ name: 'callbridge', channel_ids: [op.id], bridge_ids: [bridge.id] });
    await client.bridges.destroy!({ bridgeId: bridge.id });
    const left = await log.waitFor((e) => e.type === 'ChannelLeftBridge');
    expect(left.bridge.channels).toEqual([]);
    await log.waitFor((e) => e.type === 'BridgeDestroyed');
    expect((await rest('GET', `/bridges/${bridge.id}`)).status).toBe(404);
    // the operator channel is still up, in Stasis, and can be hung up
    expect((await client.channels.get!({ channelId: op.id })).state).toBe('Up');
    await client.channels.hangup!({ channelId: op.id, reason: 'normal' });
    await log.waitFor((e) => e.type === 'ChannelDestroyed');
  });

  it('serves generated swagger 1.1 documents that name the operations after Asterisk', async () => {
    const listing = await (await rest('GET', '/api-docs/resources.json')).json() as Record<string, any>;
    expect(listing).toMatchObject({ swaggerVersion: '1.1', basePath: `${run.addrs.ariUrl}/ari` });
    const channels = await (await rest('GET', '/api-docs/channels.json')).json() as Record<string, any>;
    expect(channels.resourcePath).toBe('/api-docs/channels.{format}');
    const originate = channels.apis.find((a: any) => a.path === '/channels').operations.find((o: any) => o.httpMethod === 'POST');
    expect(originate.nickname).toBe('originate');
    expect(originate.parameters.map((p: any) => p.name)).toContain('appArgs');
    expect(typeof client.bridges.record).toBe('function');
    expect(typeof client.applications.subscribe).toBe('function');
  });
});
