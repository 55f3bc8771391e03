import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AmiParser, LibraryAmiParser } from '../../../src/asterisk/ami/parser.js';
import { MAX_FRAME_CHARS, MAX_LINE_CHARS } from '../../../src/asterisk/ami/frames.js';
import { commandOutput, field, type AmiMessage } from '../../../src/asterisk/ami/index.js';
import { seeded, splitChunks, type Chunking } from './fake-ami.js';
import { expected, loadTrace } from './traces.js';

/** Every recorded scenario with an AMI trace. */
const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const scenarios = readdirSync(fixtures, { withFileTypes: true })
  .filter((d) => d.isDirectory() && readdirSync(`${fixtures}${d.name}`).includes('ami.jsonl'))
  .map((d) => d.name)
  .sort();

/** Frames (and non-frames) a broken or hostile peer could put between two real frames. */
const HOSTILE: string[] = [
  // a Response: Follows without its --END COMMAND--, ended by a blank line
  'Response: Follows\r\nPrivilege: Command\r\nActionID: hostile-1\r\npartial output\nmore\r\n\r\n',
  // the same without even a blank line: the next real frame ends it
  'Response: Follows\r\nPrivilege: Command\r\nActionID: hostile-2\r\nno end marker here\r\n',
  // a lone Follows header line
  'Response: Follows\r\n',
  // output lines that look like headers inside an unterminated block, then a line without a colon
  'Response: Follows\r\nEvent: NotReal\r\nstill output\r\n\r\n',
  // junk lines, a colon-less line inside a frame, control characters
  'garbage without colon\r\n\r\n',
  '\u0000\u0007\u001b[31m\r\n\r\n',
  'Event: HostileA\r\nno colon in here\r\nHostile: yes\r\n\r\n',
  // a complete legacy Follows block followed by a frame without the blank line in between
  'Response: Follows\r\nActionID: hostile-3\r\nok\n--END COMMAND--\r\n',
];

/** Spliced in once per stream (they are large). */
const HOSTILE_BIG: string[] = [
  // an over-long line
  `Event: HostileLong\r\nData: ${'z'.repeat(MAX_LINE_CHARS + 100)}\r\n\r\n`,
  // a Follows block over the frame size limit, never ended
  `Response: Follows\r\n${'output line\r\n'.repeat(Math.ceil(MAX_FRAME_CHARS / 13) + 10)}\r\n`,
];

const HOSTILE_EVENTS = new Set(['HostileA', 'HostileLong']);
const HOSTILE_IDS = new Set(['hostile-1', 'hostile-2', 'hostile-3']);

/** The recorded stream with hostile frames spliced in after every few real frames (deterministic). */
function spliced(scenario: string, seed: number): { bytes: Buffer; recorded: AmiMessage[] } {
  const trace = loadTrace(scenario);
  const rnd = seeded(seed);
  const parts: string[] = [];
  const recorded: AmiMessage[] = [];
  let k = 0;
  const bigAt = Math.floor(trace.entries.length / 2);
  trace.entries.forEach((e, i) => {
    parts.push(e.raw);
    if (e.kind === 'banner') return;
    recorded.push(expected(e));
    if (i === bigAt) parts.push(...HOSTILE_BIG);
    if (rnd() < 0.35) parts.push(HOSTILE[k++ % HOSTILE.length]!);
  });
  return { bytes: Buffer.from(parts.join(''), 'latin1'), recorded };
}

function isHostile(m: AmiMessage): boolean {
  const ev = field(m, 'event');
  const id = field(m, 'actionid');
  return (ev !== undefined && HOSTILE_EVENTS.has(ev)) || (id !== undefined && HOSTILE_IDS.has(id));
}

const chunkings: Array<[string, Chunking]> = [
  ['one chunk', { kind: 'whole' }],
  ['random chunks up to 700 bytes', { kind: 'random', seed: 5, max: 700 }],
  ['random chunks up to 20000 bytes', { kind: 'random', seed: 9, max: 20_000 }],
];

describe('AmiParser on recorded traces with hostile frames spliced in', () => {
  for (const scenario of scenarios) {
    it(`${scenario}: every recorded message still arrives, in order`, () => {
      const { bytes, recorded } = spliced(scenario, scenario.length * 31 + scenario.charCodeAt(0));
      for (const [, chunking] of chunkings) {
        const messages: AmiMessage[] = [];
        const drops: string[] = [];
        const parser = new AmiParser(
          (m) => messages.push(m),
          (reason) => drops.push(reason),
        );
        for (const c of splitChunks(bytes, chunking)) parser.push(c);
        const real = messages.filter((m) => !isHostile(m));
        expect(real).toEqual(recorded);
        if (bytes.includes('hostile-1')) expect(drops).toContain('unterminated Follows block');
      }
    });
  }
});

describe('unterminated Response: Follows', () => {
  function parse(...chunks: string[]): { messages: AmiMessage[]; drops: string[] } {
    const messages: AmiMessage[] = [];
    const drops: string[] = [];
    const parser = new AmiParser(
      (m) => messages.push(m),
      (reason) => drops.push(reason),
    );
    for (const c of chunks) parser.push(Buffer.from(c, 'latin1'));
    return { messages, drops };
  }

  it('ends at the next blank-line-terminated Event frame, with a warning', () => {
    const { messages, drops } = parse(
      'Asterisk Call Manager/11.0.0\r\n',
      'Response: Follows\r\nPrivilege: Command\r\nActionID: cb-9\r\n\r\n',
      'Event: Newchannel\r\nChannel: PJSIP/1000-00000001\r\n\r\n',
      'Event: Hangup\r\nChannel: PJSIP/1000-00000001\r\n\r\n',
    );
    expect(messages).toEqual([
      { event: 'Newchannel', channel: 'PJSIP/1000-00000001' },
      { event: 'Hangup', channel: 'PJSIP/1000-00000001' },
    ]);
    expect(drops).toEqual(['unterminated Follows block']);
  });

  it('ends at the next Response frame too, which is then answered normally', () => {
    const { messages, drops } = parse(
      'Response: Follows\r\nActionID: cb-1\r\nout\r\n',
      'Response: Success\r\nActionID: cb-2\r\nPing: Pong\r\n\r\n',
    );
    expect(messages).toEqual([{ response: 'Success', actionid: 'cb-2', ping: 'Pong' }]);
    expect(drops).toEqual(['unterminated Follows block']);
  });

  it('keeps header-like output lines inside a block that does end with its marker', () => {
    const { messages, drops } = parse(
      'Response: Follows\r\nActionID: cb-4\r\nEvent: text that looks like a header\r\nplain line\r\n--END COMMAND--\r\n\r\n',
      'Event: After\r\n\r\n',
    );
    expect(drops).toEqual([]);
    expect(messages).toHaveLength(2);
    expect(field(messages[0]!, 'actionid')).toBe('cb-4');
    expect(commandOutput(messages[0]!)).toBe('Event: text that looks like a header\nplain line');
    expect(messages[1]).toEqual({ event: 'After' });
  });

  it('a block past the size limit is dropped and the stream goes on', () => {
    const big = 'output\r\n'.repeat(MAX_FRAME_CHARS / 8 + 10);
    const { messages, drops } = parse('Response: Follows\r\nActionID: cb-5\r\n', big, '\r\n', 'Event: Next\r\nA: 1\r\n\r\n');
    expect(messages).toEqual([{ event: 'Next', a: '1' }]);
    expect(drops).toContain('unterminated Follows block');
  });

  it('a complete block directly followed by a frame (no blank line) is delivered, then the frame', () => {
    const { messages } = parse('Response: Follows\r\nActionID: cb-6\r\nok\n--END COMMAND--\r\nEvent: Right\r\nB: 2\r\n\r\n');
    expect(messages).toHaveLength(2);
    expect(commandOutput(messages[0]!)).toBe('ok');
    expect(messages[1]).toEqual({ event: 'Right', b: '2' });
  });
});

describe('AmiParser and asterisk-manager behind the FrameSanitizer', () => {
  it('give the same messages and drops on every recorded trace with hostile frames spliced in', () => {
    for (const scenario of scenarios) {
      const { bytes } = spliced(scenario, 77);
      const run = (P: typeof AmiParser | typeof LibraryAmiParser) => {
        const messages: AmiMessage[] = [];
        const drops: string[] = [];
        const parser = new P(
          (m) => messages.push(m),
          (reason) => drops.push(reason),
        );
        for (const c of splitChunks(bytes, { kind: 'random', seed: 3, max: 5000 })) parser.push(c);
        return { messages, drops, banner: parser.banner };
      };
      expect(run(AmiParser), scenario).toEqual(run(LibraryAmiParser));
    }
  });
});
