import { StringDecoder } from 'node:string_decoder';

/** Longest line accepted (characters); a longer one is dropped up to its CRLF. */
export const MAX_LINE_CHARS = 64 * 1024;
/** Largest frame accepted (characters); a larger one is dropped up to its blank line. */
export const MAX_FRAME_CHARS = 1024 * 1024;

/**
 * Stand-ins for text the library's parser would misread. Both are control characters, which are removed
 * from the received text first, so they cannot come from the wire.
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
const FRAME_START = /^(?:Event|Response):/i;
const FRAME_START_TOKEN = /(?:Event|Response): /g;
/** The library's own test for a `Response: Follows` block (first line, 'response:' + 'follow'). */
const FOLLOWS_START = /^response:.*follow/i;
const FOLLOWS_END = /(?:^|\n)--END (?:COMMAND|SMS EVENT)--(?:\n|$)/;
const HEADER = /^[^\s:][^:\n]*:/;
const PLAIN_KEY_HEADER = /^(?:chan)?variable\s*:/i;

export type DropReporter = (reason: string, sample: string) => void;

/**
 * Turns the received byte stream into complete, well-formed frames for the library's parser.
 *
 * The library (asterisk-manager 0.2.0) splits lines itself and keeps no limits: a line without CRLF grows
 * its buffer without bound, a line without a colon becomes a bogus key, junk before `Event:` on the same
 * line hides the event name, a bare LF inside a value ends the frame. Here lines end at CRLF only; the
 * banner (first line) is taken aside; control characters are removed; a frame must start with `Event:` or
 * `Response:` (junk in front of that on the same line is cut, junk lines before it are dropped); a line
 * without a colon inside a frame is dropped; over-long lines and frames are dropped. Only whole frames
 * are passed on, so the library never holds a partial frame. Everything dropped is reported.
 */
export class FrameSanitizer {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** characters dropped so far of an over-long line still waiting for its CRLF; 0 when none */
  private discarding = 0;
  private frame: string[] = [];
  private frameChars = 0;
  private skippingFrame = false;
  /** 0: normal; 1: inside a `Response: Follows` block; 2: its end marker was seen, waiting for the blank line */
  private follows: 0 | 1 | 2 = 0;
  private firstLine = true;
  /** The `Asterisk Call Manager/x.y.z` line, once received. */
  banner: string | undefined;

  constructor(private readonly drop: DropReporter) {}

  /** Feeds received bytes; returns the frames completed by them (CRLF text, possibly empty). */
  push(chunk: Buffer): string {
    const added = this.decoder.write(chunk);
    if (added.length === 0) return '';
    const text = this.pending + added;
    let out = '';
    let lineStart = 0;
    let end = text.indexOf('\r\n', Math.max(0, this.pending.length - 1));
    while (end !== -1) {
      const raw = text.slice(lineStart, end);
      if (this.discarding > 0 || raw.length > MAX_LINE_CHARS) {
        this.drop('line too long', `${this.discarding + raw.length} characters`);
        this.discarding = 0;
      } else {
        out += this.line(raw);
      }
      lineStart = end + 2;
      end = text.indexOf('\r\n', lineStart);
    }
    let rest = text.slice(lineStart);
    if (rest.length > MAX_LINE_CHARS) {
      const keepCr = rest.endsWith('\r');
      this.discarding += rest.length - (keepCr ? 1 : 0);
      rest = keepCr ? '\r' : '';
    }
    this.pending = rest;
    return out;
  }

  private line(raw: string): string {
    let line = CONTROL.test(raw) ? raw.replace(CONTROL_ALL, '') : raw;
    if (this.firstLine) {
      this.firstLine = false;
      if (line.startsWith('Asterisk Call Manager')) {
        this.banner = line;
        return '';
      }
    }
    if (this.follows !== 0) return this.followsLine(line);
    if (line.length === 0) return this.endFrame();
    if (this.skippingFrame) return '';
    if (this.frame.length === 0) {
      if (!FRAME_START.test(line)) {
        let at = -1;
        for (const m of line.matchAll(FRAME_START_TOKEN)) at = m.index;
        if (at < 0) {
          this.drop('line outside a frame', line);
          return '';
        }
        this.drop('junk before a frame', line.slice(0, at));
        line = line.slice(at);
      }
      if (FOLLOWS_START.test(line)) {
        this.follows = 1;
        return this.add(line);
      }
    } else if (!HEADER.test(line)) {
      this.drop('line without a colon', line);
      return '';
    }
    return this.add(normalizeHeader(line));
  }

  /** Lines of a `Response: Follows` block go to the library unchanged (it splits bare LFs itself). */
  private followsLine(line: string): string {
    if (this.follows === 2 && line.length === 0) {
      this.follows = 0;
      return this.endFrame();
    }
    if (this.follows === 1 && FOLLOWS_END.test(line)) this.follows = 2;
    return this.skippingFrame ? '' : this.add(line);
  }

  private add(line: string): string {
    this.frameChars += line.length + 2;
    if (this.frameChars > MAX_FRAME_CHARS) {
      this.drop('frame too large', this.frame[0] ?? line);
      this.frame = [];
      this.skippingFrame = true;
      return '';
    }
    this.frame.push(line);
    return '';
  }

  private endFrame(): string {
    const lines = this.frame;
    this.frame = [];
    this.frameChars = 0;
    this.skippingFrame = false;
    return lines.length === 0 ? '' : `${lines.join('\r\n')}\r\n\r\n`;
  }
}

/** `Key:value` → `Key: value` (the library splits on ': '); encodes bare LFs; marks Variable headers. */
function normalizeHeader(line: string): string {
  const colon = line.indexOf(':');
  let out = line.charAt(colon + 1) === ' ' ? line : `${line.slice(0, colon + 1)} ${line.slice(colon + 1)}`;
  if (out.includes('\n')) out = out.replaceAll('\n', BARE_LF);
  return PLAIN_KEY_HEADER.test(out) ? PLAIN_KEY + out : out;
}
