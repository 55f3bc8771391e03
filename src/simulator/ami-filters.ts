/**
 * AMI event filters as Asterisk 22's manager applies them (main/manager.c: manager_add_filter,
 * filter_cmp_fn, should_send_event): the `eventfilter` lines of a manager.conf user and the
 * `Filter` action.
 *
 * - Legacy form, `eventfilter = [!]<regex>`: a POSIX extended regex over the whole event text;
 *   `!` excludes.
 * - Advanced form, `eventfilter(action(include|exclude),name(<event>),header(<header>),method(regex|exact|
 *   starts_with|ends_with|contains|none)) = <pattern>`: the event's name compared exactly, the pattern
 *   matched against the value of each line that starts with `<header>:` (or against the whole text
 *   without `header`), method `none` (the default) matching every event of the name.
 * - An event passes when no include filter exists or one matches, and no exclude filter matches.
 */

export type EventMatcher = (text: string) => boolean;

export interface EventFilter {
  exclude: boolean;
  matches: EventMatcher;
}

type Method = 'regex' | 'exact' | 'starts_with' | 'ends_with' | 'contains' | 'none';
const METHODS: ReadonlySet<string> = new Set(['regex', 'exact', 'starts_with', 'ends_with', 'contains', 'none']);

/** A POSIX bracket class → its JS equivalent; the rest of an extended regex reads the same in JS. */
export function posixRegex(source: string): RegExp | undefined {
  const classes: Record<string, string> = { space: '\\s', digit: '0-9', alpha: 'A-Za-z', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', punct: '!-/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', blank: ' \\t' };
  const js = source.replace(/\[:([a-z]+):\]/g, (m, name: string) => classes[name] ?? m);
  try {
    return new RegExp(js);
  } catch {
    return undefined;
  }
}

function valueMatcher(method: Method, pattern: string): ((value: string) => boolean) | undefined {
  switch (method) {
    case 'regex': {
      const re = posixRegex(pattern);
      return re ? (v) => re.test(v) : undefined;
    }
    case 'exact':
      return (v) => v === pattern;
    case 'starts_with':
      return (v) => v.startsWith(pattern);
    case 'ends_with':
      return (v) => v.endsWith(pattern);
    case 'contains':
      return (v) => v.includes(pattern);
    case 'none':
      return () => true;
  }
}

/** The name of an event text (`Event: <name>` on its first line). */
function eventName(text: string): string {
  const end = text.indexOf('\r\n');
  const first = end < 0 ? text : text.slice(0, end);
  return first.startsWith('Event: ') ? first.slice(7) : '';
}

/**
 * One filter from its manager.conf key (`eventfilter` or `eventfilter(<criteria>)`) and value;
 * undefined where Asterisk refuses it (it logs a warning and leaves the filter out).
 */
export function parseEventFilter(key: string, value: string): EventFilter | undefined {
  let pattern = value;
  let exclude = false;
  if (pattern.startsWith('!')) {
    exclude = true;
    pattern = pattern.slice(1);
  }
  const open = key.indexOf('(');
  if (open < 0) {
    if (pattern === '') return undefined; // legacy filter with no pattern
    const re = posixRegex(pattern);
    return re ? { exclude, matches: (text) => re.test(text) } : undefined;
  }
  const inner = key.slice(open + 1).trim();
  if (!inner.endsWith(')')) return undefined;
  let method: Method = 'none';
  let name: string | undefined;
  let header: string | undefined;
  let found = false;
  for (const option of inner.split(/[ ,)]+/).filter(Boolean)) {
    const arg = option.slice(option.indexOf('(') + 1).trim();
    if (!option.includes('(') || arg === '') return undefined;
    if (option.startsWith('action')) {
      if (arg !== 'include' && arg !== 'exclude') return undefined;
      exclude = arg === 'exclude';
    } else if (option.startsWith('name')) {
      name = arg;
    } else if (option.startsWith('header')) {
      header = arg.endsWith(':') ? arg : `${arg}:`;
    } else if (option.startsWith('method')) {
      if (!METHODS.has(arg)) return undefined;
      method = arg as Method;
    } else {
      return undefined;
    }
    found = true;
  }
  if (!found) return undefined;
  if ((pattern === '') !== (method === 'none')) return undefined; // a method needs a pattern, none takes none
  const match = valueMatcher(method, pattern);
  if (!match) return undefined;
  return {
    exclude,
    matches: (text) => {
      if (name !== undefined && eventName(text) !== name) return false;
      if (header === undefined) return match(text);
      for (const line of text.split('\r\n')) {
        if (!line.startsWith(header)) continue;
        const v = line.slice(header.length).trimStart();
        if (v !== '' && match(v)) return true;
      }
      return false;
    },
  };
}

/** One `key = value` line of manager.conf (`eventfilter(...) = ...`). */
export function parseEventFilterLine(line: string): EventFilter | undefined {
  const at = line.indexOf('=');
  if (at < 0) return undefined;
  return parseEventFilter(line.slice(0, at).trim(), line.slice(at + 1).trim());
}

/** should_send_event: no filters pass everything; include filters first, then exclude filters. */
export function passes(filters: readonly EventFilter[], text: string): boolean {
  if (filters.length === 0) return true;
  let included = true;
  let anyInclude = false;
  for (const f of filters) {
    if (f.exclude) continue;
    if (!anyInclude) {
      anyInclude = true;
      included = false;
    }
    if (f.matches(text)) {
      included = true;
      break;
    }
  }
  if (!included) return false;
  for (const f of filters) if (f.exclude && f.matches(text)) return false;
  return true;
}
