import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bridgeAdd, bridgeReconfigure, bridgeRemove, createBridge, destroyBridge } from './bridging.js';
import { STEP_MS } from './dial.js';
import { fail, type AriResult } from './stasis.js';
import { writeSilenceWav } from './wav.js';
import type { World } from './world.js';
import type { Bridge, Channel, LiveRecording, Playback } from './types.js';

/** Formats ARI can record in; every one of them is written as an 8 kHz WAV by the simulator. */
const RECORD_FORMATS = new Set(['wav', 'wav16', 'gsm', 'ulaw', 'alaw', 'sln', 'g722']);

/** Finishes recordings when their bridge empties or goes away (B1: RecordingFinished after the last channel left). */
export function installBridgeHooks(world: World): void {
  world.on('bridgeLeft', (bridge: Bridge, ch: Channel) => {
    if (bridge.channels.length !== 0 || bridge.recordings.length === 0) return;
    // a channel torn down leaves the bridge, then Stasis; the recorder goes after that (B1: STASISSTATUS, then RecordingFinished)
    if (ch.leavingStasis) ch.pendingRecordings = bridge;
    else finishBridgeRecordings(world, bridge);
  });
  world.on('bridgeDestroying', (bridge: Bridge) => {
    for (const rec of [...bridge.recordings]) finishRecording(world, bridge, rec);
    for (const pb of [...bridge.playbacks]) stopPlayback(world, pb);
  });
}

/**
 * With `late` the recorder goes away after the last channel is gone: its device shows UNKNOWN
 * twice, around that channel's own device state, and RecordingFinished follows (B8).
 */
export function finishBridgeRecordings(world: World, bridge: Bridge, late = false): void {
  for (const rec of [...bridge.recordings]) finishRecording(world, bridge, rec, late);
}

export function ariCreateBridge(world: World, opts: { type?: string; name?: string; bridgeId?: string }): Bridge {
  if (opts.bridgeId) {
    const existing = world.bridges.get(opts.bridgeId);
    if (existing) return existing;
  }
  const type = (opts.type ?? 'mixing').split(',')[0]!.trim() || 'mixing';
  return createBridge(world, { id: opts.bridgeId, name: opts.name ?? '', type, amiType: 'stasis', creator: 'Stasis' });
}

export function ariAddChannel(world: World, bridge: Bridge, ch: Channel): AriResult<void> {
  if (!ch.stasis) return fail(422, 'Channel not in Stasis application');
  bridge.apps.add(ch.stasis.app);
  bridgeAdd(world, bridge, ch);
  return { ok: true, value: undefined };
}

export function ariRemoveChannel(world: World, bridge: Bridge, ch: Channel): AriResult<void> {
  if (ch.bridge !== bridge) return fail(422, 'Channel not in this bridge');
  bridgeRemove(world, bridge, ch);
  return { ok: true, value: undefined };
}

export function ariDestroyBridge(world: World, bridge: Bridge): void {
  destroyBridge(world, bridge);
}

/** POST /bridges/{id}/record: 201 `queued`, then RecordingStarted; RecordingFinished when the bridge empties. */
export function ariRecordBridge(
  world: World,
  bridge: Bridge,
  opts: { name?: string; format?: string; ifExists?: string },
): AriResult<LiveRecording> {
  const name = opts.name ?? '';
  const format = opts.format ?? '';
  if (!name || !format) return fail(400, `Missing parameter ${!name ? 'name' : 'format'}`);
  if (!RECORD_FORMATS.has(format)) return fail(422, `Unknown format ${format}`);
  if (world.liveRecordings.has(name)) return fail(409, 'Recording with the same name is already in progress');
  const ifExists = opts.ifExists ?? 'fail';
  if (ifExists === 'fail' && existsSync(join(world.recordingsDir, `${name}.${format}`))) {
    return fail(409, 'Recording with the same name already exists on the system');
  }
  const rec: LiveRecording = { name, format, state: 'queued', targetUri: `bridge:${bridge.id}`, app: [...bridge.apps][0] };
  world.liveRecordings.set(name, rec);
  bridge.recordings.push(rec);
  world.later(STEP_MS, () => {
    if (rec.state !== 'queued') return;
    rec.state = 'recording';
    rec.startedAt = Date.now();
    // Asterisk creates the file as the recording starts and grows it (the header's sizes are set at the end)
    try {
      writeSilenceWav(join(world.recordingsDir, `${rec.name}.${rec.format}`), 0);
    } catch (err) {
      world.logger.error({ err, name: rec.name }, 'could not write simulated recording');
    }
    // the recorder joins the bridge as a hidden channel: three reconfigurations, then RecordingStarted (B1)
    rec.recorder = `Recorder/ARI-${nextRecorder(world)};2`;
    if (world.bridges.has(bridge.id)) bridgeReconfigure(world, bridge);
    world.emitEvent({ type: 'RecordingStarted', rec });
  });
  return { ok: true, value: rec };
}

export function finishRecording(world: World, bridge: Bridge | undefined, rec: LiveRecording, late = false): void {
  if (rec.state === 'done' || rec.state === 'failed' || rec.state === 'canceled') return;
  const started = rec.startedAt ?? Date.now();
  // RecordingFinished reports whole seconds; the file holds what was recorded
  const seconds = world.simulatedSeconds(Date.now() - started);
  rec.duration = Math.round(seconds);
  rec.state = 'done';
  world.liveRecordings.delete(rec.name);
  if (bridge) bridge.recordings = bridge.recordings.filter((r) => r !== rec);
  try {
    writeSilenceWav(join(world.recordingsDir, `${rec.name}.${rec.format}`), seconds);
  } catch (err) {
    world.logger.error({ err, name: rec.name }, 'could not write simulated recording');
  }
  if (rec.recorder && late) {
    world.emitEvent({ type: 'DeviceStateChange', device: 'Recorder/ARI', state: 'UNKNOWN' });
    // after the device state of the channel that just went away (published once the current step is out)
    queueMicrotask(() => {
      world.emitEvent({ type: 'DeviceStateChange', device: 'Recorder/ARI', state: 'UNKNOWN' });
      world.emitEvent({ type: 'RecordingFinished', rec });
    });
    return;
  }
  if (rec.recorder) {
    // the recorder channel's device, as Asterisk reports it when the recorder goes away (B1, F2)
    world.emitEvent({ type: 'DeviceStateChange', device: 'Recorder/ARI', state: 'INUSE' });
    world.emitEvent({ type: 'DeviceStateChange', device: 'Recorder/ARI', state: 'UNKNOWN' });
  }
  world.emitEvent({ type: 'RecordingFinished', rec });
}

const recorderSeq = new WeakMap<World, number>();

/** `00000000`, `00000001`, … per simulated PBX. */
function nextRecorder(world: World): string {
  const n = recorderSeq.get(world) ?? 0;
  recorderSeq.set(world, n + 1);
  return n.toString(16).padStart(8, '0');
}

/** POST /bridges/{id}/play: tones play until stopped, other media for about a second. */
export function ariPlayBridge(world: World, bridge: Bridge, opts: { media: string; playbackId?: string; lang?: string }): Playback {
  const pb: Playback = {
    id: opts.playbackId ?? randomUUID(),
    mediaUri: opts.media,
    targetUri: `bridge:${bridge.id}`,
    language: opts.lang ?? 'en',
    state: 'queued',
    app: [...bridge.apps][0],
    bridgeId: bridge.id,
  };
  world.playbacks.set(pb.id, pb);
  bridge.playbacks.push(pb);
  world.later(STEP_MS, () => {
    if (pb.state !== 'queued') return;
    pb.state = 'playing';
    world.emitEvent({ type: 'PlaybackStarted', playback: pb });
    if (!opts.media.startsWith('tone:')) pb.timer = world.later(1000, () => stopPlayback(world, pb));
  });
  return pb;
}

export function stopPlayback(world: World, pb: Playback): void {
  if (pb.state === 'done' || pb.state === 'failed') return;
  world.cancel(pb.timer);
  pb.state = 'done';
  world.playbacks.delete(pb.id);
  const bridge = pb.bridgeId ? world.bridges.get(pb.bridgeId) : undefined;
  if (bridge) bridge.playbacks = bridge.playbacks.filter((p) => p !== pb);
  world.emitEvent({ type: 'PlaybackFinished', playback: pb });
}

/** Stored recordings: the audio files in the recordings directory. */
export function storedRecordings(world: World): Array<{ name: string; format: string }> {
  let files: string[] = [];
  try {
    files = readdirSync(world.recordingsDir);
  } catch {
    return [];
  }
  const out: Array<{ name: string; format: string }> = [];
  for (const f of files) {
    const dot = f.lastIndexOf('.');
    if (dot <= 0) continue;
    const format = f.slice(dot + 1);
    if (RECORD_FORMATS.has(format)) out.push({ name: f.slice(0, dot), format });
  }
  return out;
}
