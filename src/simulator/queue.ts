import { TRUNK_CONTEXT } from './dial.js';
import {
  ABANDON_AFTER_MS, TALK_MS, dialStep, gosub, macroUserCallerid, setStep, setUserfield, step, subRecordCheck, type CdrRow,
} from './freepbx.js';
import { Dialer, connect, endAbandoned, endAfterDial, endConnected, type Leg } from './pbx-dial.js';
import { inboundCaller, legBehaviour, type InboundRequest } from './pbx-inbound.js';
import type { World } from './world.js';
import type { Channel, DeviceState } from './types.js';

/**
 * Queue 700 as in the Q traces (queues.conf of asterisk-config-queues):
 * ringall over FreePBX Local members `Local/<ext>@from-queue/n` (every cast
 * operator is a static member), member ring timeout 3 s, retry 1 s, callers
 * wait at most 60 s (`Queue(700,tr,,,60)`), the caller is answered only when a member answers.
 */
export const QUEUE = '700';
const MEMBER_TIMEOUT_MS = 3000;
const RETRY_MS = 1000;
const MAX_WAIT_MS = 60_000;

export interface QueueMember {
  sip: string;
  paused: boolean;
  reason: string;
  lastPause: number;
  callsTaken: number;
  lastCall: number;
}

interface QueueState {
  members: Map<string, QueueMember>;
  loginTime: number;
  callers: Array<{ ch: Channel; joined: number }>;
  completed: number;
  abandoned: number;
  holdTotal: number;
  talkTotal: number;
}

const states = new WeakMap<World, QueueState>();

export function queueState(world: World): QueueState {
  let q = states.get(world);
  if (!q) {
    q = {
      members: new Map(world.operators.map((o) => [o.sip, { sip: o.sip, paused: false, reason: '', lastPause: 0, callsTaken: 0, lastCall: 0 }])),
      loginTime: Math.floor(world.startedAt.getTime() / 1000),
      callers: [],
      completed: 0,
      abandoned: 0,
      holdTotal: 0,
      talkTotal: 0,
    };
    states.set(world, q);
  }
  return q;
}

export function memberInterface(sip: string): string {
  return `Local/${sip}@from-queue/n`;
}

/** app_queue's member status (AST_DEVICE_* numbers) from the phone's device state. */
const STATUS: Record<DeviceState, number> = { UNKNOWN: 0, NOT_INUSE: 1, INUSE: 2, BUSY: 3, UNAVAILABLE: 5, RINGING: 6, RINGINUSE: 7, ONHOLD: 8 };

export function memberStatus(world: World, sip: string): number {
  return STATUS[world.deviceStateOf(`PJSIP/${sip}`)];
}

/** The member block of QueueMember / QueueMemberPause (`Name`/`Location` or `MemberName`/`Interface`). */
export function memberHeaders(world: World, m: QueueMember, listing: boolean): Array<[string, string]> {
  const q = queueState(world);
  const head: Array<[string, string]> = listing
    ? [['Queue', QUEUE], ['Name', m.sip], ['Location', memberInterface(m.sip)]]
    : [['Queue', QUEUE], ['MemberName', m.sip], ['Interface', memberInterface(m.sip)]];
  const tail: Array<[string, string]> = [
    ['StateInterface', `hint:${m.sip}@ext-local`], ['Membership', 'static'], ['Penalty', '0'], ['CallsTaken', String(m.callsTaken)],
    ['LastCall', String(m.lastCall)], ['LastPause', String(m.lastPause)], ['LoginTime', String(q.loginTime)], ['InCall', '0'],
    ['Status', String(memberStatus(world, m.sip))], ['Paused', m.paused ? '1' : '0'], ['PausedReason', m.reason],
  ];
  return listing ? [...head, ...tail, ['Wrapuptime', '0']] : [...head, ...tail, ['Ringinuse', '0'], ['Wrapuptime', '0']];
}

/**
 * Pauses or unpauses a member (QueuePause, Q3): DeviceStateChange of
 * `Queue:700_pause_<interface>`, then QueueMemberPause. False for an unknown member.
 */
export function pauseMember(world: World, sip: string, paused: boolean, reason = ''): boolean {
  const m = queueState(world).members.get(sip);
  if (!m) return false;
  m.paused = paused;
  m.reason = paused ? reason : '';
  if (paused) m.lastPause = Math.floor(Date.now() / 1000);
  world.emitEvent({ type: 'DeviceStateChange', device: `Queue:${QUEUE}_pause_${memberInterface(sip)}`, state: paused ? 'INUSE' : 'NOT_INUSE' });
  world.emitEvent({ type: 'AmiEvent', name: 'QueueMemberPause', privilege: 'agent', parts: [{ headers: memberHeaders(world, m, false) }] });
  return true;
}

function secs(world: World, sinceWallMs: number): number {
  return Math.round(world.simulatedSeconds(Date.now() - sinceWallMs));
}

/** DID → queue 700 (Q1, Q3): QueueCallerJoin, rounds of AgentCalled over the unpaused members, AgentConnect / QueueCallerAbandon. */
export function startQueueCall(world: World, req: InboundRequest): Channel {
  const q = queueState(world);
  const caller = inboundCaller(world, req.from, req.did, `queue ${QUEUE}`);
  const c = 'ext-queues';
  step(world, caller, TRUNK_CONTEXT, req.did, 7, 'Goto', `${c},${QUEUE},1`);
  step(world, caller, c, QUEUE, 1, 'NoOp', `Queue ${QUEUE} (ringall ${req.operators.join('-')})`);
  gosub(world, caller, c, QUEUE, 2, 'macro-user-callerid,s,1', []);
  macroUserCallerid(world, caller);
  setStep(world, caller, c, QUEUE, 3, '__NODEST', QUEUE);
  setUserfield(world, caller, c, QUEUE, 4, `did:${req.did};q:${QUEUE}`);
  subRecordCheck(world, caller, [c, QUEUE, 5], 'q', QUEUE, req.from);
  const data = `${QUEUE},tr,,,60`;
  dialStep(world, caller, c, QUEUE, 6, data, 'Queue');
  const joined = Date.now();
  q.callers.push({ ch: caller, joined });
  if (q.callers.length === 1) world.emitEvent({ type: 'DeviceStateChange', device: `Queue:${QUEUE}`, state: 'RINGING' });
  const position = q.callers.length;
  world.emitEvent({
    type: 'AmiEvent', name: 'QueueCallerJoin', privilege: 'agent',
    parts: [{ ch: caller }, { headers: [['Queue', QUEUE], ['Position', String(position)], ['Count', String(q.callers.length)]] }],
  });

  const answeredBy = req.answeredBy ?? req.operators[0];
  const dialers: Dialer[] = [];
  let current: Dialer | undefined;
  let over = false;
  const rows = (): CdrRow[] => dialers.flatMap((d) => d.callerRows());
  const emitRows = (): void => {
    for (const d of dialers) d.emitCallerRows();
  };

  const leave = (): void => {
    const idx = q.callers.findIndex((x) => x.ch === caller);
    const pos = idx + 1;
    if (idx >= 0) q.callers.splice(idx, 1);
    if (q.callers.length === 0) world.emitEvent({ type: 'DeviceStateChange', device: `Queue:${QUEUE}`, state: 'NOT_INUSE' });
    world.emitEvent({
      type: 'AmiEvent', name: 'QueueCallerLeave', privilege: 'agent',
      parts: [{ ch: caller }, { headers: [['Queue', QUEUE], ['Position', String(Math.max(pos, 1))], ['Count', String(q.callers.length)]] }],
    });
  };

  const agentEvent = (name: string, leg: Leg, extra: Array<[string, string]>): void => {
    const sip = (leg.target as { sip: string }).sip;
    world.emitEvent({
      type: 'AmiEvent', name, privilege: 'agent',
      parts: [{ ch: caller }, { ch: leg.outer!, prefix: 'Dest' }, { headers: [['Queue', QUEUE], ['Interface', memberInterface(sip)], ['MemberName', sip], ...extra] }],
    });
  };

  const abandon = (): void => {
    if (over) return;
    if (current && !current.isFinished) {
      current.abandon();
      return;
    }
    over = true;
    world.emitEvent({ type: 'HangupRequest', ch: caller, cause: 127 });
    abandoned();
  };

  const abandoned = (): void => {
    over = true;
    q.abandoned += 1;
    const idx = q.callers.findIndex((x) => x.ch === caller);
    world.emitEvent({
      type: 'AmiEvent', name: 'QueueCallerAbandon', privilege: 'agent',
      parts: [{ ch: caller }, { headers: [['Queue', QUEUE], ['Position', String(idx + 1)], ['OriginalPosition', String(position)], ['HoldTime', String(secs(world, joined))]] }],
    });
    leave();
    endAbandoned(world, caller, emitRows);
  };

  const timedOut = (): void => {
    over = true;
    leave();
    world.setVar(caller, 'QUEUESTATUS', 'TIMEOUT');
    step(world, caller, c, QUEUE, 7, 'NoOp', `Queue ${QUEUE}: QUEUESTATUS=TIMEOUT`);
    step(world, caller, c, QUEUE, 8, 'Goto', 'app-blackhole,hangup,1');
    step(world, caller, 'app-blackhole', 'hangup', 1, 'NoOp', 'Blackhole Dest: Hangup');
    step(world, caller, 'app-blackhole', 'hangup', 2, 'Hangup', '');
    endAfterDial(world, caller, emitRows, { app: 'Hangup', destination: 'hangup', context: 'app-blackhole' });
  };

  const round = (): void => {
    if (over || !caller.alive) return;
    if (Date.now() - joined >= MAX_WAIT_MS * world.timeScale) {
      timedOut();
      return;
    }
    const members = req.operators.filter((sip) => {
      const m = q.members.get(sip);
      return m && !m.paused && world.endpoints.get(sip)?.registered;
    });
    if (members.length === 0) {
      // nobody can be called: the caller keeps waiting (joinempty = yes)
      world.later(RETRY_MS, round, caller);
      return;
    }
    let connectedAt = 0;
    const d = new Dialer(world, {
      caller, app: 'Queue', data, cdrDestination: QUEUE, cdrContext: c, timeoutMs: MEMBER_TIMEOUT_MS, flavour: 'queue', localCallerNum: req.did,
      targets: members.map((sip) => ({ kind: 'member' as const, sip, behaviour: legBehaviour(world, sip, req.outcome, answeredBy) })),
      onLegCalled: (leg) => agentEvent('AgentCalled', leg, []),
      onLegNoAnswer: (leg) => agentEvent('AgentRingNoAnswer', leg, [['RingTime', String(Math.round(world.simulatedSeconds(Date.now() - leg.calledAt) * 1000))]]),
      onConnect: (leg) => {
        leave();
        const wait = secs(world, joined);
        world.setVar(caller, 'QUEUEPOSITION', String(position));
        world.setVar(caller, 'QUEUEWAIT', String(wait));
        world.setVar(caller, 'QUEUEWAIT_MS', String(wait * 1000));
        agentEvent('AgentConnect', leg, [['HoldTime', String(wait)], ['RingTime', String(secs(world, leg.calledAt))]]);
        connectedAt = Date.now();
        q.holdTotal += wait;
      },
      done: (outcome, dd) => {
        if (outcome === 'ANSWER') {
          over = true;
          const leg = dd.winner!;
          const sip = (leg.target as { sip: string }).sip;
          const call = connect({
            world, caller, leg, bareCallerHangupRequest: true,
            rows: () => [...(leg.innerRow ? [leg.innerRow] : []), ...rows()],
            onComplete: (reason) => {
              const talk = secs(world, connectedAt);
              agentEvent('AgentComplete', leg, [['HoldTime', String(secs(world, joined) - talk)], ['TalkTime', String(talk)], ['Reason', reason]]);
              const m = q.members.get(sip);
              if (m) {
                m.callsTaken += 1;
                m.lastCall = Math.floor(Date.now() / 1000);
              }
              q.completed += 1;
              q.talkTotal += talk;
            },
          });
          world.later(TALK_MS, () => endConnected(call, 'caller', true), caller);
          return;
        }
        if (outcome === 'ABANDON') {
          abandoned();
          return;
        }
        // nobody answered within the member timeout: try again after `retry`
        world.later(RETRY_MS, round, caller);
      },
    });
    dialers.push(d);
    current = d;
    d.start();
  };

  caller.onHangupRequest = () => abandon();
  if (req.outcome === 'abandon') world.later(ABANDON_AFTER_MS, abandon, caller);
  round();
  return caller;
}
