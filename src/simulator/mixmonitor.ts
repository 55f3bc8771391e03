import { join } from 'node:path';
import { bridgeReconfigure } from './bridging.js';
import { writeSilenceWav } from './wav.js';
import type { World } from './world.js';
import type { Bridge, Channel, MixMonitor } from './types.js';

/** MixMonitor(file[,b]) on a channel: VarSet MIXMONITOR_FILENAME + MixMonitorStart, as the traces show. */
export function startMixMonitor(world: World, ch: Channel, file: string, bridgedOnly: boolean): string {
  const path = file.startsWith('/') ? file : join(world.recordingsDir, file);
  ch.mixMonitor = { file: path, bridgedOnly, startedAt: Date.now(), recordedMs: 0 };
  world.setVar(ch, 'MIXMONITOR_FILENAME', path);
  world.emitEvent({ type: 'MixMonitorStart', ch });
  if (ch.bridge) {
    updateMixMonitors(ch.bridge);
    // attaching the audiohook to a bridged channel reconfigures the bridge (A1: three BRIDGEPEER passes)
    bridgeReconfigure(world, ch.bridge);
  }
  return path;
}

/** Ends a MixMonitor and writes its file: silence as long as the recorded part of the call (only the bridged part with `b`). */
export function finishMixMonitor(world: World, ch: Channel): void {
  const mm = ch.mixMonitor;
  if (!mm) return;
  ch.mixMonitor = undefined;
  pause(mm);
  const wallMs = mm.bridgedOnly ? mm.recordedMs : Date.now() - mm.startedAt;
  try {
    writeSilenceWav(mm.file, world.simulatedSeconds(wallMs));
  } catch (err) {
    world.logger.error({ err, file: mm.file }, 'could not write simulated recording');
  }
}

/** Starts or pauses the bridged-time clock of the MixMonitors in a bridge after it changed. */
export function updateMixMonitors(bridge: Bridge): void {
  const talking = bridge.channels.length >= 2;
  for (const ch of bridge.channels) {
    const mm = ch.mixMonitor;
    if (!mm) continue;
    if (talking && mm.bridgedSince === undefined) mm.bridgedSince = Date.now();
    if (!talking) pause(mm);
  }
}

export function pauseMixMonitor(ch: Channel): void {
  if (ch.mixMonitor) pause(ch.mixMonitor);
}

function pause(mm: MixMonitor): void {
  if (mm.bridgedSince === undefined) return;
  mm.recordedMs += Date.now() - mm.bridgedSince;
  mm.bridgedSince = undefined;
}
