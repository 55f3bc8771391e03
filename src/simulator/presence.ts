import { randomUUID } from 'node:crypto';
import { OPERATOR_CONTEXT, type CastOperator } from './cast.js';
import type { World } from './world.js';
import type { Endpoint } from './types.js';

/** The PJSIP endpoint of a cast phone as the simulator starts (contact on 127.0.0.1:51xx). */
export function castEndpoint(op: CastOperator): Endpoint {
  const port = 5100 + Number(op.sip.slice(-2));
  return {
    sip: op.sip,
    registered: op.registeredAtStart,
    context: OPERATOR_CONTEXT,
    callerName: `Operator ${op.sip}`,
    userAgent: op.userAgent,
    port,
    callId: `${randomUUID().slice(0, 8)}@127.0.0.1`,
    registeredAt: Date.now(),
    roundtripUsec: 700 + (port % 100),
    deviceState: op.registeredAtStart ? 'NOT_INUSE' : 'UNAVAILABLE',
  };
}

/**
 * A phone REGISTERs (C1): digest challenge, then the contact appears as
 * NonQualified and right away Reachable, the peer becomes Reachable and the
 * device NOT_INUSE. A refresh of an existing registration changes nothing.
 */
export function registerEndpoint(world: World, sip: string): boolean {
  const ep = world.endpoints.get(sip);
  if (!ep) return false;
  if (ep.registered && ep.unreachable) {
    // the vanished phone REGISTERs again from the same URI: no NonQualified, Reachable at the next OPTIONS (C3)
    world.emitEvent({ type: 'Security', name: 'ChallengeSent', ep, callId: ep.callId });
    world.emitEvent({ type: 'Security', name: 'SuccessfulAuth', ep, callId: ep.callId });
    ep.unreachable = false;
    ep.registeredAt = Date.now();
    world.emitEvent({ type: 'EndpointStateChange', ep });
    world.emitEvent({ type: 'PeerStatus', ep, status: 'Reachable' });
    world.emitEvent({ type: 'ContactStatus', ep, status: 'Reachable', rtt: ep.roundtripUsec, endpointOnline: true });
    world.refreshDevice(`PJSIP/${sip}`, true);
    return true;
  }
  if (ep.registered) return true;
  ep.callId = `${randomUUID().slice(0, 8)}@127.0.0.1`;
  ep.registeredAt = Date.now();
  world.emitEvent({ type: 'Security', name: 'ChallengeSent', ep, callId: ep.callId });
  world.emitEvent({ type: 'Security', name: 'SuccessfulAuth', ep, callId: ep.callId });
  world.emitEvent({ type: 'ContactStatus', ep, status: 'NonQualified', rtt: 0, endpointOnline: false });
  ep.registered = true;
  world.emitEvent({ type: 'EndpointStateChange', ep });
  world.emitEvent({ type: 'PeerStatus', ep, status: 'Reachable' });
  // the device state and the qualified contact race; the device usually wins (C2, C4; C1 and C3 saw the other order)
  world.refreshDevice(`PJSIP/${sip}`, true);
  world.emitEvent({ type: 'ContactStatus', ep, status: 'Reachable', rtt: ep.roundtripUsec, endpointOnline: true });
  return true;
}

/** The phone un-REGISTERs (Expires: 0): device UNAVAILABLE, peer Unreachable, contact Removed (C1). */
export function unregisterEndpoint(world: World, sip: string): boolean {
  const ep = world.endpoints.get(sip);
  if (!ep) return false;
  if (!ep.registered) return true;
  world.emitEvent({ type: 'Security', name: 'ChallengeSent', ep, callId: ep.callId });
  world.emitEvent({ type: 'Security', name: 'SuccessfulAuth', ep, callId: ep.callId });
  ep.registered = false;
  ep.unreachable = false;
  // peer first, then the device, then the contact (C3, C4; C1 had the device first)
  world.emitEvent({ type: 'EndpointStateChange', ep });
  world.emitEvent({ type: 'PeerStatus', ep, status: 'Unreachable' });
  world.refreshDevice(`PJSIP/${sip}`, true);
  world.emitEvent({ type: 'ContactStatus', ep, status: 'Removed', rtt: 0, endpointOnline: false });
  return true;
}

/** The SIP contact URI of a cast phone, as it appears in ContactStatus and PJSIPShowContacts. */
export function contactUri(world: World, sip: string): string {
  const ep = world.endpoints.get(sip);
  return `sip:${sip}@127.0.0.1:${ep?.port ?? 5060};transport=UDP`;
}

/**
 * The registration ran out without a refresh and the registrar's expiry sweep removed the
 * contact (C2): peer Unreachable, device UNAVAILABLE, contact Removed; no security events.
 */
export function expireEndpoint(world: World, sip: string): boolean {
  const ep = world.endpoints.get(sip);
  if (!ep) return false;
  if (!ep.registered) return true;
  const wasReachable = !ep.unreachable;
  ep.registered = false;
  ep.unreachable = false;
  world.emitEvent({ type: 'EndpointStateChange', ep });
  if (wasReachable) world.emitEvent({ type: 'PeerStatus', ep, status: 'Unreachable' });
  world.refreshDevice(`PJSIP/${sip}`, true);
  world.emitEvent({ type: 'ContactStatus', ep, status: 'Removed', rtt: 0, endpointOnline: false });
  return true;
}

/**
 * The phone vanished without un-registering and its qualify OPTIONS went unanswered
 * (qualify_timeout, C3): peer and contact Unreachable, device UNAVAILABLE; the contact stays.
 */
export function loseEndpoint(world: World, sip: string): boolean {
  const ep = world.endpoints.get(sip);
  if (!ep) return false;
  if (!ep.registered || ep.unreachable) return true;
  ep.unreachable = true;
  world.emitEvent({ type: 'EndpointStateChange', ep });
  world.emitEvent({ type: 'PeerStatus', ep, status: 'Unreachable' });
  world.emitEvent({ type: 'ContactStatus', ep, status: 'Unreachable', rtt: 0, endpointOnline: false });
  world.refreshDevice(`PJSIP/${sip}`, true);
  return true;
}
