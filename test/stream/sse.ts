/** A minimal Server-Sent Events reader over fetch, for the stream tests: events as the bytes on the socket give them. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: any;
}

export interface SseConnection {
  status: number;
  headers: Headers;
  events: SseEvent[];
  /** comment lines (heartbeats), in order */
  comments: string[];
  /** the raw text received */
  raw: string;
  /** resolves when the server ended the stream (or the connection was dropped) */
  ended: Promise<void>;
  /** waits until `n` events matching `pick` arrived */
  waitFor(what: string, pick: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  /** drops the connection */
  drop(): void;
  lastId(): string | undefined;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const conn: SseConnection = {
    status: res.status,
    headers: res.headers,
    events: [],
    comments: [],
    raw: '',
    ended: Promise.resolve(),
    async waitFor(what, pick, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (!pick(conn.events)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}; got ${conn.events.map((e) => `${e.event}:${e.id}`).join(' ')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    drop: () => abort.abort(),
    lastId() {
      for (let i = conn.events.length - 1; i >= 0; i--) if (conn.events[i]!.id !== undefined) return conn.events[i]!.id;
      return undefined;
    },
  };
  if (res.status !== 200 || !res.body) {
    conn.raw = await res.text();
    return conn;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  conn.ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        conn.raw += value;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: string | undefined;
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) conn.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) conn.events.push({ id, event, data: JSON.parse(data.join('\n')) });
        }
      }
    } catch {
      // dropped
    }
  })();
  return conn;
}
