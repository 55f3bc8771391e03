/**
 * Control endpoints of the simulated PBX (simulated mode only):
 * POST /simulator/endpoints/{sip}/register, …/unregister, …/hangup (the
 * operator's phone hangs up its answered calls), …/transfer?to=<sip> (the
 * phone blind-transfers its answered call), …/pause[?reason=] and …/unpause
 * (queue 700 member), POST /simulator/disconnect?link=ami|ari, and calls the
 * daemon did not originate: POST /simulator/calls/inbound, …/outbound, …/internal.
 */
import type { Context } from 'hono';
import type { Env, RouteGroup } from './app.js';
import { send } from './app.js';
import { ApiError } from './errors.js';

export interface StartedSimCall {
  linkedid: string;
  channel: string;
}

export interface SimulatorControl {
  register(sip: string): boolean;
  unregister(sip: string): boolean;
  hangupPhone(sip: string): number;
  disconnect(link: 'ami' | 'ari'): number;
  inboundCall(p: { from?: string; did?: string; operators?: string; outcome?: string; answeredBy?: string; via?: string }): StartedSimCall;
  outboundCall(sip: string, to: string | undefined): StartedSimCall;
  internalCall(from: string | undefined, to: string | undefined): StartedSimCall;
  transfer(sip: string, to: string | undefined): StartedSimCall;
  pause(sip: string, paused: boolean, reason?: string): void;
}

/** Errors of the simulator's call requests carry `kind` and `field`; they become the API's error envelope. */
function mapped<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = err as { name?: string; kind?: string; field?: string; message?: string };
    if (e?.name === 'PbxRequestError') {
      if (e.kind === 'not_found') throw new ApiError('NOT_FOUND', e.message ?? 'not found');
      throw new ApiError('INVALID_PARAMETER', e.message ?? 'invalid parameter', e.field);
    }
    throw err;
  }
}

function query(c: Context<Env>): URLSearchParams {
  return new URL(c.req.url).searchParams;
}

function opt(q: URLSearchParams, name: string): string | undefined {
  return q.get(name) ?? undefined;
}

export function simulatorRoutes(sim: SimulatorControl): RouteGroup {
  return {
    prefix: '/simulator',
    install(app) {
      app.post('/simulator/endpoints/:sip/:action{register|unregister}', (c) => {
        const sip = c.req.param('sip');
        const action = c.req.param('action') as 'register' | 'unregister';
        const ok = action === 'register' ? sim.register(sip) : sim.unregister(sip);
        if (!ok) throw new ApiError('NOT_FOUND', `no simulated endpoint "${sip.slice(0, 40)}"`);
        return send(c, { sip, action, ok: true });
      });
      app.post('/simulator/endpoints/:sip/hangup', (c) => {
        const sip = c.req.param('sip');
        const calls = sim.hangupPhone(sip);
        if (calls === 0) throw new ApiError('NOT_FOUND', `operator "${sip.slice(0, 40)}" is not in an answered call`);
        return send(c, { sip, action: 'hangup', calls });
      });
      app.post('/simulator/endpoints/:sip/transfer', (c) => {
        const sip = c.req.param('sip');
        const to = opt(query(c), 'to');
        if (to === undefined || to === '') throw new ApiError('INVALID_PARAMETER', 'to: required (the extension to transfer to)', 'to');
        const call = mapped(() => sim.transfer(sip, to));
        return send(c, { sip, action: 'transfer', to, ...call });
      });
      app.post('/simulator/endpoints/:sip/:action{pause|unpause}', (c) => {
        const sip = c.req.param('sip');
        const paused = c.req.param('action') === 'pause';
        const reason = paused ? opt(query(c), 'reason') || 'away' : '';
        mapped(() => sim.pause(sip, paused, reason));
        return send(c, { sip, action: paused ? 'pause' : 'unpause', queue: '700', paused, reason });
      });
      app.post('/simulator/calls/inbound', (c) => {
        const q = query(c);
        const call = mapped(() => sim.inboundCall({
          from: opt(q, 'from'), did: opt(q, 'did'), operators: opt(q, 'operators'), outcome: opt(q, 'outcome'),
          answeredBy: opt(q, 'answered_by'), via: opt(q, 'via'),
        }));
        return send(c, { ...call });
      });
      app.post('/simulator/calls/outbound', (c) => {
        const q = query(c);
        const sip = opt(q, 'sip');
        if (sip === undefined || sip === '') throw new ApiError('INVALID_PARAMETER', 'sip: required', 'sip');
        const call = mapped(() => sim.outboundCall(sip, opt(q, 'to')));
        return send(c, { ...call });
      });
      app.post('/simulator/calls/internal', (c) => {
        const q = query(c);
        const call = mapped(() => sim.internalCall(opt(q, 'from'), opt(q, 'to')));
        return send(c, { ...call });
      });
      app.post('/simulator/disconnect', (c) => {
        const link = new URL(c.req.url).searchParams.get('link');
        if (link !== 'ami' && link !== 'ari') {
          throw new ApiError('INVALID_PARAMETER', 'link: must be "ami" or "ari"', 'link');
        }
        return send(c, { link, disconnected: sim.disconnect(link) });
      });
    },
  };
}
