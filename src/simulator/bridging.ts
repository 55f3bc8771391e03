import { randomUUID } from 'node:crypto';
import { pauseMixMonitor, updateMixMonitors } from './mixmonitor.js';
import type { World } from './world.js';
import type { Bridge, Channel } from './types.js';

/** Bridge primitives: BridgeCreate / BridgeEnter / BridgeLeave / BridgeDestroy. */
export function createBridge(world: World, opts: { id?: string; name: string; type: string; amiType: string; creator: string }): Bridge {
  const bridge: Bridge = {
    id: opts.id ?? randomUUID(),
    name: opts.name,
    type: opts.type,
    amiType: opts.amiType,
    technology: 'simple_bridge',
    creator: opts.creator,
    channels: [],
    created: new Date(),
    apps: new Set(),
    recordings: [],
    playbacks: [],
    videoMode: 'talker',
  };
  world.bridges.set(bridge.id, bridge);
  world.emitEvent({ type: 'BridgeCreate', bridge });
  return bridge;
}

/** Recorder channels of the bridge's running recordings (hidden parties: no Newchannel, but they count as peers). */
function recorders(bridge: Bridge): string[] {
  return bridge.recordings.filter((r) => r.state === 'recording' && r.recorder).map((r) => r.recorder!);
}

function celExtra(bridge: Bridge): string {
  return JSON.stringify({ bridge_id: bridge.id, bridge_technology: bridge.technology });
}

/**
 * One pass of the bridge core's peer variables (set_bridge_peer_vars), run on every
 * reconfiguration: with two parties BRIDGEPEER and BRIDGEPVTCALLID name the other one,
 * with more BRIDGEPEER lists the others and BRIDGEPVTCALLID is emptied. The channel that
 * entered last comes first (A1, B1).
 */
export function bridgePeerPass(world: World, bridge: Bridge, afterFirst?: () => void): void {
  const recs = recorders(bridge);
  const parties = bridge.channels.length + recs.length;
  let first = afterFirst;
  const firstDone = (): void => {
    first?.();
    first = undefined;
  };
  if (parties < 2) {
    firstDone();
    return;
  }
  for (const ch of [...bridge.channels].reverse()) {
    const others = bridge.channels.filter((c) => c !== ch);
    if (recs.length === 0 && others.length === 1) {
      world.setVar(ch, 'BRIDGEPEER', others[0]!.name);
      firstDone();
      world.setVar(ch, 'BRIDGEPVTCALLID', others[0]!.name.startsWith('PJSIP/') ? others[0]!.protocolId : '');
    } else {
      world.setVar(ch, 'BRIDGEPEER', [...recs, ...others.map((o) => o.name)].join(','));
      firstDone();
      if ((ch.vars.get('BRIDGEPVTCALLID') ?? '') !== '') world.setVar(ch, 'BRIDGEPVTCALLID', '');
    }
  }
  firstDone();
}

/**
 * The three reconfigurations a bridge goes through when a party joins or an audiohook
 * (MixMonitor, a recorder) is attached; a Stasis bridge that just became two-party also
 * updates both channels' connected line in between (B1).
 */
export function bridgeReconfigure(world: World, bridge: Bridge, joined?: Channel, afterFirst?: () => void): void {
  bridgePeerPass(world, bridge, afterFirst);
  bridgePeerPass(world, bridge);
  const twoParty = bridge.channels.length === 2 && recorders(bridge).length === 0;
  if (bridge.amiType === 'stasis' && twoParty && joined) world.setConnected(joined, joined.connectedNum, joined.connectedName);
  bridgePeerPass(world, bridge);
  const other = joined && bridge.channels.find((c) => c !== joined);
  if (bridge.amiType === 'stasis' && twoParty && other) world.setConnected(other, other.connectedNum, other.connectedName);
}

/** A channel leaving a bridge loses its peer variables (BRIDGEPEER, and BRIDGEPVTCALLID when set). */
export function clearPeerVars(world: World, ch: Channel): void {
  if ((ch.vars.get('BRIDGEPEER') ?? '') === '') return;
  world.setVar(ch, 'BRIDGEPEER', '');
  if ((ch.vars.get('BRIDGEPVTCALLID') ?? '') !== '') world.setVar(ch, 'BRIDGEPVTCALLID', '');
}

export function bridgeAdd(world: World, bridge: Bridge, ch: Channel): void {
  if (ch.bridge === bridge) return;
  if (ch.bridge) bridgeRemove(world, ch.bridge, ch);
  bridge.channels.push(ch);
  ch.bridge = bridge;
  for (const app of ch.apps) bridge.apps.add(app);
  const joinsOthers = bridge.channels.length + recorders(bridge).length >= 2;
  const enterCel = (): void => world.cel(ch, 'BRIDGE_ENTER', { extra: celExtra(bridge) });
  // the first party of a Stasis bridge: CEL's and the manager's subscribers race for the same
  // bridge-enter message; the recordings split 7 to 7, and CEL first is how B5 and B7 have it
  const celFirst = !joinsOthers && bridge.amiType === 'stasis';
  if (celFirst) enterCel();
  world.emitEvent({ type: 'BridgeEnter', bridge, ch });
  // a channel joining a Stasis bridge with a party in it: its CEL BRIDGE_ENTER comes after its first BRIDGEPEER (B1)
  const celLate = joinsOthers && bridge.amiType === 'stasis';
  if (!celLate && !celFirst) enterCel();
  updateMixMonitors(bridge);
  if (joinsOthers) bridgeReconfigure(world, bridge, ch, celLate ? enterCel : undefined);
}

/** Takes a channel out of its bridge (BridgeLeave); listeners of the world's `bridgeLeft` react to a bridge emptying. */
export function bridgeRemove(world: World, bridge: Bridge, ch: Channel): void {
  const idx = bridge.channels.indexOf(ch);
  if (idx < 0) return;
  clearPeerVars(world, ch);
  const peer = bridge.channels.length === 2 ? bridge.channels.find((c) => c !== ch)?.name : undefined;
  // a channel alone in the bridge that got a BYE logs its exit after the BridgeLeave (B7)
  const exitAfter = ch.byeSeen === true && bridge.channels.length === 1 && recorders(bridge).length === 0;
  if (!exitAfter) world.cel(ch, 'BRIDGE_EXIT', { peer, extra: celExtra(bridge) });
  bridge.channels.splice(idx, 1);
  ch.bridge = undefined;
  world.emitEvent({ type: 'BridgeLeave', bridge, ch });
  if (exitAfter) world.cel(ch, 'BRIDGE_EXIT', { extra: celExtra(bridge) });
  pauseMixMonitor(ch);
  updateMixMonitors(bridge);
  if (bridge.channels.length > 0 && bridge.channels.length + recorders(bridge).length >= 2) {
    bridgePeerPass(world, bridge);
    if (bridge.amiType === 'stasis') {
      const remaining = [...bridge.channels];
      const update = (): void => {
        for (const c of remaining) if (c.alive) world.setConnected(c, c.connectedNum, c.connectedName);
      };
      if (ch.connectedAfterLeave) ch.pendingConnected = update;
      else update();
    }
  }
  world.emit('bridgeLeft', bridge, ch);
}

export function destroyBridge(world: World, bridge: Bridge): void {
  if (!world.bridges.has(bridge.id)) return;
  for (const ch of [...bridge.channels]) bridgeRemove(world, bridge, ch);
  world.bridges.delete(bridge.id);
  world.emit('bridgeDestroying', bridge);
  world.emitEvent({ type: 'BridgeDestroy', bridge });
}
