/**
 * Where a CDR's recording is, and whether it may be served. A path that
 * does not lie inside a configured recordings directory (after resolving
 * `..` and, where the file or its parents exist, symlinks) is kept on the
 * record but never served.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import { wavDurationSeconds } from '../calls/wav.js';

export interface RecordingDirs {
  /** the daemon's own recordings (CALLBRIDGE_RECORDINGS_DIR) */
  recordingsDir: string;
  /** the PBX's MixMonitor directory (CALLBRIDGE_MONITOR_DIR); CDR(recordingfile) is relative to it */
  monitorDir: string;
}

export interface LocatedRecording {
  /** the absolute path, as stored */
  path: string;
  servable: boolean;
  /** base name without the extension */
  name: string;
  format: string;
  /** read from the file when servable and readable */
  size: number | null;
  duration: number | null;
}

const pad = (n: number) => String(n).padStart(2, '0');

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The real path of `p`, or of its deepest existing ancestor with the rest appended. */
async function realOrNearest(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = resolve(p);
  for (;;) {
    try {
      return join(await realpath(cur), ...rest);
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return resolve(p);
      rest.unshift(basename(cur));
      cur = parent;
    }
  }
}

/**
 * Absolute paths are taken as they are; a bare file name (FreePBX's
 * CDR(recordingfile)) is looked for under `<monitorDir>/YYYY/MM/DD/` of the
 * call's local date, else directly in `<monitorDir>`; any other relative path
 * is relative to `<monitorDir>`.
 */
export async function resolveRecordingPath(raw: string, callAt: number | undefined, dirs: RecordingDirs, now: number): Promise<string> {
  if (isAbsolute(raw)) return resolve(raw);
  if (raw.includes('/')) return resolve(dirs.monitorDir, raw);
  const d = new Date(callAt ?? now);
  const dated = resolve(dirs.monitorDir, String(d.getFullYear()), pad(d.getMonth() + 1), pad(d.getDate()), raw);
  return (await exists(dated)) ? dated : resolve(dirs.monitorDir, raw);
}

/** Whether `file` lies strictly inside one of the directories (symlinks resolved). */
export async function insideDirs(file: string, dirs: readonly string[]): Promise<boolean> {
  const real = await realOrNearest(file);
  for (const dir of dirs) {
    const root = await realOrNearest(dir);
    if (real.startsWith(root.endsWith(sep) ? root : root + sep)) return true;
  }
  return false;
}

export async function locateRecording(raw: string, callAt: number | undefined, dirs: RecordingDirs, now: number): Promise<LocatedRecording> {
  const path = await resolveRecordingPath(raw, callAt, dirs, now);
  const ext = extname(path);
  const format = ext.slice(1).toLowerCase() || 'wav';
  const located: LocatedRecording = { path, servable: false, name: basename(path, ext), format, size: null, duration: null };
  if (!(await insideDirs(path, [dirs.recordingsDir, dirs.monitorDir]))) return located;
  try {
    const st = await stat(path);
    if (!st.isFile()) return located;
    located.size = st.size;
    if (format === 'wav') located.duration = await wavDurationSeconds(path);
  } catch {
    // not on disk (yet): servable, with size and duration unknown
  }
  located.servable = true;
  return located;
}
