/** Asterisk's argument splitting (main/app.c), as the AMI Variable header is read (manager.c). */
import { describe, expect, it } from 'vitest';
import { amiVariables, separateArgs } from '../../src/simulator/app-args.js';

describe('separateArgs: as __ast_app_separate_args with remove_chars', () => {
  const cases: Array<[string, string[]]> = [
    ['a,b,c', ['a', 'b', 'c']],
    ['a,,c', ['a', '', 'c']],
    ['a,', ['a', '']],
    ['', []],
    ['f(x,y),z', ['f(x,y)', 'z']],
    ['[a,b],c', ['[a,b]', 'c']],
    ['"a,b",c', ['a,b', 'c']],
    ['a\\,b,c', ['a,b', 'c']],
    ['x="q(1,2)",y', ['x=q(1,2)', 'y']],
  ];
  it.each(cases)('%j', (input, out) => expect(separateArgs(input)).toEqual(out));
});

describe('amiVariables: the name=value items of one Variable header', () => {
  it('an unquoted hangup-handler push is cut at its commas, a quoted one is kept whole', () => {
    expect(amiVariables('CHANNEL(hangup_handler_push)=callbridge-ari-hangup,s,1(7,op)')).toEqual([['CHANNEL(hangup_handler_push)', 'callbridge-ari-hangup']]);
    expect(amiVariables('CHANNEL(hangup_handler_push)="callbridge-ari-hangup,s,1(7,op)"')).toEqual([['CHANNEL(hangup_handler_push)', 'callbridge-ari-hangup,s,1(7,op)']]);
  });
  it('several items in one header; an item without a name or "=" is skipped', () => {
    expect(amiVariables(' A=1,B=x=y,junk,=v')).toEqual([['A', '1'], ['B', 'x=y']]);
  });
});
