/**
 * A connector type: the zod shape of its own options in a CALLBRIDGE_CONNECTORS
 * entry, and how to make the connector from a validated entry. The registry
 * (registry.ts) lists the types; adding one is a new module plus one line there.
 */
import type { z } from 'zod';
import type { BaseSettings, Connector } from './types.js';

export interface ConnectorModule<O extends Record<string, unknown> = Record<string, unknown>> {
  type: string;
  /** the type's own options (merged into the entry's schema; unknown keys are refused) */
  options: { [K in keyof O]: z.ZodType<O[K]> };
  create(settings: BaseSettings & O): Connector;
}

/** Keeps the module's option types while the registry holds them as one list. */
export function defineConnector<O extends Record<string, unknown>>(m: ConnectorModule<O>): ConnectorModule {
  return m as unknown as ConnectorModule;
}
