/** Configuration from the environment: defaults, validation, secrets kept out of messages. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, []);
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8095, publicUrl: undefined, hostForcedToLoopback: false });
    expect(c.dbPath).toBe('./data/callbridge.db');
    expect(c.ami).toEqual({ host: '127.0.0.1', port: 5038, username: 'callbridge', secret: '' });
    expect(c.ari).toEqual({ url: 'http://127.0.0.1:8088', username: 'callbridge', password: '', app: 'callbridge', context: 'callbridge-ari', hangupFacts: true });
    expect(c.control).toBe('ari');
    expect(c.operatorChannel).toBe('PJSIP/{sip}');
    expect(c.clientChannel).toBe('Local/{phone}@from-internal');
    expect([c.operatorRingTimeout, c.clientRingTimeout]).toEqual([30, 30]);
    expect(c.simulate).toBe(false);
    expect(c.apiTokens).toEqual([]);
  });

  it('reads every setting', () => {
    const c = loadConfig(
      {
        CALLBRIDGE_HTTP_PORT: '9000',
        CALLBRIDGE_API_TOKENS: 'aaaaaaaaaaaaaaaa1, bbbbbbbbbbbbbbbb2',
        CALLBRIDGE_ALLOWED_NETWORKS: '10.0.0.0/8,192.168.1.5,::1',
        CALLBRIDGE_CONTROL: 'ami',
        CALLBRIDGE_ARI_URL: 'off',
        CALLBRIDGE_SIMULATE: 'yes',
        CALLBRIDGE_OPERATOR_RING_TIMEOUT: '20',
        CALLBRIDGE_CONNECTORS: '[{"type":"binotel","url":"http://crm"}]',
      },
      [],
    );
    expect(c.http.host).toBe('0.0.0.0'); // tokens configured: all interfaces by default
    expect(c.http.port).toBe(9000);
    expect(c.apiTokens).toEqual(['aaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbb2']);
    expect(c.allowedNetworks).toEqual(['10.0.0.0/8', '192.168.1.5', '::1']);
    expect(c.control).toBe('ami');
    expect(c.ari.url).toBeUndefined();
    expect(c.simulate).toBe(true);
    expect(c.operatorRingTimeout).toBe(20);
    expect(c.connectors).toEqual([{ type: 'binotel', url: 'http://crm' }]);
    expect(loadConfig({}, ['--simulate']).simulate).toBe(true);
  });

  it('keeps an open API on loopback', () => {
    const c = loadConfig({ CALLBRIDGE_HTTP_HOST: '0.0.0.0' }, []);
    expect(c.http.host).toBe('127.0.0.1');
    expect(c.http.hostForcedToLoopback).toBe(true);
  });

  it.each([
    ['CALLBRIDGE_HTTP_PORT', 'abc', 'CALLBRIDGE_HTTP_PORT: must be a number (got "abc")'],
    ['CALLBRIDGE_HTTP_PORT', '70000', 'CALLBRIDGE_HTTP_PORT: must be between 0 and 65535 (got "70000")'],
    ['CALLBRIDGE_AMI_PORT', '0', 'CALLBRIDGE_AMI_PORT: must be between 1 and 65535 (got "0")'],
    ['CALLBRIDGE_CONTROL', 'sip', 'CALLBRIDGE_CONTROL: must be "ari" or "ami" (got "sip")'],
    ['CALLBRIDGE_ARI_URL', 'ftp://x', 'CALLBRIDGE_ARI_URL: must be an http:// or https:// URL (got "ftp://x")'],
    ['CALLBRIDGE_OPERATOR_CHANNEL', 'PJSIP/101', 'CALLBRIDGE_OPERATOR_CHANNEL: must contain {sip} (got "PJSIP/101")'],
    ['CALLBRIDGE_CLIENT_CHANNEL', 'Local/{phone}@a&PJSIP/x', 'CALLBRIDGE_CLIENT_CHANNEL: must not contain CR, LF, "," "&" or "|" (got "Local/{phone}@a&PJSIP/x")'],
    ['CALLBRIDGE_CLIENT_RING_TIMEOUT', '0', 'CALLBRIDGE_CLIENT_RING_TIMEOUT: must be at least 1 second (got "0")'],
    ['CALLBRIDGE_ALLOWED_NETWORKS', '10.0.0.0/33', 'CALLBRIDGE_ALLOWED_NETWORKS: "10.0.0.0/33" is not an IP address or CIDR (got "10.0.0.0/33")'],
    ['CALLBRIDGE_SIMULATE', 'maybe', 'CALLBRIDGE_SIMULATE: must be 1/0, true/false, yes/no or on/off (got "maybe")'],
    ['CALLBRIDGE_CONNECTORS', '[{', 'CALLBRIDGE_CONNECTORS: must be a JSON array of connector settings (got "[{")'],
    ['CALLBRIDGE_SIP_PATTERN', '([a-z', 'CALLBRIDGE_SIP_PATTERN: is not a valid regular expression (got "([a-z")'],
  ])('%s=%s stops with one line naming it', (name, value, message) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value }, []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toBe(message);
  });

  it('never repeats a token in its error message', () => {
    const secret = 'short-secret';
    expect(() => loadConfig({ CALLBRIDGE_API_TOKENS: secret }, [])).toThrow(ConfigError);
    try {
      loadConfig({ CALLBRIDGE_API_TOKENS: secret }, []);
    } catch (e) {
      expect((e as Error).message).toBe('CALLBRIDGE_API_TOKENS: an item is not a token of 16 to 256 printable characters');
      expect((e as Error).message).not.toContain(secret);
    }
  });

  it('ARI control with ARI disabled is refused', () => {
    expect(() => loadConfig({ CALLBRIDGE_ARI_URL: 'off' }, [])).toThrow('CALLBRIDGE_ARI_URL: ARI cannot be disabled while CALLBRIDGE_CONTROL is "ari"');
  });
});

describe('the daemon process', () => {
  it('exits 2 with one line on stderr for a bad setting', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, CALLBRIDGE_HTTP_PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('callbridge: invalid configuration: CALLBRIDGE_HTTP_PORT: must be a number (got "eighty")\n');
    expect(r.stdout).toBe('');
  });
});
