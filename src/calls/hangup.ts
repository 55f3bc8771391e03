/**
 * Hanging up a call on request (the hosted-PBX REST API's
 * `/rest/calls/active/{uuid}/hangup`), click-to-call and PBX calls alike, in
 * both control modes: Asterisk is asked which channels belong to the call now
 * (CoreShowChannels: the call's linkedid, or a channel id the daemon stored
 * for it), and each is hung up with AMI `Hangup` (cause 16, normal clearing).
 * The statuses follow from the Hangup events as for any other end of call:
 * nothing is written here.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/index.js';
import type { CallRow } from '../db/schema.js';
import { field, type AmiMessage } from '../asterisk/ami/message.js';

export interface HangupAmi {
  listAction(fields: Record<string, string>): Promise<{ events: AmiMessage[] }>;
  action(fields: Record<string, string>): Promise<AmiMessage>;
}

/** The channels of a call among CoreShowChannels entries (pure). */
export function channelsOfCall(call: Pick<CallRow, 'linkedid' | 'operatorChannel' | 'clientChannel'>, known: ReadonlySet<string>, channels: readonly AmiMessage[]): string[] {
  const ids = new Set([...known, call.operatorChannel, call.clientChannel].filter((x): x is string => !!x));
  const out: string[] = [];
  for (const ch of channels) {
    const name = field(ch, 'channel');
    if (!name) continue;
    const uniqueid = field(ch, 'uniqueid') ?? '';
    const linkedid = field(ch, 'linkedid') ?? '';
    if ((call.linkedid && linkedid === call.linkedid) || ids.has(uniqueid) || ids.has(name) || (linkedid !== '' && ids.has(linkedid))) out.push(name);
  }
  return out;
}

export class CallHangup {
  private readonly knownChannels: Statement<[number], { uniqueid: string; channel: string | null }>;

  constructor(
    db: Db,
    private readonly ami: HangupAmi,
  ) {
    this.knownChannels = db.$client.prepare('SELECT uniqueid, channel FROM call_channels WHERE call_id = ?');
  }

  /** Hangs up every channel of the call Asterisk still has; answers how many were asked to hang up. */
  async hangup(call: CallRow): Promise<number> {
    const known = new Set<string>();
    for (const r of this.knownChannels.all(call.id)) {
      known.add(r.uniqueid);
      if (r.channel) known.add(r.channel);
    }
    const { events } = await this.ami.listAction({ Action: 'CoreShowChannels' });
    const names = channelsOfCall(call, known, events);
    let done = 0;
    for (const name of names) {
      try {
        await this.ami.action({ Action: 'Hangup', Channel: name, Cause: '16' });
        done++;
      } catch {
        // gone meanwhile: nothing left to hang up on that channel
      }
    }
    return done;
  }

  /** Hangs up one channel (by Uniqueid) if Asterisk still has it; answers 1 or 0. */
  async hangupChannel(uniqueid: string): Promise<number> {
    const { events } = await this.ami.listAction({ Action: 'CoreShowChannels' });
    const name = events.map((ch) => (field(ch, 'uniqueid') === uniqueid ? field(ch, 'channel') : undefined)).find((n) => n);
    if (!name) return 0;
    try {
      await this.ami.action({ Action: 'Hangup', Channel: name, Cause: '16' });
      return 1;
    } catch {
      return 0;
    }
  }
}
