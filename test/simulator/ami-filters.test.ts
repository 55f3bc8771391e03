/** AMI event filters as Asterisk 22's manager.c applies them (src/simulator/ami-filters.ts), as tables of cases. */
import { describe, expect, it } from 'vitest';
import { parseEventFilter, parseEventFilterLine, passes } from '../../src/simulator/ami-filters.js';

const ev = (name: string, headers: Array<[string, string]>) => `Event: ${name}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
const VARSET = ev('VarSet', [['Channel', 'PJSIP/1000-00000001'], ['CallerIDName', 'Variable: BRIDGEPEER'], ['Variable', 'BRIDGEPEER'], ['Value', 'PJSIP/1001-00000002']]);
const OURS = ev('VarSet', [['Channel', 'PJSIP/1000-00000001'], ['Variable', '__CALLBRIDGE_CALL_ID'], ['Value', '5']]);
const CEL = ev('CEL', [['EventName', 'CHAN_START']]);
const NEWCHANNEL = ev('Newchannel', [['Channel', 'PJSIP/1000-00000001'], ['Exten', '600']]);

describe('one filter', () => {
  it.each([
    // key, value, event, matches
    ['eventfilter(action(exclude),name(CEL))', '', CEL, true],
    ['eventfilter(action(exclude),name(CEL))', '', NEWCHANNEL, false],
    ['eventfilter(name(VarSet),header(Variable),method(starts_with))', 'BRIDGEP', VARSET, true],
    ['eventfilter(name(VarSet),header(Variable),method(starts_with))', 'BRIDGEP', OURS, false],
    ['eventfilter(name(VarSet),header(Variable:),method(exact))', '__CALLBRIDGE_CALL_ID', OURS, true],
    ['eventfilter(name(VarSet),header(Variable),method(exact))', 'BRIDGEPEE', VARSET, false],
    ['eventfilter(name(VarSet),header(Variable),method(ends_with))', 'PEER', VARSET, true],
    ['eventfilter(header(Channel),method(contains))', '1000', NEWCHANNEL, true],
    ['eventfilter(name(VarSet),header(Variable),method(regex))', '^(DIALSTATUS|BRIDGEPEER)$', VARSET, true],
    ['eventfilter(name(VarSet),header(Variable),method(regex))', '^(DIALSTATUS)$', VARSET, false],
    // the header's value only: the caller name that reads "Variable: BRIDGEPEER" is another header
    ['eventfilter(name(VarSet),header(CallerIDName),method(exact))', 'Variable: BRIDGEPEER', VARSET, true],
    ['eventfilter(name(Newchannel),header(Variable),method(starts_with))', 'BRIDGEP', VARSET, false],
    // legacy: a regex over the whole text
    ['eventfilter', '!^Event: (CEL|Newexten)[[:space:]]', CEL, true],
    ['eventfilter', 'Exten: 6[0-9]+', NEWCHANNEL, true],
  ] as const)('%s = %s', (key, value, event, matches) => {
    const f = parseEventFilter(key, value);
    expect(f).toBeDefined();
    expect(f!.matches(event)).toBe(matches);
  });

  it.each([
    ['eventfilter', ''], // legacy filter with no pattern
    ['eventfilter(name(VarSet),method(regex))', ''], // a method needs a pattern
    ['eventfilter(name(VarSet))', 'BRIDGEP'], // method none takes none
    ['eventfilter(action(drop),name(CEL))', ''],
    ['eventfilter(colour(red))', ''],
    ['eventfilter(name(VarSet),method(glob))', 'x'],
    ['eventfilter', '!([unclosed'],
  ])('refuses %s = %s', (key, value) => {
    expect(parseEventFilter(key, value)).toBeUndefined();
  });

  it('reads the action from the criteria or from a leading "!"', () => {
    expect(parseEventFilter('eventfilter(action(exclude),name(CEL))', '')!.exclude).toBe(true);
    expect(parseEventFilter('eventfilter(action(include),name(CEL))', '')!.exclude).toBe(false);
    expect(parseEventFilter('eventfilter(name(VarSet),header(Variable),method(exact))', '!BRIDGEPEER')!.exclude).toBe(true);
    expect(parseEventFilterLine('eventfilter(action(exclude),name(VarSet),header(Variable),method(regex)) = ^A=B$')!.matches(ev('VarSet', [['Variable', 'A=B']]))).toBe(true);
  });
});

describe('a set of filters (should_send_event)', () => {
  const exclude = (l: string) => parseEventFilterLine(l)!;
  it.each([
    ['no filters: everything', [], [true, true, true, true]],
    ['excludes only: all but the matching', ['eventfilter(action(exclude),name(CEL)) =', 'eventfilter(action(exclude),name(VarSet),header(Variable),method(starts_with)) = BRIDGEP'], [false, false, true, true]],
    ['includes only: only the matching', ['eventfilter(action(include),name(Newchannel)) ='], [false, false, false, true]],
    ['both: included, then not excluded', ['eventfilter(action(include),name(VarSet)) =', 'eventfilter(action(exclude),name(VarSet),header(Variable),method(starts_with)) = BRIDGEP'], [false, false, true, false]],
  ] as const)('%s', (_name, lines, expected) => {
    const filters = lines.map(exclude);
    expect([CEL, VARSET, OURS, NEWCHANNEL].map((e) => passes(filters, e))).toEqual(expected);
  });
});
