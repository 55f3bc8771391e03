import { channelHeaders, frame, type Headers } from './ami-format.js';
import { response, type AmiMessage, type AmiServer, type AmiSession } from './ami-server.js';
import { QUEUE, memberHeaders, memberInterface, pauseMember, queueState } from './queue.js';
import { TRANSFER_CONTEXT, blindTransfer } from './transfer.js';
import { attendedTransfer } from './atxfer.js';
import type { Channel } from './types.js';

/** BlindTransfer, Atxfer, QueuePause, QueueStatus, QueueSummary; false when `name` is none of them. */
export function pbxAction(server: AmiServer, s: AmiSession, msg: AmiMessage, name: string): boolean {
  switch (name) {
    case 'blindtransfer':
      transfer(server, s, msg);
      return true;
    case 'atxfer':
      atxfer(server, s, msg);
      return true;
    case 'queuepause':
      queuePause(server, s, msg);
      return true;
    case 'queuestatus':
      queueStatus(server, s, msg);
      return true;
    case 'queuesummary':
      queueSummary(server, s, msg);
      return true;
    default:
      return false;
  }
}

/** Answers as manager.c's action_blind_transfer: the Response first, then the transfer's events (E7). */
function transfer(server: AmiServer, s: AmiSession, msg: AmiMessage): void {
  const world = server.world;
  const args = transferArgs(server, s, msg, 'No such channel');
  if (!args) return;
  const { ch, exten } = args;
  const context = msg.get('Context') || TRANSFER_CONTEXT;
  const bridged = ch.bridge && ch.bridge.channels.length === 2;
  if (!bridged) return s.send(response('Error', msg, [['Message', 'Transfer invalid']]));
  const target = world.operators.some((o) => o.sip === exten);
  if (!target) return s.send(response('Error', msg, [['Message', 'Transfer failed']]));
  s.send(response('Success', msg, [['Message', 'Transfer succeeded']]));
  blindTransfer(world, ch, exten, context);
}

/**
 * Answers as manager.c's action_atxfer: it only queues the feature code and
 * the extension as DTMF on the channel (the FreePBX `*2` code is configured),
 * so the answer is "Atxfer successfully queued" for any channel that exists;
 * the transfer itself follows in events (X1, X4).
 */
function atxfer(server: AmiServer, s: AmiSession, msg: AmiMessage): void {
  const target = transferArgs(server, s, msg, 'Channel specified does not exist');
  if (!target) return;
  s.send(response('Success', msg, [['Message', 'Atxfer successfully queued']]));
  attendedTransfer(server.world, target.ch, target.exten);
}

/** Channel and Exten of a transfer action, answered with manager.c's errors when missing or unknown (`unknown`: its wording for a channel that does not exist). */
function transferArgs(server: AmiServer, s: AmiSession, msg: AmiMessage, unknown: string): { ch: Channel; exten: string } | undefined {
  const name = msg.get('Channel') ?? '';
  const exten = msg.get('Exten') ?? '';
  const error = (message: string): undefined => void s.send(response('Error', msg, [['Message', message]]));
  if (!name) return error('No channel specified');
  if (!exten) return error('No extension specified');
  const ch = server.world.findChannel(name);
  if (!ch) return error(unknown);
  return { ch, exten };
}

/** QueuePause (Q3): the member interface is required; a wrong interface or queue gives "Interface not found". */
function queuePause(server: AmiServer, s: AmiSession, msg: AmiMessage): void {
  const world = server.world;
  const iface = msg.get('Interface') ?? '';
  const pausedRaw = msg.get('Paused');
  if (!iface || pausedRaw === undefined) {
    s.send(response('Error', msg, [['Message', "Need 'Interface' and 'Paused' parameters."]]));
    return;
  }
  const paused = /^(yes|true|y|t|1|on)$/i.test(pausedRaw.trim());
  const queue = msg.get('Queue');
  const m = /^Local\/([^@]+)@from-queue\/n$/.exec(iface);
  const member = m ? queueState(world).members.get(m[1]!) : undefined;
  if (!member || (queue !== undefined && queue !== '' && queue !== QUEUE)) {
    s.send(response('Error', msg, [['Message', 'Interface not found']]));
    return;
  }
  s.send(response('Success', msg, [['Message', paused ? 'Interface paused successfully' : 'Interface unpaused successfully']]));
  pauseMember(world, member.sip, paused, msg.get('Reason') ?? '');
}

function idTail(msg: AmiMessage): Headers {
  const id = msg.get('ActionID');
  return id === undefined ? [] : [['ActionID', id]];
}

function perf(q: ReturnType<typeof queueState>): string {
  const total = q.completed + q.abandoned;
  return total === 0 ? '0.0' : '100.0';
}

/** QueueStatus (Q1, Q3): QueueParams, one QueueMember per member, one QueueEntry per waiting caller, QueueStatusComplete. */
function queueStatus(server: AmiServer, s: AmiSession, msg: AmiMessage): void {
  const world = server.world;
  const q = queueState(world);
  const wanted = msg.get('Queue');
  const memberFilter = msg.get('Member');
  const items: Headers[] = [];
  if (!wanted || wanted === QUEUE) {
    const avg = (total: number): string => String(q.completed ? Math.round(total / q.completed) : 0);
    items.push([
      ['Event', 'QueueParams'], ['Queue', QUEUE], ['Max', '0'], ['Strategy', 'ringall'], ['Calls', String(q.callers.length)],
      ['Holdtime', avg(q.holdTotal)], ['TalkTime', avg(q.talkTotal)], ['Completed', String(q.completed)], ['Abandoned', String(q.abandoned)],
      ['ServiceLevel', '60'], ['ServicelevelPerf', perf(q)], ['ServicelevelPerf2', perf(q)], ['Weight', '0'],
    ]);
    for (const m of q.members.values()) {
      if (memberFilter && memberFilter !== memberInterface(m.sip) && memberFilter !== m.sip) continue;
      items.push([['Event', 'QueueMember'], ...memberHeaders(world, m, true)]);
    }
    q.callers.forEach((c, i) => {
      const snap = channelHeaders(c.ch);
      const get = (k: string): string => snap.find(([key]) => key === k)?.[1] ?? '';
      const unknown = (v: string): string => (v === '<unknown>' ? 'unknown' : v);
      items.push([
        ['Event', 'QueueEntry'], ['Queue', QUEUE], ['Position', String(i + 1)], ['Channel', c.ch.name], ['Uniqueid', c.ch.id],
        ['CallerIDNum', unknown(get('CallerIDNum'))], ['CallerIDName', unknown(get('CallerIDName'))],
        ['ConnectedLineNum', unknown(get('ConnectedLineNum'))], ['ConnectedLineName', unknown(get('ConnectedLineName'))],
        ['Wait', String(Math.round(world.simulatedSeconds(Date.now() - c.joined)))], ['Priority', '0'],
      ]);
    });
  }
  let out = response('Success', msg, [['EventList', 'start'], ['Message', 'Queue status will follow']]);
  for (const item of items) out += frame([...item, ...idTail(msg)]);
  out += frame([['Event', 'QueueStatusComplete'], ...idTail(msg), ['EventList', 'Complete'], ['ListItems', String(items.length)]]);
  s.send(out);
}

function queueSummary(server: AmiServer, s: AmiSession, msg: AmiMessage): void {
  const world = server.world;
  const q = queueState(world);
  const wanted = msg.get('Queue');
  const items: Headers[] = [];
  if (!wanted || wanted === QUEUE) {
    const members = [...q.members.values()].filter((m) => world.endpoints.get(m.sip)?.registered);
    const available = members.filter((m) => !m.paused && world.deviceStateOf(`PJSIP/${m.sip}`) === 'NOT_INUSE');
    const longest = q.callers.length ? Math.round(world.simulatedSeconds(Date.now() - q.callers[0]!.joined)) : 0;
    items.push([
      ['Event', 'QueueSummary'], ['Queue', QUEUE], ['LoggedIn', String(members.length)], ['Available', String(available.length)],
      ['Callers', String(q.callers.length)], ['HoldTime', String(q.completed ? Math.round(q.holdTotal / q.completed) : 0)],
      ['TalkTime', String(q.completed ? Math.round(q.talkTotal / q.completed) : 0)], ['LongestHoldTime', String(longest)],
    ]);
  }
  let out = response('Success', msg, [['EventList', 'start'], ['Message', 'Queue summary will follow']]);
  for (const item of items) out += frame([...item, ...idTail(msg)]);
  out += frame([['Event', 'QueueSummaryComplete'], ...idTail(msg), ['EventList', 'Complete'], ['ListItems', String(items.length)]]);
  s.send(out);
}
