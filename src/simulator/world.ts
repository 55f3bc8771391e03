import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Logger } from '../log.js';
import { clientBehaviour, operatorsWith, type CastOperator, type RemoteBehaviour } from './cast.js';
import { bridgeRemove } from './bridging.js';
import { finishMixMonitor } from './mixmonitor.js';
import { castEndpoint } from './presence.js';
import type { Bridge, CelEvent, ChanState, Channel, DeviceState, Endpoint, HangupRequest, LiveRecording, Playback, SimEvent } from './types.js';

/** The five RTP statistics variables chan_pjsip sets when a channel's media session ends (`…BRIDGED` on a two-party bridge peer). */
const RTP_STATS: Array<[string, string]> = [
  ['RTPAUDIOQOS', 'ssrc=0;themssrc=0;lp=0;rxjitter=0.000000;rxcount=0;txjitter=0.000000;txcount=0;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000'],
  ['RTPAUDIOQOSJITTER', 'minrxjitter=000.000000;maxrxjitter=000.000000;avgrxjitter=000.000000;stdevrxjitter=000.000000;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;stdevtxjitter=000.000000;'],
  ['RTPAUDIOQOSLOSS', 'minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  stdevtxlost=000.000000;'],
  ['RTPAUDIOQOSRTT', 'minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;'],
  ['RTPAUDIOQOSMES', 'minrxmes=000.000000;   maxrxmes=000.000000;   avgrxmes=000.000000;   stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   avgtxmes=000.000000;   stdevtxmes=000.000000;'],
];

export interface WorldOptions {
  timeScale: number;
  recordingsDir: string;
  /** where the FreePBX-style dialplan writes its MixMonitor files (default: recordingsDir) */
  monitorDir?: string;
  logger: Logger;
  /** operators 201… beyond the fixed cast (see operatorsWith) */
  extraOperators?: number;
  /** replaces the cast's operator phones (extraOperators is then ignored) */
  operators?: readonly CastOperator[];
  /** list the `clients` trunk among the PJSIP endpoints, AORs and devices, as a real installation does */
  listTrunk?: boolean;
  /** replaces the cast's client rule (clientBehaviour in cast.ts) */
  clients?: (number: string) => RemoteBehaviour;
}

/** Extra placement of the events around a channel's Hangup (see World.destroyChannel). */
export interface DestroyOptions {
  afterHangup?: () => void;
  deviceNow?: boolean;
  afterDevice?: () => void;
  splitCel?: boolean;
  holdCel?: boolean;
}

export interface NewChannelSpec {
  tech: 'PJSIP' | 'Local';
  /** `101`, a trunk name, or for Local channels `<exten>@<context>` */
  resource: string;
  endpoint?: string;
  context: string;
  exten: string;
  callerNum?: string;
  callerName?: string;
  linkedid?: string;
  /** ARI channelId */
  id?: string;
  state?: ChanState;
  /** for Local channels: which half, and the shared name suffix */
  localHalf?: 1 | 2;
  localSuffix?: string;
}

/**
 * The simulated PBX state: endpoints, channels, bridges and timers. Every change
 * is published as a neutral {@link SimEvent} on the `event` channel.
 */
export class World extends EventEmitter {
  readonly endpoints = new Map<string, Endpoint>();
  readonly channels = new Map<string, Channel>();
  readonly bridges = new Map<string, Bridge>();
  readonly liveRecordings = new Map<string, LiveRecording>();
  readonly playbacks = new Map<string, Playback>();
  readonly globalVars = new Map<string, string>([['DEFAULT_DIAL_TIMEOUT', '30']]);
  readonly startedAt = new Date();
  readonly timeScale: number;
  readonly recordingsDir: string;
  /** absolute root of the FreePBX-style recordings (`<monitorDir>/YYYY/MM/DD/…`) */
  readonly monitorDir: string;
  readonly logger: Logger;
  processedCalls = 0;
  /** whether the PJSIP listings include the `clients` trunk (see WorldOptions.listTrunk) */
  readonly listTrunk: boolean;
  /** what a dialled client number does (the cast's rule unless the options replace it) */
  readonly clientBehaviour: (number: string) => RemoteBehaviour;
  /**
   * Whether a Stasis application has a websocket connected (set by the ARI front-end).
   * res_stasis refuses a channel for an app without one ("Stasis app not active").
   */
  stasisActive: (app: string) => boolean = () => true;
  /** the cast's operator phones */
  readonly operators: readonly CastOperator[];
  private uidSeq = 0;
  private nameSeq = 0;
  private readonly devices = new Map<string, DeviceState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pendingDevices = new Set<string>();
  private stopped = false;

  constructor(opts: WorldOptions) {
    super();
    this.setMaxListeners(0);
    this.timeScale = opts.timeScale;
    this.recordingsDir = opts.recordingsDir;
    this.monitorDir = resolve(opts.monitorDir ?? opts.recordingsDir);
    this.logger = opts.logger;
    this.operators = opts.operators ? [...opts.operators] : operatorsWith(opts.extraOperators ?? 0);
    this.listTrunk = opts.listTrunk ?? false;
    this.clientBehaviour = opts.clients ?? clientBehaviour;
    // the clients trunk is a device too, listed first by DeviceStateList (C1)
    if (this.listTrunk) this.devices.set('PJSIP/clients', 'NOT_INUSE');
    for (const op of this.operators) {
      const ep = castEndpoint(op);
      this.endpoints.set(op.sip, ep);
      this.devices.set(`PJSIP/${op.sip}`, ep.deviceState);
    }
  }

  emitEvent(e: SimEvent): void {
    // a BYE from the far end ends the media session first: the RTP statistics come before the HangupRequest (A1, A7, B1)
    if (e.type === 'HangupRequest') {
      e.ch.byeSeen = true;
      this.rtpStats(e.ch, true);
    }
    this.emit('event', e);
  }

  /** A CEL record about the channel (cel.conf events=ALL, cel_manager). */
  cel(ch: Channel, event: CelEvent, opts: { peer?: string; extra?: string; early?: boolean } = {}): void {
    // published ahead already: the regular spot only consumes the mark
    if (ch.celEarly?.delete(event)) return;
    if (opts.early) (ch.celEarly ??= new Set()).add(event);
    this.emitEvent({ type: 'CEL', ch, event, peer: opts.peer, extra: opts.extra });
  }

  /** RTPAUDIOQOS… once per answered SIP channel, `…BRIDGED` on the peer of a two-party bridge. */
  rtpStats(ch: Channel, bye = false, afterFirst?: () => void): void {
    if (ch.rtpStatsSet || !ch.answered || !ch.name.startsWith('PJSIP/')) return;
    ch.rtpStatsSet = true;
    const b = ch.bridge;
    const parties = b ? b.channels.length + b.recordings.filter((r) => r.state === 'recording' || r.state === 'queued').length : 0;
    const peer = b && parties === 2 ? b.channels.find((c) => c !== ch && c.name.startsWith('PJSIP/')) : undefined;
    const bridgeExtra = b ? JSON.stringify({ bridge_id: b.id, bridge_technology: b.technology }) : '';
    const exitFirst = bye && b !== undefined && parties >= 2 && ch.exitCelFirst === true;
    if (exitFirst) this.cel(ch, 'BRIDGE_EXIT', { peer: peer?.name, extra: bridgeExtra, early: true });
    RTP_STATS.forEach(([name, value], i) => {
      this.setVar(ch, name, value);
      // at a BYE the channel thread leaves the bridge at once: its CEL BRIDGE_EXIT overtakes the AMI events (A1, B1)
      if (bye && b && i === 0 && parties >= 2 && !exitFirst) this.cel(ch, 'BRIDGE_EXIT', { peer: peer?.name, extra: bridgeExtra, early: true });
      if (i === 0) afterFirst?.();
      if (peer?.alive) {
        this.setVar(peer, `${name}BRIDGED`, value);
        if (bye && b && i === 0 && b.amiType === 'basic') {
          // a basic bridge dissolves with it (A1)
          this.cel(peer, 'BRIDGE_EXIT', { peer: ch.name, extra: bridgeExtra, early: true });
          this.cel(ch, 'HANGUP', { extra: JSON.stringify({ hangupcause: 16, hangupsource: ch.name, dialstatus: '' }), early: true });
          this.cel(ch, 'CHAN_END', { early: true });
        }
      }
    });
  }

  /** Runs `fn` after `ms` cast milliseconds (scaled by timeScale); tied to `ch` when given. */
  later(ms: number, fn: () => void, ch?: Channel): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      ch?.timers.delete(t);
      if (this.stopped) return;
      try {
        fn();
      } catch (err) {
        this.logger.error({ err }, 'simulator step failed');
      }
    }, Math.max(0, ms * this.timeScale));
    this.timers.add(t);
    ch?.timers.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  newUniqueid(): string {
    return `${Math.floor(Date.now() / 1000)}.${this.uidSeq++}`;
  }

  newNameSuffix(): string {
    return (this.nameSeq++).toString(16).padStart(8, '0');
  }

  createChannel(spec: NewChannelSpec): Channel {
    const id = spec.id ?? this.newUniqueid();
    const suffix = spec.localSuffix ?? this.newNameSuffix();
    const name = spec.tech === 'Local' ? `Local/${spec.resource}-${suffix};${spec.localHalf ?? 1}` : `PJSIP/${spec.resource}-${suffix}`;
    const ch: Channel = {
      id,
      name,
      linkedid: spec.linkedid ?? id,
      device: `${spec.tech}/${spec.resource}`,
      endpoint: spec.endpoint,
      state: spec.state ?? 'Down',
      callerNum: spec.callerNum ?? '',
      callerName: spec.callerName ?? '',
      connectedNum: '',
      connectedName: '',
      accountCode: '',
      language: 'en',
      context: spec.context,
      exten: spec.exten,
      priority: 1,
      appName: '',
      appData: '',
      vars: new Map(),
      inheritable: new Set(),
      userfield: '',
      created: new Date(),
      protocolId: randomUUID(),
      apps: new Set(),
      ariVisible: false,
      alive: true,
      timers: new Set(),
    };
    this.channels.set(id, ch);
    this.processedCalls++;
    // CEL CHAN_START is usually out before the AMI Newchannel (A3, A5, B2–B7)
    this.cel(ch, 'CHAN_START');
    this.emitEvent({ type: 'Newchannel', ch });
    return ch;
  }

  findChannel(nameOrId: string): Channel | undefined {
    const byId = this.channels.get(nameOrId);
    if (byId) return byId;
    for (const ch of this.channels.values()) if (ch.name === nameOrId) return ch;
    return undefined;
  }

  /** Set(); a `__NAME` variable is also inherited by the channels `ch` dials later. */
  setVar(ch: Channel, variable: string, value: string): void {
    const name = variable.replace(/^_{1,2}/, '');
    ch.vars.set(name, value);
    if (variable.startsWith('__')) ch.inheritable.add(name);
    this.emitEvent({ type: 'VarSet', ch, variable, value });
  }

  /** Variable inheritance into a newly dialled channel: VarSet `__NAME` on it, as the traces show. */
  inherit(from: Channel, to: Channel): void {
    for (const name of from.inheritable) this.setVar(to, `__${name}`, from.vars.get(name) ?? '');
  }

  /** Moves the channel to a dialplan step and publishes Newexten. */
  newexten(ch: Channel, context: string, exten: string, priority: number, app: string, appData: string): void {
    ch.context = context;
    ch.exten = exten;
    ch.priority = priority;
    ch.appName = app;
    ch.appData = appData;
    this.emitEvent({ type: 'Newexten', ch, extension: exten, app, appData });
  }

  setCaller(ch: Channel, num: string, name: string): void {
    ch.callerNum = num;
    ch.callerName = name;
    this.emitEvent({ type: 'NewCallerid', ch });
  }

  setConnected(ch: Channel, num: string, name: string): void {
    ch.connectedNum = num;
    ch.connectedName = name;
    this.emitEvent({ type: 'NewConnectedLine', ch });
  }

  /** Newstate; the device state follows at once, or after the current step with `deferDevice`. */
  setState(ch: Channel, state: ChanState, deferDevice = false): void {
    if (ch.state === state) return;
    ch.state = state;
    const answering = state === 'Up' && !ch.answered;
    if (answering) ch.answered = new Date();
    // chan_pjsip queues the answer's CEL before the state change reaches AMI (B1, A5, F1)
    if (answering) this.cel(ch, 'ANSWER');
    this.emitEvent({ type: 'Newstate', ch });
    this.refreshDevice(ch.device, !deferDevice);
    const partner = ch.localPartner;
    if (state === 'Up' && partner?.alive) this.setState(partner, 'Up');
  }

  /**
   * A hangup asked for from outside the far end (AMI Hangup, ARI DELETE): Asterisk
   * flags the channel with AST_SOFTHANGUP_EXPLICIT, which both AMI and ARI report as cause 32.
   */
  requestHangup(ch: Channel, req: HangupRequest = {}): void {
    if (!ch.alive) return;
    this.rtpStats(ch);
    this.emitEvent({ type: 'SoftHangupRequest', ch, cause: 32 });
    // hanging up the `;2` half of a Local pair ends the call its `;1` half is part of
    const owner = !ch.onHangupRequest && ch.localPartner?.onHangupRequest ? ch.localPartner : ch;
    const handler = owner.onHangupRequest;
    owner.onHangupRequest = undefined;
    if (handler) handler(req);
    else this.destroyChannel(ch, req.cause ?? 16);
  }

  /**
   * Publishes Hangup, stops the channel's timers and recordings, refreshes its device state.
   * `beforeHangup` runs just before the Hangup event (where cdr_manager's row usually lands);
   * `celAfter` puts the channel's closing CEL records after the Hangup, as some paths show (A3).
   * With `opts.afterHangup` something is published right after the Hangup, with `opts.deviceNow`
   * the device state follows the Hangup (then `opts.afterDevice`) before the closing CEL records
   * (A5, B7), with `opts.splitCel` only CEL HANGUP comes before the Hangup and the rest after it
   * (B7, B8), and with `opts.holdCel` the records after the Hangup are not published but
   * returned, for the caller to publish once the events that overtake them are out (A5: the
   * timed-out client leg).
   */
  destroyChannel(ch: Channel, cause: number, techCause?: number, beforeHangup?: () => void, celAfter = false, opts: DestroyOptions = {}): () => void {
    if (!ch.alive) return () => undefined;
    ch.alive = false;
    ch.onHangupRequest = undefined;
    for (const t of ch.timers) this.cancel(t);
    ch.timers.clear();
    if (ch.bridge) bridgeRemove(this, ch.bridge, ch);
    finishMixMonitor(this, ch);
    this.rtpStats(ch);
    // CEL is published from the hangup itself, the AMI Hangup when the channel is destroyed: CEL usually comes first
    const lastOfLinkedid = (): boolean =>
      ![...this.channels.values()].some((c) => c !== ch && c.alive && c.linkedid === ch.linkedid) && !(ch.localPartner?.alive);
    const hangupCel = (): void =>
      this.cel(ch, 'HANGUP', { extra: JSON.stringify({ hangupcause: cause, hangupsource: ch.hangupSource ?? '', dialstatus: ch.vars.get('DIALSTATUS') ?? '' }) });
    const closingCel = (linkedidEnd: boolean): void => {
      if (!opts.splitCel) hangupCel();
      this.cel(ch, 'CHAN_END');
      if (linkedidEnd) this.cel(ch, 'LINKEDID_END');
    };
    if (opts.splitCel) {
      celAfter = true;
      hangupCel();
    }
    if (!celAfter) closingCel(lastOfLinkedid());
    beforeHangup?.();
    this.emitEvent({ type: 'Hangup', ch, cause, techCause });
    this.channels.delete(ch.id);
    opts.afterHangup?.();
    if (opts.deviceNow) this.refreshDevice(ch.device, true);
    opts.afterDevice?.();
    let held: () => void = () => undefined;
    if (celAfter) {
      const linkedidEnd = lastOfLinkedid();
      if (opts.holdCel) held = () => closingCel(linkedidEnd);
      else closingCel(linkedidEnd);
    }
    if (!opts.deviceNow) this.refreshDevice(ch.device);
    if (ch.localPartner?.alive) this.destroyChannel(ch.localPartner, cause);
    return held;
  }

  deviceStateOf(device: string): DeviceState {
    const ep = device.startsWith('PJSIP/') ? this.endpoints.get(device.slice(6)) : undefined;
    if (ep && (!ep.registered || ep.unreachable)) return 'UNAVAILABLE';
    if (device.startsWith('Local/')) {
      // chan_local: in use while any half of a pair with that name exists
      for (const ch of this.channels.values()) if (ch.device === device && ch.alive) return 'INUSE';
      return 'NOT_INUSE';
    }
    let up = false;
    let ringing = false;
    let busy = false;
    for (const ch of this.channels.values()) {
      if (ch.device !== device || !ch.alive) continue;
      // a SIP channel that called in (state Ring) keeps its device in use, as Asterisk reports it
      if (ch.state === 'Up' || (ch.state === 'Ring' && ch.name.startsWith('PJSIP/'))) up = true;
      else if (ch.state === 'Ringing') ringing = true;
      else if (ch.state === 'Busy') busy = true;
    }
    if (busy) return 'BUSY';
    if (up && ringing) return 'RINGINUSE';
    if (up) return 'INUSE';
    if (ringing) return 'RINGING';
    return 'NOT_INUSE';
  }

  /**
   * Recomputes a device's state and publishes DeviceStateChange when it changed.
   * Asterisk computes device states asynchronously; without `immediate` the change
   * is published once the current step's events are out (as after a Hangup in the traces).
   */
  refreshDevice(device: string, immediate = false): void {
    if (immediate) {
      this.publishDevice(device);
      return;
    }
    if (this.pendingDevices.size === 0) queueMicrotask(() => this.flushDevices());
    this.pendingDevices.add(device);
  }

  private flushDevices(): void {
    const devices = [...this.pendingDevices];
    this.pendingDevices.clear();
    for (const d of devices) this.publishDevice(d);
  }

  private publishDevice(device: string): void {
    const state = this.deviceStateOf(device);
    const prev = this.devices.get(device);
    this.devices.set(device, state);
    if (prev === state || (prev === undefined && state === 'NOT_INUSE')) return;
    const ep = device.startsWith('PJSIP/') ? this.endpoints.get(device.slice(6)) : undefined;
    if (ep) ep.deviceState = state;
    if (!this.stopped) this.emitEvent({ type: 'DeviceStateChange', device, state });
  }

  /** Known devices and their states, cast endpoints first. */
  deviceStates(): Array<[string, DeviceState]> {
    return [...this.devices.entries()];
  }

  /** Converts wall-clock milliseconds back to cast seconds (recordings last as long as the simulated call). */
  simulatedSeconds(wallMs: number): number {
    return this.timeScale > 0 ? wallMs / 1000 / this.timeScale : wallMs / 1000;
  }
}
