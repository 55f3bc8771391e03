/**
 * What happened while the daemon could not see a call is taken from the PBX,
 * never guessed: the link is cut (and kept down) at one moment of a
 * click-to-call, the call goes on in the simulated Asterisk as the F traces
 * show a real one does, and the stored chain, leg times, billsec and
 * recording must be those of the call that really happened.
 *
 * Time scale 0.3: the operator answers 0.3 s after ringing, the client 0.3 s
 * after being dialled and (number ending in 0) hangs up after 0.9 s of talk.
 */
import { existsSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { calls, callStatuses, recordings } from '../../src/db/schema.js';
import { FINAL_STATUSES, type CallStatus } from '../../src/calls/chain.js';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SUCCESS = ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'];
const TALK_MS = 900;

const rowOf = (h: Harness, id: number) => h.daemon.db.select().from(calls).where(eq(calls.id, id)).get()!;
const chainOf = (h: Harness, id: number) => h.daemon.db.select().from(callStatuses).where(eq(callStatuses.callId, id)).all();
const recordingsOf = (h: Harness, id: number) => h.daemon.db.select().from(recordings).where(eq(recordings.callId, id)).all();

async function place(h: Harness, sip: string, phone = '380639920000'): Promise<number> {
  const res = await h.api(`/api/makeCall.json?sip=${sip}&phone=${phone}&order_id=rec${sip}`);
  expect(res.status).toBe(200);
  return res.body.call_id as number;
}

/** Cuts the link and keeps it down for `downMs` (as POST /simulator/disconnect?link=…&down_ms=… does); answers when it may come back. */
async function cut(h: Harness, link: 'ami' | 'ari', downMs: number): Promise<number> {
  expect(h.sim.disconnect(link, downMs)).toBe(1);
  return Date.now() + downMs;
}

/** One final status, the chain in order, leg times in order, billsec from the real answer to the real end. */
function expectTalked(h: Harness, id: number, opts: { by: 'client' | 'operator'; endedBefore?: number; talkMs?: number }) {
  const chain = chainOf(h, id);
  expect(chain.map((s) => s.status)).toEqual(SUCCESS);
  expect(chain.filter((s) => FINAL_STATUSES.has(s.status as CallStatus))).toHaveLength(1);
  expect(chain.at(-1)!.details).toMatchObject({ by: opts.by });
  const r = rowOf(h, id);
  expect(r.final).toBe(true);
  expect(r.operatorAnswerAt!).toBeLessThanOrEqual(r.clientRingAt!);
  expect(r.clientRingAt!).toBeLessThanOrEqual(r.clientAnswerAt!);
  const talked = r.endedAt! - r.clientAnswerAt!;
  // the talk as it happened (0.9 s), not until the daemon noticed
  const talk = opts.talkMs ?? TALK_MS;
  expect(talked).toBeGreaterThan(talk - 200);
  expect(talked).toBeLessThan(talk + 400);
  expect(r.billsec).toBe(Math.round(talked / 1000));
  if (opts.endedBefore !== undefined) expect(r.endedAt!).toBeLessThan(opts.endedBefore);
  // each status at its own time, in order
  const times = chain.map((s) => s.time);
  expect([...times].sort((a, b) => a - b)).toEqual(times);
}

async function expectRecording(h: Harness, id: number) {
  const rec = await waitFor('the recording row', () => recordingsOf(h, id).find((r) => r.endedAt !== null));
  expect(recordingsOf(h, id)).toHaveLength(1);
  expect(existsSync(rec.file)).toBe(true);
  expect(rec.size).toBe(statSync(rec.file).size);
  expect(rec.size!).toBeGreaterThan(44);
}

/** Cuts the link (kept down 800 ms) as Asterisk makes the channel `prefix`…, before it answers the request; answers whether it did. */
function cutAsChannelIsMade(h: Harness, link: 'ari', prefix: string): () => boolean {
  let armed = true;
  const off = h.sim.onPbxEvent((e) => {
    if (armed && e.type === 'Newchannel' && e.ch.name.startsWith(prefix)) {
      armed = false;
      off();
      h.sim.disconnect(link, 800);
    }
  });
  return () => !armed;
}

/** Cuts the AMI link (kept down 800 ms) as the action comes in: Asterisk carries it out, its answer is lost; answers whether it did. */
function cutOnAmiAction(h: Harness, action: string): () => boolean {
  let armed = true;
  h.sim.on('amiAction', (a: { fields: Record<string, string> }) => {
    if (armed && a.fields.Action === action) {
      armed = false;
      h.sim.disconnect('ami', 800);
    }
  });
  return () => !armed;
}

describe('AMI control: the AMI link cut and kept down', () => {
  it('the client answers, talks and hangs up during the gap (F4): the outcome comes from the PBX facts', async () => {
    h = await startHarness({ control: 'ami', timeScale: 0.3 });
    const id = await place(h, '101');
    await waitFor('client ringing', () => rowOf(h!, id).status === 'CLIENT_CALLTO');
    const back = await cut(h, 'ami', 2000);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    expect(Date.now()).toBeGreaterThanOrEqual(back - 50);
    expectTalked(h, id, { by: 'client', endedBefore: back });
    await expectRecording(h, id);
  });

  it('the client answers during the gap and the call is still up after it (F4b): followed on to one FINISH', async () => {
    h = await startHarness({ control: 'ami', timeScale: 0.3 });
    const id = await place(h, '102');
    await waitFor('client ringing', () => rowOf(h!, id).status === 'CLIENT_CALLTO');
    const back = await cut(h, 'ami', 500);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    expectTalked(h, id, { by: 'client' });
    expect(rowOf(h, id).clientAnswerAt!).toBeLessThan(back);
    await expectRecording(h, id);
  });

  it('the operator answers during the gap: the call goes on and ends once, as it really went', async () => {
    h = await startHarness({ control: 'ami', timeScale: 0.3 });
    const id = await place(h, '103');
    await waitFor('operator ringing', () => rowOf(h!, id).status === 'OPERATOR_CALLTO');
    const back = await cut(h, 'ami', 450);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    expectTalked(h, id, { by: 'client' });
    expect(rowOf(h, id).operatorAnswerAt!).toBeLessThan(back);
    await expectRecording(h, id);
  });

  it("the operator's phone rings out during the gap: OPERATOR_NOANSWER from the cause the PBX kept, not ERROR", async () => {
    h = await startHarness({ control: 'ami', timeScale: 0.3, env: { CALLBRIDGE_OPERATOR_RING_TIMEOUT: '3' } });
    const id = await place(h, '108');
    await waitFor('operator ringing', () => rowOf(h!, id).status === 'OPERATOR_CALLTO');
    const back = await cut(h, 'ami', 2000);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    const chain = chainOf(h, id);
    expect(chain.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_NOANSWER']);
    expect(chain.at(-1)!.details).toMatchObject({ cause: 19 });
    // at the moment the phone stopped ringing, not when the link came back
    expect(rowOf(h, id).endedAt!).toBeLessThan(back);
  });

  it("the Originate carried out but its answer lost with the link, the operator busy: OPERATOR_BUSY from the PBX, not ERROR", async () => {
    h = await startHarness({ control: 'ami', timeScale: 0.3 });
    const didCut = cutOnAmiAction(h, 'Originate');
    const id = await place(h, '107');
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    expect(didCut()).toBe(true);
    const chain = chainOf(h, id);
    expect(chain.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_BUSY']);
    expect(chain.at(-1)!.details).toMatchObject({ cause: 17 });
  });

  it("the Originate carried out but its answer lost with the link, the operator answering: the call goes through", async () => {
    h = await startHarness({ control: 'ami', timeScale: 0.3 });
    const didCut = cutOnAmiAction(h, 'Originate');
    const id = await place(h, '103');
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    expect(didCut()).toBe(true);
    expectTalked(h, id, { by: 'client' });
    await expectRecording(h, id);
  });

  it('a client who never answers leaves no recording file (the shipped hangup handler removes it)', async () => {
    h = await startHarness({ control: 'ami', timeScale: 0.3 });
    const id = await place(h, '104', '380639920005');
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    expect(chainOf(h, id).map((s) => s.status).at(-1)).toBe('CLIENT_BUSY');
    expect(recordingsOf(h, id)).toHaveLength(0);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(`${h.dir}/recordings`).filter((f) => f.includes(`-call-${id}-`))).toEqual([]);
  });

  it('the daemon is down while the call ends: restarted, it takes billsec and end time from the facts', async () => {
    h = await startHarness({ control: 'ami', timeScale: 0.3 });
    const id = await place(h, '105');
    await waitFor('talking and recording', () => rowOf(h!, id).status === 'CLIENT_PICKUP' && recordingsOf(h!, id).length === 1, 8000);
    await h.daemon.stop();
    await new Promise((r) => setTimeout(r, 1500));
    const restartedAt = Date.now();
    await h.restart();
    await waitFor('final', () => rowOf(h!, id).final, 5000);
    expectTalked(h, id, { by: 'client', endedBefore: restartedAt });
    await expectRecording(h, id);
  });
});

describe('ARI control: the ARI link cut and kept down (the AMI link is the second witness)', () => {
  // the client's channel exists on the PBX (its originate answered), not only CLIENT_CALLTO stored
  const clientDialled = (h: Harness) => h.sim.channelNames().some((n) => n.startsWith('Local/'));
  const noChannelsLeft = (h: Harness) => waitFor('no channels left', () => h.sim.channelNames().length === 0, 5000);

  it('the client hangs up during the gap (F2): FINISH at the real end, the operator left alone is hung up', async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3, logLevel: process.env.DEBUG_TEST ? 'debug' : undefined });
    const id = await place(h, '101');
    // as F2: bridged and recording, then the websocket goes
    await waitFor('talking and recording', () => rowOf(h!, id).status === 'CLIENT_PICKUP' && recordingsOf(h!, id).length === 1, 8000);
    const back = await cut(h, 'ari', 1500);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    expectTalked(h, id, { by: 'client', endedBefore: back });
    await noChannelsLeft(h);
    await expectRecording(h, id);
  });

  it('the operator answers during the gap: the leg waits in [callbridge-ari] and the call goes through', async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3 });
    const id = await place(h, '102');
    await waitFor('operator ringing', () => rowOf(h!, id).status === 'OPERATOR_CALLTO');
    const back = await cut(h, 'ari', 800);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    expectTalked(h, id, { by: 'client' });
    // answered when it really did, not when the daemon came back
    expect(rowOf(h, id).operatorAnswerAt!).toBeLessThan(back);
    await expectRecording(h, id);
    await noChannelsLeft(h);
  });

  it('with both links cut, the operator answers and hangs up while waiting in [callbridge-ari]: OPERATOR_PICKUP, then OPERATOR_CANCEL, from the facts the PBX kept', async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3, logLevel: process.env.DEBUG_TEST ? 'debug' : undefined });
    const id = await place(h, '102');
    await waitFor('operator ringing', () => rowOf(h!, id).status === 'OPERATOR_CALLTO');
    const back = await cut(h, 'ari', 1500);
    await cut(h, 'ami', 1500);
    // answered 0.3 s after ringing; the operator gives up while the leg waits for the app
    await waitFor('the operator answered', () => h!.sim.channelNames().some((n) => n.startsWith('PJSIP/102-')) && h!.sim.channelStates().some(([n, st]) => n.startsWith('PJSIP/102-') && st === 'Up'), 3000);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.sim.hangupPhone('102')).toBe(1);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    const chain = chainOf(h, id);
    expect(chain.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'OPERATOR_CANCEL']);
    const r = rowOf(h, id);
    expect(r.operatorAnswerAt!).toBeLessThan(r.endedAt!);
    expect(r.endedAt!).toBeLessThan(back);
    expect(r.billsec).toBe(0);
    await noChannelsLeft(h);
    expect(recordingsOf(h, id)).toHaveLength(0);
  });

  it('with both links cut, the client answers and hangs up while waiting in [callbridge-ari]: CLIENT_CANCEL (never bridged), the operator freed', async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3 });
    const id = await place(h, '103');
    await waitFor('client ringing', () => rowOf(h!, id).status === 'CLIENT_CALLTO' && clientDialled(h!));
    // the client answers 0.3 s after ringing and hangs up 0.9 s later, all inside the gap
    const back = await cut(h, 'ari', 2000);
    await cut(h, 'ami', 2000);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    const chain = chainOf(h, id);
    expect(chain.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_CANCEL']);
    expect(chain.at(-1)!.details.reason).toMatch(/client answered and hung up while waiting in \[callbridge-ari\]/);
    const r = rowOf(h, id);
    expect(r.endedAt!).toBeLessThan(back);
    expect(r.billsec).toBe(0);
    await noChannelsLeft(h);
    expect(recordingsOf(h, id)).toHaveLength(0);
  });

  it('the client answers during the gap: it waits in [callbridge-ari], then is bridged; billsec from its answer', async () => {
    // real time: the client answers 1 s after it rings, inside the 1.5 s gap, and talks 3 s
    h = await startHarness({ control: 'ari', timeScale: 1, logLevel: process.env.DEBUG_TEST ? 'debug' : undefined });
    const id = await place(h, '104');
    await waitFor('client ringing', () => rowOf(h!, id).status === 'CLIENT_CALLTO' && clientDialled(h!), 5000);
    const back = await cut(h, 'ari', 1500);
    await waitFor('final', () => rowOf(h!, id).final, 12_000);
    const r = rowOf(h, id);
    expect(chainOf(h, id).map((s) => s.status)).toEqual(SUCCESS);
    expect(r.clientAnswerAt!).toBeLessThan(back);
    expect(r.billsec).toBe(Math.round((r.endedAt! - r.clientAnswerAt!) / 1000));
    await expectRecording(h, id);
    await noChannelsLeft(h);
  });

  it('originated straight into the app, an operator answering during the gap (F1) is hung up by Asterisk, and the call says so', async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3, env: { CALLBRIDGE_ARI_CONTEXT: 'off' } });
    const id = await place(h, '102');
    await waitFor('operator ringing', () => rowOf(h!, id).status === 'OPERATOR_CALLTO');
    const back = await cut(h, 'ari', 800);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    const chain = chainOf(h, id);
    expect(chain.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'ERROR']);
    expect(chain.at(-1)!.details.reason).toMatch(/operator answered while the ARI link was down.*Stasis app not active/);
    expect(chain.at(-1)!.details.cause).toBe(0);
    expect(rowOf(h, id).endedAt!).toBeLessThan(back);
    await noChannelsLeft(h);
    expect(recordingsOf(h, id)).toHaveLength(0);
    // the operator is free again: a new call to them is placed, not refused as busy
    const again = await h.api('/api/makeCall.json?sip=102&phone=380639920009&order_id=again');
    expect(again.status).toBe(200);
  });

  it('originated straight into the app, a client answering during the gap (F3) is hung up by Asterisk; the operator is not left in dead air', async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3, env: { CALLBRIDGE_ARI_CONTEXT: 'off' } });
    const id = await place(h, '103');
    await waitFor('client ringing', () => rowOf(h!, id).status === 'CLIENT_CALLTO' && clientDialled(h!));
    const back = await cut(h, 'ari', 800);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    const chain = chainOf(h, id);
    expect(chain.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'ERROR']);
    expect(chain.at(-1)!.details.reason).toMatch(/client answered while the ARI link was down/);
    expect(rowOf(h, id).endedAt!).toBeLessThan(back);
    expect(rowOf(h, id).billsec).toBe(0);
    await noChannelsLeft(h);
  });

  it("the client's originate lost with the link (refused, no channel made): the client is dialled again and the call goes through", async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3 });
    const originates: string[] = [];
    let armed = true;
    h.sim.on('ariRequest', (r: { method: string; path: string; query: Record<string, string> }) => {
      if (r.method === 'POST' && r.path.startsWith('/channels') && r.query.endpoint) originates.push(r.query.endpoint);
      // the ringback for the operator is the request before the client's originate: the link goes right after it
      if (armed && r.method === 'POST' && /^\/bridges\/[^/]+\/play/.test(r.path)) {
        armed = false;
        h!.sim.disconnect('ari', 800);
      }
    });
    const id = await place(h, '103');
    await waitFor('final', () => rowOf(h!, id).final, 12_000);
    expect(armed).toBe(false);
    // the first client originate never reached the PBX; the second did
    expect(originates.filter((e) => !e.includes('103'))).toHaveLength(1);
    expectTalked(h, id, { by: 'client' });
    await expectRecording(h, id);
    await noChannelsLeft(h);
  });

  it("the operator's originate carried out but its answer lost with the link: the outcome is the PBX's (busy), not ERROR", async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3 });
    const didCut = cutAsChannelIsMade(h, 'ari', 'PJSIP/107-');
    const id = await place(h, '107');
    await waitFor('final', () => rowOf(h!, id).final, 12_000);
    expect(didCut()).toBe(true);
    const chain = chainOf(h, id);
    expect(chain.map((s) => s.status)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_BUSY']);
    expect(chain.at(-1)!.details).toMatchObject({ cause: 17 });
    expect(rowOf(h, id).operatorChannel).toMatch(/^cb-\d+-op-/);
    await noChannelsLeft(h);
  });

  it("the operator's originate carried out but its answer lost, the operator answering during the gap: the call goes through", async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3 });
    const didCut = cutAsChannelIsMade(h, 'ari', 'PJSIP/103-');
    const id = await place(h, '103');
    await waitFor('final', () => rowOf(h!, id).final, 12_000);
    expect(didCut()).toBe(true);
    expectTalked(h, id, { by: 'client' });
    await expectRecording(h, id);
    await noChannelsLeft(h);
  });

  it("the operator's originate lost with the link before it reached the PBX: the operator is rung again and the call goes through", async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3 });
    const originates: string[] = [];
    let armed = true;
    h.sim.on('ariRequest', (r: { method: string; path: string; query: Record<string, string> }) => {
      if (r.method === 'POST' && r.path.startsWith('/channels') && r.query.endpoint) originates.push(r.query.endpoint);
      if (armed && r.method === 'POST' && r.path.startsWith('/channels') && r.query.endpoint === 'PJSIP/103') {
        armed = false;
        h!.sim.disconnect('ari', 800);
      }
    });
    const id = await place(h, '103');
    await waitFor('final', () => rowOf(h!, id).final, 12_000);
    expect(armed).toBe(false);
    // the first operator originate never reached the PBX; the second did
    expect(originates.filter((e) => e === 'PJSIP/103')).toHaveLength(2);
    expectTalked(h, id, { by: 'client' });
    await expectRecording(h, id);
    await noChannelsLeft(h);
  });

  it('a short gap that ends before the answer is harmless (F1b)', async () => {
    // real time: the operator answers 1 s after ringing; the link is back within about 0.5 s
    h = await startHarness({ control: 'ari', timeScale: 1 });
    const id = await place(h, '104');
    await waitFor('operator ringing', () => rowOf(h!, id).status === 'OPERATOR_CALLTO');
    await cut(h, 'ari', 50);
    await waitFor('final', () => rowOf(h!, id).final, 12_000);
    expectTalked(h, id, { by: 'client', talkMs: 3000 });
    await expectRecording(h, id);
  });

  it('the daemon is down while the client hangs up: restarted, it takes the end from the facts the PBX kept and frees the operator', async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3 });
    const id = await place(h, '103');
    await waitFor('talking and recording', () => rowOf(h!, id).status === 'CLIENT_PICKUP' && recordingsOf(h!, id).length === 1, 8000);
    await h.daemon.stop();
    await new Promise((r) => setTimeout(r, 1500));
    const restartedAt = Date.now();
    // the operator waits alone in the Stasis bridge (F2) while the daemon is away
    expect(h.sim.channelNames()).toEqual([expect.stringMatching(/^PJSIP\/103-/)]);
    await h.restart();
    await waitFor('final', () => rowOf(h!, id).final, 5000);
    expectTalked(h, id, { by: 'client', endedBefore: restartedAt });
    await noChannelsLeft(h);
    await expectRecording(h, id);
  });

  it('a gap mid-talk that heals before the end: the call goes on and ends once', async () => {
    h = await startHarness({ control: 'ari', timeScale: 0.3, logLevel: process.env.DEBUG_TEST ? 'debug' : undefined });
    const id = await place(h, '105');
    await waitFor('talking', () => rowOf(h!, id).status === 'CLIENT_PICKUP', 8000);
    await cut(h, 'ari', 200);
    await waitFor('final', () => rowOf(h!, id).final, 8000);
    expectTalked(h, id, { by: 'client' });
    await expectRecording(h, id);
    await noChannelsLeft(h);
  });
});
