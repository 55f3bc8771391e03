/**
 * The second witness in ARI control: the AMI link keeps seeing the daemon's
 * own ARI channels (ids `cb-<call>-<leg>-…`, which are their AMI Uniqueids)
 * while the ARI websocket is down, and Asterisk replays nothing after a
 * reconnect (trace F1, F2). What it saw of each leg (answer, dial status,
 * hangup and cause, each with the time it arrived) is what ARI reconciliation
 * uses for the moments the websocket missed. Pure: AMI messages in, facts out.
 */
type AmiMessage = Readonly<Record<string, string | string[] | undefined>>;

const f = (m: AmiMessage, k: string): string | undefined => {
  const v = m[k];
  return Array.isArray(v) ? v[0] : v;
};

export interface LegWitness {
  /** Newstate Up (epoch ms, when it arrived) */
  answeredAt?: number;
  /** the Dial status of the leg (DialEnd with the leg as destination) */
  dialStatus?: string;
  hangupAt?: number;
  cause?: number;
  causeText?: string;
}

/** Facts older than this are dropped: a reconciliation needs the last minutes only. */
const KEEP_MS = 15 * 60_000;
const OURS = /^cb-\d+-/;

export class AriWitness {
  private readonly legs = new Map<string, LegWitness & { seen: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** One AMI event; anything but the daemon's own ARI channels is ignored. */
  handle(m: AmiMessage): void {
    const event = f(m, 'event');
    if (event === 'DialEnd') {
      const dest = f(m, 'destuniqueid');
      const status = f(m, 'dialstatus');
      if (dest && OURS.test(dest) && status) this.leg(dest).dialStatus = status;
      return;
    }
    const id = f(m, 'uniqueid');
    if (!id || !OURS.test(id)) return;
    if (event === 'Newstate' && f(m, 'channelstate') === '6') {
      this.leg(id).answeredAt ??= this.now();
    } else if (event === 'Hangup') {
      const leg = this.leg(id);
      leg.hangupAt ??= this.now();
      const cause = Number(f(m, 'cause'));
      if (Number.isInteger(cause)) leg.cause = cause;
      const text = f(m, 'cause-txt');
      if (text) leg.causeText = text;
    }
  }

  /** What the AMI link saw of a channel, if anything. */
  of(channelId: string | null | undefined): LegWitness | undefined {
    if (!channelId) return undefined;
    const leg = this.legs.get(channelId);
    if (!leg) return undefined;
    const { seen: _seen, ...facts } = leg;
    return facts;
  }

  get size(): number {
    return this.legs.size;
  }

  private leg(id: string): LegWitness & { seen: number } {
    const now = this.now();
    let leg = this.legs.get(id);
    if (!leg) {
      leg = { seen: now };
      this.legs.set(id, leg);
      if (this.legs.size % 256 === 0) this.prune(now);
    }
    return leg;
  }

  private prune(now: number): void {
    for (const [id, leg] of this.legs) if (now - leg.seen > KEEP_MS) this.legs.delete(id);
  }
}
