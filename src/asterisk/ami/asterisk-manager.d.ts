/**
 * Type declarations for npm `asterisk-manager` 0.2.0, which ships none.
 *
 * They describe the library as it behaves (lib/ami.js), not as one might wish: the object is built by a
 * factory (callable with or without `new`), the emitter methods are bound copies of a private EventEmitter,
 * and parsed messages are plain objects with lower-cased keys.
 */
declare module 'asterisk-manager' {
  import type { EventEmitter } from 'node:events';

  namespace AsteriskManager {
    /**
     * A message as the library's parser builds it: keys lower-cased and trimmed; a repeated key becomes an
     * array; `variable` / `chanvariable` become an object `{ name: value }` (split on the first `=`);
     * a `Response: Follows` block becomes `{ response: 'follows', content, actionid }`.
     */
    type RawMessage = Record<string, string | string[] | Record<string, string> | undefined>;

    /** Action fields: keys are lower-cased and re-capitalised; arrays are joined with ','; objects become `Key: name=value` lines. */
    type ActionFields = Record<string, string | number | boolean | readonly unknown[] | Record<string, unknown> | undefined>;

    /** `err` is the whole response when it is `Response: Error`, otherwise undefined. */
    type ActionCallback = (err: RawMessage | undefined, response: RawMessage) => void;

    interface Options {
      port: number | undefined;
      host: string;
      username: string;
      password: string;
      events: boolean | string;
    }

    /**
     * Emits 'connect', 'close', 'end', 'error' (from its socket), 'rawevent' (every parsed message,
     * synchronously from the socket's 'data' handler) and, on the next tick, 'managerevent',
     * '<event name lower-cased>', 'response', '<actionid>' and 'asterisk' (anything else).
     */
    interface Manager
      extends Pick<
        EventEmitter,
        'on' | 'once' | 'addListener' | 'removeListener' | 'removeAllListeners' | 'listeners' | 'setMaxListeners' | 'emit'
      > {
      readonly options: Options;
      /** Opens `net.createConnection(port, host)` unless a connection that is not 'closed' exists. */
      connect(port: number, host: string, callback?: (err: null) => void): void;
      /** Reconnects on 'close' after 10 s, +10 s per attempt up to 60 s (logs with console.log). */
      keepConnected(): void;
      /** Sends `Action: login` with `Event: on|off` (not `Events:`); on success releases held actions. */
      login(callback?: (err?: RawMessage) => void): void;
      /**
       * Sends an action (ActionID defaults to Date.now()); before login the action is held, not sent.
       * Returns the ActionID.
       */
      action(action: ActionFields, callback?: ActionCallback): string;
      /** Ends the socket if it is open and forgets it. */
      disconnect(callback?: () => void): void;
      isConnected(): boolean;
      connected(): boolean;
    }
  }

  /** Creates a manager; connects (and logs in when `username` is given) at once when `port` is given. */
  function AsteriskManager(
    port?: number,
    host?: string,
    username?: string,
    password?: string,
    events?: boolean,
  ): AsteriskManager.Manager;

  export = AsteriskManager;
}
