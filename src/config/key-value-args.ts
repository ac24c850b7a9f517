// Ansible's inline `key=value` module arguments, as kubeasz writes them: `service: name=etcd state=stopped`,
// `set_fact: NODE_IPS="{% for h in groups['etcd'] %}{{ h }} {% endfor %}"`.

export interface SplitResult {
  tokens: string[];
  /** Set when a quote or a `{{`/`{%` block is never closed. */
  unclosed?: string;
}

/** Split on whitespace outside quotes and outside `{{ }}`, `{% %}` and `{# #}` blocks. */
export function splitArgs(text: string): SplitResult {
  const tokens: string[] = [];
  let current = '';
  let quote: string | undefined;
  let block: string | undefined;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    const pair = text.slice(i, i + 2);
    if (block) {
      current += char;
      if (pair === block) {
        current += text[i + 1] ?? '';
        i++;
        block = undefined;
      }
      continue;
    }
    if (pair === '{{' || pair === '{%' || pair === '{#') {
      block = pair === '{{' ? '}}' : pair === '{%' ? '%}' : '#}';
      current += pair;
      started = true;
      i++;
      continue;
    }
    if (quote) {
      current += char;
      if (char === '\\' && quote === '"' && i + 1 < text.length) {
        current += text[i + 1] ?? '';
        i++;
      } else if (char === quote) {
        quote = undefined;
      }
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      current += char;
      started = true;
      continue;
    }
    if (/\s/.test(char)) {
      if (started) tokens.push(current);
      current = '';
      started = false;
      continue;
    }
    current += char;
    started = true;
  }
  if (started) tokens.push(current);
  const result: SplitResult = { tokens };
  if (quote) result.unclosed = quote;
  else if (block) result.unclosed = block === '}}' ? '{{' : block === '%}' ? '{%' : '{#';
  return result;
}

export interface KeyValueResult {
  args: Record<string, string>;
  /** Tokens that are not `key=value`. */
  rest: string[];
  unclosed?: string;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse `k=v k2="v 2"`; values lose one level of matching outer quotes, as in Ansible. */
export function parseKeyValueArgs(text: string): KeyValueResult {
  const { tokens, unclosed } = splitArgs(text);
  const args: Record<string, string> = {};
  const rest: string[] = [];
  for (const token of tokens) {
    const equals = token.indexOf('=');
    const key = equals > 0 ? token.slice(0, equals) : '';
    if (!KEY.test(key)) {
      rest.push(token);
      continue;
    }
    args[key] = unquote(token.slice(equals + 1));
  }
  const result: KeyValueResult = { args, rest };
  if (unclosed !== undefined) result.unclosed = unclosed;
  return result;
}

function unquote(value: string): string {
  if (value.length >= 2) {
    const first = value[0];
    if ((first === '"' || first === "'") && value.endsWith(first)) {
      const inner = value.slice(1, -1);
      return first === '"' ? inner.replace(/\\(["\\])/g, '$1') : inner;
    }
  }
  return value;
}

/**
 * The command line Ansible's `shell` and `command` modules receive from a free-form string: Ansible splits it
 * on spaces (keeping quoted parts and `{{ }}`/`{% %}`/`{# #}` blocks whole, remembering newlines) and joins the
 * words again, dropping every `\` that stands alone outside quotes. So kubeasz's single-quoted, folded
 * `for ip in ...;do \ ETCDCTL_API=3 ...` reaches the shell as `...;do ETCDCTL_API=3 ...`, not as an escaped
 * blank. Undefined when the quotes or blocks are unbalanced (Ansible refuses that; the text is then left as
 * written, for the shell to judge).
 */
export function ansibleCommandLine(text: string): string | undefined {
  const params = ansibleSplitArgs(text);
  if (params === undefined) return undefined;
  let result = '';
  for (const param of params) result += result === '' || result.endsWith('\n') ? param : ` ${param}`;
  return result;
}

/** Ansible's split_args (lib/ansible/parsing/splitter.py), word for word in behaviour. */
function ansibleSplitArgs(args: string): string[] | undefined {
  const params: string[] = [];
  const items = args.split('\n');
  let quote: string | undefined;
  let insideQuotes = false;
  let printDepth = 0;
  let blockDepth = 0;
  let commentDepth = 0;
  const appendToLast = (text: string): void => {
    if (params.length === 0) params.push(text);
    else params[params.length - 1] = `${params[params.length - 1] ?? ''}${text}`;
  };
  for (const [itemIndex, item] of items.entries()) {
    const tokens = item.split(' ');
    let lineContinuation = false;
    for (const [index, token] of tokens.entries()) {
      if (token.length === 0 && index !== 0) {
        appendToLast(' ');
        continue;
      }
      if (token === '\\' && !insideQuotes) {
        lineContinuation = true;
        continue;
      }
      const wasInsideQuotes = insideQuotes;
      quote = quoteState(token, quote);
      insideQuotes = quote !== undefined;
      let appended = false;
      const inBlock = printDepth > 0 || blockDepth > 0 || commentDepth > 0;
      if (insideQuotes && !wasInsideQuotes && !inBlock) {
        params.push(token);
        appended = true;
      } else if (inBlock || insideQuotes || wasInsideQuotes) {
        if (index === 0 && wasInsideQuotes) appendToLast(token);
        else if (tokens.length > 1) appendToLast(`${index > 0 ? ' ' : ''}${token}`);
        else appendToLast(`\n${token}`);
        appended = true;
      }
      for (const [open, close, depth] of [
        ['{{', '}}', 'print'],
        ['{%', '%}', 'block'],
        ['{#', '#}', 'comment'],
      ] as const) {
        const before = depth === 'print' ? printDepth : depth === 'block' ? blockDepth : commentDepth;
        const after = blockDepthAfter(token, before, open, close);
        if (depth === 'print') printDepth = after;
        else if (depth === 'block') blockDepth = after;
        else commentDepth = after;
        if (after !== before && !appended) {
          params.push(token);
          appended = true;
        }
      }
      if (printDepth === 0 && blockDepth === 0 && commentDepth === 0 && !insideQuotes && !appended && token !== '') params.push(token);
    }
    if (items.length > 1 && itemIndex !== items.length - 1 && !lineContinuation) appendToLast('\n');
  }
  if (printDepth > 0 || blockDepth > 0 || commentDepth > 0 || insideQuotes) return undefined;
  return params;
}

/** The quote still open after `token`, given the one open before it (a quote after a backslash does not count). */
function quoteState(token: string, open: string | undefined): string | undefined {
  let quote = open;
  for (let index = 0; index < token.length; index++) {
    const char = token[index] as string;
    if ((char === '"' || char === "'") && (index === 0 || token[index - 1] !== '\\')) {
      if (quote === undefined) quote = char;
      else if (char === quote) quote = undefined;
    }
  }
  return quote;
}

function blockDepthAfter(token: string, depth: number, open: string, close: string): number {
  const opened = token.split(open).length - 1;
  const closed = token.split(close).length - 1;
  if (opened === closed) return depth;
  return Math.max(0, depth + opened - closed);
}
