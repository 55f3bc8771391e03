/** A received AMI message: header names lower-cased, values as received; a repeated header becomes an array. */
export type AmiMessage = Record<string, string | string[]>;

/** First value of header `name` (case-insensitive), or undefined when the message has no such header. */
export function field(msg: AmiMessage, name: string): string | undefined {
  const key = name.toLowerCase();
  if (!Object.hasOwn(msg, key)) return undefined;
  const value = msg[key];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of header `name` (case-insensitive), in order; empty when absent. */
export function fieldValues(msg: AmiMessage, name: string): string[] {
  const key = name.toLowerCase();
  if (!Object.hasOwn(msg, key)) return [];
  const value = msg[key];
  return Array.isArray(value) ? [...value] : [value as string];
}

/**
 * Output of a `Command` action as one string. Asterisk 14+ answers with one `Output:` header per line
 * (absent when the command prints nothing, so the library yields a string, an array or nothing); older
 * versions answered `Response: Follows` with the text before `--END COMMAND--`, which the library hands
 * over as `content` led by the response's own header lines.
 */
export function commandOutput(msg: AmiMessage): string {
  const output = fieldValues(msg, 'output');
  if (output.length > 0) return output.join('\n');
  const content = field(msg, 'content');
  if (content === undefined) return '';
  const lines = content.split('\n');
  while (lines.length > 0 && /^(?:Response|Privilege|ActionID):/i.test(lines[0] ?? '')) lines.shift();
  return lines.join('\n');
}
