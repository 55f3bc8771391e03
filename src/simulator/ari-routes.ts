import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatTv } from './ami-format.js';
import {
  ariAddChannel, ariCreateBridge, ariDestroyBridge, ariPlayBridge, ariRecordBridge, ariRemoveChannel, finishRecording, stopPlayback, storedRecordings,
} from './ari-bridges.js';
import { ASTERISK_ID, bridgeJson, channelJson, endpointJson, liveRecordingJson, playbackJson } from './ari-format.js';
import { ARI_HANGUP_REASONS } from './cast.js';
import { ariAnswer, ariOriginate, type AriResult } from './stasis.js';
import type { AriServer } from './ari-server.js';
import type { World } from './world.js';

export interface RouteResult {
  status: number;
  body?: unknown;
  raw?: { data: Buffer; contentType: string };
}

export interface RouteContext {
  server: AriServer;
  world: World;
}

export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

type Handler = (ctx: RouteContext, req: RouteRequest) => RouteResult;

const ok = (body?: unknown): RouteResult => (body === undefined ? { status: 204 } : { status: 200, body });
const err = (status: number, message: string): RouteResult => ({ status, body: { message } });
const result = <T>(r: AriResult<T>, render: (v: T) => RouteResult): RouteResult => (r.ok ? render(r.value) : { status: r.status, body: r.body });

function variablesOf(body: unknown): Record<string, string> {
  const vars = (body as { variables?: unknown } | undefined)?.variables;
  if (!vars || typeof vars !== 'object') return {};
  return Object.fromEntries(Object.entries(vars as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

function originate(ctx: RouteContext, req: RouteRequest, channelId?: string): RouteResult {
  const q = req.query;
  const endpoint = q.get('endpoint');
  if (!endpoint) return err(400, 'Endpoint must be specified');
  const timeout = q.has('timeout') ? Number(q.get('timeout')) : 30;
  return result(ariOriginate(ctx.world, {
    endpoint,
    app: q.get('app') ?? undefined,
    appArgs: q.get('appArgs') ?? undefined,
    context: q.get('context') ?? undefined,
    extension: q.get('extension') ?? undefined,
    callerId: q.get('callerId') ?? undefined,
    timeoutSec: Number.isFinite(timeout) ? (timeout === 0 ? 30 : timeout) : 30,
    channelId: channelId ?? q.get('channelId') ?? undefined,
    otherChannelId: q.get('otherChannelId') ?? undefined,
    originator: q.get('originator') ?? undefined,
    variables: variablesOf(req.body),
  }), (ch) => ok(channelJson(ch)));
}

function channelOr404(ctx: RouteContext, req: RouteRequest, fn: (ch: NonNullable<ReturnType<World['findChannel']>>) => RouteResult): RouteResult {
  const ch = ctx.world.channels.get(req.params.channelId ?? '');
  return ch ? fn(ch) : err(404, 'Channel not found');
}

function bridgeOr404(ctx: RouteContext, req: RouteRequest, fn: (b: NonNullable<ReturnType<World['bridges']['get']>>) => RouteResult): RouteResult {
  const b = ctx.world.bridges.get(req.params.bridgeId ?? '');
  return b ? fn(b) : err(404, 'Bridge not found');
}

function channelsParam(ctx: RouteContext, req: RouteRequest): ReturnType<World['findChannel']>[] {
  return req.query.getAll('channel').join(',').split(',').filter(Boolean).map((id) => ctx.world.channels.get(id));
}

function applicationJson(ctx: RouteContext, name: string): Record<string, unknown> {
  const app = ctx.server.app(name);
  return {
    name,
    channel_ids: [...ctx.world.channels.values()].filter((c) => c.apps.has(name)).map((c) => c.id),
    bridge_ids: [...ctx.world.bridges.values()].filter((b) => b.apps.has(name)).map((b) => b.id),
    endpoint_ids: [...app.endpointIds],
    device_names: [...app.deviceNames],
    events_allowed: [],
    events_disallowed: [],
  };
}

function subscription(ctx: RouteContext, req: RouteRequest, add: boolean): RouteResult {
  const name = req.params.applicationName ?? '';
  if (!ctx.server.apps.has(name)) return err(404, 'Application not found');
  const app = ctx.server.app(name);
  const sources = req.query.getAll('eventSource').join(',').split(',').filter(Boolean);
  if (sources.length === 0) return err(400, 'Missing parameter eventSource');
  for (const source of sources) {
    const colon = source.indexOf(':');
    const scheme = source.slice(0, colon);
    const id = source.slice(colon + 1);
    if (scheme === 'endpoint') {
      const [tech, resource] = id.split('/');
      if (tech !== 'PJSIP' || (resource && !ctx.world.endpoints.has(resource))) return err(422, 'Event source does not exist');
      if (add) app.endpointIds.add(resource ? `PJSIP/${resource}` : 'PJSIP');
      else app.endpointIds.delete(resource ? `PJSIP/${resource}` : 'PJSIP');
    } else if (scheme === 'deviceState') {
      if (add) app.deviceNames.add(id);
      else app.deviceNames.delete(id);
    } else if (scheme === 'channel') {
      const ch = ctx.world.channels.get(id);
      if (!ch) return err(422, 'Event source does not exist');
      if (add) {
        ch.apps.add(name);
        ch.ariVisible = true;
      } else ch.apps.delete(name);
    } else if (scheme === 'bridge') {
      const b = ctx.world.bridges.get(id);
      if (!b) return err(422, 'Event source does not exist');
      if (add) b.apps.add(name);
      else b.apps.delete(name);
    } else {
      return err(400, 'Invalid event source URI scheme');
    }
  }
  return ok(applicationJson(ctx, name));
}

/** Handlers by `<resource>.<nickname>` of {@link ARI_OPERATIONS}. */
export const ROUTES: Record<string, Handler> = {
  'asterisk.getInfo': (ctx) => ok({
    build: { os: 'Linux', kernel: 'simulated', machine: process.arch, options: 'OPTIONAL_API', date: formatTv(ctx.world.startedAt), user: 'callbridge' },
    system: { version: '22.10.1', entity_id: ASTERISK_ID },
    config: { name: '', default_language: 'en', setid: { user: '', group: '' } },
    status: { startup_time: formatTv(ctx.world.startedAt), last_reload_time: formatTv(ctx.world.startedAt) },
  }),
  'asterisk.ping': () => ok({ ping: 'pong', timestamp: formatTv(new Date()), asterisk_id: ASTERISK_ID }),
  'asterisk.getGlobalVar': (ctx, req) => {
    const v = req.query.get('variable');
    if (!v) return err(400, 'Variable name is required');
    return ok({ value: ctx.world.globalVars.get(v) ?? '' });
  },
  'asterisk.setGlobalVar': (ctx, req) => {
    const v = req.query.get('variable');
    if (!v) return err(400, 'Variable name is required');
    ctx.world.globalVars.set(v, req.query.get('value') ?? '');
    return ok();
  },
  'endpoints.list': (ctx) => ok([...ctx.world.endpoints.values()].map((ep) => endpointJson(ctx.world, ep))),
  'endpoints.listByTech': (ctx, req) => req.params.tech === 'PJSIP'
    ? ok([...ctx.world.endpoints.values()].map((ep) => endpointJson(ctx.world, ep)))
    : err(404, `No Endpoints found - invalid tech ${req.params.tech}`),
  'endpoints.get': (ctx, req) => {
    const ep = req.params.tech === 'PJSIP' ? ctx.world.endpoints.get(req.params.resource ?? '') : undefined;
    return ep ? ok(endpointJson(ctx.world, ep)) : err(404, 'Endpoint not found');
  },
  'channels.list': (ctx) => ok([...ctx.world.channels.values()].map(channelJson)),
  'channels.originate': (ctx, req) => originate(ctx, req),
  'channels.originateWithId': (ctx, req) => originate(ctx, req, req.params.channelId),
  'channels.get': (ctx, req) => channelOr404(ctx, req, (ch) => ok(channelJson(ch))),
  'channels.hangup': (ctx, req) => channelOr404(ctx, req, (ch) => {
    const reason = req.query.get('reason');
    const code = req.query.get('reason_code');
    if (reason && !(reason in ARI_HANGUP_REASONS)) return err(400, 'Invalid reason for hangup provided');
    const cause = code ? Number(code) : reason ? ARI_HANGUP_REASONS[reason] : undefined;
    ctx.world.requestHangup(ch, cause !== undefined && Number.isFinite(cause) ? { cause } : {});
    return ok();
  }),
  'channels.answer': (ctx, req) => channelOr404(ctx, req, (ch) => {
    if (!ch.stasis) return err(409, 'Channel not in Stasis application');
    ariAnswer(ctx.world, ch);
    return ok();
  }),
  'channels.ring': (ctx, req) => channelOr404(ctx, req, (ch) => (ch.stasis ? ok() : err(409, 'Channel not in Stasis application'))),
  'channels.ringStop': (ctx, req) => channelOr404(ctx, req, (ch) => (ch.stasis ? ok() : err(409, 'Channel not in Stasis application'))),
  'channels.getChannelVar': (ctx, req) => channelOr404(ctx, req, (ch) => {
    const v = req.query.get('variable');
    if (!v) return err(400, 'Variable name is required');
    const value = ch.vars.get(v);
    return value === undefined ? err(404, 'Provided variable was not found') : ok({ value });
  }),
  'channels.setChannelVar': (ctx, req) => channelOr404(ctx, req, (ch) => {
    const v = req.query.get('variable');
    if (!v) return err(400, 'Variable name is required');
    ctx.world.setVar(ch, v, req.query.get('value') ?? '');
    return ok();
  }),
  'bridges.list': (ctx) => ok([...ctx.world.bridges.values()].filter((b) => b.amiType === 'stasis').map(bridgeJson)),
  'bridges.create': (ctx, req) => ok(bridgeJson(ariCreateBridge(ctx.world, {
    type: req.query.get('type') ?? undefined, name: req.query.get('name') ?? undefined, bridgeId: req.query.get('bridgeId') ?? undefined,
  }))),
  'bridges.createWithId': (ctx, req) => ok(bridgeJson(ariCreateBridge(ctx.world, {
    type: req.query.get('type') ?? undefined, name: req.query.get('name') ?? undefined, bridgeId: req.params.bridgeId,
  }))),
  'bridges.get': (ctx, req) => bridgeOr404(ctx, req, (b) => ok(bridgeJson(b))),
  'bridges.destroy': (ctx, req) => bridgeOr404(ctx, req, (b) => {
    ariDestroyBridge(ctx.world, b);
    return ok();
  }),
  'bridges.addChannel': (ctx, req) => bridgeOr404(ctx, req, (b) => {
    const chans = channelsParam(ctx, req);
    if (chans.length === 0 || chans.some((c) => !c)) return err(400, 'Channel not found');
    for (const ch of chans) {
      const r = ariAddChannel(ctx.world, b, ch!);
      if (!r.ok) return { status: r.status, body: r.body };
    }
    return ok();
  }),
  'bridges.removeChannel': (ctx, req) => bridgeOr404(ctx, req, (b) => {
    const chans = channelsParam(ctx, req);
    if (chans.length === 0 || chans.some((c) => !c)) return err(400, 'Channel not found');
    for (const ch of chans) {
      const r = ariRemoveChannel(ctx.world, b, ch!);
      if (!r.ok) return { status: r.status, body: r.body };
    }
    return ok();
  }),
  'bridges.play': (ctx, req) => bridgeOr404(ctx, req, (b) => {
    const media = req.query.getAll('media').join(',').split(',').filter(Boolean);
    if (media.length === 0) return err(400, 'Missing parameter media');
    const pb = ariPlayBridge(ctx.world, b, { media: media[0]!, playbackId: req.query.get('playbackId') ?? undefined, lang: req.query.get('lang') ?? undefined });
    return { status: 201, body: playbackJson(pb) };
  }),
  'bridges.record': (ctx, req) => bridgeOr404(ctx, req, (b) => result(ariRecordBridge(ctx.world, b, {
    name: req.query.get('name') ?? undefined, format: req.query.get('format') ?? undefined, ifExists: req.query.get('ifExists') ?? undefined,
  }), (rec) => ({ status: 201, body: liveRecordingJson(rec) }))),
  'recordings.listStored': (ctx) => ok(storedRecordings(ctx.world)),
  'recordings.getStored': (ctx, req) => {
    const rec = storedRecordings(ctx.world).find((r) => r.name === req.params.recordingName);
    return rec ? ok(rec) : err(404, 'Recording not found');
  },
  'recordings.deleteStored': (ctx, req) => {
    const rec = storedRecordings(ctx.world).find((r) => r.name === req.params.recordingName);
    if (!rec) return err(404, 'Recording not found');
    rmSync(join(ctx.world.recordingsDir, `${rec.name}.${rec.format}`), { force: true });
    return ok();
  },
  'recordings.getStoredFile': (ctx, req) => {
    const rec = storedRecordings(ctx.world).find((r) => r.name === req.params.recordingName);
    if (!rec) return err(404, 'Recording not found');
    const data = readFileSync(join(ctx.world.recordingsDir, `${rec.name}.${rec.format}`));
    return { status: 200, raw: { data, contentType: rec.format.startsWith('wav') ? 'audio/wav' : 'application/octet-stream' } };
  },
  'recordings.getLive': (ctx, req) => {
    const rec = ctx.world.liveRecordings.get(req.params.recordingName ?? '');
    return rec ? ok(liveRecordingJson(rec)) : err(404, 'Recording not found');
  },
  'recordings.stop': (ctx, req) => {
    const rec = ctx.world.liveRecordings.get(req.params.recordingName ?? '');
    if (!rec) return err(404, 'Recording not found');
    const bridge = ctx.world.bridges.get(rec.targetUri.replace(/^bridge:/, ''));
    finishRecording(ctx.world, bridge, rec);
    return ok();
  },
  'sounds.list': () => ok([]),
  'playbacks.get': (ctx, req) => {
    const pb = ctx.world.playbacks.get(req.params.playbackId ?? '');
    return pb ? ok(playbackJson(pb)) : err(404, 'Playback not found');
  },
  'playbacks.stop': (ctx, req) => {
    const pb = ctx.world.playbacks.get(req.params.playbackId ?? '');
    if (!pb) return err(404, 'Playback not found');
    stopPlayback(ctx.world, pb);
    return ok();
  },
  'deviceStates.list': () => ok([]),
  'deviceStates.get': (ctx, req) => ok({ name: req.params.deviceName, state: ctx.world.deviceStateOf(req.params.deviceName ?? '') }),
  'mailboxes.list': () => ok([]),
  'applications.list': (ctx) => ok([...ctx.server.apps.keys()].map((name) => applicationJson(ctx, name))),
  'applications.get': (ctx, req) => {
    const name = req.params.applicationName ?? '';
    return ctx.server.apps.has(name) ? ok(applicationJson(ctx, name)) : err(404, 'Application not found');
  },
  'applications.subscribe': (ctx, req) => subscription(ctx, req, true),
  'applications.unsubscribe': (ctx, req) => subscription(ctx, req, false),
};
