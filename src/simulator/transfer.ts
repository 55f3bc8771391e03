import { bridgeRemove, destroyBridge } from './bridging.js';
import { TALK_MS, emitCdrRow, macroExtenVm } from './freepbx.js';
import { Dialer, connect, connectedCallOf, endAbandoned, endAfterDial, endConnected, hangupChannel, type Connected, type LegBehaviour } from './pbx-dial.js';
import type { World } from './world.js';
import type { Channel } from './types.js';

/** FreePBX's TRANSFER_CONTEXT: where blind transfers from the phones land. */
export const TRANSFER_CONTEXT = 'from-internal-xfer';

export type TransferResult = 'success' | 'invalid' | 'failed';

/** The answered calls' phone channels of an operator (the ones it could transfer). */
export function transferableChannel(world: World, sip: string): Channel | undefined {
  for (const ch of world.channels.values()) {
    if (ch.endpoint === sip && ch.alive && ch.bridge && connectedCallOf(ch)) return ch;
  }
  return undefined;
}

/**
 * A blind transfer of `transferer`'s bridged call to extension `exten` (E7):
 * Unhold, BlindTransfer, the transferer leaves the bridge and hangs up (16),
 * the party it talked to runs macro-exten-vm for the new extension and gets a
 * new Dial with the same linkedid; the recording goes on.
 */
export function blindTransfer(world: World, transferer: Channel, exten: string, context = TRANSFER_CONTEXT): TransferResult {
  const call = connectedCallOf(transferer);
  const bridge = transferer.bridge;
  if (!call || !bridge || bridge.channels.length !== 2 || call.leg.two) return 'invalid';
  const ep = world.endpoints.get(exten);
  const op = world.operators.find((o) => o.sip === exten);
  if (!ep || !op) return 'failed';
  const transferee = bridge.channels.find((c) => c !== transferer)!;
  const at = new Date();
  call.ended = true;
  const oldRows = call.rows();
  for (const r of oldRows) if (!r.end) r.end = at;
  world.emitEvent({ type: 'AmiEvent', name: 'Unhold', privilege: 'call', parts: [{ ch: transferer }] });
  world.setVar(transferer, 'BLINDTRANSFER', transferee.name);
  world.setVar(transferee, 'BLINDTRANSFER', transferer.name);
  world.emitEvent({
    type: 'AmiEvent', name: 'BlindTransfer', privilege: 'call',
    parts: [
      { headers: [['Result', 'Success']] }, { ch: transferer, prefix: 'Transferer' }, { ch: transferee, prefix: 'Transferee' }, { bridge },
      { headers: [['IsExternal', 'Yes'], ['Context', context], ['Extension', exten]] },
    ],
  });
  bridgeRemove(world, bridge, transferer);
  world.newexten(transferee, context, exten, 1, transferee.appName || 'Dial', transferee.appData);
  bridgeRemove(world, bridge, transferee);
  destroyBridge(world, bridge);
  world.setVar(transferee, 'DIALSTATUS', 'ANSWER');
  const transfererWasCaller = transferer === call.caller;
  // the transferer's own rows end with it when it ran the dialplan; otherwise they stay with the transferee
  if (transfererWasCaller) {
    world.emitEvent({ type: 'SoftHangupRequest', ch: transferer, cause: 16 });
    for (const r of oldRows) emitCdrRow(world, r);
  }
  const data = macroExtenVm(world, transferee, [context, exten, 1], exten);
  hangupChannel(world, transferer, 16);
  const behaviour: LegBehaviour = ep.registered ? op.behaviour : { kind: 'unavailable' };
  const keptRows = transfererWasCaller ? [] : oldRows;
  const dialer = new Dialer(world, {
    caller: transferee, app: 'Dial', data,
    cdrDestination: transfererWasCaller ? exten : oldRows[0]?.destination ?? exten,
    cdrContext: transfererWasCaller ? context : oldRows[0]?.destinationContext ?? context,
    timeoutMs: 15_000, targets: [{ kind: 'phone', sip: exten, behaviour }], rowStart: at,
    done: (outcome, d) => {
      const emitRows = (): void => {
        for (const r of keptRows) emitCdrRow(world, r);
        d.emitCallerRows();
      };
      if (outcome === 'ANSWER') {
        const next: Connected = connect({ world, caller: transferee, leg: d.winner!, rows: () => [...keptRows, ...d.callerRows()] });
        // an outside party ends the call after talking; between two phones the new callee does
        if (transferee.endpoint) world.later(TALK_MS, () => endConnected(next, 'far', true), d.winner!.phone);
        else world.later(TALK_MS, () => endConnected(next, 'caller', true), transferee);
        return;
      }
      if (outcome === 'ABANDON') {
        endAbandoned(world, transferee, emitRows);
        return;
      }
      endAfterDial(world, transferee, emitRows, { app: 'Hangup', destination: exten, context });
    },
  });
  dialer.start();
  if (!dialer.isFinished) transferee.onHangupRequest = () => dialer.abandon();
  return 'success';
}
