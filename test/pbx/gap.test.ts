import { describe, expect, it } from 'vitest';
import { gapOutcome } from '../../src/pbx/gap.js';
import type { CdrFact } from '../../src/calls/store.js';
import type { MirrorCall, MirrorChannel } from '../../src/pbx/mirror.js';

const T = 1_800_000_000_000;

function ch(p: Partial<MirrorChannel> & Pick<MirrorChannel, 'uniqueid' | 'kind'>): MirrorChannel {
  return { name: `PJSIP/${p.endpoint ?? 'x'}-0001`, linkedid: 'L', context0: '', exten0: '', callerNum: '', connectedNum: '', createdAt: T, alive: true, ...p };
}

function call(channels: MirrorChannel[]): MirrorCall {
  return { linkedid: 'L', channels: new Map(channels.map((c) => [c.uniqueid, c])), own: false, open: true, ended: false, startedAt: T, transfers: [], cdrs: [] };
}

const cdr = (p: Partial<CdrFact>): CdrFact => ({ callAt: T, duration: 10, billsec: 6, disposition: 'ANSWERED', extension: '1000', ...p });

// an inbound call ringing 1000 and 1001; in `talked`, 1000 answered at T+2 s before the gap
const trunk = () => ch({ uniqueid: 'L', kind: 'trunk', endpoint: 'clients' });
const p1000 = (answerAt?: number) => ch({ uniqueid: 'P0', kind: 'phone', endpoint: '1000', dialedBy: 'L', ringAt: T + 500, ...(answerAt ? { answerAt, dialStatus: 'ANSWER' } : {}) });
const p1001 = () => ch({ uniqueid: 'P1', kind: 'phone', endpoint: '1001', dialedBy: 'L', ringAt: T + 500 });
// a phone dialling out: 1000 → trunk
const caller = () => ch({ uniqueid: 'L', kind: 'phone', endpoint: '1000' });
const outTrunk = () => ch({ uniqueid: 'T', kind: 'trunk', endpoint: 'clients', dialString: '79001234567@clients', dialedBy: 'L', ringAt: T + 300 });

describe('gapOutcome: the end of a PBX call that ended while AMI was down', () => {
  const now = T + 60_000;
  const cases: Array<{ name: string; channels: () => MirrorChannel[]; cdrs: CdrFact[]; want: ReturnType<typeof gapOutcome> }> = [
    { name: 'no CDR: the snapshot time', channels: () => [trunk(), p1000(T + 2000)], cdrs: [], want: { endAt: now, source: 'resync' } },
    { name: 'CDR without start or duration: the snapshot time', channels: () => [trunk(), p1000(T + 2000)], cdrs: [cdr({ duration: null })], want: { endAt: now, source: 'resync' } },
    { name: 'answered before the gap: the end from the CDR, no answer added', channels: () => [trunk(), p1000(T + 2000)], cdrs: [cdr({})], want: { endAt: T + 10_000, source: 'cdr' } },
    { name: 'several CDRs (one per dial attempt): the latest end', channels: () => [trunk(), p1000(T + 2000)], cdrs: [cdr({ duration: 4 }), cdr({ duration: 12 })], want: { endAt: T + 12_000, source: 'cdr' } },
    { name: 'an end before what was seen is kept at what was seen', channels: () => [trunk(), p1000(T + 2000)], cdrs: [cdr({ duration: 1 })], want: { endAt: T + 2000, source: 'cdr' } },
    { name: 'an end after the snapshot is kept at the snapshot', channels: () => [trunk(), p1000(T + 2000)], cdrs: [cdr({ duration: 3600 })], want: { endAt: now, source: 'cdr' } },
    { name: 'ringing at the gap, ANSWERED by 1001: 1001 answered billsec before the end', channels: () => [trunk(), p1000(), p1001()], cdrs: [cdr({ extension: '1001' })], want: { endAt: T + 10_000, source: 'cdr', answer: { uniqueid: 'P1', at: T + 4000 } } },
    { name: 'the answer is never before the ring', channels: () => [trunk(), p1000(), p1001()], cdrs: [cdr({ billsec: 10 })], want: { endAt: T + 10_000, source: 'cdr', answer: { uniqueid: 'P0', at: T + 500 } } },
    { name: 'NO ANSWER: no answer added', channels: () => [trunk(), p1000(), p1001()], cdrs: [cdr({ disposition: 'NO ANSWER', billsec: 0 })], want: { endAt: T + 10_000, source: 'cdr' } },
    { name: 'ANSWERED by an extension the call did not ring: no answer added', channels: () => [trunk(), p1000()], cdrs: [cdr({ extension: '1005' })], want: { endAt: T + 10_000, source: 'cdr' } },
    { name: 'outgoing from a phone: the dialled trunk answered', channels: () => [caller(), outTrunk()], cdrs: [cdr({ billsec: 5 })], want: { endAt: T + 10_000, source: 'cdr', answer: { uniqueid: 'T', at: T + 5000 } } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const channels = c.channels();
      expect(gapOutcome(call(channels), channels, c.cdrs, now)).toEqual(c.want);
    });
  }
});
