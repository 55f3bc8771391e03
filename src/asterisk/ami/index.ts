export { AmiClient, STABLE_SESSION_MS, type AmiClientEvents, type AmiClientOptions, type ListResult } from './client.js';
export { AmiError, type AmiErrorCode } from './errors.js';
export { field, fieldValues, commandOutput, type AmiMessage } from './message.js';
export type { ActionFields } from './serialize.js';
export { EVENT_CLASSES, EVENT_FILTERS, FILTERED_EVENTS } from './events.js';
