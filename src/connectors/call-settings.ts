/**
 * phonet `call.settings` (seed 003): before an operator's phone rings, the
 * CRM is asked who the other party is. POST JSON
 * `{"request": "call.settings", "otherLegNum": "<client>", "trunkNum": "<DID>"}`
 * to the phonet connector's `call_settings_url` (signed like the deliveries
 * when it has a secret); the answer's `otherLeg.name` becomes the caller name
 * on the operator's phone and `otherLeg.responsibleEmployeeExt` is offered to
 * the dialplan as the preferred operator. Answers are cached 5 minutes for a
 * known contact and 1 minute for an unknown one (as phonet does); simultaneous
 * questions about one number share one request; a failure or no answer within
 * `call_settings_timeout_ms` (1.5 s by default) counts as unknown, is not
 * cached, and never holds a call up longer than that.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '../log.js';
import { HEADER_SIGNATURE, HEADER_TIMESTAMP, signature } from '../outbox/sign.js';
import { VERSION } from '../version.js';
import type { BaseSettings } from './types.js';

export const KNOWN_TTL_MS = 5 * 60_000;
export const UNKNOWN_TTL_MS = 60_000;

export interface CallerSettings {
  /** the CRM's name of the contact, or null */
  name: string | null;
  /** extension of the contact's responsible employee, or null */
  responsibleExt: string | null;
  known: boolean;
}

export interface CallSettingsOptions {
  url: string;
  timeoutMs: number;
  secret?: string | undefined;
  log: Logger;
  now?: () => number;
}

const UNKNOWN: CallerSettings = { name: null, responsibleExt: null, known: false };

/** A name safe for a CallerID: no quotes, angle brackets or control characters, at most 60 characters. */
export function cleanName(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const s = v.replace(/[\u0000-\u001f\u007f"<>\\;]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 60).trim();
  return s === '' ? null : s;
}

const EXT = /^[A-Za-z0-9_.*#+-]{1,40}$/;

/** The CRM's answer: `{otherLeg: {name, responsibleEmployeeExt, newEntry, ...}}` or `{otherLeg: null}`. */
export function parseCallSettings(text: string): CallerSettings {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error('the answer is not JSON');
  }
  if (!body || typeof body !== 'object') throw new Error('the answer is not a JSON object');
  const leg = (body as { otherLeg?: unknown }).otherLeg;
  if (leg === null || leg === undefined) return UNKNOWN;
  if (typeof leg !== 'object') throw new Error('otherLeg is not an object');
  const l = leg as { name?: unknown; responsibleEmployeeExt?: unknown; newEntry?: unknown };
  const name = cleanName(l.name);
  const ext = typeof l.responsibleEmployeeExt === 'string' && EXT.test(l.responsibleEmployeeExt) ? l.responsibleEmployeeExt : null;
  const known = l.newEntry !== true && (name !== null || ext !== null);
  return { name, responsibleExt: ext, known };
}

export class CallSettingsClient {
  private readonly cache = new Map<string, { value: CallerSettings; until: number }>();
  private readonly inflight = new Map<string, Promise<CallerSettings>>();
  private readonly now: () => number;
  /** requests actually sent to the CRM (for health and tests) */
  requests = 0;

  constructor(private readonly opts: CallSettingsOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** What the CRM says about `phone` (called on `did`); unknown on any failure, within the timeout. */
  lookup(phone: string, did?: string | null): Promise<CallerSettings & { cached: boolean }> {
    const key = `${phone}|${did ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return Promise.resolve({ ...hit.value, cached: true });
    if (hit) this.cache.delete(key);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.ask(phone, did ?? null)
        .then((value) => {
          this.cache.set(key, { value, until: this.now() + (value.known ? KNOWN_TTL_MS : UNKNOWN_TTL_MS) });
          return value;
        })
        .catch((err: unknown) => {
          const u = new URL(this.opts.url);
          this.opts.log.warn({ url: `${u.origin}${u.pathname}`, err: (err as Error).message }, 'call.settings: no answer from the CRM, the call goes on without a name');
          return UNKNOWN;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending.then((v) => ({ ...v, cached: false }));
  }

  private ask(phone: string, did: string | null): Promise<CallerSettings> {
    this.requests++;
    const body = JSON.stringify({ request: 'call.settings', otherLegNum: phone, trunkNum: did });
    const timestamp = String(Math.floor(this.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': `callbridge/${VERSION}`,
      [HEADER_TIMESTAMP]: timestamp,
    };
    if (this.opts.secret) headers[HEADER_SIGNATURE] = signature(this.opts.secret, timestamp, body);
    return new Promise((resolve, reject) => {
      const u = new URL(this.opts.url);
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 64 * 1024) req.destroy(new Error('the answer is larger than 64 KiB'));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status === 404) return resolve(UNKNOWN);
          if (status < 200 || status >= 300) return reject(new Error(`HTTP ${status}`));
          try {
            resolve(parseCallSettings(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err as Error);
          }
        });
        res.on('error', reject);
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(body);
    });
  }
}

/** The call.settings client of the first phonet connector that has a `call_settings_url`, if any. */
export function callSettingsClient(connectors: ReadonlyArray<{ settings: BaseSettings }>, log: Logger): CallSettingsClient | undefined {
  const c = connectors.map((x) => x.settings as BaseSettings & { call_settings_url?: unknown; call_settings_timeout_ms?: unknown }).find((x) => x.type === 'phonet' && typeof x.call_settings_url === 'string');
  if (!c) return undefined;
  return new CallSettingsClient({
    url: c.call_settings_url as string,
    timeoutMs: typeof c.call_settings_timeout_ms === 'number' ? c.call_settings_timeout_ms : 1500,
    secret: c.secret,
    log,
  });
}
