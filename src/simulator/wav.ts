import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const SAMPLE_RATE = 8000;
const BYTES_PER_SAMPLE = 2;
/** Longest recording the simulator writes, so a forgotten call cannot fill the disk. */
const MAX_SECONDS = 600;

/**
 * A RIFF/WAVE file of 8 kHz, 16-bit, mono silence lasting `seconds`
 * (the recordings of the lab carry no audio either, see the traces' README).
 */
export function silenceWav(seconds: number): Buffer {
  const samples = Math.round(Math.min(Math.max(seconds, 0), MAX_SECONDS) * SAMPLE_RATE);
  const dataBytes = samples * BYTES_PER_SAMPLE;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16); // fmt chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(SAMPLE_RATE, 24);
  buf.writeUInt32LE(SAMPLE_RATE * BYTES_PER_SAMPLE, 28); // byte rate
  buf.writeUInt16LE(BYTES_PER_SAMPLE, 32); // block align
  buf.writeUInt16LE(16, 34); // bits per sample
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  return buf;
}

export function writeSilenceWav(path: string, seconds: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, silenceWav(seconds));
}
