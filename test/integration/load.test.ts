/**
 * 100 click-to-calls in flight at once, in both modes: each gets its own
 * correct chain (by the client's behaviour in the cast), exactly one final
 * status, and its own recording when it was answered.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { calls, callStatuses, recordings } from '../../src/db/schema.js';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';

const UP_TO_CLIENT = ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO'];
const EXPECTED: Record<string, string[]> = {
  '0': [...UP_TO_CLIENT, 'CLIENT_PICKUP', 'FINISH'],
  '5': [...UP_TO_CLIENT, 'CLIENT_BUSY'],
  '6': [...UP_TO_CLIENT, 'CLIENT_NOANSWER'],
  '7': [...UP_TO_CLIENT, 'CLIENT_PICKUP', 'FINISH'],
  '8': [...UP_TO_CLIENT, 'ERROR'],
};
const DIGITS = ['0', '5', '6', '7', '8'];

let h: Harness | undefined;
afterAll(async () => h?.close());

describe.each(['ari', 'ami'] as const)('%s mode', (control) => {
  it('100 calls at once each get their own chain', async () => {
    await h?.close();
    // 0.2: the shortest talk (client 7) lasts 200 ms, longer than a recording takes to start under this load
    h = await startHarness({ control, extraOperators: 100, timeScale: 0.2 });
    const started = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const digit = DIGITS[i % DIGITS.length]!;
        const phone = `3806399${String(i).padStart(4, '0')}${digit}`;
        const res = await h!.api(`/api/makeCall.json?sip=${201 + i}&phone=${phone}&order_id=load-${i}&external_key=load-${control}-${i}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return { callId: res.body.call_id as number, digit, sip: String(201 + i), phone };
      }),
    );
    expect(new Set(started.map((s) => s.callId)).size).toBe(100);
    const db = h.daemon.db;
    await waitFor('all 100 calls final', () => db.select().from(calls).all().filter((c) => c.final).length === 100, 20_000);
    for (const s of started) {
      const chain = db.select().from(callStatuses).where(eq(callStatuses.callId, s.callId)).all();
      expect(chain.map((c) => c.status), `call ${s.callId} (${s.phone})`).toEqual(EXPECTED[s.digit]);
      expect(chain.every((c) => (c.details as { sip?: string }).sip === s.sip)).toBe(true);
      const row = db.select().from(calls).where(eq(calls.id, s.callId)).get()!;
      expect(row.sip).toBe(s.sip);
      if (EXPECTED[s.digit]!.includes('CLIENT_PICKUP')) expect(row.clientAnswerAt).not.toBeNull();
    }
    const answered = started.filter((s) => EXPECTED[s.digit]!.includes('CLIENT_PICKUP'));
    await waitFor('every answered call has its finished recording', () =>
      answered.every((s) => db.select().from(recordings).where(eq(recordings.callId, s.callId)).all().some((r) => r.endedAt !== null)),
    ).catch((err) => {
      const missing = answered.filter((s) => !db.select().from(recordings).where(eq(recordings.callId, s.callId)).all().some((r) => r.endedAt !== null));
      throw new Error(`${(err as Error).message}: ${missing.map((m) => `${m.callId}/${m.digit}:${JSON.stringify(db.select().from(recordings).where(eq(recordings.callId, m.callId)).all())}`).join(' ')}`);
    });
    for (const s of answered) {
      const recs = db.select().from(recordings).where(eq(recordings.callId, s.callId)).all();
      expect(recs).toHaveLength(1);
      expect(recs[0]!.name).toMatch(new RegExp(`^order-load-${started.indexOf(s)}-call-${s.callId}-[0-9a-z]+$`));
    }
  });
});
