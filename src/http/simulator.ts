/**
 * Control endpoints of the simulated PBX (simulated mode only):
 * POST /simulator/endpoints/{sip}/register, …/unregister, …/hangup (the
 * operator's phone hangs up its answered calls), and
 * POST /simulator/disconnect?link=ami|ari.
 */
import type { RouteGroup } from './app.js';
import { send } from './app.js';
import { ApiError } from './errors.js';

export interface SimulatorControl {
  register(sip: string): boolean;
  unregister(sip: string): boolean;
  hangupPhone(sip: string): number;
  disconnect(link: 'ami' | 'ari'): number;
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
