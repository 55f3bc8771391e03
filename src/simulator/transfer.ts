import { bridgeRemove, destroyBridge } from './bridging.js';
import { TALK_MS, emitCdrRow, macroExtenVm, type CdrRow } from './freepbx.js';
import { Dialer, connect, connectedCallOf, endAbandoned, endAfterDial, endConnected, hangupChannel, type Connected, type Leg, type LegBehaviour } from './pbx-dial.js';
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
  if (!call || !bridge || bridge.channels.length !== 2) return 'invalid';
  // A ring-group member's phone is bridged with the Local `;2` half (`/n`: never optimized away): that half is the
  // transferee and dials the new extension, while the caller stays bridged with the `;1` half (X2).
  const viaLocal = call.leg.two !== undefined;
  if (viaLocal && transferer !== call.leg.phone) return 'invalid';
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
  if (viaLocal) {
    // X2: the transferee leaves first, already in the new extension
    world.newexten(transferee, context, exten, 1, transferee.appName || 'Dial', transferee.appData);
    bridgeRemove(world, bridge, transferee);
    bridgeRemove(world, bridge, transferer);
  } else {
    bridgeRemove(world, bridge, transferer);
    world.newexten(transferee, context, exten, 1, transferee.appName || 'Dial', transferee.appData);
    bridgeRemove(world, bridge, transferee);
  }
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
      if (outcome === 'ANSWER' && viaLocal) {
        // the caller, the same Local pair, and the new phone behind the `;2` half; the caller ends the call after talking
        const leg = { ...call.leg, phone: d.winner!.phone!, innerRow: undefined };
        const rows = (): CdrRow[] => [...keptRows, ...d.callerRows()];
        const next: Connected = connect({ world, caller: call.caller, leg, rows, end: (first, bye) => first === 'caller' && endTransferredGroupCall(world, call.caller, leg, rows(), bye) });
        world.later(TALK_MS, () => endConnected(next, 'caller', true), call.caller);
        return;
      }
      if (viaLocal) {
        // the `;2` half's Dial failed: it ends, and with it the `;1` half and the caller
        const ended = (): void => endOuterSide(world, call.caller, call.leg.outer);
        if (outcome === 'ABANDON') endAbandoned(world, transferee, () => { emitRows(); });
        else endAfterDial(world, transferee, emitRows, { app: 'Hangup', destination: exten, context });
        ended();
        return;
      }
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
  if (viaLocal && !dialer.isFinished) call.caller.onHangupRequest = () => dialer.abandon();
  return 'success';
}

/**
 * The caller hangs up a ring-group call that was transferred onward, in X2's
 * order: the caller and the `;1` half leave their bridge, the `;2` half is
 * asked to hang up and leaves the new phone's bridge, the rows (the `;2`
 * half's first), then the `;2` half, the caller and the new phone hang up.
 */
export function endTransferredGroupCall(world: World, caller: Channel, leg: Leg, rows: CdrRow[], bye: boolean): boolean {
  const one = leg.outer;
  const two = leg.two;
  const phone = leg.phone;
  if (!one || !two || !phone) return false;
  const outer = caller.bridge;
  const inner = two.bridge;
  if (bye) world.emitEvent({ type: 'HangupRequest', ch: caller, cause: 16 });
  if (outer) {
    bridgeRemove(world, outer, caller);
    if (one.bridge === outer) bridgeRemove(world, outer, one);
    destroyBridge(world, outer);
  }
  world.emitEvent({ type: 'HangupRequest', ch: two, cause: 16 });
  if (inner) bridgeRemove(world, inner, two);
  hangupChannel(world, one, 16);
  world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16 });
  for (const r of [...rows.filter((r) => r.channel === two), ...rows.filter((r) => r.channel !== two)]) emitCdrRow(world, r);
  if (inner) {
    if (phone.bridge === inner) bridgeRemove(world, inner, phone);
    destroyBridge(world, inner);
  }
  world.emitEvent({ type: 'SoftHangupRequest', ch: two, cause: 16 });
  hangupChannel(world, two, 16);
  hangupChannel(world, caller, 16);
  hangupChannel(world, phone, 16);
  return true;
}

/** The caller's side of a ring-group call whose member half is gone: the `;1` half leaves the bridge and both hang up. */
function endOuterSide(world: World, caller: Channel, one: Channel | undefined): void {
  const bridge = caller.bridge;
  if (bridge) {
    bridgeRemove(world, bridge, caller);
    if (one && one.bridge === bridge) bridgeRemove(world, bridge, one);
    destroyBridge(world, bridge);
  }
  if (one?.alive) hangupChannel(world, one, 16);
  if (caller.alive) {
    world.emitEvent({ type: 'SoftHangupRequest', ch: caller, cause: 16 });
    hangupChannel(world, caller, 16);
  }
}
