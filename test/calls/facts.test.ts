/**
 * The facts the shipped dialplan keeps in AstDB, read back as DBGetTree items,
 * turned into call events at their own times; and the chain they give.
 */
import { describe, expect, it } from 'vitest';
import { factEvents, parseAriLegFacts, parseFacts, type CallFacts } from '../../src/calls/facts.js';
import { chainOf } from '../../src/calls/chain.js';
import { AriWitness } from '../../src/calls/ari-witness.js';

const T0 = Date.parse('2026-12-02T10:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
const items = (id: number, kv: Record<string, string>) => Object.entries(kv).map(([k, val]) => ({ key: `/callbridge/${id}/${k}`, val }));

describe('parseFacts', () => {
  it('reads every fact of its own call only, times as epoch ms', () => {
    const f = parseFacts(
      [
        ...items(12, { pickup: iso(1), dialled: iso(1.2), linkedid: '1700.1', answered: iso(3), dialstatus: 'ANSWER', answeredtime: '4', hangupcause: '16', hangupsource: 'Local/79001234567@from-internal-0000000a;1', ended: iso(7.5) }),
        ...items(120, { pickup: iso(9) }),
      ],
      12,
    );
    expect(f).toEqual({ pickup: T0 + 1000, dialled: T0 + 1200, linkedid: '1700.1', answered: T0 + 3000, dialStatus: 'ANSWER', answeredTime: 4, hangupCause: 16, hangupSource: 'Local/79001234567@from-internal-0000000a;1', ended: T0 + 7500 });
  });

  it("the operator leg's own facts ([callbridge-ari-hangup] pushed at the Originate)", () => {
    expect(parseFacts(items(7, { op_answered: '0.000000', op_cause: '19', op_ended: iso(30) }), 7)).toEqual({ opCause: 19, opEnded: T0 + 30_000 });
  });

  it('none kept: undefined; unreadable values are left out', () => {
    expect(parseFacts(items(5, { pickup: iso(1) }), 6)).toBeUndefined();
    expect(parseFacts(items(5, { pickup: 'soon', hangupcause: 'x', dialstatus: '' }), 5)).toEqual({ dialStatus: '' });
  });
});

describe('factEvents: what a call that ended unseen really did', () => {
  const ep = 'PJSIP/101';
  const cases: Array<[string, CallFacts, string[], string | undefined]> = [
    ['talked, the client hung up', { pickup: T0, dialled: T0 + 100, answered: T0 + 2000, dialStatus: 'ANSWER', hangupCause: 16, hangupSource: 'Local/7900@from-internal-00000001;1', ended: T0 + 6000 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'], 'client'],
    ['talked, the operator hung up', { pickup: T0, dialled: T0 + 100, answered: T0 + 2000, dialStatus: 'ANSWER', hangupSource: 'PJSIP/101-00000003', ended: T0 + 6000 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'], 'operator'],
    ['talked, nobody known to have hung up first', { pickup: T0, answered: T0 + 2000, dialStatus: 'ANSWER', ended: T0 + 6000 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'], undefined],
    ['client busy', { pickup: T0, dialled: T0 + 100, dialStatus: 'BUSY', hangupCause: 16, ended: T0 + 900 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_BUSY'], undefined],
    ['client no answer', { pickup: T0, dialled: T0 + 100, dialStatus: 'NOANSWER', ended: T0 + 30_000 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_NOANSWER'], undefined],
    ['no route to the client', { pickup: T0, dialStatus: 'CHANUNAVAIL', ended: T0 + 50 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'ERROR'], undefined],
    ['the operator gave up while the client rang', { pickup: T0, dialled: T0 + 100, dialStatus: 'CANCEL', ended: T0 + 4000 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'OPERATOR_CANCEL'], undefined],
    ['still going: no end yet', { pickup: T0, dialled: T0 + 100, answered: T0 + 2000 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP'], undefined],
    ["the operator's phone rang out", { opCause: 19, opEnded: T0 + 30_000 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_NOANSWER'], undefined],
    ['the operator was busy', { opCause: 17, opEnded: T0 + 200 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_BUSY'], undefined],
    ['the operator rejected the call', { opCause: 21, opEnded: T0 + 200 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_BUSY'], undefined],
    ['talked, only the operator leg\'s end kept (its other handler had not run yet)', { pickup: T0, answered: T0 + 2000, dialStatus: 'ANSWER', opCause: 16, opEnded: T0 + 6000 }, ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH'], undefined],
  ];
  it.each(cases)('%s', (_name, facts, chain, by) => {
    const timeline = factEvents(facts, ep);
    expect(chainOf(timeline.map((t) => t.ev))).toEqual(chain);
    // in time order, the end at the moment the PBX recorded
    const times = timeline.map((t) => t.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const end = facts.ended ?? facts.opEnded;
    if (end !== undefined) expect(times.at(-1)).toBe(end);
    const last = timeline.at(-1)!.ev;
    if (by === 'client') expect(last.type).toBe('client_hangup');
    if (by === 'operator') expect(last.type).toBe('operator_hangup');
  });

  it('an answer whose U() fact is missing is placed by the talk time Dial measured', () => {
    const timeline = factEvents({ pickup: T0, dialStatus: 'ANSWER', answeredTime: 4, ended: T0 + 10_000 }, ep);
    expect(timeline.find((t) => t.ev.type === 'client_answered')!.at).toBe(T0 + 6000);
  });
});

describe('parseAriLegFacts', () => {
  it('per leg: CDR answer (epoch seconds), cause and end; 0 means never answered', () => {
    const f = parseAriLegFacts(items(3, { op_answered: String((T0 + 1500) / 1000), op_cause: '16', op_ended: iso(9), client_answered: '0.000000', client_cause: '17', client_ended: iso(4) }), 3);
    expect(f).toEqual({ op: { answeredAt: T0 + 1500, cause: 16, hangupAt: T0 + 9000 }, client: { cause: 17, hangupAt: T0 + 4000 } });
    expect(parseAriLegFacts(items(3, { op_cause: '16' }), 4)).toBeUndefined();
  });
});

describe('AriWitness', () => {
  it('keeps what AMI saw of the daemon’s own ARI channels only, with the time it arrived', () => {
    let now = T0;
    const w = new AriWitness(() => now);
    w.handle({ event: 'Newstate', uniqueid: 'cb-7-client-ab12cd34', channelstate: '6' });
    now += 2500;
    w.handle({ event: 'DialEnd', destuniqueid: 'cb-7-client-ab12cd34', dialstatus: 'ANSWER' });
    w.handle({ event: 'Hangup', uniqueid: 'cb-7-client-ab12cd34', cause: '16', 'cause-txt': 'Normal Clearing' });
    w.handle({ event: 'Hangup', uniqueid: '1700000000.5', cause: '16' });
    expect(w.of('cb-7-client-ab12cd34')).toEqual({ answeredAt: T0, dialStatus: 'ANSWER', hangupAt: T0 + 2500, cause: 16, causeText: 'Normal Clearing' });
    expect(w.of('1700000000.5')).toBeUndefined();
    expect(w.size).toBe(1);
  });
});
