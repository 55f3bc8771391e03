/** Every connector type. Adding one: a module beside these, and one line here. */
import { binotel } from './binotel.js';
import { crmEvents } from './crm-events.js';
import { helpdesk } from './helpdesk.js';
import type { ConnectorModule } from './module.js';
import { phonet } from './phonet.js';
import { webhook } from './webhook.js';

export const CONNECTOR_TYPES: Readonly<Record<string, ConnectorModule>> = {
  [binotel.type]: binotel,
  [phonet.type]: phonet,
  [helpdesk.type]: helpdesk,
  [crmEvents.type]: crmEvents,
  [webhook.type]: webhook,
};
