/**
 * The "shape" of an AMI stream, as the shared ami-shape.py tool computes it:
 * each message becomes `Event[ channel][ ->dest][ key=value…]` with channels
 * renamed by order of appearance per technology and noise events dropped; two
 * streams are compared with difflib's SequenceMatcher ratio (2·matches / total).
 */
const NOISE = new Set(['VarSet', 'Newexten', 'CEL', 'RTCPSent', 'RTCPReceived', 'SuccessfulAuth', 'ChallengeSent', 'InvalidPassword',
  'RequestBadFormat', 'NewConnectedLine', 'NewCallerid', 'NewAccountCode', 'Registry', 'FullyBooted', 'LocalOptimizationBegin', 'LocalOptimizationEnd']);
const KEYS = ['ChannelStateDesc', 'DialStatus', 'Cause', 'Reason', 'Response', 'ContactStatus', 'PeerStatus', 'State', 'Disposition',
  'BridgeNumChannels', 'EventList'];

function* frames(text: string): Generator<Map<string, string>> {
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r\n|\n|\r/).filter((l) => l.trim());
    if (lines.length === 0 || !lines[0]!.includes(':')) continue;
    const d = new Map<string, string>();
    for (const l of lines) {
      const i = l.indexOf(':');
      const k = (i < 0 ? l : l.slice(0, i)).trim();
      if (!d.has(k)) d.set(k, i < 0 ? '' : l.slice(i + 1).trim());
    }
    yield d;
  }
}

export function shape(text: string, keepAll = false): string[] {
  const names = new Map<string, string>();
  const ch = (v: string): string => {
    const known = names.get(v);
    if (known) return known;
    const tech = v.replace(/-[0-9a-f]{8}(;\d)?$/, '').split('/')[0]!;
    const n = [...names.keys()].filter((k) => k.split('/')[0] === tech).length + 1;
    const id = `${tech}#${n}`;
    names.set(v, id);
    return id;
  };
  const out: string[] = [];
  for (const d of frames(text)) {
    const ev = d.get('Event') ?? `Response:${d.get('Response') ?? '?'}`;
    if (!keepAll && NOISE.has(ev)) continue;
    const parts = [ev];
    const channel = d.get('Channel');
    if (channel !== undefined && channel !== '' && channel !== '<unknown>') parts.push(ch(channel));
    const dest = d.get('DestChannel');
    if (dest !== undefined) parts.push(`->${ch(dest)}`);
    for (const k of KEYS) if (d.has(k)) parts.push(`${k}=${d.get(k)}`);
    out.push(parts.join(' '));
  }
  return out;
}

/** difflib.SequenceMatcher(None, a, b).ratio() for sequences without junk. */
export function ratio(a: string[], b: string[]): number {
  if (a.length + b.length === 0) return 1;
  const b2j = new Map<string, number[]>();
  b.forEach((x, j) => b2j.set(x, [...(b2j.get(x) ?? []), j]));
  const longest = (alo: number, ahi: number, blo: number, bhi: number): [number, number, number] => {
    let best: [number, number, number] = [alo, blo, 0];
    let j2len = new Map<number, number>();
    for (let i = alo; i < ahi; i++) {
      const next = new Map<number, number>();
      for (const j of b2j.get(a[i]!) ?? []) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) ?? 0) + 1;
        next.set(j, k);
        if (k > best[2]) best = [i - k + 1, j - k + 1, k];
      }
      j2len = next;
    }
    return best;
  };
  let matches = 0;
  const queue: Array<[number, number, number, number]> = [[0, a.length, 0, b.length]];
  while (queue.length) {
    const [alo, ahi, blo, bhi] = queue.pop()!;
    const [i, j, k] = longest(alo, ahi, blo, bhi);
    if (k === 0) continue;
    matches += k;
    if (alo < i && blo < j) queue.push([alo, i, blo, j]);
    if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
  }
  return (2 * matches) / (a.length + b.length);
}

/** Drops the answers to list/query actions, keeping login/logoff and unsolicited events. */
export function withoutQueryAnswers(text: string, keepActionIdPrefix = 'rec-'): string {
  return text.split('\r\n\r\n').filter((block) => {
    const m = /(?:^|\r\n)ActionID: ([^\r\n]*)/.exec(block);
    return !m || m[1]!.startsWith(keepActionIdPrefix);
  }).join('\r\n\r\n');
}

/**
 * difflib's SequenceMatcher ratio exactly as ami-shape.py computes it: SequenceMatcher(None, a, b)
 * has autojunk on, so for a `b` of 200 or more items the items that make up more than 1 % of it
 * never start a match.
 */
export function pyRatio(a: string[], b: string[]): number {
  if (b.length < 200) return ratio(a, b);
  const counts = new Map<string, number>();
  for (const x of b) counts.set(x, (counts.get(x) ?? 0) + 1);
  const limit = Math.floor(b.length / 100) + 1;
  const popular = new Set([...counts].filter(([, n]) => n > limit).map(([x]) => x));
  // a popular item can still match inside no block: give every occurrence in b a unique stand-in
  let k = 0;
  return ratio(a, b.map((x) => (popular.has(x) ? `\u0000popular${k++}` : x)));
}

/** One ARI websocket event as `type[ channel#n][ key=value…]`, channels renamed by order of appearance. */
export function ariShape(events: Array<Record<string, any>>): string[] {
  const names = new Map<string, string>();
  const ch = (id: string | undefined): string | undefined => {
    if (id === undefined) return undefined;
    if (!names.has(id)) names.set(id, `ch#${names.size + 1}`);
    return names.get(id);
  };
  return events.map((e) => {
    const parts: string[] = [String(e.type)];
    const c = ch((e.channel ?? e.peer)?.id as string | undefined);
    if (c) parts.push(c);
    if (e.type === 'Dial') parts.push(`dialstatus=${e.dialstatus}`);
    if (e.type === 'ChannelStateChange') parts.push(`state=${e.channel?.state}`);
    if (e.type === 'ChannelVarset') parts.push(`variable=${e.variable}`);
    if (e.cause !== undefined) parts.push(`cause=${e.cause}`);
    if (e.soft !== undefined) parts.push(`soft=${e.soft}`);
    if (e.type === 'StasisStart') parts.push(`args=${(e.args as string[]).join(',')}`);
    if (e.type === 'RecordingFinished' || e.type === 'RecordingStarted') parts.push(`state=${e.recording?.state}`);
    return parts.join(' ');
  });
}
