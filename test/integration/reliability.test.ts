/**
 * Every call ends with exactly one final status, also when the AMI or ARI
 * link drops mid-call or the daemon restarts mid-call: after reconnecting (or
 * at start) open calls are reconciled with the channels Asterisk still has.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { calls, callStatuses } from '../../src/db/schema.js';
import { FINAL_STATUSES, type CallStatus } from '../../src/calls/chain.js';
import { AMI_SECRET, startHarness, waitFor, type Harness } from '../helpers/daemon.js';
import { RawAmi } from '../helpers/raw-ami.js';

let h: Harness | undefined;
let ami: RawAmi | undefined;
afterEach(async () => {
  ami?.close();
  await h?.close();
  h = undefined;
  ami = undefined;
});

const SUCCESS = ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'];

function chainOf(h: Harness, id: number) {
  return h.daemon.db.select().from(callStatuses).where(eq(callStatuses.callId, id)).all();
}
const rowOf = (h: Harness, id: number) => h.daemon.db.select().from(calls).where(eq(calls.id, id)).get()!;

async function talkingCall(h: Harness, sip: string): Promise<number> {
  const res = await h.api(`/api/makeCall.json?sip=${sip}&phone=380639920009&order_id=r${sip}`);
  expect(res.status).toBe(200);
  const id = res.body.call_id as number;
  await waitFor('talking', () => rowOf(h, id).status === 'CLIENT_PICKUP');
  return id;
}

function expectOneFinal(h: Harness, id: number, expected: string[]) {
  const chain = chainOf(h, id);
  expect(chain.map((s) => s.status)).toEqual(expected);
  expect(chain.filter((s) => FINAL_STATUSES.has(s.status as CallStatus))).toHaveLength(1);
  expect(rowOf(h, id).final).toBe(true);
}

describe.each(['ari', 'ami'] as const)('%s mode', (control) => {
  it('daemon restarted mid-call: the call is followed again and ends once, by the operator', async () => {
    h = await startHarness({ control });
    const id = await talkingCall(h, '101');
    await h.restart();
    ami = await RawAmi.open(h.amiPort, 'callbridge', AMI_SECRET);
    await ami.hangupEndpoint('PJSIP/101');
    await waitFor('final', () => rowOf(h!, id).final);
    await new Promise((r) => setTimeout(r, 150));
    expectOneFinal(h, id, SUCCESS);
    expect(chainOf(h, id).at(-1)!.details).toMatchObject({ by: 'operator' });
  });

  it('call ended while the daemon was down: reconciled at start to exactly one FINISH', async () => {
    h = await startHarness({ control });
    const id = await talkingCall(h, '102');
    await h.daemon.stop();
    ami = await RawAmi.open(h.amiPort, 'callbridge', AMI_SECRET);
    await ami.hangupEndpoint('PJSIP/102');
    const opGone = async () => !(await ami!.list({ Action: 'CoreShowChannels' })).some((c) => c.Channel?.startsWith('PJSIP/102-'));
    await waitFor('the operator channel gone', opGone);
    await h.restart(); // stopping an already stopped daemon does nothing
    await waitFor('final', () => rowOf(h!, id).final, 5000);
    await new Promise((r) => setTimeout(r, 150));
    expectOneFinal(h, id, SUCCESS);
    // nothing of the call is left: in ARI mode the daemon hung up the client still waiting in the bridge
    await waitFor('no channels left', async () => (await ami!.list({ Action: 'CoreShowChannels' })).length === 0, 3000);
  });
});

describe('links dropped mid-call', () => {
  it('AMI mode: AMI dropped, the operator hangs up meanwhile → one FINISH after reconnect', async () => {
    h = await startHarness({ control: 'ami', logLevel: process.env.DEBUG_TEST ? 'debug' : undefined });
    const id = await talkingCall(h, '103');
    h.sim.disconnect('ami');
    ami = await RawAmi.open(h.amiPort, 'callbridge', AMI_SECRET);
    await ami.hangupEndpoint('PJSIP/103');
    await waitFor('AMI back', () => h!.daemon.ami.connected, 5000);
    await waitFor('final', () => rowOf(h!, id).final, 5000);
    await new Promise((r) => setTimeout(r, 150));
    expectOneFinal(h, id, SUCCESS);
  });

  it('AMI mode: AMI dropped while the call goes on → followed again, ends once', async () => {
    h = await startHarness({ control: 'ami' });
    const id = await talkingCall(h, '104');
    h.sim.disconnect('ami', 500);
    await waitFor('AMI down', () => !h!.daemon.ami.connected, 2000);
    await waitFor('AMI back', () => h!.daemon.ami.connected, 5000);
    await new Promise((r) => setTimeout(r, 100));
    expect(rowOf(h, id).final).toBe(false);
    ami = await RawAmi.open(h.amiPort, 'callbridge', AMI_SECRET);
    await ami.hangupEndpoint('PJSIP/104');
    await waitFor('final', () => rowOf(h!, id).final, 5000);
    await new Promise((r) => setTimeout(r, 150));
    expectOneFinal(h, id, SUCCESS);
    expect(chainOf(h, id).at(-1)!.details).toMatchObject({ by: 'operator' });
  });

  it('ARI mode: ARI dropped, the client leg ends meanwhile → one final status after reconnect', async () => {
    h = await startHarness({ control: 'ari' });
    const id = await talkingCall(h, '105');
    h.sim.disconnect('ari');
    ami = await RawAmi.open(h.amiPort, 'callbridge', AMI_SECRET);
    await ami.hangupEndpoint('PJSIP/105');
    await waitFor('ARI back', () => h!.daemon.ari!.connected, 5000);
    await waitFor('final', () => rowOf(h!, id).final, 5000);
    await new Promise((r) => setTimeout(r, 150));
    expectOneFinal(h, id, SUCCESS);
  });
});
