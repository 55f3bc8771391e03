/** `callbridge doctor [--call SIP PHONE] [--simulate]`: the checks, printed; resolves with the exit code. */
import { runDoctor } from './index.js';

export const DOCTOR_USAGE = `Usage: callbridge doctor [--call SIP PHONE] [--simulate]

Checks what the daemon needs, with the same configuration (CALLBRIDGE_*):
the configuration, the database, the recordings directory, AMI (reachable,
login, permissions, events), ARI (reachable, credentials, Stasis app), the
shipped dialplan contexts and the channel templates. One line per check; a
failed one says what to do. Exit code 0 only when every needed check passes.

  --call SIP PHONE   also place a real test call through the running daemon
                     (its makeCall) and print the status chain as it happens
  --simulate         check against a simulated PBX (as the daemon's --simulate)
`;

export async function doctorMain(args: readonly string[]): Promise<number> {
  let call: { sip: string; phone: string } | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--call') {
      const sip = args[i + 1];
      const phone = args[i + 2];
      if (!sip || !phone || sip.startsWith('--') || phone.startsWith('--')) {
        process.stderr.write(`callbridge doctor: --call needs SIP and PHONE, e.g. --call 101 380639920000\n`);
        return 2;
      }
      call = { sip, phone };
      i += 2;
    } else if (a !== '--simulate') {
      process.stderr.write(`callbridge doctor: unknown option ${a}\n\n${DOCTOR_USAGE}`);
      return 2;
    }
  }
  const { code } = await runDoctor({ env: process.env, argv: args, call });
  return code;
}
