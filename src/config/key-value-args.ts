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
        current += text[i + 1];
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
        current += text[i + 1];
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
