/**
 * Asterisk's argument splitter (main/app.c __ast_app_separate_args with
 * remove_chars, as AST_STANDARD_APP_ARGS uses it): a delimiter inside
 * parentheses, brackets or double quotes does not split; the quotes and the
 * backslash of an escape are removed. The AMI `Variable:` header is split this
 * way into its name=value items (manager.c man_do_variable_value).
 */
export function separateArgs(buf: string, delim = ','): string[] {
  const out: string[] = [];
  let cur = '';
  let paren = 0;
  let bracket = 0;
  let quote = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === '(') paren++;
    else if (c === ')') paren = Math.max(0, paren - 1);
    else if (c === '[') bracket++;
    else if (c === ']') bracket = Math.max(0, bracket - 1);
    else if (c === '"' && delim !== '"') {
      quote = !quote;
      continue;
    } else if (c === '\\') {
      // the next character is taken literally, whatever it is
      if (i + 1 < buf.length) cur += buf[++i];
      continue;
    } else if (c === delim && paren === 0 && bracket === 0 && !quote) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (buf.length > 0) out.push(cur);
  return out;
}

/** The name=value items of one AMI `Variable:` header, as Asterisk reads them (an item without "=" or a name is skipped). */
export function amiVariables(header: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const item of separateArgs(header.replace(/^\s+/, ''))) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    out.push([item.slice(0, eq), item.slice(eq + 1)]);
  }
  return out;
}
