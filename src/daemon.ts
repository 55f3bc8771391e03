/**
 * Composition root: open the database, start the simulated PBX when asked,
 * connect AMI and ARI, wire the features, serve HTTP. `startDaemon` returns a
 * handle whose `stop()` shuts everything down in order; main.ts adds the
 * process concerns (signals, exit codes).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { VERSION } from './version.js';
import { databaseHealth, openDatabase, type Db } from './db/index.js';
import { batchOf, commitGuard, flushWrites } from './db/batch.js';
import { AmiClient, EVENT_CLASSES, EVENT_FILTERS, FILTERED_EVENTS } from './asterisk/ami/index.js';
import { field } from './asterisk/ami/message.js';
import { AriClient } from './asterisk/ari/index.js';
import { AMI_USER_EVENT_FILTERS, SimulatedAsterisk, amiWriteClasses } from './simulator/index.js';
import { AnswerGate } from './http/answer-gate.js';
import { createApp, type ApiMethod, type Env, type RouteGroup } from './http/app.js';
import type { Hono } from 'hono';
import { Metrics, metricsRoutes } from './metrics/index.js';
import { docsRoutes } from './openapi/routes.js';
import { simulatorRoutes } from './http/simulator.js';
import { PresenceStore } from './presence/store.js';
import { PresenceService } from './presence/service.js';
import { PresenceFeed } from './presence/feed.js';
import { presenceMethods } from './presence/http.js';
import { CallStore } from './calls/store.js';
import { CallService } from './calls/service.js';
import { AmiCallController, AriCallController } from './calls/controllers.js';
import type { CallController } from './calls/controller.js';
import { callMethods } from './calls/http.js';
import { recordingRoutes } from './calls/recordings-http.js';
import { callListMethods } from './calls/list-http.js';
import { PbxCallService } from './pbx/service.js';
import { MIRROR_VARIABLES } from './pbx/mirror.js';
import { TRACKER_VARIABLES } from './calls/ami-tracker.js';
import { createDomainBus } from './domain/bus.js';
import { eventMethods } from './events/http.js';
import { createConnectors } from './connectors/config.js';
import { Outbox } from './outbox/outbox.js';
import { outboxMethods } from './outbox/http.js';
import { callSettingsClient } from './connectors/call-settings.js';
import { callSettingsMethods } from './connectors/call-settings-http.js';
import { StreamHub } from './stream/hub.js';
import { deliverySource, presenceSource, statusSource } from './stream/sources.js';
import { streamRoutes } from './stream/http.js';
import { uiRoutes } from './ui/routes.js';
import { CallHangup } from './calls/hangup.js';
import { ContactStore } from './contacts/store.js';
import { RestSessions } from './rest/sessions.js';
import { UserDirectory } from './rest/users.js';
import { AudioLinks } from './rest/audio-links.js';
import { restRoutes } from './rest/routes.js';

/** How often open calls are compared with Asterisk's channels while connected. */
const RECONCILE_EVERY_MS = 60_000;

export interface Daemon {
  readonly port: number;
  readonly db: Db;
  readonly ami: AmiClient;
  readonly ari: AriClient | undefined;
  readonly presence: PresenceService;
  readonly calls: CallService;
  /** the CRM connectors' outbox */
  readonly outbox: Outbox;
  readonly simulator: SimulatedAsterisk | undefined;
  /** the HTTP app (its routes are what /openapi.json must describe) */
  readonly app: Hono<Env>;
  readonly metrics: Metrics;
  stop(): Promise<void>;
}

/** Resolves with the bound port once `serve` is listening. */
function listening(server: ServerType): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  const db = openDatabase(config.dbPath);
  const metrics = new Metrics();
  metrics.timeWrites(db.$client);
  // the writes of a moment share one COMMIT (src/db/batch.ts), logged as the db component
  metrics.countCommits(batchOf(db.$client, log.child({ component: 'db' })));
  const commitWrites = () => flushWrites(db.$client);
  let simulator: SimulatedAsterisk | undefined;
  let ami = config.ami;
  let ari = config.ari;

  if (config.simulate) {
    // The simulated PBX accepts the configured credentials; when none are set
    // it makes up its own, so nothing secret needs configuring to try it.
    const amiSecret = ami.secret || randomBytes(12).toString('hex');
    const ariPassword = ari.password || randomBytes(12).toString('hex');
    simulator = new SimulatedAsterisk({
      amiPort: config.sim.amiPort,
      ariPort: config.sim.ariPort,
      amiUser: ami.username,
      amiSecret,
      ariUser: ari.username,
      ariPassword,
      recordingsDir: config.recordingsDir,
      timeScale: config.sim.timeScale,
      extraOperators: config.sim.extraOperators,
      amiWrite: amiWriteClasses(config.control === 'ami' ? 'ami' : 'ari'),
      amiEventFilters: AMI_USER_EVENT_FILTERS,
      logger: log.child({ component: 'simulator' }),
    });
    const ports = await simulator.start();
    ami = { ...ami, host: '127.0.0.1', port: ports.amiPort, secret: amiSecret };
    ari = { ...ari, url: ports.ariUrl, password: ariPassword };
  }

  // only the event classes presence, the PBX call mirror and the call tracking read, in every mode (see asterisk/ami/events.ts)
  // what the Filter leaves out is passed over unparsed when Asterisk refused the Filter (AMI control mode's user has no system class)
  // VarSet events (half of a call's AMI stream) are parsed only for the variables the tracker and the mirror read
  const varSetVariables = new Set([...TRACKER_VARIABLES, ...MIRROR_VARIABLES]);
  const amiClient = new AmiClient({ events: EVENT_CLASSES, filters: EVENT_FILTERS, skipEvents: FILTERED_EVENTS, varSetVariables, ...ami, logger: log.child({ component: 'ami' }) });
  const ariClient = ari.url
    ? new AriClient({
        url: ari.url,
        username: ari.username,
        password: ari.password,
        app: ari.app,
        subscriptions: ['endpoint:PJSIP'],
        // nothing reads the variables the dialplan sets on Stasis channels (half of a call's ARI events)
        ignoreTypes: ['ChannelVarset'],
        logger: log.child({ component: 'ari' }),
      })
    : undefined;

  const store = new PresenceStore(db);
  const presence = new PresenceService(store, log.child({ component: 'presence' }));
  const feed = new PresenceFeed(presence, amiClient, ariClient, log.child({ component: 'presence' }));

  const callStore = new CallStore(db);
  const callLog = log.child({ component: 'calls' });
  const settings = {
    operatorChannel: config.operatorChannel,
    clientChannel: config.clientChannel,
    callerId: config.callerId,
    operatorRingTimeout: config.operatorRingTimeout,
    clientRingTimeout: config.clientRingTimeout,
  };
  const controller: CallController =
    config.control === 'ami' || !ariClient
      ? new AmiCallController(amiClient, config.recordingsDir, callLog, config.ari.hangupFacts)
      : new AriCallController(ariClient, config.recordingsDir, callLog, amiClient, { context: config.ari.context, app: config.ari.app, hangupFacts: config.ari.hangupFacts });
  // the contact book (/rest/crm/contacts/v2): caller names and the connectors' otherLegs
  const contacts = new ContactStore(db);
  // CRM connectors: the outbox is written in the same transactions as the statuses (CallTap)
  const outbox = new Outbox(callStore, createConnectors(config.connectors), {
    log: log.child({ component: 'connectors' }),
    urlOf: (id) => `${baseUrl}/recordings/${id}`,
    retentionMs: config.outboxRetentionMs,
    contactOf: (phone) => {
      const c = contacts.byPhone(phone);
      return c ? { id: c.id, name: c.name, companyName: c.companyName, url: `${baseUrl}/rest/crm/contacts/v2/${c.id}` } : undefined;
    },
  });
  const callSettings = callSettingsClient(outbox.connectors, log.child({ component: 'connectors' }));
  // the caller name on the operator's phone: the CRM's (call.settings), else the contact book's
  const callerName = async (phone: string) => (callSettings ? ((await callSettings.lookup(phone)).name ?? undefined) : undefined) ?? contacts.callerName(phone);
  // calls accepted by a burst of makeCall requests are placed once the burst is answered
  const answers = new AnswerGate();
  const calls = new CallService(callStore, presence, controller, settings, callLog, Date.now, outbox.enabled ? outbox : undefined, callerName, (task) =>
    answers.after(task),
  );
  const pbxCalls = new PbxCallService(
    amiClient,
    callStore,
    calls,
    { operatorContexts: config.operatorContexts, recordingDirs: [config.recordingsDir, config.monitorDir] },
    log.child({ component: 'pbx-calls' }),
  );
  const reconcile = () => {
    if (controller.available) void calls.reconcile();
  };
  // In ARI mode the AMI link is the second witness and reads the facts the PBX kept: its reconnect reconciles too.
  if (controller.mode === 'ari') ariClient!.on('connected', reconcile);
  amiClient.on('connected', reconcile);
  const reconcileTimer = setInterval(reconcile, RECONCILE_EVERY_MS);
  reconcileTimer.unref();

  const startedAt = Date.now();
  const health = () => {
    const dbHealth = databaseHealth(db);
    const amiState = amiClient.connected ? 'connected' : 'disconnected';
    const ariState = ariClient ? (ariClient.connected ? 'connected' : 'disconnected') : 'disabled';
    const ok = dbHealth.ok && amiState === 'connected' && ariState !== 'disconnected';
    return {
      status: ok ? 'ok' : 'degraded',
      ami: amiState,
      ari: ariState,
      db: dbHealth.ok ? 'ok' : 'error',
      ...(dbHealth.error ? { db_error: dbHealth.error } : {}),
      version: VERSION,
      ...(outbox.enabled ? { connectors: outbox.health() } : {}),
      uptime: Math.round((Date.now() - startedAt) / 1000), // seconds since this daemon started
    };
  };

  let baseUrl = config.http.publicUrl ?? '';
  const routes: RouteGroup[] = [recordingRoutes(callStore), ...(simulator ? [simulatorRoutes(simulator)] : [])];
  // the live event stream (/api/stream) and the status page (/, /ui)
  const streamHub = new StreamHub([statusSource(db, calls), presenceSource(db, presence), deliverySource(db, outbox.store)], log.child({ component: 'stream' }));
  routes.push(streamRoutes(streamHub, { sipPattern: config.sipPattern }), ...uiRoutes({ simulated: simulator !== undefined, tokenRequired: config.apiTokens.length > 0 }));
  const domainBus = createDomainBus((err, event) => log.warn({ type: event.type, err: (err as Error).message }, 'domain event listener failed'));
  domainBus.on('event', (event) => outbox.domainEvent(event));
  const eventApi = eventMethods(db, {
    recordingsDir: config.recordingsDir,
    monitorDir: config.monitorDir,
    numberLookupUrl: config.numberLookupUrl,
    log: log.child({ component: 'events' }),
    bus: domainBus,
  });
  const apiMethods: ApiMethod[] = [...presenceMethods(store), ...callMethods(calls, callStore, { sipPattern: config.sipPattern, urlOf: (id) => `${baseUrl}/recordings/${id}` }), ...callListMethods(callStore, { sipPattern: config.sipPattern, urlOf: (id) => `${baseUrl}/recordings/${id}` }), ...eventApi, ...outboxMethods(outbox), ...callSettingsMethods(callSettings, (phone) => contacts.callerName(phone))];
  // metrics (/metrics) and the API document (/openapi.json, /docs)
  metrics.attach({ ami: amiClient, ari: ariClient, calls, db });
  if (outbox.enabled) {
    const outboxMetrics = metrics.registerOutbox();
    outboxMetrics.pendingFrom(() => Object.entries(outbox.health()).map(([connector, h]) => ({ connector, pending: h.pending })));
    outbox.store.on('attempt', (a) => {
      if (a.outcome === 'delivered') outboxMetrics.delivered(a.connector);
      else if (a.outcome === 'failed') outboxMetrics.failed(a.connector);
    });
  }
  // the hosted-PBX REST API (/rest): its own sessions; API keys, else the API tokens
  const restSessions = new RestSessions(db, {
    keys: config.rest.keys.length > 0 ? config.rest.keys : config.apiTokens.map((key) => ({ key })),
    idleMs: config.rest.sessionIdleMs,
  });
  const users = new UserDirectory(db, () => store.all(), { users: config.rest.users }, async (ext) => {
    if (!amiClient.connected || !config.sipPattern.test(ext) || !/^[A-Za-z0-9_.-]{1,80}$/.test(ext)) return undefined;
    const res = await amiClient.action({ Action: 'Getvar', Variable: `PJSIP_ENDPOINT(${ext},callerid)` });
    return field(res, 'value');
  });
  const uuids = callStore.uuids;
  routes.push(
    restRoutes({
      sessions: restSessions,
      users,
      uuids,
      store: callStore,
      contacts,
      audio: new AudioLinks(db, config.rest.audioLinkTtlMs),
      hangup: new CallHangup(db, amiClient),
      makeCall: (input) => calls.makeCall({ ...input, orderId: null, externalKey: undefined }),
      presence: (ext) => presence.status(ext),
      openCalls: () => [...callStore.open('api'), ...callStore.open('pbx')].sort((a, b) => a.id - b.id),
      baseUrl: () => baseUrl,
      sipPattern: config.sipPattern,
      domain: config.rest.domain,
      trunk: config.rest.trunk,
      trustProxy: config.trustProxy,
      log: log.child({ component: 'rest' }),
    }),
  );
  const sessionSweep = setInterval(() => restSessions.sweep(), 3_600_000);
  sessionSweep.unref();
  routes.push(metricsRoutes(metrics, { metricsToken: config.metricsToken, apiTokens: config.apiTokens }));
  routes.push(...docsRoutes({ methods: () => apiMethods, routes: () => routes, tokens: config.apiTokens.length > 0 }));
  const app = createApp({
    log: log.child({ component: 'http' }),
    apiTokens: config.apiTokens,
    allowedNetworks: config.allowedNetworks,
    methods: apiMethods,
    health,
    routes,
    onResponse: metrics.onResponse,
    commitGuard: () => commitGuard(db.$client),
    answerGate: answers,
  });
  const server = serve({ fetch: app.fetch, hostname: config.http.host, port: config.http.port });
  let port: number;
  try {
    port = await listening(server);
  } catch (err) {
    await simulator?.stop();
    db.$client.close();
    throw err;
  }
  if (!baseUrl) baseUrl = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
  log.info({ host: config.http.host, port, version: VERSION, control: config.control }, 'HTTP API listening');

  pbxCalls.start();
  outbox.start();
  amiClient.start();
  ariClient?.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      streamHub.close(); // open event streams would keep the server from closing
      await new Promise<void>((resolve) => server.close(() => resolve()));
      answers.flush();
      feed.stop();
      clearInterval(reconcileTimer);
      clearInterval(sessionSweep);
      ariClient?.off('connected', reconcile);
      amiClient.off('connected', reconcile);
      await controller.stop();
      await pbxCalls.stop();
      await Promise.allSettled([amiClient.stop(), ariClient?.stop()]);
      await outbox.stop();
      await simulator?.stop();
      metrics.close();
      commitWrites();
      db.$client.close();
      log.info('stopped');
    })());

  return { port, db, ami: amiClient, ari: ariClient, presence, calls, outbox, simulator, app, metrics, stop };
}
