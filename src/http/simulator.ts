/**
 * Control endpoints of the simulated PBX (simulated mode only):
 * POST /simulator/endpoints/{sip}/register, …/unregister, …/hangup (the
 * operator's phone hangs up its answered calls), …/transfer?to=<sip> (the
 * phone blind-transfers its answered call; `mode=attended`: by the *2 feature code), …/pause[?reason=] and …/unpause
 * (queue 700 member), POST /simulator/disconnect?link=ami|ari, and calls the
 * daemon did not originate: POST /simulator/calls/inbound, …/outbound, …/internal.
 */
import type { Context } from 'hono';
import type { Env, RouteGroup } from './app.js';
import { send } from './app.js';
import { ApiError } from './errors.js';
import type { RouteDoc } from '../openapi/types.js';

export interface StartedSimCall {
  linkedid: string;
  channel: string;
}

export interface SimulatorControl {
  register(sip: string): boolean;
  unregister(sip: string): boolean;
  hangupPhone(sip: string): number;
  disconnect(link: 'ami' | 'ari', downMs?: number): number;
  inboundCall(p: { from?: string; did?: string; operators?: string; outcome?: string; answeredBy?: string; via?: string }): StartedSimCall;
  outboundCall(sip: string, to: string | undefined): StartedSimCall;
  internalCall(from: string | undefined, to: string | undefined): StartedSimCall;
  transfer(sip: string, to: string | undefined, mode?: 'blind' | 'attended'): StartedSimCall;
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

const text = (description: string) => ({ type: 'string', description });
const inQuery = (name: string, description: string, required = false) => ({ name, in: 'query', required, schema: text(description) });
const sipPath = { name: 'sip', in: 'path', required: true, schema: text('the simulated operator endpoint, e.g. 101') };
const simOp = (summary: string, description: string, parameters: unknown[], example: Record<string, unknown>) => ({
  tags: ['simulator'],
  summary,
  description: `${description} Only served in simulated mode (CALLBRIDGE_SIMULATE=1 or --simulate).`,
  'x-simulator-only': true,
  parameters,
  responses: { '200': { description: 'done', content: { 'application/json': { schema: { type: 'object' }, example } } } },
});

/** How /openapi.json describes the control endpoints. */
export const SIMULATOR_DOC: readonly RouteDoc[] = [
  ...(['register', 'unregister'] as const).map((action): RouteDoc => ({
    method: 'post',
    path: `/simulator/endpoints/{sip}/${action}`,
    operation: simOp(`${action === 'register' ? 'Register' : 'Unregister'} a simulated phone`, `The phone ${action === 'register' ? 'registers (ContactStatus Created, the endpoint comes online)' : 'unregisters (it goes offline)'}.`, [sipPath], { sip: '101', action, ok: true }),
    errors: ['NOT_FOUND'],
  })),
  { method: 'post', path: '/simulator/endpoints/{sip}/hangup', operation: simOp('The operator hangs up', 'The phone hangs up its answered calls.', [sipPath], { sip: '101', action: 'hangup', calls: 1 }), errors: ['NOT_FOUND'] },
  {
    method: 'post',
    path: '/simulator/endpoints/{sip}/transfer',
    operation: simOp(
      'The operator transfers its call',
      'The phone transfers its answered call to `to`: blind (AMI BlindTransfer, the default), or `mode=attended` (the `*2` feature code: the caller is held, the phone consults `to` and hangs up 3 s after the consultation dial, which completes the transfer).',
      [sipPath, inQuery('to', 'extension to transfer to', true), inQuery('mode', 'blind | attended [blind]')],
      { sip: '101', action: 'transfer', to: '102', mode: 'blind', linkedid: '1700000000.1', channel: 'PJSIP/101-00000001' },
    ),
    errors: ['INVALID_PARAMETER', 'NOT_FOUND'],
  },
  ...(['pause', 'unpause'] as const).map((action): RouteDoc => ({
    method: 'post',
    path: `/simulator/endpoints/{sip}/${action}`,
    operation: simOp(`${action === 'pause' ? 'Pause' : 'Unpause'} the operator in queue 700`, 'QueuePause of the queue member.', action === 'pause' ? [sipPath, inQuery('reason', 'pause reason [away]')] : [sipPath], { sip: '101', action, queue: '700', paused: action === 'pause', reason: action === 'pause' ? 'away' : '' }),
    errors: ['INVALID_PARAMETER', 'NOT_FOUND'],
  })),
  {
    method: 'post',
    path: '/simulator/calls/inbound',
    operation: simOp('A client calls in over the trunk', 'The inbound route rings `operators` (one: an extension; several or via=ringgroup: ring group 600; via=queue: queue 700).', [
      inQuery('from', 'caller number'), inQuery('did', 'dialled DID'), inQuery('operators', 'comma list of operators to ring'),
      inQuery('outcome', 'answer, noanswer or abandon'), inQuery('answered_by', 'which operator answers'), inQuery('via', 'extension, ringgroup or queue'),
    ], { linkedid: '1700000000.1', channel: 'PJSIP/trunk-00000001' }),
    errors: ['INVALID_PARAMETER', 'NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/simulator/calls/outbound',
    operation: simOp('An operator dials a client from the phone', 'The client behaves as its number\'s last digit says.', [inQuery('sip', 'operator', true), inQuery('to', 'client number')], { linkedid: '1700000000.1', channel: 'PJSIP/101-00000001' }),
    errors: ['INVALID_PARAMETER', 'NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/simulator/calls/internal',
    operation: simOp('An operator calls another extension', 'The callee answers as the cast says.', [inQuery('from', 'calling operator'), inQuery('to', 'called extension')], { linkedid: '1700000000.1', channel: 'PJSIP/101-00000001' }),
    errors: ['INVALID_PARAMETER', 'NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/simulator/disconnect',
    operation: simOp('Cut the AMI or ARI connections', 'Every current session of that link is dropped; the daemon reconnects.', [{ name: 'link', in: 'query', required: true, schema: { type: 'string', enum: ['ami', 'ari'] } }, { name: 'down_ms', in: 'query', required: false, description: 'keep the link cut this long (new connections and ARI REST refused)', schema: { type: 'string', pattern: '^\\d{1,6}$' } }], { link: 'ami', disconnected: 1 }),
    errors: ['INVALID_PARAMETER'],
  },
];

export function simulatorRoutes(sim: SimulatorControl): RouteGroup {
  return {
    prefix: '/simulator',
    doc: SIMULATOR_DOC,
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
        const mode = opt(query(c), 'mode') || 'blind';
        if (mode !== 'blind' && mode !== 'attended') throw new ApiError('INVALID_PARAMETER', 'mode: must be blind or attended', 'mode');
        const call = mapped(() => sim.transfer(sip, to, mode));
        return send(c, { sip, action: 'transfer', to, mode, ...call });
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
        const downRaw = new URL(c.req.url).searchParams.get('down_ms');
        if (downRaw !== null && !/^\d{1,6}$/.test(downRaw)) {
          throw new ApiError('INVALID_PARAMETER', 'down_ms: must be a whole number of milliseconds, at most 999999', 'down_ms');
        }
        return send(c, { link, disconnected: sim.disconnect(link, downRaw === null ? 0 : Number(downRaw)) });
      });
    },
  };
}
