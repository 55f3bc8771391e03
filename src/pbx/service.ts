/**
 * Every call the PBX carries that the daemon did not start: inbound, dialled
 * from a phone, internal, ring groups, queues, transfers. AMI events feed the
 * channel mirror; each change of a call is derived again (derive.ts) and what
 * is new is stored: the call row's summary, the statuses the chain gained,
 * the channels that belong to it. After every (re)connect of AMI, and at
 * start, the mirror is set right by asking Asterisk (CoreShowChannels): a
 * channel it no longer has ended meanwhile, one it has that the mirror does
 * not know joins it, and calls the store holds open are followed again.
 */
import { batchOf } from '../db/batch.js';
import { basename, extname } from 'node:path';
import { insideDirs } from '../events/paths.js';
import type { AmiClient, AmiMessage } from '../asterisk/ami/index.js';
import { field } from '../asterisk/ami/index.js';
import type { CallRow } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { CallStatus, StatusStep } from '../calls/chain.js';
import type { CallService } from '../calls/service.js';
import type { CallPatch, CallStore } from '../calls/store.js';
import { ChannelMirror, type MirrorCall, type MirrorChannel, type Transfer } from './mirror.js';
import { summarize, type Leg, type PbxCallSummary } from './derive.js';
import { gapOutcome } from './gap.js';

export interface PbxSettings {
  operatorContexts: readonly string[];
  /** directories whose recordings may be served (the daemon's and the PBX's own) */
  recordingDirs: readonly string[];
  /** how long after a call ended its recording file is read (MixMonitor closes it just after the hangup) */
  recordingDelayMs?: number;
}

/** How often the mirror is compared with Asterisk's channels while connected. */
const RESYNC_EVERY_MS = 60_000;

interface Tracked {
  callId: number;
  /** statuses already stored, in order */
  stored: CallStatus[];
  channels: Set<string>;
  lastPatch: string;
}

export class PbxCallService {
  private readonly mirror: ChannelMirror;
  private readonly tracked = new Map<string, Tracked>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  private stopped = false;
  private interval: NodeJS.Timeout | undefined;
  private readonly onEvent = (msg: AmiMessage) => {
    try {
      this.apply(this.mirror.handle(msg, Date.now()).map((c) => c.call));
    } catch (err) {
      this.log.error({ err: (err as Error).message, event: field(msg, 'event') }, 'PBX call event failed');
    }
  };
  private readonly onConnected = () => void this.resync();

  constructor(
    private readonly ami: AmiClient,
    private readonly store: CallStore,
    private readonly calls: CallService,
    private readonly settings: PbxSettings,
    private readonly log: Logger,
  ) {
    this.mirror = new ChannelMirror({
      operatorContexts: new Set(settings.operatorContexts),
      // A click-to-call's linkedid is stored with its call; its channels never make a second call.
      isOwnLinkedid: (linkedid) => this.store.byLinkedid(linkedid).some((c) => c.origin === 'api'),
    });
  }

  start(): void {
    const every = setInterval(() => {
      if (this.ami.connected) void this.resync();
    }, RESYNC_EVERY_MS);
    every.unref();
    this.interval = every;
    this.ami.on('event', this.onEvent);
    this.ami.on('connected', this.onConnected);
    if (this.ami.connected) void this.resync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    this.ami.off('event', this.onEvent);
    this.ami.off('connected', this.onConnected);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.resyncing;
  }

  /** Calls being followed now (for tests and health). */
  get openCalls(): number {
    return this.tracked.size;
  }

  /** Stores what changed for each call touched by one event (each call once, in order). */
  private apply(touched: readonly MirrorCall[]): void {
    const seen = new Set<MirrorCall>();
    for (const call of touched) {
      if (seen.has(call)) continue;
      seen.add(call);
      if (call.own || !call.open) {
        // The daemon's own calls are followed by the click-to-call controllers; a phone that never dialled anyone made no call.
        if (call.ended) this.mirror.forget(call.linkedid);
        continue;
      }
      this.persist(call);
    }
  }

  private persist(call: MirrorCall): void {
    if (call.own || !call.open) return;
    let t = this.tracked.get(call.linkedid);
    const summary = summarize(call);
    if (!t) {
      const first = summary.chain[0]!;
      const row = this.calls.openPbxCall(
        { direction: summary.direction, phone: summary.phone, sip: summary.sip, orderId: null, externalKey: null, requestFingerprint: null, control: null },
        { status: 'CALL', details: first.details as StatusStep['details'] },
        first.at,
        { linkedid: call.linkedid },
      );
      t = { callId: row.id, stored: ['CALL'], channels: new Set(), lastPatch: '' };
      this.tracked.set(call.linkedid, t);
    }
    const fresh = [...call.channels.values()].filter((c) => !t.channels.has(c.uniqueid));
    if (fresh.length > 0) {
      const callId = t.callId;
      const seen = t.channels;
      batchOf(this.store.db.$client).write(
        'call channels',
        () => this.store.addChannels(callId, fresh.map((c) => ({ uniqueid: c.uniqueid, channel: c.name }))),
        undefined,
        () => {
          for (const c of fresh) seen.delete(c.uniqueid); // written again with the call's next change
        },
      );
      for (const c of fresh) seen.add(c.uniqueid);
    }
    const steps = newSteps(t.stored, summary);
    const patch = patchOf(summary);
    const patchKey = JSON.stringify(patch);
    if (steps.length > 0 || patchKey !== t.lastPatch) {
      this.calls.advancePbxCall(t.callId, steps, patch, summary.endedAt ?? Date.now());
      t.lastPatch = patchKey;
      for (const s of steps) t.stored.push(s.status);
    }
    if (summary.final) {
      this.tracked.delete(call.linkedid);
      this.mirror.forget(call.linkedid);
      if (summary.recordingFile && summary.answeredAt !== null) this.attachRecording(t.callId, summary.recordingFile);
    }
  }

  /** The PBX's own recording of a call that talked, once MixMonitor has closed it; only inside the recording directories. */
  private attachRecording(callId: number, file: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void (async () => {
        if (!(await insideDirs(file, this.settings.recordingDirs))) {
          this.log.info({ call_id: callId, file }, 'PBX recording outside the recordings directories: kept on the call, not served');
          return;
        }
        const name = basename(file, extname(file));
        if (this.store.recordingsOf([callId]).some((r) => r.file === file)) return;
        this.calls.sink.recordingFinished(callId, { name, file, format: extname(file).slice(1) || 'wav' });
      })().catch((err: unknown) => this.log.warn({ call_id: callId, err: (err as Error).message }, 'PBX recording not attached'));
    }, this.settings.recordingDelayMs ?? 1000);
    timer.unref();
    this.timers.add(timer);
  }

  /** Brings the mirror in line with Asterisk; one run at a time, a request meanwhile runs once more after it. */
  resync(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    const run = async () => {
      do {
        this.resyncAgain = false;
        try {
          await this.resyncOnce();
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'PBX call resync failed');
        }
      } while (this.resyncAgain && !this.stopped);
    };
    this.resyncing = run().finally(() => {
      this.resyncing = undefined;
    });
    return this.resyncing;
  }

  private async resyncOnce(): Promise<void> {
    this.restoreStored();
    const { events } = await this.ami.listAction({ Action: 'CoreShowChannels' });
    if (this.stopped) return;
    const now = Date.now();
    const alive = new Set<string>();
    const touched: MirrorCall[] = [];
    for (const m of events) {
      const ch = this.mirror.snapshotChannel(m, now);
      if (!ch) continue;
      alive.add(ch.uniqueid);
      const call = this.mirror.calls.get(ch.linkedid);
      if (call) touched.push(call);
    }
    touched.push(...this.mirror.drain().map((c) => c.call));
    for (const call of this.mirror.calls.values()) {
      if (!call.open && !call.own && isCallWorthReporting(call)) {
        call.open = true;
        touched.push(call);
      }
      const gone = [...call.channels.values()].filter((ch) => ch.alive && !alive.has(ch.uniqueid));
      if (gone.length === 0) continue;
      // Channels that ended in a gap: the end (and an answer the gap hid) from the CDR the dialplan hook posted, if it did.
      const callId = this.tracked.get(call.linkedid)?.callId;
      const lastOfCall = [...call.channels.values()].every((ch) => !ch.alive || gone.includes(ch));
      const outcome = lastOfCall && callId !== undefined ? gapOutcome(call, gone, this.store.cdrFacts(callId), now) : { endAt: now, source: 'resync' as const };
      if (outcome.answer) this.mirror.answeredUnseen(outcome.answer.uniqueid, outcome.answer.at);
      for (const ch of gone) this.mirror.channelGone(ch.uniqueid, outcome.endAt, outcome.source);
      if (outcome.source === 'cdr') this.log.info({ call_id: callId, linkedid: call.linkedid, answered_in_gap: outcome.answer !== undefined }, 'PBX call ended while AMI was down: its end taken from the hook\'s CDR');
      touched.push(call);
    }
    touched.push(...this.mirror.drain().map((c) => c.call));
    // Calls the mirror kept that never became calls and have no channel left are dropped.
    for (const call of [...this.mirror.calls.values()]) {
      if ((call.own || !call.open) && ![...call.channels.values()].some((c) => c.alive)) this.mirror.forget(call.linkedid);
    }
    this.apply(touched);
  }

  /** Open PBX calls in the store that the mirror does not follow (after a restart) are taken up again from their stored legs. */
  private restoreStored(): void {
    for (const row of this.store.open('pbx')) {
      if (!row.linkedid || this.tracked.has(row.linkedid)) continue;
      const call = this.mirror.restoreCall(row.linkedid, row.createdAt, {
        ...(row.did ? { did: row.did } : {}),
        ...(row.recordingFile ? { recordingFile: row.recordingFile } : {}),
        ...(row.transfers ? { transfers: row.transfers as unknown as Transfer[] } : {}),
        ...(row.groupKind ? { group: { kind: row.groupKind, ext: row.groupExt } } : {}),
      });
      for (const leg of (row.legs ?? []) as unknown as Leg[]) {
        if (call.channels.has(leg.uniqueid)) continue;
        const ch: MirrorChannel = {
          uniqueid: leg.uniqueid,
          name: leg.channel,
          linkedid: row.linkedid,
          kind: leg.role === 'client' ? 'trunk' : 'phone',
          ...(leg.sip ? { endpoint: leg.sip } : {}),
          context0: '',
          exten0: '',
          callerNum: leg.role === 'client' && leg.uniqueid === row.linkedid ? (leg.number ?? '') : '',
          connectedNum: '',
          createdAt: leg.created_at,
          ...(leg.dialed_by ? { dialedBy: leg.dialed_by } : {}),
          ...(leg.ring_at !== null ? { ringAt: leg.ring_at } : {}),
          ...(leg.answer_at !== null ? { answerAt: leg.answer_at } : {}),
          ...(leg.dial_status ? { dialStatus: leg.dial_status } : {}),
          ...(leg.role === 'client' && leg.uniqueid !== row.linkedid && leg.number ? { dialString: `${leg.number}@trunk` } : {}),
          ...(leg.end_at !== null ? { endAt: leg.end_at } : {}),
          ...(leg.cause !== null ? { cause: leg.cause } : {}),
          alive: leg.end_at === null,
        };
        this.mirror.adopt(ch);
      }
      this.tracked.set(row.linkedid, {
        callId: row.id,
        stored: this.store.chain(row.id).map((s) => s.status as CallStatus),
        channels: new Set((row.legs ?? []).map((l) => String((l as { uniqueid?: string }).uniqueid))),
        lastPatch: '',
      });
      this.log.info({ call_id: row.id, linkedid: row.linkedid }, 'following a PBX call again');
    }
  }
}

/** A call first seen in a snapshot: worth reporting when it came in over a trunk or two parties are in it. */
function isCallWorthReporting(call: MirrorCall): boolean {
  const parties = [...call.channels.values()].filter((c) => c.kind === 'phone' || c.kind === 'trunk');
  const first = call.channels.get(call.linkedid);
  return (first?.kind === 'trunk' && first.alive) || parties.length >= 2;
}

/** The statuses of the derived chain not stored yet (the chain only grows; a stored prefix is kept as it is). */
function newSteps(stored: readonly CallStatus[], s: PbxCallSummary): Array<StatusStep & { at: number }> {
  const out: Array<StatusStep & { at: number }> = [];
  const have = new Set(stored);
  for (const d of s.chain) {
    if (have.has(d.status)) continue;
    out.push({ status: d.status, details: d.details as StatusStep['details'], at: d.at });
  }
  return out;
}

function patchOf(s: PbxCallSummary): CallPatch {
  const p: CallPatch = {
    direction: s.direction,
    operators: s.operators,
    legs: s.legs as unknown as CallRow['legs'],
  };
  if (s.phone !== null) p.phone = s.phone;
  if (s.sip !== null) p.sip = s.sip;
  if (s.did !== null) p.did = s.did;
  if (s.group) {
    p.groupKind = s.group.kind;
    if (s.group.ext !== null) p.groupExt = s.group.ext;
  }
  if (s.answeredAt !== null) p.answeredAt = s.answeredAt;
  if (s.recordingFile !== null) p.recordingFile = s.recordingFile;
  if (s.transfers.length > 0) p.transfers = s.transfers as unknown as CallRow['transfers'];
  if (s.endedAt !== null) {
    p.endedAt = s.endedAt;
    p.billsec = s.billsec ?? 0;
    if (s.cause !== null) {
      p.hangupCause = s.cause;
      if (s.causeText) p.hangupCauseText = s.causeText;
    }
  }
  return p;
}
