import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinShellPieces, ShellContextError, type ShellPiece } from '../../../src/shell/shell-context.js';
import { render, TemplateError } from '../../../src/template/index.js';

// Every case runs in a real /bin/sh: the value must come out as the literal text and nothing may run.
const scratch = mkdtempSync(join(tmpdir(), 'shell-context-'));
const canary = join(scratch, 'pwned');
const hostile = [
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `"; touch ${canary}; echo "`,
  `'; touch ${canary}; echo '`,
  `\\"; touch ${canary} #`,
  `line1\ntouch ${canary}\nline3`,
  `\${HOME}$HOME\\$x`,
  'EOF',
  '',
];

function sh(command: string): string {
  return execFileSync('/bin/sh', ['-c', command], { timeout: 5000 }).toString();
}

/** Split a template's text at `{{}}` marks and put `value` in each. */
function pieces(template: string, value: string): ShellPiece[] {
  const result: ShellPiece[] = [];
  template.split('{{}}').forEach((text, index) => {
    if (index > 0) result.push({ value });
    result.push({ text });
  });
  return result;
}

// [template, what sh prints for value v (as a function of v)]
const places: [string, (v: string) => string][] = [
  ['printf %s {{}}', (v) => v],
  ['printf %s "{{}}"', (v) => v],
  ['printf %s "pre {{}} post"', (v) => `pre ${v} post`],
  ["printf %s '{{}}'", (v) => v],
  ["printf %s 'a'\"b{{}}\"'c'", (v) => `ab${v}c`],
  ['printf %s "$(printf %s {{}})"', (v) => v.replace(/\n+$/, '')],
  ['printf %s "$(printf %s "{{}}")"', (v) => v.replace(/\n+$/, '')],
  ['printf %s x # {{}}', () => 'x'],
  ['cat <<EOT\n{{}}\nEOT\n', (v) => `${v}\n`],
  ["cat <<'EOT'\nA{{}}B\nEOT\n", (v) => `A${v}B\n`],
  ['cat <<-EOT\n\tline {{}}\n\tEOT\n', (v) => `line ${v}\n`],
  ['cat <<A; printf %s {{}}\nbody\nA\n', (v) => `body\n${v}`],
  // A for loop's word list: the value's words, each literal (sh splits an unquoted $var there too).
  [
    'for w in {{}}; do printf "[%s]" "$w"; done',
    (v) =>
      v
        .split(/[ \t\n]+/)
        .filter((w) => w !== '')
        .map((w) => `[${w}]`)
        .join(''),
  ],
  ['for w in a {{}} b;do printf "[%s]" "$w"; done', (v) => ['a', ...v.split(/[ \t\n]+/).filter((w) => w !== ''), 'b'].map((w) => `[${w}]`).join('')],
  [
    'x=$(for w in {{}}; do printf "[%s]" "$w"; done); printf %s "$x"',
    (v) =>
      v
        .split(/[ \t\n]+/)
        .filter((w) => w !== '')
        .map((w) => `[${w}]`)
        .join(''),
  ],
  // Not a for list: one word, whatever it holds.
  ['printf "[%s]" for w in {{}}', (v) => `[for][w][in][${v}]`],
  ['for w in "{{}}"; do printf "[%s]" "$w"; done', (v) => `[${v}]`],
];

describe('shell values escaped for their place (shell-context)', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  for (const [template, expected] of places) {
    for (const value of hostile) {
      const refusedHere = (template.includes('#') && value.includes('\n')) || (template.includes('EOT') && value.split('\n').includes('EOT'));
      if (refusedHere) continue;
      it(`${JSON.stringify(template)} with ${JSON.stringify(value)}`, () => {
        const output = sh(joinShellPieces(pieces(template, value)));
        expect(existsSync(canary), 'a command inside the value ran').to.equal(false);
        expect(output).to.equal(expected(value));
      });
    }
  }

  it('refuses a value that would end a comment', () => {
    expect(() => joinShellPieces(pieces('echo x # {{}}', `a\ntouch ${canary}`))).to.throw(ShellContextError, /comment/);
  });

  it('refuses a value that would end a here-document early', () => {
    expect(() => joinShellPieces(pieces('cat <<EOF\n{{}}\nEOF\n', `x\nEOF\ntouch ${canary}`))).to.throw(ShellContextError, /here-document/);
    expect(() => joinShellPieces(pieces('cat <<EOF\nE{{}}\nEOF\n', 'OF'))).to.throw(ShellContextError, /here-document/);
  });

  it('refuses places where no escaping is reliable', () => {
    expect(() => joinShellPieces(pieces('echo `echo {{}}`', 'x'))).to.throw(ShellContextError, /\$\(\.\.\.\)/);
    expect(() => joinShellPieces(pieces('echo \\{{}}', "'x"))).to.throw(ShellContextError, /backslash/);
    expect(() => joinShellPieces(pieces('echo "\\{{}}"', '$(x)'))).to.throw(ShellContextError, /backslash/);
    expect(() => joinShellPieces(pieces('echo ${{}}', "'x'"))).to.throw(ShellContextError, /\$/);
    expect(() => joinShellPieces(pieces('cat <<{{}}\nx\n', 'EOF'))).to.throw(ShellContextError, /delimiter/);
    expect(() => joinShellPieces(pieces('echo $(( {{}} + 1 ))', 'a[$(id)]'))).to.throw(ShellContextError, /whole numbers/);
    expect(() => joinShellPieces(pieces('echo ${X:-{{}}}', 'a}b'))).to.throw(ShellContextError, /\$\{/);
    expect(() => joinShellPieces(pieces('echo {{}}', 'a\0b'))).to.throw(ShellContextError, /NUL/);
  });

  it('refuses a value bash would evaluate as arithmetic in [[ ]], let and (( )), where a[...] runs its subscript', () => {
    const subscript = `a[$(touch ${canary})]`;
    for (const template of [
      "[[ '{{}}' -eq 1 ]]",
      'if [[ "{{}}" -gt 0 ]]; then :; fi',
      'true && [[ 1 -lt {{}} ]]',
      '[[ -n x && {{}} -eq 1 ]]',
      '[[ -z "" || ( {{}} -eq 1 ) ]]',
      'let n={{}}+1',
      'declare -i n={{}}',
      'f() { local -ri n={{}}; }',
    ])
      expect(() => joinShellPieces(pieces(template, subscript)), template).to.throw(ShellContextError, /arithmetic/);
    expect(() => joinShellPieces(pieces('(( n = {{}} ))', subscript))).to.throw(ShellContextError, /whole numbers/);
    expect(() => joinShellPieces(pieces('x=1; (( x < {{}} )) && echo y', 'a'))).to.throw(ShellContextError, /whole numbers/);
  });

  it('still places values in [[ ]] and (( )) when bash cannot run them', () => {
    const bash = (command: string): string => execFileSync('/bin/bash', ['-c', command], { timeout: 5000 }).toString();
    expect(bash(joinShellPieces(pieces('[[ {{}} == "a b" ]] && echo same', 'a b')))).to.equal('same\n');
    expect(bash(joinShellPieces(pieces('(( {{}} > 2 )) && echo more', '3')))).to.equal('more\n');
    expect(bash(joinShellPieces(pieces('[[ 1 -eq 1 ]] && echo {{}}', 'a[b]')))).to.equal('a[b]\n');
    expect(bash(joinShellPieces(pieces('[[ 1 -eq 1 ]]; echo {{}}', 'a[b]')))).to.equal('a[b]\n');
    expect(bash(joinShellPieces(pieces('declare n={{}}; echo "$n"', 'a[b]')))).to.equal('a[b]\n');
    expect(existsSync(canary)).to.equal(false);
  });

  it('keeps safe values where they are harmless', () => {
    expect(sh(joinShellPieces(pieces('echo $(( {{}} + 1 ))', '41')))).to.equal('42\n');
    expect(sh(joinShellPieces(pieces('echo ${UNSET_X:-{{}}}', '/var/lib/etcd')))).to.equal('/var/lib/etcd\n');
  });

  it('uses a `| quote` result as the one word it already is', () => {
    const command = render('printf %s {{ v | quote }}', { v: 'a b; c' }, { shellQuote: true }) as string;
    expect(sh(command)).to.equal('a b; c');
  });

  it('turns a refusal into a TemplateError (reported with the task position)', () => {
    expect(() => render('echo `{{ v }}`', { v: 'x' }, { shellQuote: true })).to.throw(TemplateError, /backquotes/);
  });

  it('runs the template engine end to end: a {{ }} inside double quotes stays literal', () => {
    const command = render(
      'printf "%s|" "{{ a }}" {{ b }} \'{{ c }}\'',
      { a: `$(touch ${canary})`, b: '; x', c: "'" },
      { shellQuote: true },
    ) as string;
    expect(sh(command)).to.equal(`$(touch ${canary})|; x|'|`);
    expect(existsSync(canary)).to.equal(false);
  });
});
