import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type AsteriskManager from 'asterisk-manager';
import { AmiFrameParser, BARE_LF, FrameSanitizer, PLAIN_KEY, type DropReporter, type SkipEvents } from './frames.js';
import type { AmiMessage } from './message.js';

const require = createRequire(import.meta.url);
const createManager = require('asterisk-manager') as typeof AsteriskManager;
/** The CommonJS `net` module object, the same one asterisk-manager holds as `Net`. */
const netModule = require('node:net') as { createConnection: (...args: unknown[]) => unknown };

/**
 * Stands in for the socket asterisk-manager would open: it accepts the calls the library makes on a new
 * connection (setKeepAlive, setNoDelay, setEncoding, listeners) and is fed sanitized text as 'data'.
 */
class ParserFeed extends EventEmitter {
  readonly readyState = 'open';
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setEncoding(): this {
    return this;
  }
}

/**
 * The daemon's AMI input: received bytes → AmiMessage, each frame parsed once (AmiFrameParser, with the
 * line and frame rules of FrameReader). Use one parser per connection.
 */
export class AmiParser {
  private readonly frames: AmiFrameParser;

  constructor(onMessage: (msg: AmiMessage) => void, onDrop: DropReporter, skip?: SkipEvents) {
    this.frames = new AmiFrameParser(onMessage, onDrop, skip);
  }

  /** The `Asterisk Call Manager/…` banner line, once received. */
  get banner(): string | undefined {
    return this.frames.banner;
  }

  /** Parses received bytes; calls onMessage for each complete message, synchronously and in order. */
  push(chunk: Buffer): void {
    this.frames.push(chunk);
  }
}

/**
 * asterisk-manager 0.2.0's parser, fed through a FrameSanitizer: the same messages as AmiParser, at the
 * cost of a second parse. Kept as the reference AmiParser is measured and checked against.
 *
 * The library's parser (ManagerReader) is private: it only runs as the 'data' listener of the socket the
 * library creates with `Net.createConnection(port, host)` inside connect(), a socket it never exposes.
 * connect() is called once while `net.createConnection` returns a ParserFeed. The swap lasts only for that
 * synchronous call, so no other code can observe it.
 *
 * The library's message dispatcher (the 'rawevent' listener) is removed: it re-emits every message on the
 * next tick under several names, routes `Event: OriginateResponse` (which carries `Response:` and the
 * Originate's ActionID) as if it were the action's response, and throws on a repeated `UserEvent` header
 * from inside the socket's 'data' handler. Messages are taken from 'rawevent'.
 */
export class LibraryAmiParser {
  private readonly sanitizer: FrameSanitizer;
  private feed: ParserFeed;

  constructor(
    private readonly onMessage: (msg: AmiMessage) => void,
    private readonly onDrop: DropReporter,
  ) {
    this.sanitizer = new FrameSanitizer(onDrop);
    this.feed = this.attachLibrary();
  }

  /** The `Asterisk Call Manager/…` banner line, once received. */
  get banner(): string | undefined {
    return this.sanitizer.banner;
  }

  /** Parses received bytes; calls onMessage for each complete message, synchronously and in order. */
  push(chunk: Buffer): void {
    const frames = this.sanitizer.push(chunk);
    if (frames.length === 0) return;
    try {
      this.feed.emit('data', frames);
    } catch (err) {
      // Not expected (listeners below do not throw), but the library's state would be unknown: start afresh.
      this.onDrop('parser failed', String(err));
      this.feed = this.attachLibrary();
    }
  }

  private attachLibrary(): ParserFeed {
    const feed = new ParserFeed();
    const manager = createManager(); // no port: the library opens nothing by itself
    manager.removeAllListeners('rawevent');
    manager.on('rawevent', (item: AsteriskManager.RawMessage) => {
      try {
        const msg = fromLibraryMessage(item);
        if (msg) this.onMessage(msg);
        else this.onDrop('frame without Event or Response', JSON.stringify(item).slice(0, 200));
      } catch (err) {
        this.onDrop('message handler failed', String(err));
      }
    });
    connectToStandIn(manager, feed);
    return feed;
  }
}

/**
 * asterisk-manager runs its parser only on a socket it creates itself: for the
 * one synchronous connect() call, net.createConnection hands it `standIn`
 * instead (nothing else can run in between).
 */
export function connectToStandIn(manager: { connect(port: number, host: string): unknown }, standIn: unknown): void {
  const original = netModule.createConnection;
  netModule.createConnection = (() => standIn) as unknown as typeof netModule.createConnection;
  try {
    manager.connect(0, '');
  } finally {
    netModule.createConnection = original;
  }
}

/** Library message → AmiMessage: undoes the sanitizer's stand-ins, keeps only string values. */
export function fromLibraryMessage(item: AsteriskManager.RawMessage): AmiMessage | undefined {
  const msg: AmiMessage = {};
  for (const rawKey of Object.keys(item)) {
    const value = item[rawKey];
    const key = decode(rawKey.startsWith(PLAIN_KEY) ? rawKey.slice(PLAIN_KEY.length) : rawKey);
    if (key === '__proto__') continue;
    if (typeof value === 'string') {
      msg[key] = decode(value);
    } else if (Array.isArray(value)) {
      // an inherited name ('constructor') makes the library start the array with Object's own member
      const values = value.filter((v): v is string => typeof v === 'string').map(decode);
      if (values.length === 1) msg[key] = values[0] as string;
      else if (values.length > 1) msg[key] = values;
    }
  }
  return Object.hasOwn(msg, 'event') || Object.hasOwn(msg, 'response') ? msg : undefined;
}

function decode(text: string): string {
  return text.includes(BARE_LF) ? text.replaceAll(BARE_LF, '\n') : text;
}
