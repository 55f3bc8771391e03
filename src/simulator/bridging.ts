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

export function bridgeAdd(world: World, bridge: Bridge, ch: Channel): void {
  if (ch.bridge === bridge) return;
  if (ch.bridge) bridgeRemove(world, ch.bridge, ch);
  bridge.channels.push(ch);
  ch.bridge = bridge;
  for (const app of ch.apps) bridge.apps.add(app);
  world.emitEvent({ type: 'BridgeEnter', bridge, ch });
  updateMixMonitors(bridge);
}

/** Takes a channel out of its bridge (BridgeLeave); listeners of the world's `bridgeLeft` react to a bridge emptying. */
export function bridgeRemove(world: World, bridge: Bridge, ch: Channel): void {
  const idx = bridge.channels.indexOf(ch);
  if (idx < 0) return;
  bridge.channels.splice(idx, 1);
  ch.bridge = undefined;
  world.emitEvent({ type: 'BridgeLeave', bridge, ch });
  pauseMixMonitor(ch);
  updateMixMonitors(bridge);
  world.emit('bridgeLeft', bridge, ch);
}

export function destroyBridge(world: World, bridge: Bridge): void {
  if (!world.bridges.has(bridge.id)) return;
  for (const ch of [...bridge.channels]) bridgeRemove(world, bridge, ch);
  world.bridges.delete(bridge.id);
  world.emit('bridgeDestroying', bridge);
  world.emitEvent({ type: 'BridgeDestroy', bridge });
}
