import { describe, expect, it } from 'vitest';
import { AmiParser } from '../../../src/asterisk/ami/parser.js';
import { MAX_LINE_CHARS } from '../../../src/asterisk/ami/frames.js';
import { commandOutput, field, fieldValues, type AmiMessage } from '../../../src/asterisk/ami/index.js';
import { seeded, splitChunks, type Chunking } from './fake-ami.js';
import { expected, loadTrace } from './traces.js';

function parse(chunks: Array<Buffer | string>): { messages: AmiMessage[]; drops: string[]; parser: AmiParser } {
  const messages: AmiMessage[] = [];
  const drops: string[] = [];
  const parser = new AmiParser(
    (m) => messages.push(m),
    (reason) => drops.push(reason),
  );
  for (const c of chunks) parser.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  return { messages, drops, parser };
}

const chunkings: Array<[string, Chunking]> = [
  ['one chunk', { kind: 'whole' }],
  ['1-byte chunks', { kind: 'fixed', size: 1 }],
  ['chunks split inside every CRLF', { kind: 'afterCR' }],
  ['random chunks up to 64 bytes (seed 7)', { kind: 'random', seed: 7, max: 64 }],
  ['random chunks up to 9000 bytes (seed 42)', { kind: 'random', seed: 42, max: 9000 }],
];

describe('AmiParser passing over the events the Filter leaves out', () => {
  for (const [label, chunking] of chunkings) {
    it(`A1 in ${label}: every other message exactly as recorded, each CEL and Newexten reported by name and never parsed`, () => {
      const trace = loadTrace('A1');
      const messages: AmiMessage[] = [];
      const skipped: string[] = [];
      const drops: string[] = [];
      const parser = new AmiParser(
        (m) => messages.push(m),
        (reason) => drops.push(reason),
        { names: new Set(['CEL', 'Newexten']), onSkip: (n) => skipped.push(n) },
      );
      for (const c of splitChunks(trace.text, chunking)) parser.push(c);
      const recorded = trace.entries.filter((e) => e.kind !== 'banner');
      const kept = recorded.filter((e) => !(e.kind === 'event' && (e.name === 'CEL' || e.name === 'Newexten')));
      expect(drops).toEqual([]);
      expect(skipped.length).toBe(recorded.length - kept.length);
      expect(skipped.length).toBeGreaterThan(0);
      expect(new Set(skipped)).toEqual(new Set(recorded.filter((e) => e.kind === 'event' && (e.name === 'CEL' || e.name === 'Newexten')).map((e) => e.name)));
      expect(messages).toHaveLength(kept.length);
      messages.forEach((m, i) => expect(m).toEqual(expected(kept[i]!)));
    });
  }

  for (const trace of ['A1', 'E1', 'X2']) {
    it(`${trace}: VarSet events of other variables than the wanted ones are passed over, inherited names (leading _) included; the rest arrive as recorded`, () => {
      const t = loadTrace(trace);
      const wanted = new Set(['CALLBRIDGE_CALL_ID', 'MIXMONITOR_FILENAME', 'FROM_DID', 'RINGGROUP_INDEX']);
      const messages: AmiMessage[] = [];
      const skipped: string[] = [];
      const parser = new AmiParser(
        (m) => messages.push(m),
        () => undefined,
        { names: new Set(), variables: wanted, onSkip: (n) => skipped.push(n) },
      );
      for (const c of splitChunks(t.text, { kind: 'random', seed: 3, max: 200 })) parser.push(c);
      const recorded = t.entries.filter((e) => e.kind !== 'banner');
      const varOf = (e: (typeof recorded)[number]) => String(e.fields?.Variable ?? '').replace(/^_+/, '');
      const isVarSet = (e: (typeof recorded)[number]) => e.kind === 'event' && e.name === 'VarSet';
      const kept = recorded.filter((e) => !isVarSet(e) || wanted.has(varOf(e)));
      expect(recorded.filter(isVarSet).length).toBeGreaterThan(kept.filter(isVarSet).length);
      expect(skipped).toEqual(recorded.filter((e) => isVarSet(e) && !wanted.has(varOf(e))).map(() => 'VarSet'));
      expect(messages).toHaveLength(kept.length);
      messages.forEach((m, i) => expect(m).toEqual(expected(kept[i]!)));
    });
  }

  it('skips only an exact `Event: <name>` first line', () => {
    const messages: AmiMessage[] = [];
    const parser = new AmiParser((m) => messages.push(m), () => undefined, { names: new Set(['CEL']) });
    parser.push(Buffer.from('Asterisk Call Manager/9.0.0\r\nEvent: CEL\r\nEventName: CHAN_START\r\n\r\nEvent: CELX\r\nA: 1\r\n\r\nResponse: Success\r\nActionID: 7\r\nMessage: Event: CEL\r\n\r\n', 'latin1'));
    expect(messages.map((m) => m.event ?? m.response)).toEqual(['CELX', 'Success']);
  });
});

describe('AmiParser on recorded traces', () => {
  for (const scenario of ['A1', 'C1', 'C4']) {
    for (const [label, chunking] of chunkings) {
      it(`${scenario}/ami.txt in ${label} gives exactly the recorded messages`, () => {
        const trace = loadTrace(scenario);
        const { messages, drops, parser } = parse(splitChunks(trace.text, chunking));
        const recorded = trace.entries.filter((e) => e.kind !== 'banner');
        expect(drops).toEqual([]);
        expect(parser.banner).toBe(trace.entries[0]?.raw.trimEnd());
        expect(messages).toHaveLength(recorded.length);
        messages.forEach((m, i) => expect(m).toEqual(expected(recorded[i]!)));
      });
    }
  }

  it('keeps the bare LF of "No Contacts found\\n" inside the value and adds no empty message', () => {
    const trace = loadTrace('C1');
    const { messages } = parse([trace.text]);
    const errors = messages.filter((m) => field(m, 'response') === 'Error');
    expect(errors.map((m) => field(m, 'message'))).toEqual(['No Contacts found\n', 'No Contacts found\n']);
    expect(messages.every((m) => Object.keys(m).length > 0)).toBe(true);
  });

  it('CRLF-less 1 MB line, junk and colon-less lines are dropped, the frames around them kept', () => {
    const rnd = seeded(3);
    const junk = Buffer.from(Array.from({ length: 400 }, () => Math.floor(rnd() * 256)));
    const { messages, drops } = parse([
      'Asterisk Call Manager/11.0.0\r\n',
      'Event: A\r\nN: 1\r\n\r\n',
      'no colon here\r\n\r\n',
      'Event: B\r\nN: 2\r\nstray text\r\nM: 3\r\n\r\n',
      'x'.repeat(1024 * 1024),
      '\r\nEvent: C\r\nN: 4\r\n\r\n',
      junk,
      'Event: D\r\nN: 5\r\n\r\n',
      Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]),
      '\r\n\r\n\r\nEvent: E\r\nN: 6\r\n\r\n',
    ]);
    expect(messages).toEqual([
      { event: 'A', n: '1' },
      { event: 'B', n: '2', m: '3' },
      { event: 'C', n: '4' },
      { event: 'D', n: '5' },
      { event: 'E', n: '6' },
    ]);
    expect(drops).toContain('line outside a frame');
    expect(drops).toContain('line without a colon');
    expect(drops).toContain('line too long');
  });

  it('drops an over-long line that arrives in many chunks without buffering it', () => {
    const long = Buffer.from(`Event: Long\r\nData: ${'y'.repeat(MAX_LINE_CHARS + 10)}\r\nN: 1\r\n\r\nEvent: Next\r\n\r\n`);
    const { messages, drops } = parse(splitChunks(long, { kind: 'fixed', size: 1000 }));
    expect(messages).toEqual([{ event: 'Long', n: '1' }, { event: 'Next' }]);
    expect(drops).toEqual(['line too long']);
  });

  it('keeps Variable headers as received and survives a repeated UserEvent header', () => {
    const { messages } = parse([
      'Asterisk Call Manager/11.0.0\r\n',
      'Response: Success\r\nActionID: cb-1\r\nVariable: DEFAULT_DIAL_TIMEOUT\r\nValue: 30\r\n\r\n',
      'Event: VarSet\r\nVariable: A=1\r\nVariable: A=2\r\nChanVariable: X=y=z\r\n\r\n',
      'Event: UserEvent\r\nUserEvent: one\r\nUserEvent: two\r\nconstructor: c\r\n__proto__: p\r\n\r\n',
      'Event:NoSpace\r\nEmpty:\r\n\r\n',
    ]);
    const want: AmiMessage[] = [
      { response: 'Success', actionid: 'cb-1', variable: 'DEFAULT_DIAL_TIMEOUT', value: '30' },
      { event: 'VarSet', variable: ['A=1', 'A=2'], chanvariable: 'X=y=z' },
      { event: 'UserEvent', userevent: ['one', 'two'], constructor: 'c' },
      { event: 'NoSpace', empty: '' },
    ];
    expect(messages).toEqual(want);
    expect(Object.getPrototypeOf(messages[2])).toBe(Object.prototype);
  });

  it('cuts junk in front of "Event:" on the same line', () => {
    const { messages, drops } = parse(['Asterisk Call Manager/11.0.0\r\n', '\u00ff\u0000zzEvent: X\r\nA: 1\r\n\r\n']);
    expect(messages).toEqual([{ event: 'X', a: '1' }]);
    expect(drops).toEqual(['junk before a frame']);
  });

  it('takes a legacy "Response: Follows" block whole (output lines without colons included)', () => {
    const { messages } = parse([
      'Asterisk Call Manager/1.1\r\n',
      'Response: Follows\r\nPrivilege: Command\r\nActionID: cb-3\r\nline one\nline: two\n--END COMMAND--\r\n\r\n',
      'Event: After\r\n\r\n',
    ]);
    expect(messages).toHaveLength(2);
    expect(field(messages[0]!, 'actionid')).toBe('cb-3');
    expect(commandOutput(messages[0]!)).toBe('line one\nline: two');
    expect(messages[1]).toEqual({ event: 'After' });
  });
});

describe('field / fieldValues / commandOutput', () => {
  const msg: AmiMessage = { event: 'X', output: ['a', '', 'b'], message: 'm' };
  it('reads the first value case-insensitively and only own headers', () => {
    expect(field(msg, 'MESSAGE')).toBe('m');
    expect(field(msg, 'Output')).toBe('a');
    expect(field(msg, 'constructor')).toBeUndefined();
    expect(fieldValues(msg, 'output')).toEqual(['a', '', 'b']);
    expect(fieldValues(msg, 'nope')).toEqual([]);
  });
  it('normalizes Command output given as array, string or nothing', () => {
    expect(commandOutput(msg)).toBe('a\n\nb');
    expect(commandOutput({ response: 'Success', output: 'only' })).toBe('only');
    expect(commandOutput({ response: 'Success' })).toBe('');
  });
});
