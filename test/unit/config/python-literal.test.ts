// Values as Ansible's INI reader types them (Python's ast.literal_eval), checked against python3 where installed.
import { expect } from 'chai';
import { pythonLiteral } from '../../../src/config/python-literal.js';
import { shlexSplit } from '../../../src/config/shlex-split.js';
import { pythonReadings } from '../../helpers/python-oracle.js';

/** Input, and what orchestrate makes of it: a value, `TEXT` when it stays the text as written, `REFUSED` where Ansible fails. */
const TEXT = Symbol('text');
const REFUSED = Symbol('refused');
/** `depth` empty lists, each inside the next. */
const nested = (depth: number): unknown[] => (depth === 1 ? [] : [nested(depth - 1)]);
const literals: [string, unknown][] = [
  ['42', 42],
  ['-7', -7],
  ['+3', 3],
  ['-(5)', -5],
  ['--5', TEXT],
  ['1.5', 1.5],
  ['1e3', 1000],
  ['.5', 0.5],
  ['1.', 1],
  ['1_000', 1000],
  ['1__000', TEXT],
  ['0x1F', 31],
  ['0o17', 15],
  ['0b101', 5],
  ['010', TEXT],
  ['00', 0],
  ['007.5', 7.5],
  ['True', true],
  ['False', false],
  ['None', null],
  ['true', TEXT],
  ['yes', TEXT],
  ['"6443"', '6443'],
  ["'6443'", '6443'],
  ['"a" \'b\'', 'ab'],
  ['"tab\\there"', 'tab\there'],
  ['"\\x41\\101\\u00e9"', 'AAé'],
  ['"\\q"', '\\q'],
  ['r"C:\\new"', 'C:\\new'],
  ['b"caf\\xc3\\xa9"', 'café'],
  ['"""three "quoted" words"""', 'three "quoted" words'],
  ['f"{x}"', TEXT],
  ['[1, 2,]', [1, 2]],
  ['(1,)', [1]],
  ['()', []],
  ['1, 2', [1, 2]],
  ["{'a': [1, (2, 3), {'b': None}]}", { a: [1, [2, 3], { b: null }] }],
  ["{1: 'one', True: 'yes', None: 'n', 'k': 'v'}", { 1: 'yes', null: 'n', k: 'v' }],
  ["{True: 'yes'}", { true: 'yes' }],
  ['{1, 1.0, True, "a"}', REFUSED],
  ['{[1]: 2}', REFUSED],
  ['{1: {2, 3}}', REFUSED],
  ['1j', REFUSED],
  ['-2.5j', REFUSED],
  ['1 + 2j', REFUSED],
  ['[1 - 2j]', REFUSED],
  ['...', REFUSED],
  ['{[1]: x}', TEXT],
  ['1j + 1', TEXT],
  ['True + 1j', TEXT],
  ['1 + -2j', TEXT],
  ['(1, [2])', [1, [2]]],
  ['{None: 1, 1.5: 2}', { null: 1, '1.5': 2 }],
  ['['.repeat(200) + ']'.repeat(200), nested(200)],
  ['['.repeat(201) + ']'.repeat(201), TEXT],
  ['['.repeat(100_000), TEXT],
  ['1'.repeat(4300), Number('1'.repeat(4300))],
  ['1'.repeat(4301), TEXT],
  ['"a\u0000b"', TEXT],
  ['"\\1\\12\\1234"', '\u0001\n' + 'S4'],
  ['{}', {}],
  ['1+1', TEXT],
  ['not True', TEXT],
  ['os.path', TEXT],
  ['/usr/bin/python3', TEXT],
  ['hello # comment', TEXT],
  ['23 # comment', 23],
  ['"x" # comment', 'x'],
  ['', TEXT],
  ['[1,', TEXT],
  ["'unterminated", TEXT],
  ['{{ base_dir }}/x', TEXT],
];

const lines: [string, string[] | string][] = [
  ['host a=1 b=2', ['host', 'a=1', 'b=2']],
  ['host a="two words" b=\'x y\'', ['host', 'a=two words', 'b=x y']],
  ['host a=x#comment b=2', ['host', 'a=x']],
  ['host a="x # kept" c=2 # dropped', ['host', 'a=x # kept', 'c=2']],
  ['host a=b\\ c', ['host', 'a=b c']],
  ['host a="say \\"hi\\"" b="c:\\\\t" d="\\n"', ['host', 'a=say "hi"', 'b=c:\\t', 'd=\\n']],
  ['host a="x"\'y\'z', ['host', 'a=xyz']],
  ['host e="" f=\'\'', ['host', 'e=', 'f=']],
  ["host a='unclosed", 'No closing quotation'],
  ['host a=\\', 'No escaped character'],
];

describe('INI values: Python literal_eval', () => {
  for (const [input, expected] of literals) {
    const shown = (value: unknown): string => {
      const text = JSON.stringify(value);
      return text.length > 60 ? `${text.slice(0, 57)}...` : text;
    };
    const outcome = expected === TEXT ? 'the text itself' : expected === REFUSED ? 'refused' : shown(expected);
    it(`${shown(input)} -> ${outcome}`, () => {
      const read = pythonLiteral(input);
      if (expected === TEXT) expect(read).to.equal(undefined);
      else if (expected === REFUSED) expect(read).to.have.property('refused');
      else expect(read).to.deep.equal({ value: expected });
    });
  }

  it('agrees with python3 on every case of the table (where python3 is installed)', function () {
    const python = pythonReadings(
      literals.map(([input]) => input),
      [],
    );
    if (!python) this.skip();
    literals.forEach(([input], index) => {
      const truth = python.literal[index];
      const ours = pythonLiteral(input);
      // Sets, complex numbers and `...` have no JSON form (ansible-inventory fails on them); a TypeError fails Ansible's reading.
      if (truth && ('unsupported' in truth || 'error' in truth)) expect(ours, input).to.have.property('refused');
      else if (truth && 'value' in truth) expect(ours, input).to.deep.equal({ value: truth.value });
      else expect(ours, input).to.equal(undefined);
    });
  });
});

describe('INI host lines: shlex.split(comments=True)', () => {
  for (const [line, expected] of lines) {
    it(`${line} -> ${JSON.stringify(expected)}`, () => {
      if (typeof expected === 'string') expect(() => shlexSplit(line)).to.throw(expected);
      else expect(shlexSplit(line).map((word) => word.text)).to.deep.equal(expected);
    });
  }

  it('agrees with python3 on every line of the table (where python3 is installed)', function () {
    const python = pythonReadings(
      [],
      lines.map(([line]) => line),
    );
    if (!python) this.skip();
    lines.forEach(([line], index) => {
      const truth = python.split[index];
      if (truth && 'words' in truth)
        expect(
          shlexSplit(line).map((word) => word.text),
          line,
        ).to.deep.equal(truth.words);
      else expect(() => shlexSplit(line), line).to.throw(truth?.error ?? '');
    });
  });

  it('gives each word its position in the line, for error carets', () => {
    expect(shlexSplit('  web01  a="x y" b=2').map((word) => word.start)).to.deep.equal([2, 9, 17]);
  });
});
