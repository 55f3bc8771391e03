import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import type { AmiMessage } from './message.js';

/** Longest line accepted (characters); a longer one is dropped up to its CRLF. */
export const MAX_LINE_CHARS = 64 * 1024;
/** Largest frame accepted (characters); a larger one is dropped up to its blank line. */
export const MAX_FRAME_CHARS = 1024 * 1024;

/**
 * Stand-ins for text asterisk-manager's parser would misread (used by FrameSanitizer, which feeds it).
 * Both are control characters, which are removed from the received text first, so they cannot come from
 * the wire.
 * - BARE_LF: a LF inside a value (`Message: No Contacts found\n` from PJSIPShowContacts). The library
 *   splits lines on /\r?\n/ and would end the frame early and then emit an empty one.
 * - PLAIN_KEY: prefixed to `Variable` / `ChanVariable` header names, which the library otherwise turns
 *   into an object split on `=` (losing `Variable: NAME` of a Getvar response and repeated names).
 */
export const BARE_LF = '\u0000';
export const PLAIN_KEY = '\u0001';

/** C0 controls except TAB and LF (a lone CR included), and DEL. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const CONTROL_ALL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
/** CONTROL without CR. */
const CONTROL_NOT_CR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const FRAME_START_TOKEN = /(?:Event|Response): /g;
const FOLLOWS_END = /(?:^|\n)--END (?:COMMAND|SMS EVENT)--(?:\n|$)/;
const FOLLOWS_TAIL = /\n--END (?:COMMAND|SMS EVENT)--$/;
const ACTION_ID_IN_TEXT = /actionid: ([^\r\n]+)/i;
const PLAIN_KEY_HEADER = /^(?:chan)?variable\s*:/i;
const SPACE = /\s/;

export type DropReporter = (reason: string, sample: string) => void;

/** Events passed over unparsed (`Event: <name>` as the frame's first line, exactly), each reported by name. */
export interface SkipEvents {
  names: ReadonlySet<string>;
  /**
   * When set, a `VarSet` event is parsed only when its variable (leading underscores of an inherited
   * variable ignored) is one of these; the others are passed over like `names` (onSkip('VarSet')).
   */
  variables?: ReadonlySet<string>;
  onSkip?(name: string): void;
}

/** The variable of a `VarSet` frame's lines, without the leading underscores of inheritance; undefined when it has none. */
function varSetVariable(lines: readonly string[]): string | undefined {
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.length > 9 && l.charCodeAt(8) === 0x3a && l.slice(0, 8).toLowerCase() === 'variable') {
      let v = l.slice(9).trim();
      while (v.startsWith('_')) v = v.slice(1);
      return v;
    }
  }
  return undefined;
}

/** `Event:` or `Response:` at the start of the line, any case. */
function isFrameStart(line: string): boolean {
  const c = line.charCodeAt(0) | 0x20;
  if (c === 0x65) return line.length >= 6 && line.charCodeAt(5) === 0x3a && line.slice(0, 5).toLowerCase() === 'event';
  if (c === 0x72) return line.length >= 9 && line.charCodeAt(8) === 0x3a && line.slice(0, 8).toLowerCase() === 'response';
  return false;
}

/** The library's own test for a `Response: Follows` block (first line, 'response:' + 'follow'). */
function isFollowsStart(line: string): boolean {
  return (line.charCodeAt(0) | 0x20) === 0x72 && line.slice(0, 9).toLowerCase() === 'response:' && line.toLowerCase().includes('follow');
}

/** Position of the colon ending a header name (`^[^\s:][^:\n]*:`), or -1 when the line is not a header. */
function headerColon(line: string): number {
  const colon = line.indexOf(':');
  if (colon <= 0) return -1;
  const c = line.charCodeAt(0);
  if (c === 0x20 || c === 0x09 || (c > 0x7f && SPACE.test(line.charAt(0)))) return -1;
  if (line.lastIndexOf('\n', colon) !== -1) return -1;
  return colon;
}

/**
 * The line and frame rules of the AMI input, shared by both outputs (AmiFrameParser: messages;
 * FrameSanitizer: clean text for asterisk-manager's parser).
 *
 * Lines end at CRLF only; the banner (first line) is taken aside; control characters are removed; a frame
 * must start with `Event:` or `Response:` (junk in front of that on the same line is cut, junk lines before
 * it are dropped); a line without a colon inside a frame is dropped; over-long lines and frames are
 * dropped. A `Response: Follows` block is taken whole up to its `--END COMMAND--` line, but one whose end
 * never comes does not swallow the stream: it ends at the next blank-line-terminated frame that starts
 * with `Event:` or `Response:` (see followsLine). Everything dropped is reported.
 */
abstract class FrameReader {
  private readonly decoder = new StringDecoder('utf8');
  private decoderHolds = false;
  private pending = '';
  /** characters dropped so far of an over-long line still waiting for its CRLF; 0 when none */
  private discarding = 0;
  /** the pending (unfinished) line holds a CR not followed by LF */
  private pendingLoneCr = false;
  /** the lines of the frame being read (header lines as received, control characters removed) */
  protected frame: string[] = [];
  /** position of each line's header colon (-1 in a Follows block) */
  private colons: number[] = [];
  private frameChars = 0;
  private skippingFrame = false;
  /** 0: normal; 1: inside a `Response: Follows` block; 2: its end marker was seen, waiting for the blank line */
  private follows: 0 | 1 | 2 = 0;
  /** inside a Follows block: lines of what may be the next frame, held until its blank line */
  private candidate: string[] | undefined;
  private candidateChars = 0;
  private firstLine = true;
  /** The `Asterisk Call Manager/x.y.z` line, once received. */
  banner: string | undefined;

  constructor(
    protected readonly drop: DropReporter,
    private readonly skip?: SkipEvents,
  ) {}

  /** A complete frame: `lines` as received (header lines; for a Follows block every line of it). */
  protected abstract frameDone(lines: string[], colons: number[], follows: boolean): void;

  /** Feeds received bytes; completed frames are handed to frameDone synchronously, in order. */
  protected feed(chunk: Buffer): void {
    let added: string;
    if (!this.decoderHolds && isAscii(chunk)) {
      added = chunk.toString('latin1'); // the same text as UTF-8 decoding gives, faster
    } else {
      added = this.decoder.write(chunk);
      // the decoder keeps the bytes of a character cut at the chunk's end, never after an ASCII byte
      this.decoderHolds = chunk.length > 0 && (chunk[chunk.length - 1]! & 0x80) !== 0;
    }
    if (added.length === 0) return;
    const text = this.pending + added;
    // A lone CR is found by the line search below; other control characters by one test of the whole text.
    const clean = !CONTROL_NOT_CR.test(text);
    let lineStart = 0;
    let lone = this.pendingLoneCr;
    let end = text.indexOf('\r', Math.max(0, this.pending.length - 1));
    while (end !== -1) {
      if (end + 1 >= text.length) break; // a CR at the end: its LF may come with the next chunk
      if (text.charCodeAt(end + 1) !== 0x0a) {
        lone = true;
        end = text.indexOf('\r', end + 1);
        continue;
      }
      if (this.discarding > 0 || end - lineStart > MAX_LINE_CHARS) {
        this.drop('line too long', `${this.discarding + end - lineStart} characters`);
        this.discarding = 0;
      } else {
        const raw = text.slice(lineStart, end);
        this.line(clean && !lone ? raw : CONTROL.test(raw) ? raw.replace(CONTROL_ALL, '') : raw);
      }
      lone = false;
      lineStart = end + 2;
      end = text.indexOf('\r', lineStart);
    }
    let rest = lineStart === 0 ? text : text.slice(lineStart);
    if (rest.length > MAX_LINE_CHARS) {
      const keepCr = rest.endsWith('\r');
      this.discarding += rest.length - (keepCr ? 1 : 0);
      rest = keepCr ? '\r' : '';
    }
    this.pending = rest;
    this.pendingLoneCr = lone;
  }

  private line(line: string): void {
    if (this.firstLine) {
      this.firstLine = false;
      if (line.startsWith('Asterisk Call Manager')) {
        this.banner = line;
        return;
      }
    }
    if (this.follows !== 0) return this.followsLine(line);
    if (line.length === 0) return this.endFrame();
    if (this.skippingFrame) return;
    if (this.frame.length === 0) {
      if (!isFrameStart(line)) {
        let at = -1;
        for (const m of line.matchAll(FRAME_START_TOKEN)) at = m.index;
        if (at < 0) {
          this.drop('line outside a frame', line);
          return;
        }
        this.drop('junk before a frame', line.slice(0, at));
        line = line.slice(at);
      }
      if (this.skip && line.startsWith('Event: ') && this.skip.names.has(line.slice(7))) {
        // an event nothing reads: passed over up to its blank line, never parsed
        this.skippingFrame = true;
        this.skip.onSkip?.(line.slice(7));
        return;
      }
      if (isFollowsStart(line)) this.follows = 1;
      return this.add(line, line.indexOf(':'));
    }
    const colon = headerColon(line);
    if (colon < 0) {
      this.drop('line without a colon', line);
      return;
    }
    this.add(line, colon);
  }

  /**
   * Lines of a `Response: Follows` block are kept unchanged. A block whose end marker never comes must not
   * swallow the stream: a line that starts a frame (`Event:` / `Response:`) opens a candidate frame, held
   * aside; if the candidate reaches its blank line made of header lines only, the unterminated block is
   * dropped (reported) and the candidate is taken as a frame. A candidate line that is not a header (or is
   * the end marker) shows it was output: the candidate goes back into the block.
   */
  private followsLine(line: string): void {
    if (this.follows === 2) {
      this.follows = 0;
      this.endFrame();
      // anything but the blank line after the end marker: the block was complete without it
      if (line.length > 0) this.line(line);
      return;
    }
    if (this.candidate !== undefined) {
      if (line.length === 0) {
        const candidate = this.candidate;
        this.candidate = undefined;
        this.candidateChars = 0;
        this.drop('unterminated Follows block', this.frame[0] ?? 'Response: Follows');
        this.resetFrame();
        this.follows = 0;
        for (const l of candidate) this.line(l);
        this.line('');
        return;
      }
      if (headerColon(line) > 0 && !FOLLOWS_END.test(line) && this.candidateChars + line.length + 2 <= MAX_FRAME_CHARS) {
        this.candidate.push(line);
        this.candidateChars += line.length + 2;
        return;
      }
      const held = this.candidate;
      this.candidate = undefined;
      this.candidateChars = 0;
      for (const l of held) this.followsBlockLine(l);
      return this.followsBlockLine(line);
    }
    if (isFrameStart(line)) {
      this.candidate = [line];
      this.candidateChars = line.length + 2;
      return;
    }
    this.followsBlockLine(line);
  }

  private followsBlockLine(line: string): void {
    if (this.follows === 1 && FOLLOWS_END.test(line)) this.follows = 2;
    if (!this.skippingFrame) this.add(line, -1);
  }

  private add(line: string, colon: number): void {
    this.frameChars += line.length + 2;
    if (this.frameChars > MAX_FRAME_CHARS) {
      this.drop('frame too large', this.frame[0] ?? line);
      this.frame = [];
      this.colons = [];
      this.skippingFrame = true;
      return;
    }
    this.frame.push(line);
    this.colons.push(colon);
  }

  private resetFrame(): void {
    this.frame = [];
    this.colons = [];
    this.frameChars = 0;
    this.skippingFrame = false;
  }

  private endFrame(): void {
    const lines = this.frame;
    const colons = this.colons;
    const skipped = this.skippingFrame;
    const follows = lines.length > 0 && isFollowsStart(lines[0]!);
    this.resetFrame();
    if (lines.length === 0 || skipped) return;
    const wanted = this.skip?.variables;
    if (wanted && lines[0] === 'Event: VarSet') {
      const variable = varSetVariable(lines);
      if (variable === undefined || !wanted.has(variable)) {
        this.skip!.onSkip?.('VarSet');
        return;
      }
    }
    this.frameDone(lines, colons, follows);
  }
}

/**
 * AMI bytes → AmiMessage, each frame parsed once.
 *
 * Header names are trimmed and lower-cased, the value is what follows the first colon (one space after it
 * removed), a repeated header becomes an array in order (`Variable` / `ChanVariable` included, kept as
 * received), `__proto__` is ignored. A `Response: Follows` block becomes `{response: 'follows', content,
 * actionid}` with `content` its lines joined by LF without the end marker (the shape asterisk-manager
 * gives it). These are the messages asterisk-manager's parser yields for the same frames, without its
 * faults (see FrameSanitizer).
 */
export class AmiFrameParser extends FrameReader {
  constructor(
    private readonly onMessage: (msg: AmiMessage) => void,
    drop: DropReporter,
    skip?: SkipEvents,
  ) {
    super(drop, skip);
  }

  /** Parses received bytes; calls onMessage for each complete message, synchronously and in order. */
  push(chunk: Buffer): void {
    this.feed(chunk);
  }

  protected frameDone(lines: string[], colons: number[], follows: boolean): void {
    const msg = follows ? followsMessage(lines) : headersMessage(lines, colons);
    try {
      this.onMessage(msg);
    } catch (err) {
      this.drop('message handler failed', String(err));
    }
  }
}

/** Header names as received → lower-cased and trimmed (the names of a PBX's events are few). */
const KEYS = new Map<string, string>();
const MAX_KEYS = 4096;

function lowerKey(raw: string): string {
  let key = KEYS.get(raw);
  if (key === undefined) {
    const c = raw.charCodeAt(raw.length - 1);
    key = (c === 0x20 || c === 0x09 || c > 0x7f ? raw.trim() : raw).toLowerCase();
    if (KEYS.size >= MAX_KEYS) KEYS.clear();
    KEYS.set(raw, key);
  }
  return key;
}

function headersMessage(lines: string[], colons: number[]): AmiMessage {
  const msg: AmiMessage = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = colons[i]!;
    const key = lowerKey(line.slice(0, colon));
    const value = line.charCodeAt(colon + 1) === 0x20 ? line.slice(colon + 2) : line.slice(colon + 1);
    if (!Object.hasOwn(msg, key)) {
      if (key !== '__proto__') msg[key] = value;
    } else {
      const prev = msg[key]!;
      if (typeof prev === 'string') msg[key] = [prev, value];
      else prev.push(value);
    }
  }
  return msg;
}

function followsMessage(lines: string[]): AmiMessage {
  const content = lines.join('\n').replace(FOLLOWS_TAIL, '');
  const msg: AmiMessage = { response: 'follows', content };
  const id = ACTION_ID_IN_TEXT.exec(content);
  if (id) msg.actionid = id[1]!;
  return msg;
}

/**
 * Turns the received byte stream into complete, well-formed frames as text for asterisk-manager's parser
 * (kept to measure that parser on the same input; the daemon parses with AmiFrameParser).
 *
 * The library (asterisk-manager 0.2.0) splits lines itself and keeps no limits: a line without CRLF grows
 * its buffer without bound, a line without a colon becomes a bogus key, junk before `Event:` on the same
 * line hides the event name, a bare LF inside a value ends the frame. The rules of FrameReader apply; only
 * whole frames are passed on, so the library never holds a partial frame.
 */
export class FrameSanitizer extends FrameReader {
  private out = '';

  /** Feeds received bytes; returns the frames completed by them (CRLF text, possibly empty). */
  push(chunk: Buffer): string {
    this.feed(chunk);
    const out = this.out;
    this.out = '';
    return out;
  }

  protected frameDone(lines: string[], _colons: number[], follows: boolean): void {
    // Lines of a Follows block go to the library unchanged (it splits bare LFs itself).
    this.out += `${(follows ? lines : lines.map(normalizeHeader)).join('\r\n')}\r\n\r\n`;
  }
}

/** `Key:value` → `Key: value` (the library splits on ': '); encodes bare LFs; marks Variable headers. */
function normalizeHeader(line: string): string {
  const colon = line.indexOf(':');
  let out = line.charAt(colon + 1) === ' ' ? line : `${line.slice(0, colon + 1)} ${line.slice(colon + 1)}`;
  if (out.includes('\n')) out = out.replaceAll('\n', BARE_LF);
  return PLAIN_KEY_HEADER.test(out) ? PLAIN_KEY + out : out;
}
