/** API errors: a code from the documented list, an HTTP status and a message. */
export type ErrorCode =
  | 'INVALID_PARAMETER'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'DUPLICATE_EXTERNAL_KEY'
  | 'DUPLICATE_EVENT_ID'
  | 'UNKNOWN_OPERATOR'
  | 'OPERATOR_OFFLINE'
  | 'OPERATOR_BUSY'
  | 'PBX_UNAVAILABLE'
  | 'INTERNAL';

const HTTP_STATUS: Record<ErrorCode, 400 | 401 | 403 | 404 | 405 | 409 | 413 | 500 | 503> = {
  INVALID_PARAMETER: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  DUPLICATE_EXTERNAL_KEY: 409,
  DUPLICATE_EVENT_ID: 409,
  UNKNOWN_OPERATOR: 409,
  OPERATOR_OFFLINE: 409,
  OPERATOR_BUSY: 409,
  PBX_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class ApiError extends Error {
  readonly status: (typeof HTTP_STATUS)[ErrorCode];

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** the offending parameter, for INVALID_PARAMETER */
    readonly field?: string,
    /** more facts for the caller, e.g. the call_id under which a refused call was recorded */
    readonly extra?: Readonly<Record<string, string | number>>,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = HTTP_STATUS[code];
  }

  toBody(): { error: { code: ErrorCode; message: string; field?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}), ...this.extra } };
  }
}

export const invalid = (field: string, problem: string): ApiError =>
  new ApiError('INVALID_PARAMETER', `${field}: ${problem}`, field);
