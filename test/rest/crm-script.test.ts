/**
 * A CRM script written against the seed's REST examples, run with curl and
 * its cookie jar against the daemon started as a process with
 * CALLBRIDGE_SIMULATE=1, nothing else configured: only the base URL is ours.
 * It authorizes, places a call, polls the active calls until the call is gone,
 * reads company.api for the day and downloads the recording the CRM builds
 * from the uuid, as the seed's note says (with the session cookie).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDaemon, type DaemonProcess } from '../helpers/process.js';

const run = promisify(execFile);
const hasCurl = await run('curl', ['--version']).then(
  () => true,
  () => false,
);

let dir: string;
let d: DaemonProcess;
let base: string;

const SCRIPT = `#!/usr/bin/env bash
# as in the seed: authorize with the cookie jar, then every request with it
set -euo pipefail
BASE="$1"; JAR="$2"; OUT="$3"
curl -sf -c "$JAR" -X POST -H "Content-Type: application/json" \\
  --data '{"domain": "test.phonet.com.ua", "apiKey": "E VWgma8mbhTXPQHBTU"}' "$BASE/rest/security/authorize"
UUID=$(curl -sf -b "$JAR" --data '{"legExt":102,"otherLegNum":"+380993000000"}' -H "Content-Type: application/json" \\
  "$BASE/rest/user/makeCall" | sed -E 's/.*"uuid" *: *"([0-9a-f]+)".*/\\1/')
echo "uuid=$UUID"
SEEN=0
for i in $(seq 1 200); do
  ACTIVE=$(curl -sf -b "$JAR" -H "Content-Type: application/json" "$BASE/rest/calls/active/v3")
  if echo "$ACTIVE" | grep -q "$UUID"; then SEEN=1; elif [ "$SEEN" = 1 ]; then break; fi
  sleep 0.1
done
echo "seen=$SEEN"
FROM=$(( $(date +%s) * 1000 - 86400000 )); TO=$(( $(date +%s) * 1000 + 60000 ))
curl -sf -b "$JAR" -H "Content-Type: application/json" "$BASE/rest/calls/company.api?timeFrom=$FROM&timeTo=$TO&limit=50&offset=0" > "$OUT.history.json"
for i in $(seq 1 50); do
  if curl -sf -b "$JAR" -o "$OUT" "$BASE/rest/public/calls/$UUID/audio"; then break; fi
  sleep 0.1
done
echo "done"
`;

beforeAll(async () => {
  if (!hasCurl) return;
  dir = mkdtempSync(join(tmpdir(), 'callbridge-crm-'));
  d = spawnDaemon({
    CALLBRIDGE_SIMULATE: '1',
    CALLBRIDGE_HTTP_PORT: '0',
    CALLBRIDGE_DB_PATH: join(dir, 'db.sqlite'),
    CALLBRIDGE_RECORDINGS_DIR: join(dir, 'recordings'),
    CALLBRIDGE_SIM_TIME_SCALE: '0.1',
    CALLBRIDGE_API_TOKENS: '',
    CALLBRIDGE_REST_API_KEYS: '',
    CALLBRIDGE_LOG_LEVEL: 'info',
  });
  base = `http://127.0.0.1:${await d.port()}`;
  writeFileSync(join(dir, 'crm.sh'), SCRIPT, { mode: 0o755 });
}, 30_000);
afterAll(async () => {
  if (!hasCurl) return;
  d.proc.kill('SIGTERM');
  await d.exited;
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasCurl)('a CRM script for the hosted PBX, with curl', () => {
  it('runs unchanged but for the base URL', async () => {
    // the simulated PBX is up once /health says so
    for (let i = 0; i < 100; i++) {
      const h = await fetch(`${base}/health`).then((r) => r.json() as Promise<{ status: string }>);
      if (h.status === 'ok') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const out = join(dir, 'call.wav');
    const { stdout } = await run('bash', [join(dir, 'crm.sh'), base, join(dir, 'jar.txt'), out], { timeout: 60_000 });
    const uuid = /uuid=([0-9a-f]{32})/.exec(stdout)?.[1];
    expect(uuid).toBeDefined();
    expect(stdout).toContain('seen=1');
    expect(stdout).toContain('done');
    const history = JSON.parse((await import('node:fs')).readFileSync(`${out}.history.json`, 'utf8')) as Array<Record<string, unknown>>;
    const call = history.find((c) => c.uuid === uuid);
    expect(call).toMatchObject({ lgDirection: 2, otherLegNum: '+380993000000', disposition: 0, leg: { ext: '102', type: 1 } });
    expect(statSync(out).size).toBeGreaterThan(44); // a WAV with sound, not a bare header
  }, 90_000);
});
