/** Duration of a WAV file from its RIFF header (fmt byte rate and data size). */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

export async function wavDurationSeconds(file: string): Promise<number | null> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const { size } = await fh.stat();
    return wavDurationFromHeader(buf.subarray(0, bytesRead), size);
  } finally {
    await fh.close();
  }
}

/**
 * A finished recording's size and (for a WAV) duration, read with one open file: three system
 * calls on a file Asterisk has just written to the local spool (in the page cache), cheaper than
 * the promise API's five round trips through the thread pool. Throws when the file is not there.
 */
export function recordingFileFacts(file: string, wav: boolean): { size: number; duration: number | null } {
  const fd = openSync(file, 'r');
  try {
    const { size } = fstatSync(fd);
    if (!wav) return { size, duration: null };
    const buf = Buffer.allocUnsafe(Math.min(4096, size));
    const n = buf.length > 0 ? readSync(fd, buf, 0, buf.length, 0) : 0;
    return { size, duration: wavDurationFromHeader(buf.subarray(0, n), size) };
  } finally {
    closeSync(fd);
  }
}

/** Walks the RIFF chunks; a data chunk whose size field is unset (0 or too big, as while recording) counts to the end of the file. */
export function wavDurationFromHeader(buf: Buffer, fileSize: number): number | null {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return null;
  let byteRate = 0;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const len = buf.readUInt32LE(off + 4);
    if (id === 'fmt ' && off + 16 <= buf.length) byteRate = buf.readUInt32LE(off + 8 + 8);
    if (id === 'data') {
      if (byteRate === 0) return null;
      const available = fileSize - (off + 8);
      const dataLen = len === 0 || len > available ? available : len;
      return Math.round((dataLen / byteRate) * 1000) / 1000;
    }
    off += 8 + len + (len % 2);
  }
  return null;
}
