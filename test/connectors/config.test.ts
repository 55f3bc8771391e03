/**
 * CALLBRIDGE_CONNECTORS validated at start: every mistake is one line naming
 * the entry and the field; secrets never appear; a file path works like the
 * inline array; the process exits with code 2 like any other bad setting.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createConnectors, parseConnectorSettings } from '../../src/connectors/config.js';

const dir = mkdtempSync(join(tmpdir(), 'callbridge-connectors-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(entries: unknown[]): string[] {
  return parseConnectorSettings(entries).problems;
}

describe('connector settings', () => {
  it('defaults: name = type, 5 s timeout, 10 attempts, 1 s backoff up to 5 min, 8 calls at once', () => {
    const { settings } = parseConnectorSettings([{ type: 'webhook', url: 'https://crm.example/hook' }]);
    expect(settings).toEqual([
      { type: 'webhook', name: 'webhook', url: 'https://crm.example/hook', timeout_ms: 5000, max_attempts: 10, backoff_ms: 1000, backoff_max_ms: 300000, concurrency: 8 },
    ]);
  });

  it.each([
    [[{ type: 'bitrix', url: 'http://x' }], ['[0] type: must be one of binotel, phonet, helpdesk, crm-events, webhook']],
    [[{ type: 'webhook' }], ['[0] url: is required']],
    [[{ type: 'webhook', url: 'ftp://x' }], ['[0] url: must be an http:// or https:// URL']],
    [[{ type: 'webhook', name: 'a b', url: 'http://x' }], ['[0] (a b) name: must be 1-64 letters, digits, "_", "." or "-"']],
    [[{ type: 'webhook', url: 'http://x', timeout_ms: 10 }], ['[0] timeout_ms: must be 100 to 120000']],
    [[{ type: 'webhook', url: 'http://x', max_attempts: '3' }], ['[0] max_attempts: must be a number']],
    [[{ type: 'webhook', url: 'http://x', directions: ['inbound'] }], ['[0] directions.0: must list incoming, outgoing, internal']],
    [[{ type: 'webhook', url: 'http://x', events: ['call.start'] }], [expect.stringMatching(/^\[0\] events\.0: must list call\.started, call\.ringing, .*coming$/)]],
    [[{ type: 'webhook', url: 'http://x', timeout: 5 }], ['[0]: unknown setting "timeout"']],
    [[{ type: 'binotel', url: 'http://x', field_case: 'snake' }], ['[0] field_case: must be "camel" or "pascal"']],
    [[{ type: 'phonet', url: 'http://x' }], ['[0] account_domain: is required']],
    [[{ type: 'webhook', url: 'http://x', backoff_ms: 5000, backoff_max_ms: 1000 }], ['[0] (webhook) backoff_max_ms: must not be below backoff_ms']],
    [['webhook'], ['[0]: must be an object']],
    [
      [
        { type: 'webhook', url: 'http://a' },
        { type: 'webhook', url: 'http://b' },
      ],
      ['[1] (webhook) name: "webhook" is already the name of entry [0] (give each entry its own name)'],
    ],
    [
      [
        { type: 'webhook', url: 'nope', timeout_ms: 1 },
        { type: 'phonet', name: 'ph', url: 'http://x' },
      ],
      ['[0] url: must be an http:// or https:// URL', '[0] timeout_ms: must be 100 to 120000', '[1] (ph) account_domain: is required'],
    ],
  ])('%j', (entries, want) => {
    expect(problems(entries)).toEqual(want);
  });

  it('a short secret is refused without showing it', () => {
    const lines = problems([{ type: 'webhook', url: 'http://x', secret: 'hunter2' }]);
    expect(lines).toEqual(['[0] secret: must be at least 16 characters']);
    expect(lines.join()).not.toContain('hunter2');
  });

  it('loadConfig stops with one line per mistake, each naming CALLBRIDGE_CONNECTORS', () => {
    let err: unknown;
    try {
      loadConfig({ CALLBRIDGE_CONNECTORS: JSON.stringify([{ type: 'webhook', url: 'nope' }, { type: 'binotel' }]) }, []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message.split('\n')).toEqual(['CALLBRIDGE_CONNECTORS: [0] url: must be an http:// or https:// URL', 'CALLBRIDGE_CONNECTORS: [1] url: is required']);
  });

  it('reads a JSON file given by path, and makes one connector per entry', () => {
    const file = join(dir, 'connectors.json');
    writeFileSync(file, JSON.stringify([{ type: 'binotel', url: 'http://crm', company_id: '3041' }, { type: 'webhook', name: 'hook', url: 'http://crm/hook', events: ['call.finished'] }]));
    const cfg = loadConfig({ CALLBRIDGE_CONNECTORS: file }, []);
    const made = createConnectors(cfg.connectors);
    expect(made.map((c) => [c.settings.type, c.settings.name])).toEqual([
      ['binotel', 'binotel'],
      ['webhook', 'hook'],
    ]);
  });

  it('the daemon exits with code 2 and the lines on stderr', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../src/main.ts')], {
      env: { ...process.env, CALLBRIDGE_CONNECTORS: '[{"type":"webhook","url":"http://x","max_attempts":0,"secret":"too-short"}]', CALLBRIDGE_DB_PATH: join(dir, 'x.db') },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'callbridge: invalid configuration: CALLBRIDGE_CONNECTORS: [0] secret: must be at least 16 characters',
      'CALLBRIDGE_CONNECTORS: [0] max_attempts: must be 1 to 1000',
    ]);
  });
});
