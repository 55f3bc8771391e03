/**
 * Connector deliveries in the live stream (kind `delivery`, cursor letter
 * `d`) and in the metrics: every attempt's outcome is a row of
 * outbox_attempts, streamed by its id, so a client that reconnects with
 * Last-Event-ID gets exactly the outcomes it missed; delivered and failed
 * deliveries are counted per connector in /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/daemon.js';
import { startReceiver, type Receiver } from '../connectors/receiver.js';
import { openSse } from './sse.js';

let h: Harness;
let rx: Receiver;

beforeAll(async () => {
  rx = await startReceiver();
  // the first two requests fail (500), so a retry and a delivery of the same event both show
  rx.plan = [{ status: 500 }, { status: 500 }];
  const connectors = [{ type: 'webhook', name: 'hooks', url: `${rx.url}/hook`, max_attempts: 5, backoff_ms: 20, backoff_max_ms: 50 }];
  h = await startHarness({ env: { CALLBRIDGE_CONNECTORS: JSON.stringify(connectors) } });
}, 30_000);

afterAll(async () => {
  await h?.close();
  await rx?.close().catch(() => undefined);
});

const attemptIds = (after = 0) =>
  (h.daemon.db.$client.prepare('SELECT id FROM outbox_attempts WHERE id > ? ORDER BY id').all(after) as Array<{ id: number }>).map((r) => r.id);

describe('deliveries in the event stream and the metrics', () => {
  it('streams each attempt outcome with its row id; a reconnect gets exactly the missed ones', async () => {
    const url = (q: string) => `http://127.0.0.1:${h.daemon.port}/api/stream?kind=delivery${q}`;
    const first = await openSse(url('&since_id=0'));
    expect(first.status).toBe(200);
    const res = await h.api('/api/makeCall.json?sip=101&phone=380639920000&order_id=dl1');
    const callId = res.body.call_id as number;
    await first.waitFor('a retry and a delivery', (evs) => evs.some((e) => e.data.outcome === 'retry') && evs.some((e) => e.data.outcome === 'delivered'));
    const retry = first.events.find((e) => e.data.outcome === 'retry')!;
    expect(retry.event).toBe('delivery');
    expect(retry.data).toMatchObject({ connector: 'hooks', call_id: callId, order_id: 'dl1', outcome: 'retry', http_status: 500, error: 'HTTP 500', event_type: 'call.started' });
    expect(retry.id).toMatch(/\.d\d+$/);
    first.drop();
    const lastSeen = Number(/d(\d+)$/.exec(first.lastId()!)![1]);
    // the rest of the call's deliveries happen while no client listens
    await waitFor('every event of the call delivered', () => {
      const n = h.daemon.db.$client.prepare("SELECT count(*) AS n FROM outbox_deliveries WHERE call_id = ? AND status = 'pending'").get(callId) as { n: number };
      const done = rx.received.some((r) => r.json().type === 'call.finished' && r.json().call?.call_id === callId);
      return done && n.n === 0;
    }, 20_000);
    const again = await openSse(url(''), { 'last-event-id': first.lastId()! });
    expect(attemptIds(lastSeen).length).toBeGreaterThan(0);
    // later outcomes (the recording's event) may still come: the stream must hold exactly the rows after the cursor, no gap, no repeat
    const streamed = () => again.events.filter((e) => e.event === 'delivery').map((e) => e.data.id as number);
    await waitFor('the stream to hold every outcome after the cursor', async () => {
      const rows = attemptIds(lastSeen);
      await new Promise((r) => setTimeout(r, 300));
      return rows.length === attemptIds(lastSeen).length && JSON.stringify(streamed()) === JSON.stringify(rows);
    }, 15_000);
    again.drop();
  });

  it('counts delivered deliveries per connector in /metrics', async () => {
    await waitFor('nothing pending', () => (h.daemon.db.$client.prepare("SELECT count(*) AS n FROM outbox_deliveries WHERE status = 'pending'").get() as { n: number }).n === 0, 15_000);
    await new Promise((r) => setTimeout(r, 50)); // the counter follows the commit (setImmediate)
    const text = (await h.api('/metrics')).body as string;
    const delivered = Number(/callbridge_outbox_delivered_total\{connector="hooks"\} (\d+)/.exec(text)?.[1]);
    const rows = h.daemon.db.$client.prepare("SELECT count(*) AS n FROM outbox_deliveries WHERE connector = 'hooks' AND status = 'delivered'").get() as { n: number };
    expect(delivered).toBe(rows.n);
    expect(delivered).toBeGreaterThan(0);
  });
});
