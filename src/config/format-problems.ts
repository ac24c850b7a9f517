// Renders configuration problems the way compilers do: file:line:col, the line itself, a caret, then what to do.
import { readFileSync } from 'node:fs';
import type { ConfigProblem } from '../errors.js';

/**
 * One block per problem, sorted by file (in order of first mention) and position:
 *
 *     inventory.yml:7:18: error: duplicate etcd_name "etcd-1" (also used by 10.0.0.1)
 *       7 |       etcd_name: etcd-1
 *         |                  ^
 *       expected: a name no other member uses
 *       fix: give every member of group etcd its own etcd_name
 */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  const fileCache = new Map<string, string[] | undefined>();
  return sortProblems(problems)
    .map((problem) => formatProblem(problem, fileCache))
    .join('');
}

/** By file (`firstFiles`, then in order of first mention), then line and column; problems without a position first in their file. */
export function sortProblems(problems: readonly ConfigProblem[], firstFiles: readonly string[] = []): ConfigProblem[] {
  const fileOrder = new Map<string, number>();
  for (const file of firstFiles) if (!fileOrder.has(file)) fileOrder.set(file, fileOrder.size);
  for (const problem of problems) {
    const file = problem.loc?.file ?? '';
    if (!fileOrder.has(file)) fileOrder.set(file, fileOrder.size);
  }
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => {
      const fa = fileOrder.get(a.problem.loc?.file ?? '') ?? 0;
      const fb = fileOrder.get(b.problem.loc?.file ?? '') ?? 0;
      return (
        fa - fb ||
        (a.problem.loc?.line ?? 0) - (b.problem.loc?.line ?? 0) ||
        (a.problem.loc?.col ?? 0) - (b.problem.loc?.col ?? 0) ||
        a.index - b.index
      );
    })
    .map(({ problem }) => problem);
}

function formatProblem(problem: ConfigProblem, fileCache: Map<string, string[] | undefined>): string {
  const { loc } = problem;
  const where = loc ? `${printable(loc.file)}:${loc.line}:${loc.col}: ` : '';
  const out = [`${where}${problem.severity}: ${printable(problem.message)}`];
  const lineText = problem.lineText ?? (loc ? readLine(loc.file, loc.line, fileCache) : undefined);
  if (loc && lineText !== undefined) {
    const gutter = String(loc.line);
    const pad = ' '.repeat(gutter.length);
    const { shown, before } = lineExcerpt(lineText, loc.col);
    out.push(`  ${gutter} | ${shown}`);
    out.push(`  ${pad} | ${caretPadding(before, before.length + 1)}^`);
  }
  if (problem.expected) out.push(`  expected: ${printable(problem.expected)}`);
  if (problem.hint) out.push(`  fix: ${printable(problem.hint)}`);
  return `${out.join('\n')}\n`;
}

/**
 * Text from a file or a value, made safe for a terminal: control characters (an escape sequence could
 * rewrite the screen; a newline could fake another message) are shown as escapes; tabs are kept.
 */
export function printable(text: string, options: { keepNewlines?: boolean } = {}): string {
  /* eslint-disable no-control-regex -- control characters are what these find */
  const unsafe = options.keepNewlines
    ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g
    : /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;
  /* eslint-enable no-control-regex */
  return text.replace(unsafe, (char) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r' };
    return named[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Lines longer than this are shown as a window around the column. */
const MAX_SHOWN = 160;

/** The line as shown (printable, cut around the column when long) and the shown text before the caret. */
function lineExcerpt(lineText: string, col: number): { shown: string; before: string } {
  const index = Math.max(0, Math.min(col - 1, lineText.length));
  let start = 0;
  let end = lineText.length;
  if (lineText.length > MAX_SHOWN) {
    start = Math.max(0, index - MAX_SHOWN / 2);
    end = Math.min(lineText.length, start + MAX_SHOWN);
  }
  const lead = start > 0 ? '...' : '';
  const tail = end < lineText.length ? '...' : '';
  const before = lead + printable(lineText.slice(start, index));
  return { shown: `${before}${printable(lineText.slice(index, end))}${tail}`, before };
}

/** Spaces up to the column, keeping tabs and widening for double-width characters so the caret lines up. */
function caretPadding(lineText: string, col: number): string {
  let padding = '';
  for (const char of lineText.slice(0, Math.max(0, col - 1))) {
    if (char === '\t') padding += '\t';
    else padding += isWide(char.codePointAt(0) ?? 0) ? '  ' : ' ';
  }
  return padding;
}

/** East Asian wide and fullwidth ranges (kubeasz playbooks name their tasks in Chinese). */
function isWide(codePoint: number): boolean {
  return (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  );
}

/** Problems raised outside the loaders (e.g. the engine's host patterns) may carry only a location. */
function readLine(file: string, line: number, cache: Map<string, string[] | undefined>): string | undefined {
  if (!cache.has(file)) {
    try {
      cache.set(file, readFileSync(file, 'utf8').split('\n'));
    } catch {
      cache.set(file, undefined);
    }
  }
  return cache.get(file)?.[line - 1]?.replace(/\r$/, '');
}
