import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AMI_SECRET, AMI_USER, fixtureFrames, RawAmi, startSim, until, type Frame, type Running } from './helpers.js';

const fixture = (p: string): string => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'latin1');

/** The parts of npm asterisk-manager 0.2.0 used here (the package ships no types). */
interface Manager {
  on(event: string, fn: (...args: never[]) => void): void;
  connect(port: number, host: string, cb: () => void): void;
  login(cb: (err?: Record<string, string>) => void): void;
  action(a: Record<string, unknown>, cb: (err: Record<string, string> | undefined, res: Record<string, string>) => void): string;
  disconnect(): void;
}
type ManagerFactory = (port: number | undefined, host: string, user: string, pass: string, events: boolean) => Manager;
const AsteriskManager = createRequire(import.meta.url)('asterisk-manager') as ManagerFactory;

describe('simulated AMI', () => {
  let run: Running;
  const clients: RawAmi[] = [];
  const connect = async (): Promise<RawAmi> => {
    const c = await RawAmi.connect(run.addrs.amiPort);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    run = await startSim();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await run.close();
  });

  it('greets with the banner, accepts a login, then sends FullyBooted and SuccessfulAuth', async () => {
    const c = await connect();
    const login = await c.login();
    expect(c.text.startsWith('Asterisk Call Manager/11.0.0\r\nResponse: Success\r\n')).toBe(true);
    expect(login.raw).toBe('Response: Success\r\nActionID: login-1\r\nMessage: Authentication accepted');
    const auth = await c.waitFor((f) => f.get('Event') === 'SuccessfulAuth');
    const names = c.frames().map((f) => f.get('Event') ?? f.get('Response'));
    expect(names.slice(0, 3)).toEqual(['Success', 'FullyBooted', 'SuccessfulAuth']);
    const real = fixtureFrames(fixture('A1/ami.txt')).find((f) => f.get('Event') === 'SuccessfulAuth')!;
    expect(auth.keys()).toEqual(real.keys());
    expect(auth.get('AccountID')).toBe(AMI_USER);
  });

  it('answers a failed login like C4 and closes the connection; other sessions see InvalidPassword', async () => {
    const watcher = await connect();
    await watcher.login();
    const c = await connect();
    c.send([['Action', 'Login'], ['Username', AMI_USER], ['Secret', 'wrongsecret'], ['ActionID', 'bad-1']]);
    await c.waitClosed();
    // byte for byte what Asterisk sent in C4 (same ActionID)
    expect(c.text).toBe(fixture('C4/ami-failed-login.txt'));
    const invalid = await watcher.waitFor((f) => f.get('Event') === 'InvalidPassword');
    const real = fixtureFrames(fixture('C4/ami.txt')).find((f) => f.get('Event') === 'InvalidPassword')!;
    expect(invalid.keys()).toEqual(real.keys());
  });

  it('refuses actions before login', async () => {
    const c = await connect();
    c.send([['Action', 'Ping'], ['ActionID', 'p']]);
    const f = await c.waitFor((x) => x.get('ActionID') === 'p');
    expect(f.raw).toBe('Response: Error\r\nActionID: p\r\nMessage: Permission denied');
  });

  it('answers Ping, unknown actions and Logoff as Asterisk 22 does', async () => {
    const c = await connect();
    await c.login();
    c.send([['action', 'ping'], ['actionid', 'actions-Ping']]);
    const ping = await c.waitFor((f) => f.get('ActionID') === 'actions-Ping');
    expect(ping.keys()).toEqual(['Response', 'ActionID', 'Ping', 'Timestamp']);
    expect(ping.get('Ping')).toBe('Pong');
    expect(Math.abs(Number(ping.get('Timestamp')) - Date.now() / 1000)).toBeLessThan(5);

    c.send([['Action', 'NoSuchAction'], ['ActionID', 'bad-action']]);
    const bad = await c.waitFor((f) => f.get('ActionID') === 'bad-action');
    const real = fixtureFrames(fixture('C4/ami.txt'));
    expect(bad.raw).toBe(real.find((f) => f.get('ActionID') === 'bad-action')!.raw);
    const rbf = await c.waitFor((f) => f.get('Event') === 'RequestBadFormat');
    expect(rbf.keys()).toEqual(real.find((f) => f.get('Event') === 'RequestBadFormat')!.keys());
    expect(rbf.get('RequestType')).toBe('Action: NoSuchAction');

    c.send([['Action', 'Logoff'], ['ActionID', 'rec-2']]);
    await c.waitClosed();
    expect(c.text.endsWith('Response: Goodbye\r\nActionID: rec-2\r\nMessage: Thanks for all the fish.\r\n\r\n')).toBe(true);
  });

  it('lists endpoints, contacts, AORs, registrations, device states and channels with the recorded headers', async () => {
    const c = await connect();
    await c.login();
    const real = fixtureFrames(fixture('C4/ami.txt'));
    const realKeys = (pred: (f: Frame) => boolean): string[] => real.find(pred)!.keys();
    for (const action of ['PJSIPShowEndpoints', 'PJSIPShowContacts', 'PJSIPShowAors', 'PJSIPShowRegistrationsInbound', 'DeviceStateList', 'ExtensionStateList', 'CoreShowChannels']) {
      c.send([['Action', action], ['ActionID', `actions-${action}`]]);
    }
    const done = await c.waitFor((f) => f.get('Event') === 'CoreShowChannelsComplete');
    expect(done.get('ListItems')).toBe('0');
    const mine = c.frames().filter((f) => f.get('ActionID')?.startsWith('actions-'));
    for (const f of mine) {
      const id = f.get('ActionID')!;
      const model = f.get('Event')
        ? realKeys((r) => r.get('Event') === f.get('Event') && r.get('ActionID') === id)
        : realKeys((r) => r.get('Response') !== undefined && r.get('ActionID') === id);
      expect(f.keys(), `${id} ${f.get('Event') ?? 'response'}`).toEqual(model);
    }
    const endpoints = mine.filter((f) => f.get('Event') === 'EndpointList');
    expect(endpoints.map((f) => f.get('ObjectName'))).toEqual(['101', '102', '103', '104', '105', '106', '107', '108']);
    expect(endpoints.find((f) => f.get('ObjectName') === '106')!.get('DeviceState')).toBe('Unavailable');
    expect(endpoints.find((f) => f.get('ObjectName') === '101')!.get('Contacts')).toBe('101/sip:101@127.0.0.1:5101;transport=UDP,');
    const complete = mine.find((f) => f.get('Event') === 'EndpointListComplete')!;
    expect(complete.raw).toBe('Event: EndpointListComplete\r\nActionID: actions-PJSIPShowEndpoints\r\nEventList: Complete\r\nListItems: 8');
    const contacts = mine.filter((f) => f.get('Event') === 'ContactList');
    expect(contacts).toHaveLength(7);
    expect(contacts.every((f) => f.get('AOR') === undefined)).toBe(true);
    expect(contacts[0]!.get('ObjectName')).toMatch(/^101;@[0-9a-f]{32}$/);
  });

  it('answers PJSIPShowContacts with a bare LF inside the message when nobody is registered', async () => {
    for (const ep of run.sim.endpointStates()) run.sim.unregister(ep.sip);
    const c = await connect();
    await c.login();
    c.send([['Action', 'PJSIPShowContacts'], ['ActionID', 'offline-PJSIPShowContacts']]);
    await c.waitFor((f) => f.get('ActionID') === 'offline-PJSIPShowContacts');
    expect(c.text).toContain('Response: Error\r\nActionID: offline-PJSIPShowContacts\r\nMessage: No Contacts found\n\r\n\r\n');
    const real = fixture('C1/ami.txt');
    expect(real).toContain('Response: Error\r\nActionID: offline-PJSIPShowContacts\r\nMessage: No Contacts found\n\r\n\r\n');
  });

  it('applies Filter as manager.c does: "!" excludes, POSIX classes, include filters let only matches through, a bad regex is refused', async () => {
    const excl = await connect();
    await excl.login();
    excl.send([['Action', 'Filter'], ['Operation', 'Add'], ['Filter', '!^Event: (CEL|Newexten)[[:space:]]'], ['ActionID', 'f1']]);
    expect((await excl.waitFor((f) => f.get('ActionID') === 'f1')).get('Response')).toBe('Success');
    const incl = await connect();
    await incl.login();
    incl.send([['Action', 'Filter'], ['Operation', 'Add'], ['Filter', 'Event: Hangup'], ['ActionID', 'f2']]);
    await incl.waitFor((f) => f.get('ActionID') === 'f2');
    incl.send([['Action', 'Filter'], ['Operation', 'Add'], ['Filter', '!(unclosed'], ['ActionID', 'f3']]);
    expect((await incl.waitFor((f) => f.get('ActionID') === 'f3')).get('Message')).toBe('Filter did not compile.  Check the syntax of the filter given.');
    incl.send([['Action', 'Filter'], ['Operation', 'Remove'], ['Filter', 'x'], ['ActionID', 'f4']]);
    expect((await incl.waitFor((f) => f.get('ActionID') === 'f4')).get('Message')).toBe('Unknown operation');
    const plain = await connect();
    await plain.login();
    run.sim.inboundCall({ from: '79001234567', did: '74950001000', operators: '101', outcome: 'answer' });
    await excl.waitFor((f) => f.get('Event') === 'Hangup' && f.get('Channel')?.startsWith('PJSIP/clients-') === true, 5000);
    await plain.waitFor((f) => f.get('Event') === 'Hangup' && f.get('Channel')?.startsWith('PJSIP/clients-') === true, 5000);
    await incl.waitFor((f) => f.get('Event') === 'Hangup' && f.get('Channel')?.startsWith('PJSIP/clients-') === true, 5000);
    const names = (c: RawAmi) => new Set(c.frames().map((f) => f.get('Event')).filter((e) => e !== undefined));
    expect(names(plain).has('CEL') && names(plain).has('Newexten')).toBe(true);
    expect(names(excl).has('CEL') || names(excl).has('Newexten')).toBe(false);
    expect(names(excl).has('VarSet') && names(excl).has('DialBegin')).toBe(true);
    // a regex anywhere in the event: "Event: Hangup" matches HangupRequest too, as in Asterisk
    expect([...names(incl)].filter((e) => e !== 'FullyBooted' && e !== 'SuccessfulAuth').sort()).toEqual(['Hangup', 'HangupRequest']);
  });

  it('answers Getvar, CoreSettings and CoreStatus with the recorded headers', async () => {
    const c = await connect();
    await c.login();
    c.send([['Action', 'Getvar'], ['Variable', 'DEFAULT_DIAL_TIMEOUT'], ['ActionID', 'getvar']]);
    c.send([['Action', 'CoreSettings'], ['ActionID', 'coresettings']]);
    c.send([['Action', 'CoreStatus'], ['ActionID', 'corestatus']]);
    await c.waitFor((f) => f.get('ActionID') === 'corestatus');
    const real = fixtureFrames(fixture('C4/ami.txt'));
    for (const id of ['getvar', 'coresettings', 'corestatus']) {
      const mine = c.frames().find((f) => f.get('ActionID') === id)!;
      expect(mine.keys()).toEqual(real.find((f) => f.get('ActionID') === id)!.keys());
    }
    expect(c.frames().find((f) => f.get('ActionID') === 'getvar')!.get('Value')).toBe('30');
  });

  it('publishes register and un-register in the order of C1, to every logged-in session', async () => {
    run.sim.unregister('101');
    const a = await connect();
    const b = await connect();
    const quiet = await connect();
    await a.login();
    await b.login();
    await quiet.login(AMI_USER, AMI_SECRET, [['Events', 'off']]);
    // every session sees the SuccessfulAuth of every login (security events)
    await until(() => a.frames().filter((f) => f.get('Event') === 'SuccessfulAuth').length === 3);
    const from = a.frames().length;
    expect(run.sim.register('101')).toBe(true);
    expect(run.sim.unregister('101')).toBe(true);
    expect(run.sim.register('999')).toBe(false);
    await a.waitFor((f) => f.get('ContactStatus') === 'Removed');
    await b.waitFor((f) => f.get('ContactStatus') === 'Removed');
    const seq = a.frames().slice(from).map((f) => [f.get('Event'), f.get('ContactStatus') ?? f.get('PeerStatus') ?? f.get('State') ?? ''].join(' ').trim());
    expect(seq).toEqual([
      // device state and contact status race in Asterisk; this is the order most of the C traces show
      'ChallengeSent', 'SuccessfulAuth', 'ContactStatus NonQualified', 'PeerStatus Reachable', 'DeviceStateChange NOT_INUSE', 'ContactStatus Reachable',
      'ChallengeSent', 'SuccessfulAuth', 'PeerStatus Unreachable', 'DeviceStateChange UNAVAILABLE', 'ContactStatus Removed',
    ]);
    const real = fixtureFrames(fixture('C1/ami.txt'));
    for (const name of ['ChallengeSent', 'SuccessfulAuth', 'ContactStatus', 'PeerStatus', 'DeviceStateChange']) {
      const model = real.find((f) => f.get('Event') === name && f.get('ActionID') === undefined && f.get('Service') !== 'AMI')!;
      expect(a.frames().slice(from).find((f) => f.get('Event') === name)!.keys(), name).toEqual(model.keys());
    }
    const contact = a.frames().slice(from).find((f) => f.get('Event') === 'ContactStatus')!;
    expect(contact.get('URI')).toBe('sip:101@127.0.0.1:5101;transport=UDP');
    expect(quiet.frames().filter((f) => f.get('Event'))).toEqual([]);
    expect(run.sim.endpointStates().find((e) => e.sip === '101')).toEqual({ sip: '101', registered: false, deviceState: 'UNAVAILABLE' });
  });

  it('works with the asterisk-manager package: login, actions, events, errors, failed login', async () => {
    const ami = AsteriskManager(undefined, '127.0.0.1', AMI_USER, AMI_SECRET, true);
    const statuses: string[] = [];
    ami.on('contactstatus', (e: Record<string, string>) => statuses.push(e.contactstatus!));
    await new Promise<void>((resolve, reject) => ami.connect(run.addrs.amiPort, '127.0.0.1', () => ami.login((err) => (err ? reject(new Error(err.message)) : resolve()))));
    const pong = await new Promise<Record<string, string>>((resolve) => ami.action({ action: 'ping' }, (_e, res) => resolve(res)));
    expect(pong.ping).toBe('Pong');
    run.sim.unregister('102');
    run.sim.register('102');
    await until(() => statuses.length >= 3);
    expect(statuses).toEqual(['Removed', 'NonQualified', 'Reachable']);
    for (const ep of run.sim.endpointStates()) run.sim.unregister(ep.sip);
    const err = await new Promise<Record<string, string> | undefined>((resolve) => ami.action({ action: 'PJSIPShowContacts' }, (e) => resolve(e)));
    expect(err?.message).toBe('No Contacts found');
    ami.disconnect();

    const bad = AsteriskManager(undefined, '127.0.0.1', AMI_USER, 'wrong', true);
    let closed = false;
    bad.on('close', () => (closed = true));
    const loginErr = await new Promise<Record<string, string> | undefined>((resolve) => bad.connect(run.addrs.amiPort, '127.0.0.1', () => bad.login((e) => resolve(e))));
    expect(loginErr?.message).toBe('Authentication failed');
    await until(() => closed);
  });
});

describe('simulated AMI: the write classes of the AMI user (test/fixtures/permissions)', () => {
  let run: Running;
  const clients: RawAmi[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await run.close();
  });

  it('refuses an action the write classes do not cover exactly as Asterisk 22 does, with a RequestNotAllowed event', async () => {
    // the ARI-mode user of asterisk-config/manager_custom.conf: write = system,reporting
    run = await startSim({ amiWrite: ['system', 'reporting'] });
    const spy = await RawAmi.connect(run.addrs.amiPort);
    const c = await RawAmi.connect(run.addrs.amiPort);
    clients.push(spy, c);
    await spy.login();
    await c.login();
    const sent: Array<Array<[string, string]>> = [
      [['Action', 'Originate'], ['ActionID', 'o1'], ['Channel', 'PJSIP/1000'], ['Context', 'callbridge-click2call'], ['Exten', '79001234567'], ['Priority', '1']],
      [['Action', 'Setvar'], ['ActionID', 's1'], ['Variable', 'X'], ['Value', '1']],
      [['Action', 'QueuePause'], ['ActionID', 'q1'], ['Interface', 'PJSIP/1000'], ['Paused', 'true']],
      [['Action', 'DBGet'], ['ActionID', 'd1'], ['Family', 'callbridge-none'], ['Key', 'none']],
    ];
    for (const a of sent) c.send(a);
    await c.waitFor((f) => f.get('ActionID') === 'd1');
    const answers = c.frames().filter((f) => ['o1', 's1', 'q1', 'd1'].includes(f.get('ActionID') ?? ''));
    const real = fixtureFrames(fixture('permissions/actions.txt'));
    expect(answers.map((f) => f.raw)).toEqual(real.map((f) => f.raw));

    await spy.waitFor((f) => f.get('Event') === 'RequestNotAllowed' && f.get('RequestType') === 'Action: QueuePause');
    const refused = spy.frames().filter((f) => f.get('Event') === 'RequestNotAllowed');
    const recorded = fixtureFrames(fixture('permissions/security.txt')).filter((f) => f.get('Event') === 'RequestNotAllowed');
    expect(refused.map((f) => f.get('RequestType'))).toEqual(recorded.map((f) => f.get('RequestType')));
    for (const f of refused) expect(f.keys()).toEqual(recorded[0]!.keys());
    expect(refused[0]!.get('AccountID')).toBe(AMI_USER);
    // nothing was originated
    expect(c.frames().some((f) => f.get('Event') === 'Newchannel' || f.get('Event') === 'OriginateResponse')).toBe(false);
  });

  it('runs what the write classes cover (AMI control mode: originate, call, reporting) and refuses the PJSIP lists and Filter', async () => {
    run = await startSim({ amiWrite: ['originate', 'call', 'reporting'] });
    const c = await RawAmi.connect(run.addrs.amiPort);
    clients.push(c);
    await c.login();
    c.send([['Action', 'Getvar'], ['ActionID', 'g1'], ['Variable', 'EPOCH']]);
    c.send([['Action', 'PJSIPShowEndpoints'], ['ActionID', 'p1']]);
    c.send([['Action', 'Filter'], ['ActionID', 'f1'], ['Operation', 'Add'], ['Filter', '!^Event: CEL']]);
    c.send([['Action', 'CoreShowChannels'], ['ActionID', 'c1']]);
    await c.waitFor((f) => f.get('ActionID') === 'c1' && f.get('Event') === 'CoreShowChannelsComplete');
    const byId = (id: string) => c.frames().find((f) => f.get('ActionID') === id)!;
    expect(byId('g1').get('Response')).toBe('Success');
    expect(byId('p1').raw).toBe('Response: Error\r\nActionID: p1\r\nMessage: Permission denied');
    expect(byId('f1').raw).toBe('Response: Error\r\nActionID: f1\r\nMessage: Permission denied');
    expect(byId('c1').get('Response')).toBe('Success');
  });
});
