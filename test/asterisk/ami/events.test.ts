/**
 * The AMI event selection (src/asterisk/ami/events.ts) against the recorded Asterisk 22 streams: what
 * Asterisk would no longer send changes nothing presence or the PBX call mirror derive; and the client
 * asks for it at login.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { AmiClient, EVENT_CLASSES, EVENT_FILTERS, FILTERED_EVENTS } from '../../../src/asterisk/ami/index.js';
import { amiPresenceSignal } from '../../../src/asterisk/presence-signals.js';
import { ChannelMirror } from '../../../src/pbx/mirror.js';
import { lowerCased, readJsonl, type TraceMessage } from '../../helpers/traces.js';
import { FakeAmiServer, standardAnswer, until, type ReceivedAction } from './fake-ami.js';

/**
 * Class of every event in the recorded streams, from Asterisk's own documentation
 * (`<managerEventInstance class="EVENT_FLAG_…">` in main/manager_channels.c, main/stasis_channels.c,
 * main/manager_bridges.c, cel/cel_manager.c, cdr/cdr_manager.c, apps/app_queue.c, res/res_pjsip*.c,
 * main/security_events.c; Newexten: manager_channels.c, ExtensionStatus: manager.c).
 */
const CLASS: Record<string, string> = {
  AgentCalled: 'agent', AgentComplete: 'agent', AgentConnect: 'agent', BlindTransfer: 'call', BridgeCreate: 'call',
  BridgeDestroy: 'call', BridgeEnter: 'call', BridgeLeave: 'call', CEL: 'call', Cdr: 'cdr', ChallengeSent: 'security',
  ContactStatus: 'system', DeviceStateChange: 'call', DialBegin: 'call', DialEnd: 'call', DialState: 'call',
  ExtensionStatus: 'call', FullyBooted: 'system', Hangup: 'call', HangupRequest: 'call', InvalidPassword: 'security',
  LocalBridge: 'call', MixMonitorStart: 'call', NewCallerid: 'call', NewConnectedLine: 'call', Newchannel: 'call',
  Newexten: 'dialplan', Newstate: 'call', OriginateResponse: 'call', PeerStatus: 'system', QueueCallerJoin: 'agent',
  QueueCallerLeave: 'agent', QueueCallerAbandon: 'agent', QueueEntry: 'agent', QueueMemberPause: 'agent',
  QueueMemberStatus: 'agent', QueueMemberAdded: 'agent', QueueMemberRemoved: 'agent', QueueParams: 'agent',
  RTCPSent: 'reporting', RTCPReceived: 'reporting', RequestBadFormat: 'security', SoftHangupRequest: 'call',
  SuccessfulAuth: 'security', Unhold: 'call', Hold: 'call', VarSet: 'dialplan',
};

const SCENARIOS = ['A1', 'A2', 'A3', 'A4', 'A5', 'A7', 'C1', 'C2', 'C3', 'C4', 'D1', 'E1', 'E2', 'E3', 'E4', 'E7', 'E9', 'F1', 'F1b', 'F2', 'F4', 'F4b', 'Q1', 'Q3'];
const wanted = new Set(EVENT_CLASSES.split(','));
/** The filters as Asterisk applies them: a POSIX extended regex over the event text. */
const excludes = EVENT_FILTERS.map((f) => {
  expect(f.startsWith('!')).toBe(true);
  return new RegExp(f.slice(1).replaceAll('[[:space:]]', '\\s'));
});

/** Whether Asterisk sends this event to the daemon's session (replies to the recorder's list actions always arrive). */
function delivered(m: TraceMessage): boolean {
  if (m.fields.ActionID !== undefined) return true;
  const cls = CLASS[m.name];
  if (cls === undefined) throw new Error(`no class known for ${m.name}`);
  return wanted.has(cls) && !excludes.some((re) => re.test(m.raw));
}

describe('the AMI event selection on the recorded streams', () => {
  it('the filters drop exactly the CEL and Newexten events', () => {
    for (const s of SCENARIOS) {
      for (const m of readJsonl<TraceMessage>(`${s}/ami.jsonl`)) {
        if (m.kind !== 'event') continue;
        expect(excludes.some((re) => re.test(m.raw)), `${s} ${m.name}`).toBe(FILTERED_EVENTS.has(m.name));
      }
    }
  });

  for (const s of SCENARIOS) {
    it(`${s}: presence signals and the PBX call mirror are the same without the events left out`, () => {
      const events = readJsonl<TraceMessage>(`${s}/ami.jsonl`).filter((m) => m.kind === 'event');
      const kept = events.filter(delivered);
      const run = (stream: TraceMessage[]) => {
        const mirror = new ChannelMirror({ operatorContexts: new Set(['from-internal']) });
        const signals: unknown[] = [];
        const changes: unknown[] = [];
        for (const m of stream) {
          const msg = lowerCased(m);
          const sig = amiPresenceSignal(msg);
          if (sig) signals.push(sig);
          for (const c of mirror.handle(msg, m.recv_ms)) changes.push({ type: c.type, linkedid: c.call.linkedid, at: 'at' in c ? c.at : undefined });
        }
        return { signals, changes, calls: [...mirror.calls.values()].map((c) => JSON.stringify(c)) };
      };
      expect(run(kept)).toEqual(run(events));
    });
  }

  it('leaves out a large share of a click-to-call stream', () => {
    const events = readJsonl<TraceMessage>('E1/ami.jsonl').filter((m) => m.kind === 'event');
    expect(events.filter(delivered).length / events.length).toBeLessThan(0.8);
  });
});

describe('AmiClient event selection', () => {
  let server: FakeAmiServer | undefined;
  let client: AmiClient | undefined;
  afterEach(async () => {
    await client?.stop();
    await server?.close();
  });

  it('logs in with Events: classes, adds the filters, and goes on when Asterisk refuses a filter', async () => {
    const actions: ReceivedAction[] = [];
    server = await FakeAmiServer.start((conn, action) => {
      actions.push(action);
      if (standardAnswer(conn, action)) return;
      if (action.get('action') === 'Filter') {
        void conn.write(`Response: Error\r\nActionID: ${action.get('actionid')}\r\nMessage: Permission denied\r\n\r\n`);
        void conn.write('Event: DeviceStateChange\r\nDevice: PJSIP/1000\r\nState: INUSE\r\n\r\n');
      }
    });
    client = new AmiClient({
      host: '127.0.0.1',
      port: server.port,
      username: 'daemon',
      secret: 'amisecret',
      logger: silentLogger(),
      pingIntervalMs: 60_000,
      events: EVENT_CLASSES,
      filters: EVENT_FILTERS,
    });
    const events: string[] = [];
    client.on('event', (m) => events.push(String(m.event)));
    client.start();
    await until(() => events.length > 0);
    const login = actions.find((a) => a.get('action') === 'Login')!;
    expect(login.get('events')).toBe('system,call,agent,dialplan,cdr');
    const filters = actions.filter((a) => a.get('action') === 'Filter');
    expect(filters.map((a) => [a.get('operation'), a.get('filter')])).toEqual(EVENT_FILTERS.map((f) => ['Add', f]));
    expect(client.connected).toBe(true);
    expect(events).toEqual(['DeviceStateChange']);
  });
});
