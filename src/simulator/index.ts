import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { AmiServer } from './ami-server.js';
import { AriServer, type AriRequestInfo } from './ari-server.js';
import { expireEndpoint, loseEndpoint, registerEndpoint, unregisterEndpoint } from './presence.js';
import { inboundCall, internalCall, outboundCall, pauseOperator, transferCall, type InboundCallParams, type StartedCall } from './pbx-calls.js';
import { World } from './world.js';
import type { CastOperator, RemoteBehaviour } from './cast.js';
import type { SimEvent } from './types.js';

/**
 * The `write =` classes asterisk-config/manager_custom.conf gives the daemon's AMI user in each
 * control mode (ARI: system,reporting; AMI: originate,call,reporting), for a simulator that
 * refuses what a real Asterisk with those files refuses (Filter without system).
 */
export function amiWriteClasses(control: 'ari' | 'ami'): readonly string[] {
  return control === 'ami' ? ['originate', 'call', 'reporting'] : ['system', 'reporting'];
}

/**
 * The `eventfilter` lines of asterisk-config/manager_custom.conf (in both control modes): Asterisk
 * leaves out, for the daemon's user, the events nothing in the daemon reads (CEL, Newexten, and the
 * VarSet events of Asterisk's own bookkeeping variables). test/config-files.test.ts holds the
 * shipped file to this list.
 */
export const AMI_USER_EVENT_FILTERS: readonly string[] = [
  'eventfilter(action(exclude),name(CEL)) =',
  'eventfilter(action(exclude),name(Newexten)) =',
  'eventfilter(action(exclude),name(VarSet),header(Variable),method(starts_with)) = BRIDGEP',
  'eventfilter(action(exclude),name(VarSet),header(Variable),method(starts_with)) = RTPAUDIOQOS',
  'eventfilter(action(exclude),name(VarSet),header(Variable),method(starts_with)) = LOCAL(',
  'eventfilter(action(exclude),name(VarSet),header(Variable),method(regex)) = ^(DIALSTATUS|DIALEDPEER(NAME|NUMBER)|(ANSWERED|DIALED|RING|PROGRESS)TIME(_MS)?|ARG[0-9]+|ARGC|GOSUB_RETVAL|STASISSTATUS)$',
];

export interface SimulatorOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** 0 (default) = a free port */
  amiPort?: number;
  /** 0 (default) = a free port */
  ariPort?: number;
  amiUser: string;
  amiSecret: string;
  ariUser: string;
  ariPassword: string;
  /** where recordings (small silent WAV files) are written */
  recordingsDir: string;
  /** where the FreePBX-style dialplan writes its MixMonitor files (`<monitorDir>/YYYY/MM/DD/…`); default recordingsDir */
  monitorDir?: string;
  /**
   * the AMI user's `write =` classes, as manager_custom.conf grants them (e.g. AMI control mode's
   * originate,call,reporting: Filter is then refused); default every class
   */
  amiWrite?: readonly string[];
  /** the AMI user's `eventfilter` lines (manager.conf), e.g. AMI_USER_EVENT_FILTERS; default none */
  amiEventFilters?: readonly string[];
  /** multiplies every cast delay and client-requested ring timeout (1 = real time) */
  timeScale?: number;
  /** more operators 201, 202, … behaving like 101 (for load tests); default 0 */
  extraOperators?: number;
  /** a cast of operator phones replacing the standard one (SPEC section 1), e.g. to replay a recorded trace; extraOperators is then ignored */
  operators?: readonly CastOperator[];
  /**
   * list the `clients` trunk in PJSIPShowEndpoints/Aors/RegistrationsInbound and DeviceStateList,
   * as the recorded installation does (C1, C4); off by default
   */
  listTrunk?: boolean;
  /** what a dialled client number does, replacing the cast's rule by last digit (e.g. to replay a recorded trace with its own numbers) */
  clients?: (number: string) => RemoteBehaviour;
  logger: Logger;
}

export interface SimulatorAddresses {
  amiPort: number;
  ariPort: number;
  /** `http://<host>:<port>` */
  ariUrl: string;
}

export type { AriRequestInfo, CastOperator, InboundCallParams, StartedCall };
export { PbxRequestError } from './pbx-calls.js';

/**
 * A simulated Asterisk 22 speaking real AMI (TCP) and ARI (HTTP + websocket) with
 * the fixed cast of SPEC section 1. Emits `amiAction` ({fields, raw}) for every AMI
 * action received and `ariRequest` ({method, path, query, body}) for every ARI REST request.
 */
export class SimulatedAsterisk extends EventEmitter {
  private readonly world: World;
  private readonly ami: AmiServer;
  private readonly ari: AriServer;
  private started = false;

  constructor(private readonly opts: SimulatorOptions) {
    super();
    this.world = new World({ timeScale: opts.timeScale ?? 1, recordingsDir: opts.recordingsDir, monitorDir: opts.monitorDir, logger: opts.logger, extraOperators: opts.extraOperators ?? 0, operators: opts.operators, listTrunk: opts.listTrunk, clients: opts.clients });
    this.ami = new AmiServer({
      world: this.world,
      user: opts.amiUser,
      secret: opts.amiSecret,
      ...(opts.amiWrite ? { write: opts.amiWrite } : {}),
      ...(opts.amiEventFilters ? { eventFilters: opts.amiEventFilters } : {}),
      logger: opts.logger,
      onAction: (msg) => this.emit('amiAction', { fields: msg.fields(), raw: msg.raw }),
    });
    this.ari = new AriServer({
      world: this.world,
      user: opts.ariUser,
      password: opts.ariPassword,
      logger: opts.logger,
      onRequest: (info) => this.emit('ariRequest', info),
    });
  }

  async start(): Promise<SimulatorAddresses> {
    if (this.started) throw new Error('simulator already started');
    this.started = true;
    const host = this.opts.host ?? '127.0.0.1';
    const amiPort = await this.ami.listen(this.opts.amiPort ?? 0, host);
    const ariPort = await this.ari.listen(this.opts.ariPort ?? 0, host);
    this.opts.logger.info({ amiPort, ariPort }, 'simulated Asterisk listening');
    return { amiPort, ariPort, ariUrl: `http://${host}:${ariPort}` };
  }

  /** Closes every socket and server and clears every timer. */
  async stop(): Promise<void> {
    this.world.stop();
    await Promise.all([this.ami.close(), this.ari.close()]);
  }

  register(sip: string): boolean {
    return registerEndpoint(this.world, sip);
  }

  unregister(sip: string): boolean {
    return unregisterEndpoint(this.world, sip);
  }

  /** The registration expires unrefreshed; the registrar's sweep removes the contact (C2). */
  expireRegistration(sip: string): boolean {
    return expireEndpoint(this.world, sip);
  }

  /** The phone vanishes without un-registering: its qualify times out, the contact stays (C3); register() brings it back. */
  loseContact(sip: string): boolean {
    return loseEndpoint(this.world, sip);
  }

  /**
   * The phone of an operator hangs up (a BYE from it) on every answered call it
   * is in; returns how many calls it left.
   */
  hangupPhone(sip: string): number {
    let n = 0;
    for (const ch of [...this.world.channels.values()]) {
      if (ch.endpoint !== sip || !ch.alive || !ch.onRemoteHangup) continue;
      const bye = ch.onRemoteHangup;
      ch.onRemoteHangup = undefined;
      bye();
      n += 1;
    }
    return n;
  }

  /**
   * A call from outside to a DID: one operator (inbound route to the extension),
   * several or via=ringgroup (ring group 600), via=queue (queue 700).
   * Throws PbxRequestError for bad parameters.
   */
  inboundCall(p: InboundCallParams): StartedCall {
    return inboundCall(this.world, p);
  }

  /** The operator dials an outside number from the phone (outbound route to the trunk). */
  outboundCall(sip: string, to: string | undefined): StartedCall {
    return outboundCall(this.world, sip, to);
  }

  /** The operator `from` calls extension `to` from the phone. */
  internalCall(from: string | undefined, to: string | undefined): StartedCall {
    return internalCall(this.world, from, to);
  }

  /** The operator's phone transfers its answered call to extension `to` (blind, or attended by the *2 feature code). */
  transfer(sip: string, to: string | undefined, mode: 'blind' | 'attended' = 'blind', opts: { consultMs?: number } = {}): StartedCall {
    return transferCall(this.world, sip, to, mode, opts);
  }

  /** Pauses the operator's member of queue 700 (`reason` default "away"), or unpauses it. */
  pause(sip: string, paused: boolean, reason?: string): void {
    pauseOperator(this.world, sip, paused, paused ? (reason ?? 'away') : '');
  }

  /**
   * Destroys every current AMI session or ARI websocket; the servers keep listening. With `downMs`,
   * the link stays cut that long (new connections, and ARI's REST requests, are dropped at once),
   * as a network outage would. Returns how many were cut.
   */
  disconnect(link: 'ami' | 'ari', downMs = 0): number {
    return link === 'ami' ? this.ami.disconnectAll(downMs) : this.ari.disconnectAll(downMs);
  }

  /** Calls `fn` with every event of the simulated PBX as it happens (before any link sends it); answers the unsubscribe. */
  onPbxEvent(fn: (e: SimEvent) => void): () => void {
    this.world.on('event', fn);
    return () => void this.world.off('event', fn);
  }

  /** The names of the channels up now (as CoreShowChannels would list them). */
  channelNames(): string[] {
    return [...this.world.channels.values()].map((c) => c.name);
  }

  /** Each channel up now with its state (`Ring`, `Ringing`, `Up`, …). */
  channelStates(): Array<[string, string]> {
    return [...this.world.channels.values()].map((c) => [c.name, c.state]);
  }

  endpointStates(): Array<{ sip: string; registered: boolean; deviceState: string }> {
    return [...this.world.endpoints.values()].map((ep) => ({
      sip: ep.sip,
      registered: ep.registered,
      deviceState: this.world.deviceStateOf(`PJSIP/${ep.sip}`),
    }));
  }
}
