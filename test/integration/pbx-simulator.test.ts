/**
 * Calls the daemon did not originate, started on the simulated PBX, read back
 * over the HTTP API: inbound answered / abandoned / unanswered, a ring group
 * answered by its second phone, a queue, outbound from a phone (answered and
 * busy), internal, blind and attended transfers (also of ring-group calls); and getNumberFromId for a click-to-call's order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ control: 'ami' });
});
afterAll(async () => {
  await h.close();
});

async function finalCall(linkedid: string): Promise<any> {
  return waitFor(
    `the call ${linkedid} to end`,
    async () => {
      const calls = (await h.api('/api/callList.json?per_page=100')).body.calls as Array<{ linkedid: string; final: boolean }>;
      return calls.find((c) => c.linkedid === linkedid && c.final);
    },
    20_000,
  );
}

async function chain(callId: number): Promise<string[]> {
  return (await h.api(`/api/callHistory.json?call_id=${callId}`)).body.history.map((s: { status: string }) => s.status);
}

describe('PBX calls through the simulator and the HTTP API', () => {
  it('inbound to one operator, answered: incoming, FINISH, the FreePBX recording attached', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234560', did: '74950001000', operators: '101', outcome: 'answer' });
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ direction: 'incoming', origin: 'pbx', phone: '79001234560', did: '74950001000', sip: '101', operators: ['101'], status: 'FINISH', group: null });
    expect(await chain(c.call_id)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH']);
    expect(c.recording_file).toMatch(/in-74950001000-79001234560-.*\.wav$/);
    const withRecord = await waitFor('the recording row', async () => {
      const calls = (await h.api('/api/callList.json?per_page=100')).body.calls as Array<{ call_id: number; records: unknown[] }>;
      return calls.find((x) => x.call_id === c.call_id && x.records.length === 1);
    });
    expect(withRecord.records[0]).toMatchObject({ format: 'wav' });
  });

  it('inbound, the caller gives up while it rings: CLIENT_CANCEL', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234561', did: '74950001000', operators: '102', outcome: 'abandon' });
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ direction: 'incoming', status: 'CLIENT_CANCEL', sip: null, operators: ['102'], billsec: 0 });
    expect(await chain(c.call_id)).toEqual(['CALL', 'OPERATOR_CALLTO', 'CLIENT_CANCEL']);
  });

  it('ring group answered by the second phone names that operator', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234562', did: '74950000600', operators: '103,104', outcome: 'answer', answeredBy: '104', via: 'ringgroup' });
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ direction: 'incoming', status: 'FINISH', sip: '104', operators: ['103', '104'], group: { kind: 'ringgroup', ext: '600' } });
  });

  it('ring group nobody answers: OPERATOR_NOANSWER', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234563', did: '74950000600', operators: '101,102', outcome: 'noanswer', via: 'ringgroup' });
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ direction: 'incoming', status: 'OPERATOR_NOANSWER', sip: null });
  });

  it('queue: the member who answers is the operator', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234564', did: '74950000700', operators: '101,102', outcome: 'answer', answeredBy: '102', via: 'queue' });
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ direction: 'incoming', status: 'FINISH', sip: '102', group: { kind: 'queue', ext: '700' } });
  });

  it('queue: a caller who gives up is CLIENT_CANCEL', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234565', did: '74950000700', operators: '103,104', outcome: 'abandon', via: 'queue' });
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ direction: 'incoming', status: 'CLIENT_CANCEL', sip: null, billsec: 0 });
  });

  it('outbound from a phone, answered and busy', async () => {
    const ok = await finalCall(h.sim.outboundCall('103', '79001234570').linkedid);
    expect(ok).toMatchObject({ direction: 'outgoing', phone: '79001234570', sip: '103', status: 'FINISH' });
    expect(await chain(ok.call_id)).toEqual(['CALL', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']);
    const busy = await finalCall(h.sim.outboundCall('104', '79001234575').linkedid);
    expect(busy).toMatchObject({ direction: 'outgoing', status: 'CLIENT_BUSY', billsec: 0 });
  });

  it('internal call between two extensions', async () => {
    const c = await finalCall(h.sim.internalCall('101', '105').linkedid);
    expect(c).toMatchObject({ direction: 'internal', phone: '101', sip: '105', status: 'FINISH' });
  });

  it('blind transfer: 1 > 2 in the history, the second operator ends it', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234569', did: '74950001000', operators: '102', outcome: 'answer' });
    await waitFor('the answer', async () => {
      const calls = (await h.api('/api/callList.json?per_page=100')).body.calls as Array<{ linkedid: string; status: string }>;
      return calls.find((x) => x.linkedid === linkedid && x.status === 'OPERATOR_PICKUP');
    });
    h.sim.transfer('102', '103');
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ status: 'FINISH', transfers: '102 > 103', sip: '103', operators: ['102', '103'] });
  });

  async function answered(linkedid: string): Promise<void> {
    await waitFor('the answer', async () => {
      const calls = (await h.api('/api/callList.json?per_page=100')).body.calls as Array<{ linkedid: string; status: string }>;
      return calls.find((x) => x.linkedid === linkedid && x.status === 'OPERATOR_PICKUP');
    });
  }

  it('attended transfer by the feature code: the first operator consults the second and hangs up, the client talks to the second', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234571', did: '74950001000', operators: '101', outcome: 'answer' });
    await answered(linkedid);
    h.sim.transfer('101', '104', 'attended');
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ direction: 'incoming', status: 'FINISH', transfers: '101 > 104', sip: '104', operators: ['101', '104'], group: null });
    expect(await chain(c.call_id)).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'FINISH']);
    const fin = (await h.api(`/api/callHistory.json?call_id=${c.call_id}`)).body.history.at(-1);
    expect(fin.details.by).toBe('client');
  });

  it('attended transfer to a phone that is offline: the operator is back with the client, nothing transferred', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234572', did: '74950001000', operators: '105', outcome: 'answer' });
    await answered(linkedid);
    h.sim.transfer('105', '106', 'attended');
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ status: 'FINISH', transfers: null, sip: '105', operators: ['105'] });
  });

  it('blind transfer of a ring-group call: the group call names the operator it went to', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234573', did: '74950000600', operators: '102,103', outcome: 'answer', answeredBy: '103', via: 'ringgroup' });
    await answered(linkedid);
    h.sim.transfer('103', '104');
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ status: 'FINISH', transfers: '103 > 104', sip: '104', operators: ['102', '103', '104'], group: { kind: 'ringgroup', ext: '600' } });
  });

  it('attended transfer of a ring-group call', async () => {
    const { linkedid } = h.sim.inboundCall({ from: '79001234574', did: '74950000600', operators: '101,102', outcome: 'answer', answeredBy: '101', via: 'ringgroup' });
    await answered(linkedid);
    h.sim.transfer('101', '103', 'attended');
    const c = await finalCall(linkedid);
    expect(c).toMatchObject({ status: 'FINISH', transfers: '101 > 103', sip: '103', operators: ['101', '102', '103'], group: { kind: 'ringgroup', ext: '600' } });
  });

  it('two overlapping calls keep apart: an inbound call to 101 and 102 dialling out meanwhile', async () => {
    const inbound = h.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '101', outcome: 'answer' });
    const outbound = h.sim.outboundCall('102', '79007654321');
    const [a, b] = await Promise.all([finalCall(inbound.linkedid), finalCall(outbound.linkedid)]);
    expect(a).toMatchObject({ direction: 'incoming', sip: '101', phone: '79001234567', operators: ['101'], status: 'FINISH' });
    expect(b).toMatchObject({ direction: 'outgoing', sip: '102', phone: '79007654321', operators: ['102'], status: 'FINISH' });
  });

  it('getNumberFromId: +<order>s<client> answers the phone makeCall used for that order', async () => {
    const made = await h.api('/api/makeCall.json?sip=105&phone=79001234560&order_id=15');
    expect(made.status).toBe(200);
    const r = await h.api('/api/getNumberFromId.json?number=%2B15s1');
    expect(r.status).toBe(200);
    expect(r.body.number).toBe('89001234560');
  });
});
