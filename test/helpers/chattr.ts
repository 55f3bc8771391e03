/** Whether this file system takes the immutable flag (ext4 as root: yes; tmpfs, overlayfs or no root: no). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function chattrWorks(where: string = tmpdir()): boolean {
  const dir = mkdtempSync(join(where, 'callbridge-chattr-'));
  const f = join(dir, 'probe');
  writeFileSync(f, 'x');
  try {
    execFileSync('chattr', ['+i', f], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', f], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
