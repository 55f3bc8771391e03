/**
 * The hosted-PBX REST API under /rest (seed 003, the PBX as the passive side),
 * so a CRM written for that hosted PBX works by changing its base URL.
 *
 * Order of checks: the network allow-list (app-wide), then the session cookie
 * (JSESSIONID) for every path but `/rest/security/authorize` and the signed
 * recording links under `/rest/public/`, before a body is read. Errors are
 * plain text with a 4xx/5xx code, as the seed documents; a missing, unknown
 * or expired session is 403.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { routingPath, type RouteGroup } from '../http/app.js';
import { ApiError } from '../http/errors.js';
import { readBody } from '../http/params.js';
import type { Logger } from '../log.js';
import type { CallRow } from '../db/schema.js';
import type { CallStore } from '../calls/store.js';
import type { CallUuids } from '../calls/uuids.js';
import type { CallHangup } from '../calls/hangup.js';
import { streamRecording } from '../calls/recordings-http.js';
import type { ContactStore } from '../contacts/store.js';
import { installContactRoutes } from '../contacts/routes.js';
import { HistoryQueries, type HistoryDeps } from './history.js';
import { installHistoryRoutes } from './history-routes.js';
import { activeRows, type ActiveDeps } from './active.js';
import { normalizeUuid } from '../calls/uuids.js';
import type { AudioLinks } from './audio-links.js';
import { FailureLimiter, type RestSessions, type RestSession } from './sessions.js';
import { restStatus, type UserDirectory } from './users.js';
import type { PresenceStatus } from '../db/schema.js';
import { restDoc } from './doc.js';

export const SESSION_COOKIE = 'JSESSIONID';
/** failed authorizations allowed per client address per window */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 60_000;
const MAX_BODY = 64 * 1024;

export interface RestDeps {
  sessions: RestSessions;
  users: UserDirectory;
  uuids: CallUuids;
  store: CallStore;
  contacts: ContactStore;
  audio: AudioLinks;
  hangup: CallHangup;
  makeCall(input: { sip: string; phone: string }): { callId: number };
  presence(ext: string): PresenceStatus | undefined;
  /** open calls, click-to-call and PBX */
  openCalls(): CallRow[];
  /** the daemon's public base URL (for audioRecUrl and contact links) */
  baseUrl(): string;
  sipPattern: RegExp;
  /** authorize's `domain` must be this, when set */
  domain: string | undefined;
  trunk: string | undefined;
  /** X-Forwarded-Proto / -For from a proxy are believed */
  trustProxy: boolean;
  log: Logger;
  now?: () => number;
}

/** An error of this API: plain text and its code. */
class RestError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 429 | 500 | 503,
    message: string,
  ) {
    super(message);
  }
}

function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const isLoopback = (addr: string): boolean => /^(127\.|::1$|::ffff:127\.)/.test(addr);

/**
 * The request's body as flat parameters: a JSON object (whatever the content
 * type says, as curl --data sends it) or a form. A JSON number is taken only
 * for the fields named in `numbers` and only as a safe integer (the seed sends
 * `"legExt": 202`); anywhere else, and for a phone number above all, it could
 * have lost digits already, so it is refused.
 */
async function bodyParams(c: Context, numbers: ReadonlySet<string> = new Set()): Promise<Record<string, string>> {
  let bytes: Uint8Array;
  try {
    bytes = await readBody(c.req.raw, MAX_BODY);
  } catch (err) {
    if (err instanceof ApiError && err.status === 413) throw new RestError(413, `the body is larger than ${MAX_BODY} bytes`);
    throw new RestError(400, 'the body could not be read');
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes).replace(/^\uFEFF/, '').trim();
  const out: Record<string, string> = {};
  if (text === '') return out;
  if (text.startsWith('{')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new RestError(400, 'body: is not valid JSON');
    }
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v === 'string') out[k] = v;
      else if (typeof v === 'number' && numbers.has(k) && Number.isSafeInteger(v) && v >= 0) out[k] = String(v);
      else if (typeof v === 'number') throw new RestError(400, `${k}: must be a JSON string (a number may have lost digits)`);
      else if (v !== null && v !== undefined) throw new RestError(400, `${k}: must be a string or a number`);
    }
    return out;
  }
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

function field<T>(schema: z.ZodType<T>, name: string, value: string | undefined): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new RestError(400, `${name}: ${r.error.issues[0]?.message ?? 'is not valid'}`);
  return r.data;
}

export function restRoutes(deps: RestDeps): RouteGroup {
  const now = deps.now ?? Date.now;
  const limiter = new FailureLimiter(MAX_FAILURES, FAILURE_WINDOW_MS, now);
  const contactUrl = (id: number) => `${deps.baseUrl()}/rest/crm/contacts/v2/${id}`;
  const contactOf = (phone: string) => deps.contacts.byPhone(phone);
  const groupLeg = (kind: 'ringgroup' | 'queue', ext: string | null) => {
    const named = kind === 'queue' ? 'Queue' : 'Ring group';
    const fallback = ext ? `${named} ${ext}` : named;
    if (!ext) return { id: null, ext: null, displayName: fallback };
    const u = deps.users.user(ext);
    return { id: u.id, ext, displayName: u.displayName !== ext ? u.displayName : fallback };
  };
  const activeDeps: ActiveDeps = {
    uuidOf: (id) => deps.uuids.of(id),
    group: groupLeg,
    user: (ext) => {
      const u = deps.users.user(ext);
      return { id: u.id, ext: u.ext, displayName: u.displayName };
    },
    contact: contactOf,
    contactUrl,
    trunk: deps.trunk,
  };
  const historyDeps: HistoryDeps = {
    uuidOf: (id) => deps.uuids.of(id),
    group: groupLeg,
    user: (ext) => {
      const u = deps.users.user(ext);
      return { id: u.id, ext: u.ext, displayName: u.displayName };
    },
    contactName: (phone) => contactOf(phone)?.name ?? undefined,
    // asked only for answered calls the history row shows a recording of
    audioUrl: (uuid) => `${deps.baseUrl()}${deps.audio.path(uuid)}`,
    trunk: deps.trunk,
  };
  const sip = z.string({ message: 'is required' }).max(40, 'is too long').regex(deps.sipPattern, 'is not a valid extension');
  const phone = z.string({ message: 'is required' }).regex(/^\+?\d{3,20}$/, 'must be 3-20 digits with an optional leading "+"');

  const session = (c: Context): RestSession | undefined => deps.sessions.check(getCookie(c, SESSION_COOKIE));
  const sessions = new WeakMap<Request, RestSession>();

  return {
    prefix: '/rest',
    open: true,
    doc: restDoc,
    error: (err, c) => restErrorResponse(err, c, deps.log),
    install(app: Hono<any>) {
      // the session check, before anything is parsed
      app.use('/rest/*', async (c, next) => {
        // the path as the router matched it (no normalisation of its own that could differ)
        const path = routingPath(c.req.url);
        if (path === '/rest/security/authorize' || path.startsWith('/rest/public/')) return next();
        const s = session(c);
        if (!s) return c.text('the session is missing or expired: POST /rest/security/authorize again', 403);
        sessions.set(c.req.raw, s);
        return next();
      });

      app.post('/rest/security/authorize', async (c) => {
        const addr = clientAddress(c, deps.trustProxy);
        if (!limiter.allowed(addr)) {
          return c.text('too many failed authorizations; try again later', 429, { 'retry-after': String(limiter.retryAfter(addr)) });
        }
        const p = await bodyParams(c);
        const domain = field(z.string({ message: 'is required' }).regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be a domain name'), 'domain', p.domain);
        const apiKey = field(z.string({ message: 'is required' }).regex(/^[^\p{Cc}]{1,256}$/u, 'must be 1-256 characters without control characters'), 'apiKey', p.apiKey);
        if (deps.domain && domain.toLowerCase() !== deps.domain.toLowerCase()) {
          limiter.failed(addr);
          return c.text('domain: is not this PBX', 403);
        }
        const id = deps.sessions.open(domain, apiKey, isLoopback(addr));
        if (!id) {
          limiter.failed(addr);
          deps.log.warn({ addr }, 'REST authorization refused');
          return c.text('the domain or API key is not valid', 403);
        }
        const https = new URL(c.req.url).protocol === 'https:' || (deps.trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https');
        setCookie(c, SESSION_COOKIE, id, { path: '/rest', httpOnly: true, secure: https, sameSite: 'Lax' });
        return c.body(null, 200);
      });

      app.get('/rest/users', async (c) => c.json(await deps.users.list()));

      app.get('/rest/user/status', (c) => {
        const s = sessions.get(c.req.raw);
        const asked = c.req.query('ext');
        const ext = asked !== undefined ? field(sip, 'ext', asked) : (s?.ext ?? undefined);
        if (!ext) return c.json({ status: 2 });
        const presence = deps.presence(ext);
        return c.json({ status: restStatus(presence), ext, presence: presence ?? null });
      });

      app.post('/rest/user/makeCall', async (c) => {
        const p = await bodyParams(c, new Set(['legExt']));
        for (const [k, v] of Object.entries(p)) if (/[\r\n\0]/.test(v)) throw new RestError(400, `${k}: must not contain CR, LF or NUL`);
        const legExt = field(sip, 'legExt', p.legExt);
        const otherLegNum = field(phone, 'otherLegNum', p.otherLegNum);
        const { callId } = deps.makeCall({ sip: legExt, phone: otherLegNum });
        return c.json({ uuid: deps.uuids.of(callId) });
      });

      app.get('/rest/calls/active/v3', (c) => c.json(deps.openCalls().flatMap((call) => activeRows(call, activeDeps))));

      app.get('/rest/calls/active/:uuid/hangup', async (c) => {
        const asked = c.req.param('uuid');
        const hex = normalizeUuid(asked);
        // a child uuid (one operator of a group call) hangs up that operator's phone alone
        const child = hex === undefined ? undefined : deps.store.children.find(hex);
        const callId = child?.callId ?? deps.uuids.callOf(asked);
        const call = callId === undefined ? undefined : deps.store.get(callId);
        if (!call) throw new RestError(404, 'uuid: no such call');
        if (call.final) throw new RestError(404, 'uuid: the call is not active any more');
        if (child && (call.legs ?? []).some((l) => l.uniqueid === child.uniqueid && typeof l.end_at === 'number')) {
          throw new RestError(404, "uuid: this operator's phone is not in the call any more");
        }
        let n: number;
        try {
          n = child ? await deps.hangup.hangupChannel(child.uniqueid) : await deps.hangup.hangup(call);
        } catch (err) {
          deps.log.warn({ call_id: call.id, err: (err as Error).message }, 'REST hangup failed');
          throw new RestError(503, 'Asterisk could not be asked to hang up the call');
        }
        if (n === 0) throw new RestError(409, child ? "the operator's phone has no channel up on the PBX" : 'the call has no channel up on the PBX yet');
        deps.log.info({ call_id: call.id, channels: n, ...(child ? { leg: child.uniqueid } : {}) }, 'call hung up on request');
        return c.body(null, 200);
      });

      installHistoryRoutes(app, new HistoryQueries(deps.store.db), historyDeps);
      installContactRoutes(app, deps.contacts, { urlOf: contactUrl });

      app.on(['GET', 'HEAD'], '/rest/public/calls/:uuid/audio', async (c) => {
        const id = c.req.param('uuid');
        if (/-(rx|tx)$/.test(id)) throw new RestError(404, 'recordings are made of both directions together; use the call uuid alone');
        const hex = normalizeUuid(id);
        // a group call's child (its operator who talked) has the parent's recording
        const callId = (hex === undefined ? undefined : deps.store.children.find(hex)?.callId) ?? deps.uuids.callOf(id);
        const uuid = callId === undefined ? undefined : hex;
        const signed = uuid !== undefined && deps.audio.valid(uuid, c.req.query('expires'), c.req.query('sig'));
        if (!signed && !session(c)) throw new RestError(403, 'the link has expired or is not signed; take audioRecUrl again, or send the session cookie');
        const recs = callId === undefined ? [] : deps.store.recordingsOf([callId]);
        const rec = recs.at(-1);
        if (!rec) throw new RestError(404, 'the call has no recording');
        try {
          return await streamRecording(c, rec);
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) throw new RestError(404, 'the recording file is not on disk (yet)');
          throw err;
        }
      });

      app.all('/rest/*', (c) => c.text('no such path', 404));
    },
  };
}

/** Plain-text errors for /rest paths (the group's `error` hook of the app's error handler). */
export function restErrorResponse(err: unknown, c: Context, log: Logger): Response | undefined {
  if (!new URL(c.req.url).pathname.startsWith('/rest/')) return undefined;
  if (err instanceof RestError) return c.text(err.message, err.status);
  if (err instanceof ApiError) return c.text(err.message, err.status);
  log.error({ err, path: new URL(c.req.url).pathname }, 'request failed');
  return c.text('internal error', 500);
}
