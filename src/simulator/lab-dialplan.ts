import { DIAL_VARS, dialClient, type DialplanHooks } from './click2call.js';
import type { Click2CallFacts } from './click2call-facts.js';
import type { AmiOriginate } from './originate.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

/**
 * The click-to-call context of the reference Asterisk the A traces were recorded on
 * (test/fixtures/A*), so that the recorded Originate can be replayed as it was sent:
 *
 *   [outbound-bridge]
 *   exten => _X.,1,NoOp(Click-to-call order=${ORDER_ID} key=${EXTERNAL_KEY} client=${EXTEN})
 *    same => n,Set(__ORDER_ID=${ORDER_ID})
 *    same => n,Set(__EXTERNAL_KEY=${EXTERNAL_KEY})
 *    same => n,Set(CDR(userfield)=order:${ORDER_ID};key:${EXTERNAL_KEY})
 *    same => n,Set(DT=${IF($["${DIAL_TIMEOUT}" = ""]?30:${DIAL_TIMEOUT})})
 *    same => n,Dial(PJSIP/${EXTEN}@clients,${DT})
 *    same => n,NoOp(DIALSTATUS=${DIALSTATUS} HANGUPCAUSE=${HANGUPCAUSE})
 *    same => n,Hangup()
 *
 * The unescaped `;` of step 4 starts a comment in extensions.conf, so that step is
 * `Set(CDR(userfield)` and sets nothing (the traces show exactly that).
 */
export const LAB_BRIDGE_CONTEXT = 'outbound-bridge';

const NO_FACTS: Click2CallFacts = { dialled: () => undefined, answered: () => undefined };

export function runLabBridge(world: World, op: Channel, p: AmiOriginate, hooks: DialplanHooks): void {
  const v = (name: string): string => op.vars.get(name) ?? '';
  const { context, exten } = p;
  world.newexten(op, context, exten, 1, 'NoOp', `Click-to-call order=${v('ORDER_ID')} key=${v('EXTERNAL_KEY')} client=${exten}`);
  world.newexten(op, context, exten, 2, 'Set', `__ORDER_ID=${v('ORDER_ID')}`);
  world.setVar(op, '__ORDER_ID', v('ORDER_ID'));
  world.newexten(op, context, exten, 3, 'Set', `__EXTERNAL_KEY=${v('EXTERNAL_KEY')}`);
  world.setVar(op, '__EXTERNAL_KEY', v('EXTERNAL_KEY'));
  world.newexten(op, context, exten, 4, 'Set', 'CDR(userfield');
  const dt = v('DIAL_TIMEOUT') || '30';
  world.newexten(op, context, exten, 5, 'Set', `DT=${dt}`);
  world.setVar(op, 'DT', dt);
  const dial = `PJSIP/${exten}@clients`;
  const dialData = `${dial},${dt}`;
  world.newexten(op, context, exten, 6, 'Dial', dialData);
  for (const name of DIAL_VARS) world.setVar(op, name, '');
  dialClient(world, op, p, hooks, dial, Number(dt) || 0, dialData, NO_FACTS, {
    noop: { priority: 7, data: () => `DIALSTATUS=${v('DIALSTATUS')} HANGUPCAUSE=${op.vars.get('HANGUPCAUSE') ?? ''}` },
    hangup: 8,
  });
}
