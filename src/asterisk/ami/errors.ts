import type { AmiMessage } from './message.js';

export type AmiErrorCode = 'NOT_CONNECTED' | 'TIMEOUT' | 'DISCONNECTED' | 'ACTION_FAILED' | 'INVALID_VALUE' | 'STOPPED';

/** Why an AMI action did not succeed; `response` is set for ACTION_FAILED (the `Response: Error` message). */
export class AmiError extends Error {
  override readonly name = 'AmiError';

  constructor(
    readonly code: AmiErrorCode,
    message: string,
    readonly response?: AmiMessage,
  ) {
    super(message);
  }
}
