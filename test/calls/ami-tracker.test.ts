/**
 * The AMI click-to-call tracker fed with the recorded Asterisk 22 streams of
 * scenarios A1–A7 (Originate into a dialplan context, operator PJSIP/1000):
 * each must give the documented status chain, with the causes of the trace.
 */
import { describe, expect, it } from 'vitest';
import { AmiCallTracker, type TrackerSink } from '../../src/calls/ami-tracker.js';
import { chainOf, type CallEvent } from '../../src/calls/chain.js';
import { lowerCased, readJsonl, type TraceMessage } from '../helpers/traces.js';

function replay(scenario: string) {
  const trace = readJsonl<TraceMessage>(`${scenario}/ami.jsonl`);
  const events: CallEvent[] = [];
  const patches: Record<string, unknown>[] = [];
  const recordings: string[] = [];
  const sink: TrackerSink = {
    event: (_id, ev, patch) => {
      events.push(ev);
      if (patch) patches.push(patch);
    },
    recordingStarted: (_id, r) => recordings.push(`start ${r.file}`),
    recordingFinished: (_id, r) => recordings.push(`finish ${r.file}`),
  };
  const tracker = new AmiCallTracker(sink, '/var/spool/asterisk/monitor');
  tracker.track(7, 'PJSIP/1000', 'order-15-call-7');
  const originate = trace.find((m) => m.name === 'OriginateResponse')!;
  tracker.setActionId(7, originate.fields.ActionID as string);
  for (const m of trace) if (m.kind === 'event') tracker.handle(lowerCased(m));
  return { events, patches, recordings, chain: chainOf(events), tracker };
}

describe('AMI click-to-call traces', () => {
  it('A1: answered, client answers, client hangs up → FINISH; recording from MixMonitor', () => {
    const r = replay('A1');
    expect(r.chain).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']);
    expect(r.events.find((e) => e.type === 'client_hangup')).toMatchObject({ cause: 16, causeText: 'Normal Clearing' });
    expect(r.patches).toContainEqual({ operatorChannel: '1795492734.0', linkedid: '1795492734.0' });
    expect(r.patches).toContainEqual({ clientChannel: '1795492735.1' });
    expect(r.recordings).toHaveLength(2);
    expect(r.recordings[0]).toMatch(/^start \/var\/spool\/asterisk\/monitor\/order-15-\d+\.wav$/);
    expect(r.tracker.size).toBe(0);
  });

  it.each([
    ['A2', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_NOANSWER']],
    ['A3', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_BUSY']],
    ['A4', ['CALL', 'OPERATOR_OFFLINE']],
    ['A5', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_NOANSWER']],
    ['A7', ['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'OPERATOR_CANCEL']],
  ])('%s gives %j', (scenario, expected) => {
    const r = replay(scenario);
    expect(r.chain).toEqual(expected);
    expect(r.tracker.size).toBe(0);
  });

  it('keeps the deciding facts: A3 busy cause, A5 DialStatus NOANSWER', () => {
    expect(replay('A3').events.at(-1)).toMatchObject({ type: 'operator_failed', outcome: 'busy', dialStatus: 'BUSY' });
    expect(replay('A5').events.find((e) => e.type === 'client_failed')).toMatchObject({ outcome: 'noanswer', dialStatus: 'NOANSWER' });
  });
});
