/**
 * Each benchmark section runs in its own Node process (with --expose-gc), so
 * memory figures and timings of one section are not disturbed by another.
 * A section script calls `section(fn)`; the result goes back to bench/run.ts
 * over IPC, or to stdout as JSON when the script is run by hand.
 */

export function section<T>(fn: () => Promise<T>): void {
  const send = (msg: unknown, code: number) => {
    if (process.send) process.send(msg, () => process.exit(code));
    else process.stdout.write(`${JSON.stringify(msg, null, 2)}\n`, () => process.exit(code));
  };
  fn().then(
    (result) => send({ ok: true, result }, 0),
    (err: unknown) => send({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 1),
  );
}

/** A progress line on stderr (the report itself is printed by run.ts). */
export function progress(message: string): void {
  process.stderr.write(`    ${message}\n`);
}
