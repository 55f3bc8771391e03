/**
 * Delivery headers: every request carries the event id as its idempotency
 * key; with a connector secret also an HMAC-SHA256 signature over
 * `<timestamp>.<body>` (timestamp = Unix seconds, the X-Callbridge-Timestamp
 * header), hex, as `X-Callbridge-Signature: sha256=<hex>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const HEADER_IDEMPOTENCY = 'Idempotency-Key';
export const HEADER_EVENT = 'X-Callbridge-Event';
export const HEADER_DELIVERY = 'X-Callbridge-Delivery';
export const HEADER_TIMESTAMP = 'X-Callbridge-Timestamp';
export const HEADER_SIGNATURE = 'X-Callbridge-Signature';

export function signature(secret: string, timestamp: string, body: string | Buffer): string {
  const h = createHmac('sha256', secret);
  h.update(`${timestamp}.`);
  h.update(body);
  return `sha256=${h.digest('hex')}`;
}

/** What a receiver does (README "CRM connectors"): recompute and compare in constant time; refuse stale timestamps. */
export function verifySignature(secret: string, timestamp: string | undefined, body: string | Buffer, header: string | undefined, toleranceSec = 300, nowMs = Date.now()): boolean {
  if (!timestamp || !header || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSec) return false;
  const want = Buffer.from(signature(secret, timestamp, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}
