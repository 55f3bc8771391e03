export { AriClient, normalizeUrl } from './client.js';
export type { AriClientOptions, AriDisconnectInfo, AriAttemptInfo } from './client.js';
export { AriError, AriHttpError } from './errors.js';
export type { AriErrorCode } from './errors.js';
export type { OriginateParams, CreateBridgeParams, RecordBridgeParams } from './operations.js';
export type * from './types.js';
