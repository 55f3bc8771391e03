/**
 * The write class(es) each AMI action requires, from Asterisk 22's manager registrations
 * (`ast_manager_register_xml*` in main/manager.c, main/manager_bridges.c, main/db.c,
 * main/extension_state.c, res/res_manager_devicestate.c, res/res_pjsip/*.c, res/res_pjsip_registrar.c,
 * apps/app_mixmonitor.c, apps/app_queue.c): any one of the listed classes is enough, an empty list needs
 * none. The doctor checks the AMI user's rights with it, the simulated Asterisk refuses actions by it,
 * and test/config-files.test.ts holds the shipped manager_custom.conf to it (an action the code sends
 * that is not listed here fails that test: add it with its class).
 */
export const ACTION_WRITE_CLASSES: Readonly<Record<string, readonly string[]>> = {
  Login: [],
  Logoff: [],
  Ping: [],
  Events: [],
  ListCommands: [],
  QueueStatus: [],
  QueueSummary: [],
  BridgeList: [],
  Originate: ['originate'],
  Command: ['command'],
  CoreShowChannels: ['system', 'reporting'],
  CoreStatus: ['system', 'reporting'],
  CoreSettings: ['system', 'reporting'],
  Status: ['system', 'call', 'reporting'],
  DeviceStateList: ['call', 'reporting'],
  ExtensionStateList: ['call', 'reporting'],
  PresenceStateList: ['call', 'reporting'],
  ExtensionState: ['call', 'reporting'],
  PresenceState: ['call', 'reporting'],
  SIPpeers: ['system', 'reporting'],
  PJSIPShowEndpoints: ['system'],
  PJSIPShowEndpoint: ['system'],
  PJSIPShowContacts: ['system'],
  PJSIPShowAors: ['system'],
  PJSIPQualify: ['system', 'reporting'],
  Getvar: ['call', 'reporting'],
  Setvar: ['call'],
  Hangup: ['system', 'call'],
  Redirect: ['call'],
  Atxfer: ['call'],
  BlindTransfer: ['call'],
  Bridge: ['call'],
  MixMonitor: ['system'],
  StopMixMonitor: ['system', 'call'],
  QueuePause: ['agent'],
  QueueAdd: ['agent'],
  QueueRemove: ['agent'],
  DBGet: ['system', 'reporting'],
  DBGetTree: ['system', 'reporting'],
  DBPut: ['system'],
  DBDel: ['system'],
  DBDelTree: ['system'],
  Filter: ['system'],
  UserEvent: ['user'],
  ShowDialPlan: ['config', 'reporting'],
  BridgeInfo: [],
  PJSIPShowRegistrationsInbound: ['system'],
};

const BY_LOWER_NAME = new Map(Object.entries(ACTION_WRITE_CLASSES).map(([name, classes]) => [name.toLowerCase(), classes] as const));

/** Whether `write` classes allow an action (any case); undefined for an action not listed. */
export function writeAllows(write: Iterable<string>, action: string): boolean | undefined {
  const need = BY_LOWER_NAME.get(action.toLowerCase());
  if (!need) return undefined;
  if (need.length === 0) return true;
  const have = new Set(write);
  return need.some((c) => have.has(c));
}
