export type AriErrorCode = 'NOT_CONNECTED' | 'TIMEOUT' | 'STOPPED' | 'AUTH';

/** A failure of the adapter itself (not an HTTP answer from Asterisk). */
export class AriError extends Error {
  readonly code: AriErrorCode;

  constructor(code: AriErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AriError';
    this.code = code;
  }
}

/**
 * Asterisk answered a REST call with a non-2xx status (other than 401, which
 * is an AriError with code AUTH). `body` is the parsed JSON answer, e.g.
 * `{"message":"Channel not found"}` or `{"error":"Allocation failed"}`, or the
 * raw text when it was not JSON.
 */
export class AriHttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, status: number, body: unknown) {
    super(`ARI ${method} ${path} failed with HTTP ${status}${describeBody(body)}`);
    this.name = 'AriHttpError';
    this.status = status;
    this.body = body;
    this.method = method;
    this.path = path;
  }
}

function describeBody(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; error?: unknown };
    const text = typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : undefined;
    if (text) return `: ${text}`;
  }
  if (typeof body === 'string' && body.length > 0) return `: ${body.slice(0, 200)}`;
  return '';
}
