/**
 * Which AMI events the daemon asks Asterisk for.
 *
 * What reads the AMI event stream, in every mode: presence (DeviceStateChange: call; ContactStatus,
 * PeerStatus: system; QueueMember*: agent), the mirror of every call the PBX carries (Newchannel,
 * Newstate, Dial*, Hangup*, Bridge*, transfers, LocalBridge, MixMonitorStart, NewCallerid /
 * NewConnectedLine: call; VarSet: dialplan; Cdr: cdr; QueueCaller*, AgentConnect: agent), the second
 * witness of the ARI channels (DialEnd, Newstate, Hangup: call); in AMI mode also the click-to-call
 * tracker (OriginateResponse, Dial*, Hangup*, MixMonitorStart: call; VarSet: dialplan). So every mode
 * needs the classes system, call, agent, dialplan and cdr, and none of the others (security, reporting
 * with its RTCPSent/RTCPReceived per call leg, log, verbose, user, dtmf, cc, aoc, message, config, test).
 *
 * Two events of those classes are read by nothing and are a large share of a busy stream: `CEL` (call
 * class, one per CEL record when cel.conf enables the manager backend) and `Newexten` (dialplan class,
 * one per dialplan step). They are excluded with the `Filter` action (`!` = exclude), which needs
 * `write = system` for the AMI user (the shipped manager_custom.conf has it); without it Asterisk
 * refuses the filter and the events simply arrive. The shipped manager_custom.conf also has them left
 * out for the user by `eventfilter` lines, with the VarSet events of Asterisk's bookkeeping variables
 * (AMI_USER_EVENT_FILTERS in src/simulator/index.ts): that works in AMI control mode too.
 *
 * Classes are those of Asterisk's own event documentation (`<managerEventInstance class=...>` in
 * main/manager_channels.c, main/stasis_channels.c, main/manager_bridges.c, cel/cel_manager.c,
 * cdr/cdr_manager.c, res/res_pjsip_*.c, apps/app_queue.c); the class mask is applied by set_eventmask()
 * and the filters by manager_add_filter() / match_filter() in main/manager.c. Replies to list actions
 * (EndpointList, ContactList, CoreShowChannel, QueueMember, …) are part of the action's answer and are
 * neither masked nor filtered.
 */

/** The Login `Events:` value. */
export const EVENT_CLASSES = 'system,call,agent,dialplan,cdr';

/**
 * `Filter` patterns sent after the login: legacy form (a POSIX extended regex over the whole event text,
 * which starts `Event: <name>\r\n`; `!` excludes), understood by Asterisk 13 to 22.
 */
export const EVENT_FILTERS: readonly string[] = ['!^Event: (CEL|Newexten)[[:space:]]'];

/** The events EVENT_FILTERS removes (for tests and documentation). */
export const FILTERED_EVENTS: ReadonlySet<string> = new Set(['CEL', 'Newexten']);
